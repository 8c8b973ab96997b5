"""CE records (SPEC §2, §4, §5): the only module that writes ``ce_records``.

Every path that adds, changes or removes a record comes here: a roster import, a workbook
load and the demo data (in bulk), a member's self-report, an admin's entry or correction and
an approval (one at a time). The table's guards live here once:

- a closed CE year's records are final (``years.ensure_open`` before any write);
- one record per member, course and date (the unique index; ``existing`` finds what is held);
- a record's CE year is the CE year of its date (``ce_year_of``, asking ``compute``);
- a course's approved hours cap a member's hours for it across all dates (``hours_held``,
  ``course_hours_used_up``): a two-day course approved for 8 hours gives at most 8 in all.

Bulk functions take ``rows``: the name of a relation the caller registered on the cursor, or
a parenthesised SELECT written in code (never built from input), with the columns they name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cetracker import config, entities, standing, years
from cetracker import policy as policies
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.rules import compute
from cetracker.store.db import (
    LITERAL_IDS,
    Database,
    Touched,
    in_ids,
    int_array,
    note,
    noting,
    on_server,
)

if TYPE_CHECKING:  # the roster import's command needs no pandas
    import pandas as pd

RECORD_STATUSES = ("approved", "pending", "rejected")


RECORD = entities.Entity(
    "ce_record",
    "ce_records",
    (
        entities.Field("course_id", "Course", "int"),
        entities.Field("title", "Title (when not a listed course)", max_length=300),
        entities.Field("provider_name", "Provider (when not a listed course)", max_length=300),
        entities.Field("course_date", "Course date", "date", required=True),
        entities.Field("hours", "CE hours", "hours", required=True),
        entities.Field(
            "category", "Category (a listed course has its own)", required=True, max_length=60
        ),
        entities.Field("status", "Status", "choice", required=True, choices=RECORD_STATUSES),
    ),
)


def member_records(db: Database, member_id: int) -> pd.DataFrame:
    return db.frame(
        """SELECT r.id, r.ce_year AS "CE year", r.course_date AS "Date",
                  coalesce(c.course_number, '') AS "Course number",
                  coalesce(c.title, r.title) AS "Course",
                  r.hours::DOUBLE AS "Hours", r.category AS "Category", r.source AS "Source",
                  r.status AS "Status"
           FROM ce_records r LEFT JOIN courses c ON c.id = r.course_id
           WHERE r.member_id = ? ORDER BY r.course_date DESC, r.id DESC""",
        [member_id],
    )


def year_span(db: Database) -> tuple[int, int] | None:
    """The first and last CE year with records (None: none yet). It reads every record
    (seconds on a server at a million members), so it is remembered across the writes
    that cannot move it: records added or changed inside the span (an approval, a new
    hours figure). A record that leaves the first or the last year (removed, or moved to
    another year), a record outside the span, or a write of unknown reach looks again."""

    def build() -> tuple[int, int] | None:
        row = db.one("SELECT min(ce_year), max(ce_year) FROM ce_records", bulk=True)
        span = None if row is None or row[0] is None else (int(row[0]), int(row[1]))
        db.keep("record years", span)
        return span

    def moves(change: Touched) -> bool:
        span = db.kept("record years")  # (None when forgotten: look again)
        return (
            span is None
            or any(year in span for year in change.left)  # a first or last year may empty
            or any(not span[0] <= year <= span[1] for year in change.records)
        )

    result: tuple[int, int] | None = db.maintained_value("record years", build, moves)
    return result


def course_hours_used_up(
    number: str, held: Decimal, approved: Decimal, *, in_file: bool = False
) -> str:
    """Why a record would go over its course's approved hours, naming what is held."""
    left = max(compute.ZERO, approved - held)
    return (
        f"{compute.format_hours(held)} of {compute.format_hours(approved)} approved "
        f"{compute.hours_word(approved)} for course {number} "
        f"{'is' if held == 1 else 'are'} already recorded for this member"
        + (" (counting rows above in this file)" if in_file else "")
        + (
            f"; at most {compute.format_hours(left)} more can be added"
            if left > 0
            else "; no more can be added"
        )
    )


def held_for(db: Database, cur: Any, rows: str) -> str:
    """Where ``existing``, ``hours_held`` and ``confirm_pending`` find the records of the
    (member_id, course_id) pairs of ``rows``: the table itself in the embedded file. On a
    PostgreSQL server, those records alone: the server looks each pair up in its (member,
    course, date) index, and they are registered on ``cur`` as ``held_records``. (A join
    with the table would read all of it through DuckDB's scanner: seconds a query at a
    million members.)"""
    if not db.server:
        return "ce_records"
    members, courses = cur.execute(
        f"""SELECT coalesce(list(member_id ORDER BY member_id, course_id), []),
                   coalesce(list(course_id ORDER BY member_id, course_id), [])
            FROM (SELECT DISTINCT member_id, course_id FROM {rows}
                  WHERE member_id IS NOT NULL AND course_id IS NOT NULL)"""  # noqa: S608
    ).fetchone()
    # OFFSET 0 keeps the lookup one index search a pair, in the index's order (a third
    # faster than in the file's): the planner would otherwise read the whole table for a
    # hash join (four times slower at 200,000 members).
    found = cur.execute(
        on_server(
            f"""SELECT r.id, r.member_id, r.course_id, r.course_date, r.hours, r.status
                FROM unnest({int_array(members)}, {int_array(courses)}) AS p(member_id, course_id)
                CROSS JOIN LATERAL (SELECT * FROM ce_records r
                                    WHERE r.member_id = p.member_id
                                      AND r.course_id = p.course_id OFFSET 0) r"""  # noqa: S608
        )
    ).to_arrow_table()
    cur.register("held_records", found)
    return "held_records"


@contextmanager
def of_courses(db: Database, course_ids: list[int]) -> Iterator[tuple[Any, str]]:
    """A cursor, and the records of the courses ``course_ids`` for queries on it to read
    (its columns: the table's but the certificate's). The table itself, filtered, in the
    embedded file. On a PostgreSQL server, the rows the server finds through its index by
    course (migration 12), registered on the cursor: through DuckDB's scanner, a join or a
    filter read the whole table in page ranges (the Conference Report's rerun took 6.6 s
    at a million members, a provider's CE details 9.3 s)."""
    columns = """id, member_id, course_id, title, provider_name, ce_year, course_date, hours,
                 category, source, import_id, status, status_reason, created_at, created_by"""
    wanted = [int(i) for i in course_ids]
    cur = db.cursor()
    try:
        if not db.server:
            listed = ", ".join(map(str, wanted)) or "NULL"  # ints, each one (SQL of code)
            yield cur, f"(SELECT {columns} FROM ce_records WHERE course_id IN ({listed}))"  # noqa: S608
            return
        found = cur.execute(
            on_server(
                f"SELECT {columns} FROM ce_records WHERE course_id = ANY({int_array(wanted)})"  # noqa: S608
            )
        ).to_arrow_table()
        cur.register("course_records", found)
        yield cur, "course_records"
    finally:
        cur.close()


def hours_held(
    cur: Any, members: str, courses: str, held: str = "ce_records"
) -> dict[tuple[int, int], dict[date, Decimal]]:
    """For the members of ``members`` (member_id) and the courses of ``courses`` (course_id):
    the hours recorded on each date, by (member, course). Approved and pending records hold
    hours; a rejected one holds none. ``held``: where the records are read (``held_for``)."""
    held_hours: dict[tuple[int, int], dict[date, Decimal]] = {}
    for member_id, course_id, day, hours in cur.execute(
        f"""SELECT member_id, course_id, course_date, sum(hours) FROM {held}
            WHERE course_id IN (SELECT course_id FROM {courses})
              AND member_id IN (SELECT member_id FROM {members}) AND status <> 'rejected'
            GROUP BY ALL"""  # noqa: S608  (rows is code, see the module docstring)
    ).fetchall():
        held_hours.setdefault((int(member_id), int(course_id)), {})[day] = compute.hours(hours)
    return held_hours


def course_category(db: Database, course_id: int, given: str) -> str:
    """A listed course's record is in the course's category, however it is entered (a
    roster's rows, an admin's entry, a workbook's sheet): its minimum counts it the same
    way everywhere. ``given``: what was entered, kept when the course is gone (the checks
    then refuse the record)."""
    category = db.scalar("SELECT category FROM courses WHERE id = ?", [course_id])
    return str(category) if category is not None else given


def save_record(
    db: Database,
    member_id: int,
    values: dict[str, Any],
    *,
    actor: str,
    record_id: int | None = None,
    loaded: dict[str, Any] | None = None,
    today: date | None = None,
) -> int:
    """An admin's entry or correction of a CE record; closed years are refused."""
    cleaned = entities.check_values(RECORD, values, today or config.today())
    day: date = cleaned["course_date"]
    year = policies.ce_year_of(db, day)
    if cleaned["course_id"] is None and not cleaned["title"]:
        raise entities.Invalid(
            ["Choose a course, or type the title of a course that is not listed."]
        )
    if cleaned["course_id"] is not None:
        cleaned["category"] = course_category(db, cleaned["course_id"], cleaned["category"])

    def checks(cur: Any, v: dict[str, Any]) -> None:
        old_year = (
            cur.execute("SELECT ce_year FROM ce_records WHERE id = ?", [record_id]).fetchone()
            if record_id is not None
            else None
        )
        years.ensure_open(cur, year, *([old_year[0]] if old_year else []))
        note(
            records=[(year, member_id), *([(old_year[0], member_id)] if old_year else [])],
            in_place=not old_year or old_year[0] == year,
        )
        if v["course_id"] is not None:
            course = cur.execute(
                "SELECT course_number, hours, start_date, end_date FROM courses WHERE id = ?",
                [v["course_id"]],
            ).fetchone()
            if course is None:
                raise entities.Invalid(["That course no longer exists."])
            number, approved, first, last = course
            problems = []
            if v["hours"] > approved:
                problems.append(
                    f"CE hours {compute.format_hours(v['hours'])} is more than the "
                    f"{compute.hours_text(approved)} approved for course {number}."
                )
            elif v["status"] != "rejected":
                other_days = compute.hours(
                    cur.execute(
                        """SELECT coalesce(sum(hours), 0) FROM ce_records
                           WHERE member_id = ? AND course_id = ? AND status <> 'rejected'
                             AND course_date <> ? AND id IS DISTINCT FROM ?""",
                        [member_id, v["course_id"], day, record_id],
                    ).fetchone()[0]
                )
                if other_days + v["hours"] > approved:
                    problems.append(course_hours_used_up(number, other_days, approved) + ".")
            if (first and day < first) or (last and day > last):
                problems.append(f"The course date is outside course {number}'s dates.")
            same = cur.execute(
                """SELECT count(*) FROM ce_records WHERE member_id = ? AND course_id = ?
                   AND course_date = ? AND id IS DISTINCT FROM ?""",
                [member_id, v["course_id"], day, record_id],
            ).fetchone()[0]
            if same:
                problems.append(
                    f"This member already has a record of course {number} on {day:%m/%d/%Y}."
                )
            if problems:
                raise entities.Invalid(problems)

    if record_id is None:
        new_id = db.new_id("record_ids")
        extra = {
            "member_id": member_id,
            "ce_year": year,
            "source": "admin entry",
            "created_by": actor,
        }
        entities.save(
            db,
            RECORD,
            {"id": new_id},
            cleaned,
            None,
            actor,
            checks,
            "CE record",
            extra,
            tracked=True,
        )
        return new_id
    key = {"id": record_id}
    loaded = loaded or entities.current(db, RECORD, key)
    if loaded is None:
        raise CetrackerError("That record no longer exists. Reload the page.")
    entities.save(
        db,
        RECORD,
        key,
        cleaned,
        loaded,
        actor,
        checks,
        "CE record",
        {"ce_year": year},
        tracked=True,
    )
    return record_id


# -- a member's own records ----------------------------------------------------------------


def _member_id(user: User) -> int:
    if user.member_id is None:
        raise NotAllowed("This account is not linked to a member.")
    return user.member_id


def my_years(db: Database, user: User) -> list[int]:
    """The CE years to show: this one and every year the member has records in."""
    current = policies.current_ce_year(db)
    found = {current} | {
        int(y)
        for (y,) in db.rows(
            "SELECT DISTINCT ce_year FROM ce_records WHERE member_id = ?", [_member_id(user)]
        )
    }
    return sorted((y for y in found if y <= current), reverse=True)


def records_frame(db: Database, user: User) -> pd.DataFrame:
    """All of the member's records, newest first, with what happened to each."""
    return db.frame(
        """SELECT r.id, r.ce_year AS "CE year", r.course_date AS "Date",
                  coalesce(c.title, r.title) AS "Course",
                  coalesce(p.name, r.provider_name, '') AS "Provider",
                  r.category AS "Category", r.hours::DOUBLE AS "Hours", r.status AS "Status",
                  coalesce(r.status_reason, '') AS "Note", r.source AS "Source",
                  r.certificate_name AS "Certificate file"
           FROM ce_records r
           LEFT JOIN courses c ON c.id = r.course_id
           LEFT JOIN providers p ON p.id = c.provider_id
           WHERE r.member_id = ?
           ORDER BY r.course_date DESC, r.id DESC""",
        [_member_id(user)],
    )


@dataclass(frozen=True)
class Why:
    counted: pd.DataFrame
    not_counted: pd.DataFrame
    carried_from: str


def why(db: Database, user: User, year: int) -> Why:
    """Which records counted for ``year``, where carried hours came from, and what did not count."""
    frame = records_frame(db, user)
    in_year = frame[frame["CE year"] == year]
    counted = in_year[in_year["Status"] == "approved"]
    reasons = {"pending": "waiting for approval", "rejected": "rejected"}
    not_counted = in_year[in_year["Status"] != "approved"].assign(
        **{"Why not": lambda f: f["Status"].map(reasons).fillna("does not count")}
    )
    previous = policies.policy_for_year(db, year - 1)
    mine = standing.member_standing(db, _member_id(user), year)
    if mine.carried_in > 0:
        # The earned rule's own sum (decimal hours), as the standing's carried hours read it.
        earned_before = standing.member_standing(db, _member_id(user), year - 1).earned
        carried = (
            f"{compute.hours_text(mine.carried_in)} carried over from "
            f"{year - 1}: you earned {compute.hours_text(earned_before)} then, "
            f"{compute.format_hours(previous.required_hours)} "
            f"{'was' if previous.required_hours == 1 else 'were'} required, and at most "
            f"{compute.format_hours(previous.carryover_cap)} carry over."
        )
    else:
        carried = (
            f"No hours carried over from {year - 1}: only hours earned beyond that "
            f"year's {compute.format_hours(previous.required_hours)} required roll over."
        )
    return Why(counted.drop(columns=["id"]), not_counted.drop(columns=["id"]), carried)


def hours_by_year(db: Database, user: User) -> pd.DataFrame:
    return db.frame(
        """SELECT ce_year::VARCHAR AS year, sum(hours)::DOUBLE AS hours FROM ce_records
           WHERE member_id = ? AND status = 'approved' GROUP BY ce_year ORDER BY ce_year""",
        [_member_id(user)],
    )


# -- in bulk ----------------------------------------------------------------------------------


def _guard_years(cur: Any, rows: str) -> None:
    found = [int(y) for (y,) in cur.execute(f"SELECT DISTINCT ce_year FROM {rows}").fetchall()]  # noqa: S608
    years.ensure_open(cur, *found)


def _note_rows(cur: Any, rows: str, added: dict[str, str] | None = None) -> None:
    """Say which members' records in which CE years ``rows`` change (for the standing).

    ``added``: the rows are new records with this source and status; they are noted with
    their values (when each has a course: unique by member, course and date), so that the
    year's table of records adds them instead of reading those members' records again.
    """
    if not noting():
        return
    by_year = dict(
        cur.execute(
            f"SELECT ce_year, list(DISTINCT member_id) FROM {rows} GROUP BY ce_year"  # noqa: S608
        ).fetchall()
    )
    with_course = (
        added is not None
        and not cur.execute(
            f"SELECT count(*) FROM {rows} WHERE course_id IS NULL"  # noqa: S608
        ).fetchone()[0]
    )
    if not with_course or added is None:
        # Added (in their years), or pending reports confirmed (restated in place).
        note(records_by_year=by_year, in_place=True, restated=added is None)
        return
    values = cur.execute(
        f"""SELECT member_id::INTEGER AS member_id, ce_year::INTEGER AS ce_year,
                   course_date::DATE AS course_date, course_id::INTEGER AS course_id,
                   title::VARCHAR AS title, $source::VARCHAR AS source,
                   hours::DECIMAL(8, 2) AS hours, category::VARCHAR AS category,
                   $status::VARCHAR AS status
            FROM {rows}""",  # noqa: S608
        added,
    ).to_arrow_table()
    note(records_by_year=by_year, added=values)


def _note_record(cur: Any, record_id: int) -> None:
    """Note one record's CE year and member as held now (before a change or removal)."""
    if noting():
        note(
            records=cur.execute(
                "SELECT ce_year, member_id FROM ce_records WHERE id = ?", [record_id]
            ).fetchall()
        )


def insert_many(
    cur: Any,
    rows: str,
    *,
    source: str,
    created_by: str,
    status: str = "approved",
    import_id: int | None = None,
) -> None:
    """Insert every row of ``rows`` (member_id, course_id, title, provider_name, ce_year,
    course_date, hours, category), checked by the caller; refused whole for a closed year."""
    _guard_years(cur, rows)
    _note_rows(cur, rows, {"source": source, "status": status})
    cur.execute(
        f"""INSERT INTO ce_records (member_id, course_id, title, provider_name, ce_year,
                                    course_date, hours, category, source, status, import_id,
                                    created_by)
            SELECT member_id, course_id, title, provider_name, ce_year, course_date, hours,
                   category, $source, $status, $import_id, $by
            FROM {rows}""",  # noqa: S608  (rows is code, see the module docstring)
        {"source": source, "status": status, "import_id": import_id, "by": created_by},
    )


def existing(cur: Any, rows: str, held: str = "ce_records") -> dict[int, str]:
    """The duplicate rule: for each row of ``rows`` (row, member_id, course_id, course_date)
    that is already recorded, the held record's status, by row. ``held``: where the
    records are read (``held_for``)."""
    return {
        int(i): status
        for i, status in cur.execute(
            f"""SELECT s.row, r.status FROM {rows} s
                JOIN {held} r ON r.member_id = s.member_id AND r.course_id = s.course_id
                                 AND r.course_date = s.course_date"""  # noqa: S608
        ).fetchall()
    }


def confirm_pending(cur: Any, rows: str, *, import_id: int, held: str = "ce_records") -> None:
    """A roster row confirms the member's own pending report of the same course and date.
    ``held``: where the records were found (``held_for``); from a server's, the records
    are named by id (``LITERAL_IDS`` at a time), and the server changes those alone."""
    _note_rows(cur, rows)
    named = [""]
    if held != "ce_records":
        ids = [
            int(i)
            for (i,) in cur.execute(
                f"""SELECT r.id FROM {held} r JOIN {rows} s
                    ON r.member_id = s.member_id AND r.course_id = s.course_id
                   AND r.course_date = s.course_date
                    WHERE r.status = 'pending' ORDER BY r.id"""  # noqa: S608
            ).fetchall()
        ]
        named = [
            f" AND r.id {in_ids(ids[at : at + LITERAL_IDS])}"
            for at in range(0, len(ids), LITERAL_IDS)
        ]
    for only in named:
        cur.execute(
            f"""UPDATE ce_records r
                SET status = 'approved', import_id = $import_id, hours = s.hours,
                    status_reason = 'Confirmed by a roster upload'
                FROM {rows} s
                WHERE r.member_id = s.member_id AND r.course_id = s.course_id
                  AND r.course_date = s.course_date AND r.status = 'pending'{only}""",  # noqa: S608
            {"import_id": import_id},
        )


def upsert_history(cur: Any, rows: str, *, created_by: str) -> None:
    """Records from an older system (workbook load): the same member, course (or title) and
    date updates the record held, anything else is added; all approved."""
    _guard_years(cur, rows)
    same = """r.member_id = i.member_id AND r.course_date = i.course_date
              AND ((i.course_id IS NOT NULL AND r.course_id = i.course_id)
                   OR (i.course_id IS NULL AND r.course_id IS NULL AND r.title = i.title))"""
    if noting():  # an updated record may move between years: its old year and its new
        note(
            records=cur.execute(
                f"""SELECT r.ce_year, r.member_id FROM ce_records r JOIN {rows} i ON {same}
                    UNION SELECT ce_year, member_id FROM {rows}"""  # noqa: S608
            ).fetchall()
        )
    # Update what exists, insert the rest (DuckDB refuses delete-then-insert of one key
    # inside a transaction, so no delete here).
    cur.execute(
        f"""UPDATE ce_records r SET hours = i.hours, ce_year = i.ce_year, category = i.category,
                   provider_name = coalesce(i.provider_name, r.provider_name),
                   status = 'approved'
            FROM {rows} i WHERE {same}"""  # noqa: S608
    )
    insert_many(
        cur,
        f"(SELECT * FROM {rows} i WHERE NOT EXISTS (SELECT 1 FROM ce_records r WHERE {same}))",  # noqa: S608
        source="admin entry",
        created_by=created_by,
    )


# -- one at a time ----------------------------------------------------------------------------


def add_one(cur: Any, record_id: int, values: dict[str, Any], *, member: bool = False) -> None:
    """Insert one record (a self-report); ``values`` names its columns. Closed years refused."""
    years.ensure_open(cur, int(values["ce_year"]), member=member)
    note(records=[(int(values["ce_year"]), int(values["member_id"]))], in_place=True)
    names = ["id", *values]
    cur.execute(
        f"INSERT INTO ce_records ({', '.join(names)}) "  # noqa: S608  (names are code)
        f"VALUES ({', '.join('?' for _ in names)})",
        [record_id, *values.values()],
    )


def _among(ids: Iterable[int]) -> tuple[str, dict[str, object]]:
    """SQL of ``id`` among ``ids``, and its parameters: constants, which a server looks the
    rows up by; more than ``LITERAL_IDS``, one list (a server then sends the whole table)."""
    ids = sorted({int(i) for i in ids})  # (once: a generator is read up by the first look)
    listed = in_ids(ids)
    if listed:
        return f"id {listed}", {}
    return "id IN (SELECT unnest($ids::BIGINT[]))", {"ids": ids}


def years_of(cur: Any, record_ids: list[int], *, approved: bool = False) -> list[int]:
    """The CE years of ``record_ids``; ``approved``: of those that count only (a pending or
    rejected record's hours never counted, so a closed year's are not theirs)."""
    among, given = _among(record_ids)
    counted = " AND status = 'approved'" if approved else ""
    rows = cur.execute(
        f"SELECT DISTINCT ce_year FROM ce_records WHERE {among}{counted}",  # noqa: S608
        given,
    ).fetchall()
    return [int(y) for (y,) in rows]


def change_one(cur: Any, record_id: int, values: dict[str, Any], *, member: bool = False) -> None:
    """Change one record's columns; its old and new CE years must both be open."""
    years.ensure_open(
        cur,
        *years_of(cur, [record_id]),
        *([values["ce_year"]] if "ce_year" in values else []),
        member=member,
    )
    for year, member, course in cur.execute(
        "SELECT ce_year, member_id, course_id FROM ce_records WHERE id = ?", [record_id]
    ).fetchall():
        stays = values.get("ce_year", year) == year
        note(
            records=[
                (year, member),
                (values.get("ce_year", year), values.get("member_id", member)),
            ],
            in_place=stays,
            restated=stays
            and values.get("member_id", member) == member
            and values.get("course_id", course) == course,
        )
    sets = ", ".join(f"{n} = ?" for n in values)
    cur.execute(
        f"UPDATE ce_records SET {sets} WHERE id = ?",  # noqa: S608  (names are code)
        [*values.values(), record_id],
    )


def delete_one(cur: Any, record_id: int, *, member: bool = False) -> None:
    """Remove one record; one that counts (approved) only from a year still open."""
    years.ensure_open(cur, *years_of(cur, [record_id], approved=True), member=member)
    _note_record(cur, record_id)
    cur.execute("DELETE FROM ce_records WHERE id = ?", [record_id])


@dataclass(frozen=True)
class Decided:
    """A record just approved or rejected, as its member's notice names it."""

    record_id: int
    member_id: int
    title: str
    provider: str
    day: date
    hours: Decimal
    category: str
    ce_year: int


def decide_pending(
    cur: Any, record_ids: list[int], status: str, reason: str | None
) -> list[Decided]:
    """Approve or reject the pending records among ``record_ids`` (one not pending any more
    is left as it is); the records decided, by id. Only an approval changes hours: it is
    refused in a closed year, and a rejection is decided in a closed year too.

    A few queries for the whole batch: on a server each is a round trip."""
    among, given = _among(record_ids)
    pending = cur.execute(
        f"""SELECT id, member_id, course_id, title, provider_name, course_date, hours,
                   category, ce_year
            FROM ce_records WHERE {among} AND status = 'pending' ORDER BY id""",  # noqa: S608
        given,
    ).fetchall()
    if not pending:
        return []
    if status == "approved":
        years.ensure_open(cur, *{row[8] for row in pending})
    note(records=[(row[8], row[1]) for row in pending], restated=True)
    among, given = _among(int(row[0]) for row in pending)
    changed = cur.execute(
        f"""UPDATE ce_records SET status = $status, status_reason = $reason
            WHERE {among} AND status = 'pending'""",  # noqa: S608
        {"status": status, "reason": reason, **given},
    ).fetchone()[0]
    if changed != len(pending):  # decided meanwhile by another app process (a server)
        raise CetrackerError(
            "Someone else decided some of these records a moment ago. Reload the page and "
            "decide the ones still waiting."
        )
    names = _course_names(cur, {int(row[2]) for row in pending if row[2] is not None})
    return [
        Decided(
            record_id=int(record_id),
            member_id=int(member_id),
            title=names[course_id][0] if course_id in names else title,
            provider=(names[course_id][1] if course_id in names else None) or provider_name or "",
            day=day,
            hours=hours,
            category=category,
            ce_year=int(ce_year),
        )
        for record_id, member_id, course_id, title, provider_name, day, hours, category, ce_year in pending
    ]


def _course_names(cur: Any, course_ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Each listed course's title and its provider's name (by id lookups: a join would
    have a server send every course and provider)."""
    if not course_ids:
        return {}
    among, given = _among(course_ids)
    found = cur.execute(
        f"SELECT id, title, provider_id FROM courses WHERE {among}",  # noqa: S608
        given,
    ).fetchall()
    among, given = _among({int(p) for _, _, p in found if p is not None})
    named = dict(
        cur.execute(f"SELECT id, name FROM providers WHERE {among}", given).fetchall()  # noqa: S608
    )
    return {int(c): (title, named.get(p)) for c, title, p in found}
