"""Reading and writing the rules' settings (policy and category minimums) in the database."""

from __future__ import annotations

from decimal import Decimal

from cetracker import compute
from cetracker.db import Database


def load_policies(db: Database) -> list[compute.Policy]:
    return [
        compute.Policy(int(y), compute.hours(r), compute.hours(c), int(m))
        for y, r, c, m in db.rows(
            "SELECT effective_year, required_hours, carryover_cap, ce_year_start_month"
            " FROM policy ORDER BY effective_year"
        )
    ]


def load_minimum_sets(db: Database) -> dict[int, dict[str, Decimal]]:
    sets: dict[int, dict[str, Decimal]] = {
        int(y): {} for (y,) in db.rows("SELECT effective_year FROM category_minimum_sets")
    }
    for y, category, minimum in db.rows(
        "SELECT effective_year, category, minimum_hours FROM category_minimums"
    ):
        sets.setdefault(int(y), {})[category] = compute.hours(minimum)
    return sets


def policy_for_year(db: Database, year: int) -> compute.Policy:
    return compute.policy_for_year(load_policies(db), year)


def minimums_for_year(db: Database, year: int) -> dict[str, Decimal]:
    return compute.minimums_for_year(load_minimum_sets(db), year)


def current_ce_year(db: Database) -> int:
    """The CE year that today falls in, under the policy in force."""
    from datetime import date

    today = date.today()
    start = policy_for_year(db, today.year).ce_year_start_month
    return compute.ce_year_of(today, start)


def save_policy(cur, policy: compute.Policy) -> None:  # type: ignore[no-untyped-def]
    cur.execute(
        "INSERT OR REPLACE INTO policy VALUES (?, ?, ?, ?)",
        [
            policy.effective_year,
            policy.required_hours,
            policy.carryover_cap,
            policy.ce_year_start_month,
        ],
    )


def save_minimum_set(cur, effective_year: int, minimums: dict[str, Decimal]) -> None:  # type: ignore[no-untyped-def]
    cur.execute("INSERT OR IGNORE INTO category_minimum_sets VALUES (?)", [effective_year])
    cur.execute("DELETE FROM category_minimums WHERE effective_year = ?", [effective_year])
    for category, minimum in minimums.items():
        cur.execute(
            "INSERT INTO category_minimums VALUES (?, ?, ?)", [effective_year, category, minimum]
        )
