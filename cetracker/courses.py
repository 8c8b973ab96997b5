"""Courses and conferences (SPEC §2): the only writer of ``courses``, with its checks."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from cetracker import entities
from cetracker.rules import compute
from cetracker.rules.cells import upper_as_sql
from cetracker.store.db import Database, in_ids, note

if TYPE_CHECKING:
    import pandas as pd

COURSE_KINDS = ("conference", "workshop", "webinar", "online course")


COURSE = entities.Entity(
    "course",
    "courses",
    (
        entities.Field("course_number", "Course number", required=True, max_length=40),
        entities.Field("title", "Title", required=True, max_length=300),
        entities.Field("provider_id", "Provider", "int", required=True),
        entities.Field("category", "Category", required=True, max_length=60, default="General"),
        entities.Field("hours", "Approved hours", "hours", required=True),
        entities.Field("start_date", "Start date", "date"),
        entities.Field("end_date", "End date", "date"),
        entities.Field("location", "Location", max_length=200),
        # Optional: a course list from an older system may not say; the form always does.
        entities.Field("kind", "Kind", "choice", choices=COURSE_KINDS),
    ),
)
COLUMNS = [f.name for f in COURSE.fields]
# A course may be scheduled ahead: its dates are not checked against today.
_NO_LIMIT = date(9999, 12, 31)


def check_row(values: dict[str, Any]) -> dict[str, Any]:
    """A course's values as stored, or ``entities.Invalid`` listing every problem (the
    form's and the workbook load's one set of checks; a workbook names the provider by
    license, so ``provider_id`` may be left out there and is resolved on loading)."""
    problems: list[str] = []
    fields = [f for f in COURSE.fields if f.name != "provider_id" or "provider_id" in values]
    cleaned = {
        f.name: entities.clean_field(f, values.get(f.name), problems, _NO_LIMIT) for f in fields
    }
    start, end = cleaned["start_date"], cleaned["end_date"]
    if start and end and end < start:
        problems.append(f"End date {end:%m/%d/%Y} is before start date {start:%m/%d/%Y}.")
    if problems:
        raise entities.Invalid(problems)
    return cleaned


def _conflicts_with_records(cur: Any, changed: str) -> dict[int, list[str]]:
    """Why new approved hours or dates would not hold a course's existing records.

    ``changed``: a relation (a registered name or a subquery of ours) of
    (row, course_id, hours, start_date, end_date),
    one row per course that changes; the answer is {row: problems}.
    """
    problems: dict[int, list[str]] = {}
    # The courses named as constants too: a server then reads their records by its index
    # by course, not every record (a join alone it cannot pass on).
    ids = [int(c) for (c,) in cur.execute(f"SELECT DISTINCT course_id FROM {changed}").fetchall()]  # noqa: S608
    if not ids:  # only new courses: no records
        return {}
    listed = in_ids(ids)
    # A member's hours of a course are what all their records of it add up to, on every
    # date (the rule ``records`` holds each new record to): the most any member holds is
    # as low as the approved hours may go.
    for row, most, outside in cur.execute(
        f"""WITH held AS (
                SELECT i.row, i.hours::DECIMAL(8, 2) AS approved, r.member_id,
                       sum(r.hours) AS hours,
                       count(*) FILTER (
                           WHERE r.course_date < coalesce(i.start_date::DATE, DATE '0001-01-01')
                              OR r.course_date > coalesce(i.end_date::DATE, DATE '9999-12-31')
                       ) AS outside
                FROM {changed} i JOIN ce_records r ON r.course_id = i.course_id
                WHERE r.status <> 'rejected' {f"AND r.course_id {listed}" if listed else ""}
                GROUP BY ALL)
            SELECT row, max(hours) FILTER (WHERE hours > approved), sum(outside)
            FROM held GROUP BY row"""  # noqa: S608 - the name of our own registered relation
    ).fetchall():
        found = problems.setdefault(int(row), [])
        if most is not None:
            found.append(
                f"A member already has {compute.hours_text(most)} of this course (all "
                "dates together); approved hours cannot go below that."
            )
        if outside:
            found.append(f"{outside} records of this course are dated outside the new dates.")
    return {row: found for row, found in problems.items() if found}


def save_course(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    course_id: int | None = None,
    loaded: dict[str, Any] | None = None,
) -> int:
    """Add or change a course or conference (approved hours, dates, provider)."""
    cleaned = check_row({"provider_id": None, **values})

    def checks(cur: Any, v: dict[str, Any]) -> None:
        note(tables=["courses"])  # a course may move to another provider (attendee_years)
        problems = []
        if entities.unique_id(cur, "courses", "course_number", v["course_number"], course_id):
            problems.append(
                f"Course number {v['course_number']} is already used by another course."
            )
        if not cur.execute(
            "SELECT count(*) FROM providers WHERE id = ?", [v["provider_id"]]
        ).fetchone()[0]:
            problems.append("Choose the provider that offers this course.")
        if course_id is not None:
            import pandas as pd

            changed = pd.DataFrame(
                [[0, course_id, v["hours"], v["start_date"], v["end_date"]]],
                columns=["row", "course_id", "hours", "start_date", "end_date"],
            ).astype(object)
            cur.register("changed_course", changed)
            problems += _conflicts_with_records(cur, "changed_course").get(0, [])
            cur.unregister("changed_course")
        if problems:
            raise entities.Invalid(problems)

    if course_id is None:
        new_id = db.new_id("course_ids")
        entities.save(
            db, COURSE, {"id": new_id}, cleaned, None, actor, checks, "course", tracked=True
        )
        return new_id
    loaded = loaded or entities.current(db, COURSE, {"id": course_id})
    entities.save(
        db, COURSE, {"id": course_id}, cleaned, loaded, actor, checks, "course", tracked=True
    )
    return course_id


def upsert_many(cur: Any, rows: list[dict[str, Any]] | pd.DataFrame) -> None:
    """Add or update many courses at once (a workbook load, the demo data), by course number.

    ``rows`` are ``check_row`` results with ``provider_id`` set. A course that changes
    keeps the form's rule: its approved hours and dates must still hold the records it
    has. Raises ``entities.RowsInvalid`` {row index: problems} and writes nothing then.
    """
    import pandas as pd

    frame = (
        rows[COLUMNS].copy()
        if isinstance(rows, pd.DataFrame)
        else pd.DataFrame(rows, columns=COLUMNS).astype(object)
    )
    if frame.empty:
        return
    # Course numbers compare as the form compares them: trimmed, any case.
    frame["number_key"] = frame["course_number"].map(number_key)
    frame["row"] = range(len(frame))
    problems: dict[int, list[str]] = {}
    first_of: dict[str, int] = {}
    for i, key in enumerate(frame["number_key"]):
        if key in first_of:
            problems[i] = [f"Course number {frame['course_number'].iat[i]} appears twice."]
        else:
            first_of[key] = i
    cur.register("incoming_courses", frame)
    try:
        known = {int(p) for (p,) in cur.execute("SELECT id FROM providers").fetchall()}
        for i, provider in enumerate(frame["provider_id"]):
            if provider is None or int(provider) not in known:
                problems.setdefault(i, []).append("No provider offers this course.")
        changed = f"""(SELECT i.row, c.id AS course_id, i.hours, i.start_date, i.end_date
                      FROM incoming_courses i
                      JOIN courses c ON {number_key_sql("c.course_number")} = i.number_key)"""  # noqa: S608 - SQL of code
        for row, found in _conflicts_with_records(cur, changed).items():
            problems.setdefault(row, []).extend(found)
        if problems:
            raise entities.RowsInvalid(dict(sorted(problems.items())))
        same = f"{number_key_sql('t.course_number')} = i.number_key"
        cur.execute(
            f"""UPDATE courses t SET {", ".join(f"{c} = i.{c}" for c in COLUMNS)}
                FROM incoming_courses i WHERE {same}"""  # noqa: S608 - our column names
        )
        listed = ", ".join(COLUMNS)
        cur.execute(
            f"""INSERT INTO courses ({listed}) SELECT {listed} FROM incoming_courses i
                WHERE NOT EXISTS (SELECT 1 FROM courses t WHERE {same})"""  # noqa: S608 - our column names
        )
    finally:
        cur.unregister("incoming_courses")


def number_key(number: object) -> str:
    """Course numbers compare trimmed and in any case ("ce-101 " is CE-101): the course form
    and import, rosters, workbooks and the reports (``number_key_sql`` in SQL). Raised as
    SQL raises them (``cells.upper_as_sql``): by Python's own ``str.upper`` a course
    "Straße-101" was not found from a roster."""
    return upper_as_sql(str(number).strip())


def number_key_sql(column: str) -> str:
    """``number_key`` of a column, in SQL."""
    return f"upper(trim({column}))"


def ids_by_number(cur: Any) -> dict[str, tuple[int, str]]:
    """Every course's (id, category) by ``number_key`` of its course number."""
    return {
        number_key(n): (int(i), str(c))
        for n, i, c in cur.execute("SELECT course_number, id, category FROM courses").fetchall()
    }


def courses_frame(db: Database, text: str = "") -> pd.DataFrame:
    """The courses whose number, title or provider holds ``text``, with how many records
    each has (the Courses page)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    frame = db.frame(
        """SELECT c.id, c.course_number AS "Course number", c.title AS "Title",
                  p.name AS "Provider", c.category AS "Category",
                  c.hours::DOUBLE AS "Approved hours", c.start_date AS "Start",
                  c.end_date AS "End", c.location AS "Location", c.kind AS "Kind"
           FROM courses c JOIN providers p ON p.id = c.provider_id
           WHERE (c.course_number || ' ' || c.title || ' ' || p.name) ILIKE $t ESCAPE '\\'
           ORDER BY c.start_date DESC NULLS LAST, c.course_number""",
        {"t": f"%{escaped}%"},
    )
    counts = record_counts(db)
    frame["Records"] = [counts.get(int(i), 0) for i in frame["id"]]
    return frame


def record_counts(db: Database) -> dict[int, int]:
    """How many records (of any status) each course has. They are counted from every
    record (0.3 s at a million members, 3 s on a server), so the counts are remembered
    until records are added, removed or moved (an approval or a roster's confirmation
    restates records in place): a search on the Courses page, or another page, counts
    nothing."""

    def count() -> dict[int, int]:
        return {
            int(course): int(n)
            for course, n in db.rows(
                "SELECT course_id, count(*) FROM ce_records WHERE course_id IS NOT NULL"
                " GROUP BY course_id",
                bulk=True,
            )
        }

    counts: dict[int, int] = db.maintained_value(
        "records by course", count, lambda change: change.moved
    )
    return counts


def choices(db: Database) -> list[tuple[int, str, str]]:
    """Every course as (id, number, title), for a record's course picker."""
    return [
        (int(i), str(n), str(t))
        for i, n, t in db.rows(
            "SELECT id, course_number, title FROM courses"
            " ORDER BY start_date DESC NULLS LAST, course_number"
        )
    ]
