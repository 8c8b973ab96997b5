"""A member's own figures, computed straight from the rules module (SPEC §4)."""

from __future__ import annotations

from cetracker import compute
from cetracker import policy as policies
from cetracker.auth import User
from cetracker.db import Database
from cetracker.errors import NotAllowed


def member_records(db: Database, member_id: int) -> list[compute.Record]:
    return [
        compute.Record(int(y), compute.hours(h), c, s)
        for y, h, c, s in db.rows(
            "SELECT ce_year, hours, category, status FROM ce_records WHERE member_id = ?",
            [member_id],
        )
    ]


def standing_of(db: Database, member_id: int, year: int) -> compute.Standing:
    status = db.scalar("SELECT status FROM members WHERE id = ?", [member_id])
    return compute.standing(
        member_records(db, member_id),
        year,
        policies.load_policies(db),
        policies.load_minimum_sets(db),
        active=status == "active",
    )


def my_standing(db: Database, user: User, year: int | None = None) -> compute.Standing:
    if user.member_id is None:
        raise NotAllowed("This account is not linked to a member.")
    return standing_of(db, user.member_id, year or policies.current_ce_year(db))
