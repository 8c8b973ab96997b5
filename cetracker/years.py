"""Closing a CE year (SPEC §2/§4): the hour summary and certificates of a year frozen as a snapshot.

A closed year's reports read the snapshot; its records cannot change until an
administrator reopens the year with a reason. Both are audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from cetracker import audit, config
from cetracker import policy as policies
from cetracker.errors import CetrackerError
from cetracker.filters import Filters
from cetracker.store.db import Database, note


@dataclass(frozen=True)
class ClosedYear:
    year: int
    closed_at: datetime
    closed_by: str
    certificates_issued: date


def closed(db: Database) -> dict[int, ClosedYear]:
    return {
        int(y): ClosedYear(int(y), at, by, issued)
        for y, at, by, issued in db.rows(
            "SELECT ce_year, closed_at, closed_by, certificates_issued FROM closed_years"
        )
    }


def is_closed(db: Database, year: int) -> ClosedYear | None:
    return closed(db).get(year)


def closed_in(cur: Any, years: set[int] | list[int]) -> list[int]:
    """Which of ``years`` are closed, read inside the caller's transaction."""
    if not years:
        return []
    rows = cur.execute(
        "SELECT ce_year FROM closed_years WHERE ce_year IN (SELECT unnest($y::INTEGER[]))"
        " ORDER BY ce_year",
        {"y": sorted({int(y) for y in years})},
    ).fetchall()
    return [int(y) for (y,) in rows]


def final_in(cur: Any, record_years: set[int] | list[int]) -> dict[int, int]:
    """Which of ``record_years`` hold final hours, each with the closed year that makes them
    final: the year itself, or the year after it (a year's surplus hours carry into the next,
    so changing them would change that closed year's carried hours)."""
    wanted = {int(y) for y in record_years}
    shut = set(closed_in(cur, wanted | {y + 1 for y in wanted}))
    return {y: y if y in shut else y + 1 for y in sorted(wanted) if shut & {y, y + 1}}


def final_message(
    year: int, closed_year: int, *, reader: Literal["office", "member", "roster"] = "office"
) -> str:
    """Why records of ``year`` cannot change while ``closed_year`` (the year or the next) is
    closed, said to its ``reader``: the office (who may reopen it), a member (who asks the
    office), or a roster row, read by its provider and by the office alike (an office
    uploads providers' rosters too): what must happen, not whom to ask."""
    if year == closed_year:
        if reader == "member":
            return MEMBER_CLOSED.format(year=year)
        if reader == "roster":
            return (
                f"CE year {year} is closed: its hours are final. This row can count only if "
                f"an administrator reopens {year}"
            )
        return closed_message(year)
    carried = (
        f"CE year {closed_year} is closed, and hours of CE year {year} carry into it, so they "
        "are final too."
    )
    if reader == "member":
        return f"{carried} Contact the office if this course should count."
    if reader == "roster":
        return f"{carried} This row can count only if an administrator reopens {closed_year}"
    return (
        f"{carried} An administrator must reopen {closed_year} (CE Years page, with a "
        f"reason) before records of {year} can change."
    )


def _record_counts(db: Database) -> list[tuple[int, int, int, int]]:
    """Each CE year's records, members with records and records awaiting review, latest
    year first. The first two read every record (1.4 s at a million members, 5 s on a
    server), so they are remembered until records are added, removed or moved; those
    awaiting review, the few a server finds by its index, until records change (an
    approval). The CE Years page's own clicks, and writes of members, dues or messages,
    count nothing again."""

    def count() -> list[tuple[int, int, int]]:
        return [
            (int(y), int(n), int(m))
            for y, n, m in db.rows(
                """SELECT ce_year, count(*), count(DISTINCT member_id)
                   FROM ce_records GROUP BY ce_year ORDER BY ce_year DESC""",
                bulk=True,
            )
        ]

    def awaiting() -> dict[int, int]:
        # The server's partial index (migration 11) serves a condition that implies its
        # own, which the server sees only in its own SQL (``self_reports._pending``).
        sql = "SELECT ce_year, count(*) FROM ce_records WHERE status = 'pending' GROUP BY 1"
        return {int(y): int(n) for y, n in (db.server_rows(sql) if db.server else db.rows(sql))}

    totals: list[tuple[int, int, int]] = db.maintained_value(
        "records by year", count, lambda change: change.moved
    )
    pending: dict[int, int] = db.maintained_value(
        "records awaiting review by year", awaiting, lambda change: bool(change.records)
    )
    return [(y, n, m, pending.get(y, 0)) for y, n, m in totals]


def closed_message(year: int) -> str:
    return (
        f"CE year {year} is closed. An administrator must reopen it (CE Years page, with a "
        "reason) before its records can change."
    )


MEMBER_CLOSED = (
    "CE year {year} is closed: its hours are final and courses can no longer be reported or "
    "changed for it. Contact the office if this course should count."
)


def ensure_open(cur: Any, *years: int, member: bool = False) -> None:
    """Refuse, inside a write, any change to records whose hours are final (``final_in``);
    ``member``: the change is a member's own, told in a member's words."""
    for year, closed_year in final_in(cur, set(years)).items():
        raise CetrackerError(
            final_message(year, closed_year, reader="member" if member else "office"),
            title="Year closed",
        )


def deadline(db: Database, year: int) -> date:
    """The last day of CE year ``year`` (a July–June year 2023 ends on June 30, 2023)."""
    return policies.ce_year_end(db, year)


def close_year(db: Database, year: int, *, actor: str, today: date | None = None) -> int:
    """Freeze year ``year``: snapshot every member's standing; returns how many members."""
    from cetracker.standing import hour_summary_query

    today = today or config.today()
    label = policies.ce_year_label(db, year)
    if today <= deadline(db, year):
        raise CetrackerError(
            f"CE year {label} ends on {deadline(db, year):%m/%d/%Y}; it can be closed after that."
        )
    sql, params = hour_summary_query(db, Filters(year=year), detail=True, live=True)
    with db.transaction(tracked=True) as cur:
        note(years=[year])  # its reports now read the snapshot
        if closed_in(cur, [year]):
            raise CetrackerError(f"CE year {label} is already closed.")
        cur.execute(
            f"""INSERT INTO year_snapshots
                SELECT $year, member_id, status, earned, carried_in, required, categories_short,
                       eligible
                FROM ({sql})""",  # noqa: S608 - composed of fixed SQL
            params,
        )
        count = cur.execute(
            "SELECT count(*) FROM year_snapshots WHERE ce_year = ?", [year]
        ).fetchone()[0]  # type: ignore[index]
        eligible = cur.execute(
            "SELECT count(*) FROM year_snapshots WHERE ce_year = ? AND eligible", [year]
        ).fetchone()[0]  # type: ignore[index]
        cur.execute(
            "INSERT INTO closed_years (ce_year, closed_by, certificates_issued) VALUES (?, ?, ?)",
            [year, actor, today],
        )
        audit.record(
            cur,
            actor,
            "CE year closed",
            "ce_year",
            year,
            {"members": count, "eligible": eligible, "certificates issued": today.isoformat()},
        )
    return int(count)


def reopen_year(db: Database, year: int, *, actor: str, reason: str) -> None:
    reason = reason.strip()
    if len(reason) < 10:
        raise CetrackerError(
            "Say why the year is reopened (at least 10 characters); the reason is kept in the "
            "audit log."
        )
    with db.transaction(tracked=True) as cur:
        note(years=[year])  # its reports compute from the records again
        if not closed_in(cur, [year]):
            raise CetrackerError(f"CE year {year} is not closed.")
        cur.execute("DELETE FROM year_snapshots WHERE ce_year = ?", [year])
        cur.execute("DELETE FROM closed_years WHERE ce_year = ?", [year])
        audit.record(cur, actor, "CE year reopened", "ce_year", year, {"reason": reason})


def overview(db: Database) -> list[dict[str, Any]]:
    """Every CE year with records: counts and whether it is closed."""
    shut = closed(db)
    result = []
    for y, records, members, pending in _record_counts(db):
        c = shut.get(int(y))
        result.append(
            {
                "CE year": int(y),
                "Records": int(records),
                "Members with hours": int(members),
                "Pending approvals": int(pending),
                "Ends": deadline(db, int(y)),
                "Closed": f"{c.closed_at:%m/%d/%Y} by {c.closed_by}" if c else "",
            }
        )
    return result
