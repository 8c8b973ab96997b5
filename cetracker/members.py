"""Members (SPEC §2): the only writer of ``members``, with its checks; look-ups and search.

A member's license number is kept as the office wrote it ("TX-10001"), beside its
comparison key (``cells.license_key``: "TX10001"), which is unique: "AB 77" and "AB77"
are one license. The key is for comparing only; pages, exports, certificates and
transcripts show the number as written. ``search_key`` is what name searches look in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from cetracker import audit, config, entities, records
from cetracker.errors import CetrackerError
from cetracker.filters import Filters, Scope, name_search
from cetracker.rules.cells import license_key, name_key, name_order, search_key
from cetracker.store.db import Database, in_ids, note

if TYPE_CHECKING:  # (pandas is imported where it is used: the dues and the import command
    import pandas as pd  # read this module, and pandas alone takes 0.7 s to import)


@dataclass(frozen=True)
class FilterChoices:
    years: list[int]
    counties: list[str]
    areas: list[str]
    positions: list[str]


def filter_choices(db: Database, scope: Scope, current_year: int) -> FilterChoices:
    """The values the filter bar offers: only what lies inside the user's scope.

    Every report page asks on every rerun. The members' values are remembered until a
    member changes, the CE years until records can move their span (``records.year_span``):
    a roster, an approval or an edit of hours leaves both be.
    """
    counties, areas, positions = member_choices(db, scope)
    span = records.year_span(db)
    first = span[0] if span else current_year
    last = max(span[1] if span else current_year, current_year)
    return FilterChoices(
        years=list(range(last, first - 1, -1)),
        counties=counties,
        areas=areas,
        positions=positions,
    )


def member_choices(db: Database, scope: Scope) -> tuple[list[str], list[str], list[str]]:
    """The counties, areas and positions of the members in ``scope``, remembered until a
    member changes."""
    found: tuple[list[str], list[str], list[str]] = db.maintained_value(
        repr(("filter choices", scope)),
        lambda: _member_choices(db, scope),
        lambda change: bool(change.members),
    )
    return found


def _usual_spellings(db: Database, cleaned: dict[str, Any]) -> None:
    """A county, area or position typed as one the association has already but for case
    and spacing ("area 3", "Area  3") takes that spelling: directors' scopes and the
    filters match these values exactly, so a second spelling would hide the member from
    the director of "Area 3" and add a choice to every filter."""
    known = dict(zip(("county", "area", "position"), member_choices(db, Scope()), strict=True))
    for name, values in known.items():
        typed = cleaned.get(name)
        if typed:
            usual = {_spelling_key(v): v for v in values}.get(_spelling_key(typed))
            if usual is not None:
                cleaned[name] = usual


def _spelling_key(value: str) -> str:
    return " ".join(value.split()).casefold()


def _member_choices(db: Database, scope: Scope) -> tuple[list[str], list[str], list[str]]:
    """The counties, areas and positions of the members in ``scope``."""
    where, params = Filters(year=0, scope=scope).member_where("m")
    source = kept(db)
    rows = db.rows(
        f"""SELECT 'county', county FROM {source} m WHERE {where} AND county IS NOT NULL
            UNION SELECT 'area', area FROM {source} m WHERE {where} AND area IS NOT NULL
            UNION SELECT 'position', position FROM {source} m WHERE {where} AND position IS NOT NULL""",  # noqa: S608 - clause of fixed text
        params,
    )
    return (
        sorted(v for k, v in rows if k == "county"),
        sorted((v for k, v in rows if k == "area"), key=_natural),
        sorted(v for k, v in rows if k == "position"),
    )


def _natural(text: str) -> tuple[str, int]:
    head, _, tail = text.rpartition(" ")
    return (head, int(tail)) if tail.isdigit() else (text, 0)


MEMBER_STATUSES = ("active", "inactive")
PAGE_SIZE = 50

MEMBER = entities.Entity(
    "member",
    "members",
    (
        entities.Field("license_number", "License number", required=True, max_length=40),
        entities.Field("first_name", "First name", required=True, max_length=100),
        entities.Field("last_name", "Last name", required=True, max_length=100),
        entities.Field("email", "Email", "email"),
        entities.Field("phone", "Phone", max_length=40),
        entities.Field("address", "Mailing address", max_length=300),
        entities.Field("county", "County", max_length=100),
        entities.Field("area", "Area", max_length=100),
        entities.Field("position", "Position", max_length=100),
        entities.Field(
            "status",
            "Status",
            "choice",
            required=True,
            choices=MEMBER_STATUSES,
            default="active",
        ),
        entities.Field("joined", "Joined", "date"),
    ),
)
COLUMNS = [f.name for f in MEMBER.fields]


def check_row(values: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """A member's values as stored, or ``entities.Invalid`` listing every problem.

    The one set of checks for a member, whether typed into the form or read from a workbook.
    """
    problems: list[str] = []
    cleaned = {
        f.name: entities.clean_field(f, values.get(f.name), problems, today or config.today())
        for f in MEMBER.fields
    }
    if cleaned["license_number"] and not license_key(cleaned["license_number"]):
        problems.append(f"License number “{cleaned['license_number']}” has no letters or digits.")
    if problems:
        raise entities.Invalid(problems)
    return cleaned


def _keys(cleaned: dict[str, Any]) -> dict[str, str]:
    """The columns that follow from a member's values: the license and search keys."""
    return {
        "license_key": license_key(cleaned["license_number"]),
        "search_key": search_key(
            cleaned["first_name"], cleaned["last_name"], cleaned["license_number"]
        ),
    }


def kept(db: Database) -> str:
    """The members table for reports to read: the table itself, or on a PostgreSQL server
    a copy in DuckDB's memory kept up to date across writes. (DuckDB passes none of the
    reports' member filters on to a server, ``area IN (SELECT unnest(...))``: each list
    and count read every member from it, ~0.5 s a query at a million members.) Only for
    reading: a write's checks read the table itself."""
    if not db.server:
        return "members"

    def build(_: object) -> tuple[str, dict[str, Any]]:
        return "SELECT * FROM members", {}

    def patch(cur: Any, table: str, changes: list[Any], _ready: object, _exact: bool) -> bool:
        touched: set[int] = set().union(*(c.members for c in changes))
        if not touched:
            return True
        listed = in_ids(touched)
        if listed is None:
            return False  # more than can be named: the copy is made again
        cur.execute(f"DELETE FROM {table} WHERE id {listed}")  # noqa: S608 - ids of code
        cur.execute(f"INSERT INTO {table} SELECT * FROM members WHERE id {listed}")  # noqa: S608
        return True

    return db.maintained_table("members", build, patch)


def _taken(number: str, holder: str) -> str:
    return f"License number {number} already belongs to {holder}."


def save_member(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    member_id: int | None = None,
    loaded: dict[str, Any] | None = None,
    today: date | None = None,
) -> int:
    """Add (no ``member_id``) or change a member; returns its id.

    A license number whose key another member holds is refused naming that member.
    """
    cleaned = check_row(values, today)
    _usual_spellings(db, cleaned)
    keys = _keys(cleaned)

    def checks(cur: Any, v: dict[str, Any]) -> None:
        note(members=[member_id if member_id is not None else new_id])
        other = cur.execute(
            """SELECT first_name || ' ' || last_name FROM members
               WHERE license_key = ? AND id IS DISTINCT FROM ?""",
            [keys["license_key"], member_id],
        ).fetchone()
        if other is not None:
            raise entities.Invalid([_taken(v["license_number"], other[0])])

    new_id = db.new_id("member_ids") if member_id is None else member_id
    try:
        if member_id is None:
            entities.save(
                db,
                MEMBER,
                {"id": int(new_id)},
                cleaned,
                None,
                actor,
                checks,
                "member",
                keys,
                tracked=True,
            )
            return int(new_id)
        if loaded is None:
            loaded = entities.current(db, MEMBER, {"id": member_id})
            if loaded is None:
                raise CetrackerError("That member no longer exists. Reload the page.")
        entities.save(
            db,
            MEMBER,
            {"id": member_id},
            cleaned,
            loaded,
            actor,
            checks,
            "member",
            keys,
            tracked=True,
        )
    except Exception as exc:
        # Another app process saved the same license between the check and the write.
        if not db.is_duplicate_key(exc) or isinstance(exc, CetrackerError):
            raise
        raise entities.Invalid(
            [f"License number {cleaned['license_number']} was just given to another member."]
        ) from exc
    return member_id


def upsert_many(cur: Any, rows: list[dict[str, Any]] | pd.DataFrame) -> None:
    """Add or update many members at once (a workbook load, the demo data), by license key.

    ``rows`` are ``check_row`` results (or a frame of them). A row whose key a member
    already holds updates that member. If the row writes the number differently ("AB 77"
    for a stored "AB77") it must be the same person (first and last name, compared as a
    roster's names are): then the number as written is updated too; a row for somebody
    else is "the second AB77" and refused naming the holder, as the form refuses it.
    Raises ``entities.RowsInvalid`` {row index: problems} and writes nothing then.
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
    frame["search_key"] = [
        search_key(f, last, n)
        for f, last, n in zip(
            frame["first_name"], frame["last_name"], frame["license_number"], strict=True
        )
    ]
    frame["row"] = range(len(frame))
    problems: dict[int, list[str]] = {}
    first_of: dict[str, int] = {}
    for i, (key, number) in enumerate(
        zip(frame["license_key"], frame["license_number"], strict=True)
    ):
        if key in first_of:
            earlier = frame["license_number"].iat[first_of[key]]
            problems[i] = [f"License number {number} is the same as {earlier} on an earlier row."]
        else:
            first_of[key] = i
    cur.register("incoming_members", frame)
    try:
        for row, number, first, last, held, holder_first, holder_last in cur.execute(
            """SELECT i.row, i.license_number, i.first_name, i.last_name,
                      m.license_number, m.first_name, m.last_name
               FROM incoming_members i JOIN members m ON m.license_key = i.license_key"""
        ).fetchall():
            same_person = name_key(first) == name_key(holder_first) and name_key(last) == name_key(
                holder_last
            )
            if number != held and not same_person:
                problems.setdefault(int(row), []).append(
                    f"{_taken(number, f'{holder_first} {holder_last}')} A row for another "
                    "person needs its own license number."
                )
        if problems:
            raise entities.RowsInvalid(dict(sorted(problems.items())))
        written = [*COLUMNS[1:], "search_key"]
        cur.execute(
            f"""UPDATE members t SET license_number = i.license_number,
                       {", ".join(f"{c} = i.{c}" for c in written)}
                FROM incoming_members i WHERE t.license_key = i.license_key"""  # noqa: S608 - our column names
        )
        listed = ", ".join([*COLUMNS, "license_key", "search_key"])
        cur.execute(
            f"""INSERT INTO members ({listed}) SELECT {listed} FROM incoming_members i
                WHERE NOT EXISTS (SELECT 1 FROM members t WHERE t.license_key = i.license_key)"""  # noqa: S608 - our column names
        )
    finally:
        cur.unregister("incoming_members")


def ids_by_key(cur: Any) -> dict[str, int]:
    """Every member's id by license key (for a bulk load that names members by license)."""
    return {
        str(k): int(i) for k, i in cur.execute("SELECT license_key, id FROM members").fetchall()
    }


def delete_member(db: Database, member_id: int, *, actor: str) -> None:
    """Remove a member added by mistake; one with any records, dues or account stays."""
    with db.transaction(tracked=True) as cur:
        note(members=[member_id])
        row = cur.execute(
            "SELECT license_number, first_name || ' ' || last_name FROM members WHERE id = ?",
            [member_id],
        ).fetchone()
        if row is None:
            raise CetrackerError("That member no longer exists.")
        used = cur.execute(
            """SELECT (SELECT count(*) FROM ce_records WHERE member_id = $m)
                    + (SELECT count(*) FROM dues WHERE member_id = $m)
                    + (SELECT count(*) FROM users WHERE member_id = $m)
                    + (SELECT count(*) FROM message_recipients WHERE member_id = $m)""",
            {"m": member_id},
        ).fetchone()[0]  # type: ignore[index]  # count(*) always yields a row
        if used:
            raise CetrackerError(
                f"{row[1]} has CE records, dues, messages or an account, so the member cannot be "
                "deleted. Set the status to inactive instead: the history stays."
            )
        cur.execute("DELETE FROM members WHERE id = ?", [member_id])
        audit.record(cur, actor, "member deleted", "member", member_id, {"license_number": row[0]})


def search_members(
    db: Database, text: str = "", status: str = "", page: int = 0
) -> tuple[pd.DataFrame, int]:
    """One page of members matching ``text`` (``filters.name_search``, or the email), and
    how many match."""
    names, params = name_search(text, "search_key")
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params.update(t=f"%{escaped}%", s=status)
    where = (
        f"""({names} OR coalesce(email, '') ILIKE $t ESCAPE '\\') AND ($s = '' OR status = $s)"""
    )
    table = kept(db)  # on a server, its copy: the search is not passed on to the server
    total = db.scalar(f"SELECT count(*) FROM {table} WHERE {where}", params)  # noqa: S608
    frame = db.frame(
        f"""SELECT id, license_number AS "License number", first_name AS "First name",
                   last_name AS "Last name", county AS "County", area AS "Area",
                   position AS "Position", email AS "Email", status AS "Status"
            FROM {table} WHERE {where}
            ORDER BY {name_order()}
            LIMIT {PAGE_SIZE} OFFSET $o""",  # noqa: S608
        {**params, "o": max(0, page) * PAGE_SIZE},
    )
    return frame, int(total)


def member_by_license(db: Database, license_number: str) -> tuple[int, str] | None:
    """(id, full name) of the member holding ``license_number`` (compared by its key)."""
    row = db.one(
        "SELECT id, first_name || ' ' || last_name FROM members WHERE license_key = ?",
        [license_key(license_number)],
    )
    return None if row is None else (int(row[0]), str(row[1]))
