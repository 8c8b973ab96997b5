"""Members: look-ups the pages need (filter choices, one member's details)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from cetracker import audit, config, entities
from cetracker.errors import CetrackerError
from cetracker.filters import Filters, Scope
from cetracker.store.db import Database, note


@dataclass(frozen=True)
class FilterChoices:
    years: list[int]
    counties: list[str]
    areas: list[str]
    positions: list[str]


def filter_choices(db: Database, scope: Scope, current_year: int) -> FilterChoices:
    """The values the filter bar offers: only what lies inside the user's scope.

    Every report page asks on every rerun; the answer changes only with the data.
    """
    choices: FilterChoices = db.cached(
        repr(("filter_choices", scope, current_year)),
        lambda: _filter_choices(db, scope, current_year),
    )
    return choices


def _filter_choices(db: Database, scope: Scope, current_year: int) -> FilterChoices:
    where, params = Filters(year=current_year, scope=scope).member_where("m")
    rows = db.rows(
        f"""SELECT 'county', county FROM members m WHERE {where} AND county IS NOT NULL
            UNION SELECT 'area', area FROM members m WHERE {where} AND area IS NOT NULL
            UNION SELECT 'position', position FROM members m WHERE {where} AND position IS NOT NULL""",  # noqa: S608 - clause of fixed text
        params,
    )
    span = db.one("SELECT min(ce_year), max(ce_year) FROM ce_records")
    first = int(span[0]) if span and span[0] is not None else current_year
    last = max(int(span[1]) if span and span[1] is not None else current_year, current_year)
    return FilterChoices(
        years=list(range(last, first - 1, -1)),
        counties=sorted(v for k, v in rows if k == "county"),
        areas=sorted((v for k, v in rows if k == "area"), key=_natural),
        positions=sorted(v for k, v in rows if k == "position"),
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
        entities.Field("status", "Status", "choice", required=True, choices=MEMBER_STATUSES),
        entities.Field("joined", "Joined", "date"),
    ),
)


def save_member(
    db: Database,
    values: dict[str, Any],
    *,
    actor: str,
    member_id: int | None = None,
    loaded: dict[str, Any] | None = None,
    today: date | None = None,
) -> int:
    """Add (no ``member_id``) or change a member; returns its id."""
    cleaned = entities.check_values(MEMBER, values, today or config.today())

    def checks(cur: Any, v: dict[str, Any]) -> None:
        note(members=[member_id if member_id is not None else new_id])
        other = entities.unique_id(cur, "members", "license_number", v["license_number"], member_id)
        if other is not None:
            name = cur.execute(
                "SELECT first_name || ' ' || last_name FROM members WHERE id = ?", [int(other)]
            ).fetchone()[0]
            raise entities.Invalid(
                [f"License number {v['license_number']} already belongs to {name}."]
            )

    new_id = db.new_id("member_ids") if member_id is None else member_id
    if member_id is None:
        entities.save(
            db, MEMBER, {"id": int(new_id)}, cleaned, None, actor, checks, "member", tracked=True
        )
        return int(new_id)
    if loaded is None:
        loaded = entities.current(db, MEMBER, {"id": member_id})
        if loaded is None:
            raise CetrackerError("That member no longer exists. Reload the page.")
    entities.save(
        db, MEMBER, {"id": member_id}, cleaned, loaded, actor, checks, "member", tracked=True
    )
    return member_id


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
    """One page of members matching ``text`` (name, license, email), and how many match."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params = {"t": f"%{escaped}%", "s": status}
    where = """(first_name || ' ' || last_name || ' ' || license_number || ' ' ||
                coalesce(email, '')) ILIKE $t ESCAPE '\\' AND ($s = '' OR status = $s)"""
    total = db.scalar(f"SELECT count(*) FROM members WHERE {where}", params)  # noqa: S608
    frame = db.frame(
        f"""SELECT id, license_number AS "License number", first_name AS "First name",
                   last_name AS "Last name", county AS "County", area AS "Area",
                   position AS "Position", email AS "Email", status AS "Status"
            FROM members WHERE {where}
            ORDER BY last_name, first_name, license_number
            LIMIT {PAGE_SIZE} OFFSET $o""",  # noqa: S608
        {**params, "o": max(0, page) * PAGE_SIZE},
    )
    return frame, int(total)


def member_by_license(db: Database, license_number: str) -> tuple[int, str] | None:
    """(id, full name) of the member holding ``license_number`` (case and spaces ignored)."""
    row = db.one(
        "SELECT id, first_name || ' ' || last_name FROM members"
        " WHERE upper(trim(license_number)) = upper(trim(?))",
        [license_number],
    )
    return None if row is None else (int(row[0]), str(row[1]))
