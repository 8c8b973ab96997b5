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

    def missing(self, category: str) -> Decimal:
        """Hours of ``category`` still to earn in this cycle (0 when its minimum is met)."""
        got, minimum = self.categories[category]
        return max(Decimal(0), minimum - got)


def add_license(
    db: Database,
    user: User,
    *,
    board: str,
    license_number: str,
    start: date,
    end: date,
    required: Any,
    minimums: dict[str, Any] | list[tuple[str, Any]] | None = None,
) -> None:
    member_id = _member_id(user)
    if not board.strip():
        raise CetrackerError("Enter the licensing board.")
    if end <= start:
        raise CetrackerError("The cycle must end after it starts.")
    try:
        needed = compute.two_places(required)
    except Exception as exc:
        raise CetrackerError("Enter the required hours as a number.") from exc
    if needed <= 0:
        raise CetrackerError("Enter the hours the board requires for the cycle (more than 0).")
    cleaned = _clean_minimums(minimums or {}, needed)
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


def _clean_minimums(
    minimums: dict[str, Any] | list[tuple[str, Any]], required: Decimal
) -> dict[str, str]:
    """Category minimums as the board sets them: any categories, each a number of hours
    (blank or 0: none), none more than the cycle's requirement, no category twice."""
    cleaned: dict[str, str] = {}
    pairs = list(minimums.items()) if isinstance(minimums, dict) else minimums
    for raw_name, raw_hours in pairs:
        name = str(raw_name or "").strip()[:60]
        if raw_hours is None or str(raw_hours).strip() in ("", "nan", "None"):
            continue
        try:
            minimum = compute.two_places(raw_hours)
        except Exception as exc:  # Decimal raises several types for bad text
            raise CetrackerError(
                f"The minimum for {name or 'a category'} is not a number of hours."
            ) from exc
        if minimum == 0:
            continue
        if not name:
            raise CetrackerError("Name the category of each minimum (Ethics, for instance).")
        if not minimum.is_finite() or minimum < 0:
            raise CetrackerError(f"The {name} minimum must be a number of hours, 0 or more.")
        if minimum > required:
            raise CetrackerError(
                f"The {name} minimum ({compute.hours_text(minimum)}) is more than the "
                f"{compute.hours_text(required)} the cycle requires."
            )
        if compute.category_key(name) in {compute.category_key(c) for c in cleaned}:
            raise CetrackerError(f"{name} is listed twice; give each category one minimum.")
        cleaned[name] = str(minimum)
    return cleaned


def remove_license(db: Database, user: User, license_id: int) -> None:
    with db.transaction(tracked=True) as cur:
        owner = cur.execute(
            "SELECT member_id FROM member_licenses WHERE id = ?", [license_id]
        ).fetchone()
        if owner is None or owner[0] != user.member_id:
            raise NotAllowed("That license is not one of yours.")
        cur.execute("DELETE FROM member_licenses WHERE id = ?", [license_id])


def category_names(db: Database, user: User) -> list[str]:
    """The categories the member's courses and the course list use (to suggest minimums)."""
    return [
        str(c)
        for (c,) in db.rows(
            """SELECT category FROM courses UNION SELECT category FROM ce_records
               WHERE member_id = ? ORDER BY 1""",
            [_member_id(user)],
        )
        if c
    ]


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
        progress = compute.cycle_standing(
            {c: compute.hours(h) for c, h in rows},
            compute.hours(required),
            {c: compute.hours(m) for c, m in json.loads(mins).items()},
        )
        out.append(
            CycleProgress(
                int(lid),
                board,
                number,
                start,
                end,
                compute.hours(required),
                progress.earned,
                progress.remaining,
                max(0, (end - today).days),
                progress.categories,
            )
        )
    return out
