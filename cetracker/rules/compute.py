"""The rules of SPEC §4 as pure functions: the one home of every CE rule.

Standard library only. Hours are ``Decimal`` so that 0.25-hour sessions add up
exactly. Bulk SQL elsewhere (``cetracker.standing``) must agree with these
functions; property tests use this module as the oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

ZERO = Decimal(0)

# A CE year is a whole number in this range; anything else is a typing mistake.
FIRST_CE_YEAR = 1900
LAST_CE_YEAR = 2200


def is_ce_year(year: int) -> bool:
    """A CE year is a whole number from 1900 to 2200 (SPEC §7)."""
    return (
        isinstance(year, int)
        and not isinstance(year, bool)
        and (FIRST_CE_YEAR <= year <= LAST_CE_YEAR)
    )


def hours(value: object) -> Decimal:
    """A number of hours as an exact decimal (floats go through their shortest text)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def format_hours(value: object) -> str:
    """Hours as people write them: 20, 22.5, 0.25 (no trailing zeros)."""
    number = hours(value).normalize()
    return f"{number:f}" if number != number.to_integral() else str(int(number))


@dataclass(frozen=True)
class Policy:
    """Rules for CE years from ``effective_year`` until a later policy replaces them."""

    effective_year: int
    required_hours: Decimal = Decimal(20)
    carryover_cap: Decimal = Decimal(10)
    ce_year_start_month: int = 1


DEFAULT_POLICY = Policy(effective_year=0)


@dataclass(frozen=True)
class Record:
    """The part of a CE record the rules look at."""

    ce_year: int
    hours: Decimal
    category: str = "General"
    status: str = "approved"


@dataclass(frozen=True)
class Standing:
    """A member's position for one CE year."""

    year: int
    earned: Decimal
    carried_in: Decimal
    credited: Decimal
    required: Decimal
    short_by: Decimal
    category_shortfalls: dict[str, Decimal] = field(default_factory=dict)
    active: bool = True
    eligible: bool = False


def policy_for_year(policies: Iterable[Policy], year: int) -> Policy:
    """Policy rule: a year uses the latest policy whose effective year ≤ it (else the defaults)."""
    best: Policy | None = None
    for p in policies:
        if p.effective_year <= year and (best is None or p.effective_year > best.effective_year):
            best = p
    return best or DEFAULT_POLICY


def minimums_for_year(
    minimum_sets: Mapping[int, Mapping[str, Decimal]], year: int
) -> dict[str, Decimal]:
    """Category-minimum rule: a year uses the set with the latest effective year ≤ it.

    An empty set means no category minimums from that year on.
    """
    years = [y for y in minimum_sets if y <= year]
    if not years:
        return {}
    return {c: hours(h) for c, h in minimum_sets[max(years)].items()}


def binding_minimums(
    minimum_sets: Mapping[int, Mapping[str, Decimal]], year: int
) -> dict[str, Decimal]:
    """The year's category minimums that a member can fall short of (a minimum of 0 hours
    is met with no hours in that category): what the SQL counts."""
    return {c: h for c, h in minimums_for_year(minimum_sets, year).items() if h > 0}


def ce_year_of(day: date, start_month: int = 1) -> int:
    """CE-year rule: with start month M > 1 a date in month ≥ M belongs to the next year's label."""
    if start_month <= 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def ce_year_label(year: int, start_month: int = 1) -> str:
    """How a CE year is shown: "2023", or "2022–2023" for a year that starts mid-calendar."""
    return str(year) if start_month <= 1 else f"{year - 1}–{year}"


def earned(records: Iterable[Record], year: int) -> Decimal:
    """Earned rule: the sum of hours of the member's approved records in CE year ``year``."""
    return sum((r.hours for r in records if r.status == "approved" and r.ce_year == year), ZERO)


def earned_in_category(records: Iterable[Record], year: int, category: str) -> Decimal:
    """Hours earned in ``year`` in one category (carried hours never count here)."""
    return sum(
        (
            r.hours
            for r in records
            if r.status == "approved" and r.ce_year == year and r.category == category
        ),
        ZERO,
    )


def carried_in(records: Iterable[Record], year: int, policies: Iterable[Policy]) -> Decimal:
    """Carryover rule: min(cap(y−1), max(0, earned(y−1) − required(y−1))).

    Only hours *earned* in y−1 roll over; hours carried into y−1 never roll again.
    """
    policies = list(policies)
    previous = policy_for_year(policies, year - 1)
    surplus = earned(records, year - 1) - previous.required_hours
    return min(previous.carryover_cap, max(ZERO, surplus))


def standing(
    records: Iterable[Record],
    year: int,
    policies: Iterable[Policy] = (),
    minimum_sets: Mapping[int, Mapping[str, Decimal]] | None = None,
    *,
    active: bool = True,
) -> Standing:
    """Credited = earned + carried in; short by = max(0, required − credited).

    Eligibility rule: an active member, short by nothing and short in no category.
    """
    records = list(records)
    policies = list(policies)
    policy = policy_for_year(policies, year)
    got = earned(records, year)
    carried = carried_in(records, year, policies)
    credited = got + carried
    short_by = max(ZERO, policy.required_hours - credited)
    shortfalls: dict[str, Decimal] = {}
    for category, minimum in minimums_for_year(minimum_sets or {}, year).items():
        missing = minimum - earned_in_category(records, year, category)
        if missing > 0:
            shortfalls[category] = missing
    return Standing(
        year=year,
        earned=got,
        carried_in=carried,
        credited=credited,
        required=policy.required_hours,
        short_by=short_by,
        category_shortfalls=shortfalls,
        active=active,
        eligible=active and short_by == 0 and not shortfalls,
    )


INELIGIBLE_NOTE = (
    "Members short of hours may not vote, be elected Clerk of the Year "
    "or run for Secretary of the association."
)
