"""Providers (SPEC §2): the only writer of ``providers``, with its checks; a provider's own
profile, courses, attendees and uploads.

A provider's license number is kept as written, beside its unique comparison key
(``cells.license_key``), as for members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cetracker import config, entities, members, records
from cetracker.accounts.users import User
from cetracker.courses import number_key, number_key_sql
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.filters import name_search
from cetracker.rules.cells import license_key, name_order
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd


def provider_profile(db: Database, user: User) -> dict[str, Any]:
    if user.provider_id is None:
        raise NotAllowed("This account is not linked to a course provider.")
    row = db.one(
        "SELECT license_number, name, contact, email, phone FROM providers WHERE id = ?",
        [user.provider_id],
    )
    if row is None:
        raise NotAllowed("This account's provider no longer exists.")
    return dict(zip(["license_number", "name", "contact", "email", "phone"], row, strict=True))


def list_providers(db: Database) -> list[tuple[int, str, str]]:
    """(id, license number, name) of every provider, by name."""
    return [
        (int(i), lic, name)
        for i, lic, name in db.rows("SELECT id, license_number, name FROM providers ORDER BY name")
    ]


def provider_courses(db: Database, provider_id: int) -> pd.DataFrame:
    return db.frame(
        """SELECT course_number AS "Course number", title AS "Title", category AS "Category",
                  hours::DOUBLE AS "Approved hours", start_date AS "Start", end_date AS "End",
                  location AS "Location", kind AS "Kind"
           FROM courses WHERE provider_id = ? ORDER BY start_date DESC NULLS LAST, course_number""",
        [provider_id],
    )


def _course_ids(db: Database, provider_id: int) -> list[int]:
    return [
        int(i) for (i,) in db.rows("SELECT id FROM courses WHERE provider_id = ?", [provider_id])
    ]


def attendee_years(db: Database, provider_id: int) -> list[int]:
    """The CE years in which anyone is recorded for this provider's courses, newest first;
    remembered until records are added, removed or moved, or courses change (the CE
    details page asks on every run, and on a server each answer brings the provider's
    records over)."""

    def read() -> list[int]:
        with records.of_courses(db, _course_ids(db, provider_id)) as (cur, held):
            return [
                int(y)
                for (y,) in cur.execute(
                    f"SELECT DISTINCT ce_year FROM {held} ORDER BY 1 DESC"  # noqa: S608 - of code
                ).fetchall()
            ]

    found: list[int] = db.maintained_value(
        f"attendee years of provider {int(provider_id)}",
        read,
        lambda change: change.moved or "courses" in change.tables,
    )
    return found


def attendees(
    db: Database,
    provider_id: int,
    *,
    year: int | None = None,
    course_number: str = "",
    name: str = "",
    limit: int | None = None,
) -> pd.DataFrame:
    """Everyone recorded for this provider's courses (SPEC §1, provider "CE details");
    ``name`` searches names and license numbers by ``filters.name_search``."""
    names, params = name_search(name, "m.search_key")
    # The provider's courses' records: on a server, those alone come from it.
    with records.of_courses(db, _course_ids(db, provider_id)) as (cur, held):
        return cur.execute(
            f"""SELECT c.course_number AS "Course number", c.title AS "Course",
                       r.course_date AS "Date", r.ce_year AS "CE year",
                       m.first_name AS "First name", m.last_name AS "Last name",
                       m.license_number AS "License number", r.hours::DOUBLE AS "Hours",
                       r.status AS "Status"
                FROM {held} r
                JOIN courses c ON c.id = r.course_id
                JOIN {members.kept(db)} m ON m.id = r.member_id
                WHERE c.provider_id = $p
                  AND ($year IS NULL OR r.ce_year = $year)
                  AND ($course = '' OR {number_key_sql("c.course_number")} = $course)
                  AND {names}
                ORDER BY r.course_date DESC, {name_order("m")}
                LIMIT coalesce($limit, 9223372036854775807)""",  # noqa: S608 - fixed clause, values are parameters
            {
                **params,
                "p": provider_id,
                "year": year,
                "course": number_key(course_number) if course_number else "",
                "limit": limit,
            },
        ).df()


PROVIDER = entities.Entity(
    "provider",
    "providers",
    (
        entities.Field("license_number", "Provider license number", required=True, max_length=40),
        entities.Field("name", "Name", required=True, max_length=200),
        entities.Field("contact", "Contact name", max_length=200),
        entities.Field("email", "Email", "email"),
        entities.Field("phone", "Phone", max_length=40),
    ),
)
COLUMNS = [f.name for f in PROVIDER.fields]


def check_row(values: dict[str, Any]) -> dict[str, Any]:
    """A provider's values as stored, or ``entities.Invalid`` listing every problem (the
    form's and the workbook load's one set of checks)."""
    problems: list[str] = []
    cleaned = {
        f.name: entities.clean_field(f, values.get(f.name), problems, config.today())
        for f in PROVIDER.fields
    }
    if cleaned["license_number"] and not license_key(cleaned["license_number"]):
        problems.append(
            f"Provider license number “{cleaned['license_number']}” has no letters or digits."
        )
    if problems:
        raise entities.Invalid(problems)
    return cleaned


def _taken(number: str, holder: str) -> str:
    return f"Provider license number {number} already belongs to {holder}."


def save_provider(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    provider_id: int | None = None,
    loaded: dict[str, Any] | None = None,
) -> int:
    """Add or change a provider; a license number whose key another holds is refused."""
    cleaned = check_row(values)
    keys = {"license_key": license_key(cleaned["license_number"])}

    def checks(cur: Any, v: dict[str, Any]) -> None:
        other = cur.execute(
            "SELECT name FROM providers WHERE license_key = ? AND id IS DISTINCT FROM ?",
            [keys["license_key"], provider_id],
        ).fetchone()
        if other is not None:
            raise entities.Invalid([_taken(v["license_number"], other[0])])

    try:
        if provider_id is None:
            new_id = db.new_id("provider_ids")
            entities.save(
                db,
                PROVIDER,
                {"id": new_id},
                cleaned,
                None,
                actor,
                checks,
                "provider",
                keys,
                tracked=True,
            )
            return new_id
        loaded = loaded or entities.current(db, PROVIDER, {"id": provider_id})
        entities.save(
            db,
            PROVIDER,
            {"id": provider_id},
            cleaned,
            loaded,
            actor,
            checks,
            "provider",
            keys,
            tracked=True,
        )
    except Exception as exc:
        if not db.is_duplicate_key(exc) or isinstance(exc, CetrackerError):
            raise
        raise entities.Invalid(
            [f"Provider license number {cleaned['license_number']} was just given to another."]
        ) from exc
    return provider_id


def upsert_many(cur: Any, rows: list[dict[str, Any]] | pd.DataFrame) -> None:
    """Add or update many providers at once (a workbook load, the demo data), by license key.

    ``rows`` are ``check_row`` results; a provider holding a row's key is updated (its
    number as written, name and contact details). Raises ``entities.RowsInvalid``.
    """
    import pandas as pd

    frame = (
        rows[COLUMNS].copy()
        if isinstance(rows, pd.DataFrame)
        else pd.DataFrame(rows, columns=COLUMNS).astype(object)
    )
    if frame.empty:
        return
    frame["license_key"] = frame["license_number"].map(license_key)
    first_of: dict[str, int] = {}
    problems: dict[int, list[str]] = {}
    for i, (key, number) in enumerate(
        zip(frame["license_key"], frame["license_number"], strict=True)
    ):
        if key in first_of:
            earlier = frame["license_number"].iat[first_of[key]]
            problems[i] = [
                f"Provider license number {number} is the same as {earlier} on an earlier row."
            ]
        else:
            first_of[key] = i
    if problems:
        raise entities.RowsInvalid(problems)
    cur.register("incoming_providers", frame)
    try:
        cur.execute(
            f"""UPDATE providers t SET {", ".join(f"{c} = i.{c}" for c in COLUMNS)}
                FROM incoming_providers i WHERE t.license_key = i.license_key"""  # noqa: S608 - our column names
        )
        listed = ", ".join([*COLUMNS, "license_key"])
        cur.execute(
            f"""INSERT INTO providers ({listed}) SELECT {listed} FROM incoming_providers i
                WHERE NOT EXISTS (SELECT 1 FROM providers t WHERE t.license_key = i.license_key)"""  # noqa: S608 - our column names
        )
    finally:
        cur.unregister("incoming_providers")


def ids_by_key(cur: Any) -> dict[str, int]:
    """Every provider's id by license key (for a bulk load that names providers by license)."""
    return {
        str(k): int(i) for k, i in cur.execute("SELECT license_key, id FROM providers").fetchall()
    }


def provider_by_license(db: Database, license_number: str) -> int:
    """The id of the provider holding ``license_number`` (compared by its key)."""
    found = db.scalar(
        "SELECT id FROM providers WHERE license_key = ?", [license_key(license_number)]
    )
    if found is None:
        raise CetrackerError(f"No provider holds license number {license_number}.")
    return int(found)


def providers_frame(db: Database) -> pd.DataFrame:
    return db.frame(
        """SELECT p.id, p.license_number AS "License number", p.name AS "Name",
                  p.contact AS "Contact", p.email AS "Email", p.phone AS "Phone",
                  (SELECT count(*) FROM courses c WHERE c.provider_id = p.id) AS "Courses"
           FROM providers p ORDER BY p.name"""
    )
