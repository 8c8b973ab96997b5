"""The rules of SPEC §4 as pure functions: the one home of every CE rule.

Standard library only. Hours are ``Decimal`` so that 0.25-hour sessions add up
exactly. Bulk SQL elsewhere (``cetracker.standing``) must agree with these
functions; property tests use this module as the oracle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from cetracker.rules.cells import lower_as_sql

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


CENT = Decimal("0.01")


def two_places(value: object) -> Decimal:
    """Hours (or money) as they are kept: two decimals, halves away from zero, as the
    database's DECIMAL(…, 2) rounds them ("1.125" is 1.13). Every entry path rounds with
    this before its checks, so "0.004" hours is 0 (refused) and "8.004" is 8 everywhere.
    A number too big to hold cents (more than 10^15) is left whole: the size checks after
    refuse it in words, where rounding it raised."""
    number = hours(value)
    if not number.is_finite() or number.adjusted() >= 15:
        return number
    return number.quantize(CENT, ROUND_HALF_UP)


def long_date(day: date) -> str:
    """A date as a certificate or transcript writes it: "September 1, 2023"."""
    return f"{day:%B} {day.day}, {day.year}"


def format_hours(value: object, *, grouped: bool = False) -> str:
    """Hours as people write them: 20, 22.5, 0.25 (no trailing zeros); ``grouped``: with
    thousands separators (1,535.25), for a report's totals. A float total is rounded to the
    cent first (a sum of floats is not exact)."""
    number = two_places(value).normalize()
    if number == number.to_integral():
        return f"{int(number):,}" if grouped else str(int(number))
    return f"{number:,f}" if grouped else f"{number:f}"


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
    # category -> (earned in it, its minimum), for every category with a minimum above 0
    categories: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


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


def ce_year_end(year: int, policies: Iterable[Policy] = ()) -> date:
    """The last day of CE year ``year``: December 31 with start month 1, else the day before
    its start month (a July–June year 2023 ends on June 30, 2023)."""
    start_month = policy_for_year(policies, year).ce_year_start_month
    if start_month <= 1:
        return date(year, 12, 31)
    return date(year, start_month, 1) - timedelta(days=1)


def ce_year_start(year: int, policies: Iterable[Policy] = ()) -> date:
    """CE-year rule: a year begins the day after the previous one ends, so that when a policy
    changes the start month every date still belongs to exactly one CE year (that year is
    then shorter or longer than twelve months)."""
    return ce_year_end(year - 1, policies) + timedelta(days=1)


def ce_year_of(day: date, policies: Iterable[Policy] = ()) -> int:
    """CE-year rule: the CE year a date belongs to — the first year whose last day is on or
    after it. With start month M > 1 a date in month ≥ M belongs to the next year's label."""
    policies = list(policies)
    return day.year if day <= ce_year_end(day.year, policies) else day.year + 1


def ce_year_label(year: int, policies: Iterable[Policy] = ()) -> str:
    """How a CE year is shown: "2023", or "2022–2023" for a year that spans two calendar years."""
    policies = list(policies)
    first = ce_year_start(year, policies)
    return str(year) if first.year == year else f"{first.year}–{year}"


def ce_year_dates(year: int, policies: Iterable[Policy] = ()) -> str:
    """A CE year's first and last day, as pages show them: "07/01/2022–06/30/2023"."""
    policies = list(policies)
    return f"{ce_year_start(year, policies):%m/%d/%Y}–{ce_year_end(year, policies):%m/%d/%Y}"


def earned(records: Iterable[Record], year: int) -> Decimal:
    """Earned rule: the sum of hours of the member's approved records in CE year ``year``."""
    return sum((r.hours for r in records if r.status == "approved" and r.ce_year == year), ZERO)


def category_key(category: str) -> str:
    """Category rule: categories compare ignoring case, so that a minimum for "ethics" counts
    the courses filed as "Ethics". Lowered as SQL's ``lower(category)`` lowers it
    (``cells.lower_as_sql``): by Python's own lowering a minimum "ETHİCS" counted on the
    Hour Summary and not on My CE."""
    return lower_as_sql(category)


def earned_in_category(records: Iterable[Record], year: int, category: str) -> Decimal:
    """Hours earned in ``year`` in one category (carried hours never count here)."""
    key = category_key(category)
    return sum(
        (
            r.hours
            for r in records
            if r.status == "approved" and r.ce_year == year and category_key(r.category) == key
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
    categories = {
        category: (earned_in_category(records, year, category), minimum)
        for category, minimum in sorted(minimums_for_year(minimum_sets or {}, year).items())
        if minimum > 0
    }
    shortfalls = {c: m - have for c, (have, m) in categories.items() if have < m}
    why = reasons(active=active, short_by=short_by, categories=categories)
    return Standing(
        year=year,
        earned=got,
        carried_in=carried,
        credited=credited,
        required=policy.required_hours,
        short_by=short_by,
        category_shortfalls=shortfalls,
        active=active,
        eligible=not why,
        categories=categories,
        reasons=why,
    )


def hours_word(value: object) -> str:
    """ "hour" for exactly one hour, else "hours" (0.5 hours, 0 hours, 2 hours)."""
    return "hour" if two_places(value) == 1 else "hours"


def hours_text(value: object) -> str:
    """A number of hours in words: "1 hour", "2.5 hours" (the one plural rule for hours)."""
    return f"{format_hours(value)} {hours_word(value)}"


def reasons(
    *, active: bool, short_by: Decimal, categories: Mapping[str, tuple[Decimal, Decimal]]
) -> tuple[str, ...]:
    """Eligibility rule: eligible = an active member, short by nothing and short in no category.

    Returns why a member is not eligible, in words ("inactive", "4 hours short",
    "Ethics: 1 of 3 hours"); eligible exactly when there is no reason. The bulk SQL
    (``cetracker.standing``) writes the same words.
    """
    why = [] if active else ["inactive"]
    if short_by > 0:
        why.append(f"{format_hours(short_by)} {hours_word(short_by)} short")
    for category, (got, minimum) in sorted(categories.items()):
        if got < minimum:
            why.append(
                f"{category}: {format_hours(got)} of {format_hours(minimum)} {hours_word(minimum)}"
            )
    return tuple(why)


def what_remains(
    standing: Standing, deadline: date, today: date | None = None, *, closed: bool = False
) -> list[str]:
    """What a member still needs for the year, as sentences for their own page:
    "You need 3 more hours by 12/31/2026", "You need 2 more Ethics hours by 12/31/2026";
    once the year has ended (``today`` after its deadline), what it ended short of, and
    until it is ``closed`` that courses taken by then still count."""
    if not standing.active:
        return ["Your membership is inactive; ask the association office."]
    short = {"": standing.short_by} if standing.short_by > 0 else {}
    short.update((f"{c} ", m) for c, m in sorted(standing.category_shortfalls.items()))
    if not short:  # not eligible for a reason only the year's close holds
        return [f"Not eligible: {'; '.join(standing.reasons)}."]
    if today is not None and today > deadline:
        ended = [
            f"You were {format_hours(missing)} {what}{hours_word(missing)} short when the "
            f"year ended on {deadline:%m/%d/%Y}."
            for what, missing in short.items()
        ]
        late = "Courses you took by then still count until the office closes the year."
        return ended if closed else [*ended, late]
    return [
        f"You need {format_hours(missing)} more {what}{hours_word(missing)} by {deadline:%m/%d/%Y}."
        for what, missing in short.items()
    ]


def privileges(joined_by: str = "and") -> str:
    """What meeting a year's requirement lets a member do, in one phrase ("vote, be elected
    Clerk of the Year and run for Secretary"); ``joined_by`` "or" after "may not"."""
    return f"vote, be elected Clerk of the Year {joined_by} run for Secretary"


def what_it_gives(year: int, deadline: date, today: date | None = None) -> str:
    """What meeting the requirement of ``year`` means for the member, as a sentence for
    their own page: in the past tense once the year has ended (``today`` after its
    deadline)."""
    if today is not None and today > deadline:
        return f"You met the CE requirement for {year}: you were eligible to {privileges()}."
    return f"You have met the CE requirement for {year}: you may {privileges()}."


@dataclass(frozen=True)
class CycleStanding:
    """Progress through a license renewal cycle (its own window, requirement and minimums)."""

    earned: Decimal
    remaining: Decimal
    categories: dict[str, tuple[Decimal, Decimal]]  # category -> (earned, minimum)

    @property
    def categories_to_go(self) -> dict[str, Decimal]:
        return {c: m - got for c, (got, m) in sorted(self.categories.items()) if got < m}

    @property
    def met(self) -> bool:
        return self.remaining == 0 and not self.categories_to_go


def cycle_standing(
    hours_by_category: Mapping[str, Decimal],
    required: Decimal,
    minimums: Mapping[str, Decimal],
) -> CycleStanding:
    """Renewal-cycle rule: approved records dated inside the cycle's window count, whichever CE
    year; remaining = max(0, required − earned); each category's minimum counts only that
    category's hours (nothing carries into a cycle)."""
    earned = sum((hours(h) for h in hours_by_category.values()), ZERO)
    folded: dict[str, Decimal] = {}
    for category, amount in hours_by_category.items():
        key = category_key(category)
        folded[key] = folded.get(key, ZERO) + hours(amount)
    return CycleStanding(
        earned=earned,
        remaining=max(ZERO, hours(required) - earned),
        categories={
            c: (folded.get(category_key(c), ZERO), hours(m))
            for c, m in sorted(minimums.items())
            if hours(m) > 0
        },
    )


def dues_outstanding(amount_due: Decimal, amount_paid: Decimal, status: str) -> Decimal:
    """Dues rule (SPEC §2): outstanding = due − paid for paid, partial and unpaid rows (never
    below 0); a waived row owes nothing. No row for the year is "no dues record", not unpaid."""
    if status == "waived":
        return ZERO
    return max(ZERO, hours(amount_due) - hours(amount_paid))


# Why a closed year's snapshot holds a member not eligible whom today's rules find nothing
# against (the snapshot is what the year closed with).
SHORT_WHEN_CLOSED = "short of a category minimum when the year closed"

INELIGIBLE_NOTE = f"Members short of hours may not {privileges('or')} of the association."
