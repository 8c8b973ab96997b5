"""A member's own license renewal cycles (SPEC §4): the only writer of ``member_licenses``.

Approved records dated inside a cycle's window count toward it, whichever CE year."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cetracker import audit, config
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError, NotAllowed
from cetracker.rules import compute
from cetracker.store.db import Database


def _member_id(user: User) -> int:
    if user.member_id is None:
        raise NotAllowed("This account is not linked to a member.")
    return user.member_id


@dataclass(frozen=True)
class CycleProgress:
    license_id: int
    board: str
    license_number: str
    start: date
    end: date
    required: Decimal
    earned: Decimal
    remaining: Decimal
    days_left: int
    categories: dict[str, tuple[Decimal, Decimal]]  # category -> (earned, minimum)


def add_license(
    db: Database,
    user: User,
    *,
    board: str,
    license_number: str,
    start: date,
    end: date,
    required: Any,
    minimums: dict[str, Any] | None = None,
) -> None:
    member_id = _member_id(user)
    if not board.strip():
        raise CetrackerError("Enter the licensing board.")
    if end <= start:
        raise CetrackerError("The cycle must end after it starts.")
    try:
        needed = compute.hours(required)
    except Exception as exc:
        raise CetrackerError("Enter the required hours as a number.") from exc
    if needed <= 0:
        raise CetrackerError("Enter the hours the board requires for the cycle (more than 0).")
    cleaned = {c: str(compute.hours(h)) for c, h in (minimums or {}).items() if h}
    with db.transaction(tracked=True) as cur:
        cur.execute(
            """INSERT INTO member_licenses (member_id, board, license_number, cycle_start,
                                            cycle_end, required_hours, minimums)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                member_id,
                board.strip()[:200],
                license_number.strip()[:60],
                start,
                end,
                needed,
                json.dumps(cleaned),
            ],
        )
        audit.record(cur, user.username, "license cycle added", "member", member_id, board)


def remove_license(db: Database, user: User, license_id: int) -> None:
    with db.transaction(tracked=True) as cur:
        owner = cur.execute(
            "SELECT member_id FROM member_licenses WHERE id = ?", [license_id]
        ).fetchone()
        if owner is None or owner[0] != user.member_id:
            raise NotAllowed("That license is not one of yours.")
        cur.execute("DELETE FROM member_licenses WHERE id = ?", [license_id])


def license_progress(db: Database, user: User, today: date | None = None) -> list[CycleProgress]:
    """Each license's cycle: approved records dated inside it count, whichever CE year."""
    member_id = _member_id(user)
    today = today or config.today()
    out = []
    for lid, board, number, start, end, required, mins in db.rows(
        """SELECT id, board, coalesce(license_number, ''), cycle_start, cycle_end,
                  required_hours, minimums
           FROM member_licenses WHERE member_id = ? ORDER BY cycle_end""",
        [member_id],
    ):
        rows = db.rows(
            """SELECT category, sum(hours) FROM ce_records
               WHERE member_id = ? AND status = 'approved' AND course_date BETWEEN ? AND ?
               GROUP BY category""",
            [member_id, start, end],
        )
        by_category = {c: compute.hours(h) for c, h in rows}
        earned = sum(by_category.values(), Decimal(0))
        required = compute.hours(required)
        out.append(
            CycleProgress(
                int(lid),
                board,
                number,
                start,
                end,
                required,
                earned,
                max(Decimal(0), required - earned),
                max(0, (end - today).days),
                {
                    c: (by_category.get(c, Decimal(0)), compute.hours(m))
                    for c, m in json.loads(mins).items()
                },
            )
        )
    return out
