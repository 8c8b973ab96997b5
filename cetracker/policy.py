"""Reading and writing the rules' settings (policy and category minimums) in the database."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from cetracker import audit, config
from cetracker.errors import CetrackerError
from cetracker.rules import compute
from cetracker.store.db import Database, note


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


def ce_year_of(db: Database, day: date) -> int:
    """The CE year of a date under the stored policies: every writer of a record asks this."""
    return compute.ce_year_of(day, load_policies(db))


def ce_year_label(db: Database, year: int) -> str:
    return compute.ce_year_label(year, load_policies(db))


def ce_year_end(db: Database, year: int) -> date:
    return compute.ce_year_end(year, load_policies(db))


def current_ce_year(db: Database) -> int:
    """The CE year that today falls in, under the policy in force."""
    return ce_year_of(db, config.today())


def save_policy(cur, policy: compute.Policy) -> None:  # type: ignore[no-untyped-def]
    cur.execute("DELETE FROM policy WHERE effective_year = ?", [policy.effective_year])
    cur.execute(
        "INSERT INTO policy (effective_year, required_hours, carryover_cap, ce_year_start_month)"
        " VALUES (?, ?, ?, ?)",
        [
            policy.effective_year,
            policy.required_hours,
            policy.carryover_cap,
            policy.ce_year_start_month,
        ],
    )


def save_minimum_set(cur, effective_year: int, minimums: dict[str, Decimal]) -> None:  # type: ignore[no-untyped-def]
    cur.execute("DELETE FROM category_minimum_sets WHERE effective_year = ?", [effective_year])
    cur.execute("INSERT INTO category_minimum_sets VALUES (?)", [effective_year])
    cur.execute("DELETE FROM category_minimums WHERE effective_year = ?", [effective_year])
    for category, minimum in minimums.items():
        cur.execute(
            "INSERT INTO category_minimums VALUES (?, ?, ?)", [effective_year, category, minimum]
        )


# -- changing the rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A policy (and its category minimums) taking effect from ``effective_year``."""

    policy: compute.Policy
    minimums: dict[str, Decimal]

    @property
    def effective_year(self) -> int:
        return self.policy.effective_year


def parse_minimums(text: str) -> dict[str, Decimal]:
    """Lines like "Ethics: 3" into {"Ethics": 3}; every wrong line named in the message."""
    minimums: dict[str, Decimal] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        category, sep, amount = line.rpartition(":")
        category = category.strip()
        try:
            value = Decimal(amount.strip())
        except InvalidOperation:
            value = None
        if not sep or not category or value is None or not value.is_finite():
            problems.append(
                f"Line {number} “{line.strip()[:60]}”: write a category, a colon and hours, "
                "like Ethics: 3."
            )
        elif problem := minimum_problem(category, value := compute.two_places(value), minimums):
            problems.append(f"Line {number}: {problem}")
        else:
            minimums[category[:60]] = value
    if problems:
        raise CetrackerError(" ".join(problems), title="Please correct")
    return minimums


def minimum_problem(category: str, value: Decimal, chosen: dict[str, Decimal]) -> str | None:
    """What is wrong with one category minimum beside those ``chosen`` already for its
    effective year: a line of the CE Rules form or a row of a workbook's Category Minimums
    sheet."""
    if value <= 0:
        return f"the minimum for {category} must be more than 0."
    if compute.category_key(category) in {compute.category_key(c) for c in chosen}:
        return f"{category} is listed twice."
    return None


def range_problems(p: compute.Policy, minimums: dict[str, Decimal] | None = None) -> list[str]:
    """What is out of range in a policy and its category minimums: the CE Rules form and a
    workbook's Policy sheet are held to the same limits."""
    problems = []
    if not compute.is_ce_year(p.effective_year):
        problems.append(f"Effective year {p.effective_year} is not a year.")
    if not 0 < p.required_hours <= 1000:
        problems.append("Required hours must be more than 0 and at most 1,000.")
    if not 0 <= p.carryover_cap <= 1000:
        problems.append("The carryover cap must be between 0 (no carryover) and 1,000 hours.")
    if not 1 <= p.ce_year_start_month <= 12:
        problems.append("The CE-year start month must be a month from 1 to 12.")
    total = sum((minimums or {}).values(), Decimal(0))
    if total > p.required_hours:
        problems.append(
            f"The category minimums add up to {compute.hours_text(total)}, more than "
            f"the {compute.hours_text(p.required_hours)} required; lower the minimums "
            "or raise the required hours."
        )
    return problems


def check_proposal(db: Database, proposal: Proposal) -> None:
    """Refuse a change that is out of range or would rewrite a closed year or stored CE years.

    The one check of a change to the rules: the CE Rules page's and a workbook's Policy and
    Category Minimums sheets' (``workbook.check_rules``), which asks it for each effective
    year the sheets change."""
    p = proposal.policy
    problems = range_problems(p, proposal.minimums)
    if problems:
        raise CetrackerError(" ".join(problems), title="Please correct")
    current = policy_for_year(db, p.effective_year)
    if p.ce_year_start_month != current.ce_year_start_month:
        recorded = db.scalar(
            "SELECT count(*) FROM ce_records WHERE ce_year >= ?", [p.effective_year]
        )
        if recorded:
            raise CetrackerError(
                f"{recorded:,} records are already filed in CE years from {p.effective_year} on, "
                "by the current start month; changing the start month would put them in the "
                "wrong year. Make the new start month effective from a year with no records yet."
            )
    governed = governed_years(db, proposal)
    _refuse_closed(db.scalar(_FIRST_CLOSED, [governed[0], governed[-1]]))


# The first closed year of a range of CE years (a change's governed years).
_FIRST_CLOSED = "SELECT min(ce_year) FROM closed_years WHERE ce_year BETWEEN ? AND ?"


def _refuse_closed(year: int | None) -> None:
    """Refuse a change to the rules of closed year ``year`` (a closed year's carried hours
    follow the year before's rules: every governed year is checked)."""
    if year is not None:
        raise CetrackerError(
            f"CE year {year} is closed and this change would apply to it. Reopen {year} "
            f"first (CE Years page), or make the change effective from {year + 1}."
        )


def governed_years(db: Database, proposal: Proposal) -> range:
    """Every CE year whose standing the proposal can change: from its effective year until
    the next policy, that year included (its carried hours follow the year before's
    policy), and until the next minimum set, that year not (minimums carry nothing); on
    without end when none follows."""
    next_policy = min(
        [y.effective_year for y in load_policies(db) if y.effective_year > proposal.effective_year],
        default=2200,
    )
    next_minimums = min(
        [y for y in load_minimum_sets(db) if y > proposal.effective_year], default=2201
    )
    return range(proposal.effective_year, max(next_policy + 1, next_minimums))


def save_proposal(db: Database, proposal: Proposal, *, actor: str) -> dict[str, list[object]]:
    """Write the policy and its minimums for the effective year; audited before → after."""
    check_proposal(db, proposal)
    year = proposal.effective_year
    governed = governed_years(db, proposal)
    with db.transaction(tracked=True) as cur:
        # A year closed since the check above (another session's close) is refused too.
        _refuse_closed(cur.execute(_FIRST_CLOSED, [governed[0], governed[-1]]).fetchone()[0])  # type: ignore[index]
        note(years=governed)
        row = cur.execute(
            "SELECT required_hours, carryover_cap, ce_year_start_month FROM policy"
            " WHERE effective_year = ?",
            [year],
        ).fetchone()
        old_minimums = {
            c: compute.hours(m)
            for c, m in cur.execute(
                "SELECT category, minimum_hours FROM category_minimums WHERE effective_year = ?",
                [year],
            ).fetchall()
        }
        p = proposal.policy
        after = _rules_text(p, proposal.minimums)
        # Before: the year's own rules, or else the ones it followed (an earlier year's):
        # "required hours: 20 → 24", not "— → 24" while 20 applied. Rules the same as
        # those that apply already are nothing to save.
        before = (
            _rules_text(
                compute.Policy(year, compute.hours(row[0]), compute.hours(row[1]), int(row[2])),
                old_minimums,
            )
            if row
            else _rules_text(policy_for_year(db, year), minimums_for_year(db, year))
        )
        changes: dict[str, list[object]] = {
            k: [before[k], v] for k, v in after.items() if before[k] != v
        }
        if not changes:
            return {}
        save_policy(cur, p)
        save_minimum_set(cur, year, proposal.minimums)
        audit.record(cur, actor, "policy changed", "policy", year, {"changes": changes})
    return changes


def _rules_text(p: compute.Policy, minimums: dict[str, Decimal]) -> dict[str, object]:
    """A year's rules as the audit log and the page's notice write them."""
    return {
        "required_hours": compute.format_hours(p.required_hours),
        "carryover_cap": compute.format_hours(p.carryover_cap),
        "ce_year_start_month": calendar.month_name[p.ce_year_start_month],
        "category_minimums": _minimums_text(minimums),
    }


def _minimums_text(minimums: dict[str, Decimal]) -> str:
    return (
        ", ".join(f"{c} {compute.format_hours(m)}" for c, m in sorted(minimums.items())) or "none"
    )
