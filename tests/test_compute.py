"""The rules of SPEC §4 against a plain reference written separately from compute.py."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cetracker.rules import compute
from cetracker.rules.compute import Policy, Record

D = Decimal


def reference(records, year, policies, minimum_sets, active=True):
    """SPEC §4 spelled out the long way, as an oracle for compute.standing."""

    def pol(y):
        usable = sorted(
            (p for p in policies if p.effective_year <= y), key=lambda p: p.effective_year
        )
        return usable[-1] if usable else Policy(0, D(20), D(10), 1)

    def earned(y, category=None):
        total = D(0)
        for r in records:
            if (
                r.status == "approved"
                and r.ce_year == y
                and (category is None or r.category == category)
            ):
                total += r.hours
        return total

    before = pol(year - 1)
    surplus = earned(year - 1) - before.required_hours
    carried = surplus if surplus > 0 else D(0)
    if carried > before.carryover_cap:
        carried = before.carryover_cap
    credited = earned(year) + carried
    required = pol(year).required_hours
    short = required - credited if required > credited else D(0)
    set_years = [y for y in minimum_sets if y <= year]
    minimums = minimum_sets[max(set_years)] if set_years else {}
    category_short = any(earned(year, c) < m for c, m in minimums.items())
    eligible = active and short == 0 and not category_short
    return earned(year), carried, credited, required, short, eligible


quarter_hours = st.integers(min_value=1, max_value=60).map(lambda q: D(q) / 4)
records_st = st.lists(
    st.builds(
        Record,
        ce_year=st.integers(2019, 2024),
        hours=quarter_hours,
        category=st.sampled_from(["General", "Ethics", "Technology"]),
        status=st.sampled_from(["approved", "approved", "approved", "pending", "rejected"]),
    ),
    max_size=25,
)
policies_st = st.lists(
    st.builds(
        Policy,
        effective_year=st.integers(2015, 2024),
        required_hours=st.integers(0, 40).map(D),
        carryover_cap=st.integers(0, 15).map(D),
        ce_year_start_month=st.just(1),
    ),
    max_size=3,
    unique_by=lambda p: p.effective_year,
)
minimums_st = st.dictionaries(
    st.integers(2015, 2024),
    st.dictionaries(
        st.sampled_from(["Ethics", "Technology"]), st.integers(0, 6).map(D), max_size=2
    ),
    max_size=2,
)


@given(records_st, st.integers(2019, 2025), policies_st, minimums_st, st.booleans())
# A policy change between Y-1 and Y: Y-1's requirement and cap decide the carryover.
@example(
    [Record(2022, D(30)), Record(2023, D(12))],
    2023,
    [Policy(2000, D(20), D(10)), Policy(2023, D(25), D(5))],
    {},
    True,
)
# Cap 0 means no carryover at all.
@example([Record(2022, D(40))], 2023, [Policy(2000, D(20), D(0))], {}, True)
# An inactive member is never eligible, however many hours.
@example([Record(2023, D(50))], 2023, [], {}, False)
# Carried hours never roll twice: 2021's surplus helps 2022 only.
@example([Record(2021, D(40)), Record(2023, D(15))], 2023, [], {}, True)
# A category minimum met only by carried hours is not met.
@example(
    [Record(2022, D(30), "Ethics"), Record(2023, D(20), "General")],
    2023,
    [],
    {2020: {"Ethics": D(3)}},
    True,
)
# An empty set of minimums from a later year removes the earlier minimums.
@example([Record(2023, D(20))], 2023, [], {2020: {"Ethics": D(3)}, 2023: {}}, True)
def test_standing_agrees_with_reference(records, year, policies, minimum_sets, active):
    got = compute.standing(records, year, policies, minimum_sets, active=active)
    want = reference(records, year, policies, minimum_sets, active)
    assert (
        got.earned,
        got.carried_in,
        got.credited,
        got.required,
        got.short_by,
        got.eligible,
    ) == want


def test_carryover_example_from_the_manual():
    # "we now automatically roll 10 hours over the initial 20 earned to the following year"
    records = [Record(2022, D(34)), Record(2023, D(12))]
    s = compute.standing(records, 2023)
    assert (s.earned, s.carried_in, s.credited, s.short_by, s.eligible) == (
        D(12),
        D(10),
        D(22),
        D(0),
        True,
    )


def test_pending_and_rejected_hours_do_not_count():
    records = [
        Record(2023, D(10)),
        Record(2023, D(10), status="pending"),
        Record(2023, D(10), status="rejected"),
    ]
    assert compute.standing(records, 2023).earned == D(10)


def test_category_shortfall_makes_member_short():
    s = compute.standing(
        [Record(2023, D(25), "General"), Record(2023, D(1), "Ethics")],
        2023,
        minimum_sets={2023: {"Ethics": D(3)}},
    )
    assert s.short_by == 0 and s.category_shortfalls == {"Ethics": D(2)} and not s.eligible


def test_ce_year_with_start_month_seven():
    assert compute.ce_year_of(date(2022, 7, 1), [Policy(0, ce_year_start_month=7)]) == 2023
    assert compute.ce_year_of(date(2023, 6, 30), [Policy(0, ce_year_start_month=7)]) == 2023
    assert compute.ce_year_of(date(2023, 7, 1), [Policy(0, ce_year_start_month=7)]) == 2024
    assert compute.ce_year_of(date(2023, 12, 31), [Policy(0, ce_year_start_month=1)]) == 2023
    assert compute.ce_year_label(2023, [Policy(0, ce_year_start_month=7)]) == "2022–2023"
    assert compute.ce_year_label(2023, [Policy(0, ce_year_start_month=1)]) == "2023"


def test_policy_lookup_uses_latest_effective_year():
    ps = [Policy(2010, D(15)), Policy(2020, D(20)), Policy(2024, D(24))]
    assert compute.policy_for_year(ps, 2019).required_hours == 15
    assert compute.policy_for_year(ps, 2023).required_hours == 20
    assert compute.policy_for_year(ps, 2030).required_hours == 24
    assert compute.policy_for_year(ps, 2000) == compute.DEFAULT_POLICY


# -- the CE year of a date when a policy changes the start month (SPEC §4) ----------------------

start_months = st.lists(
    st.builds(
        compute.Policy,
        effective_year=st.integers(2015, 2030),
        ce_year_start_month=st.integers(1, 12),
    ),
    max_size=4,
    unique_by=lambda p: p.effective_year,
)


@given(start_months, st.dates(date(2012, 1, 1), date(2034, 12, 31)))
def test_every_date_belongs_to_exactly_one_ce_year(policies, day):
    year = compute.ce_year_of(day, policies)
    assert compute.ce_year_start(year, policies) <= day <= compute.ce_year_end(year, policies)
    # The years tile the calendar: each begins the day after the one before it ends.
    assert compute.ce_year_start(year + 1, policies) == compute.ce_year_end(year, policies) + (
        timedelta(days=1)
    )
    assert compute.ce_year_of(compute.ce_year_start(year, policies), policies) == year
    assert compute.ce_year_of(compute.ce_year_end(year, policies), policies) == year


@example(2024, 1, date(2023, 8, 15), 2023)  # the case: July from 2024
@example(2024, 1, date(2024, 6, 30), 2024)  # the short year 2024: January to June
@example(2024, 1, date(2024, 7, 1), 2025)  # then July–June years, labelled by their end
@given(st.just(2024), st.just(1), st.just(date(2024, 1, 1)), st.just(2024))
def test_a_move_to_july_makes_one_short_year(effective, old_month, day, expected):
    policies = [
        compute.Policy(2000, ce_year_start_month=old_month),
        compute.Policy(effective, ce_year_start_month=7),
    ]
    assert compute.ce_year_of(day, policies) == expected


def test_a_ce_year_shows_its_dates_and_label():
    policies = [compute.Policy(2000), compute.Policy(2024, ce_year_start_month=7)]
    assert compute.ce_year_dates(2024, policies) == "01/01/2024–06/30/2024"
    assert compute.ce_year_label(2024, policies) == "2024"
    assert compute.ce_year_dates(2025, policies) == "07/01/2024–06/30/2025"
    assert compute.ce_year_label(2025, policies) == "2024–2025"


def test_what_meeting_the_requirement_gives_is_said_in_the_years_tense():
    deadline = date(2026, 12, 31)
    now = compute.what_it_gives(2026, deadline, date(2026, 12, 31))
    assert now.startswith("You have met the CE requirement for 2026: you may vote")
    assert compute.what_it_gives(2026, deadline) == now
    assert compute.what_it_gives(2026, deadline, date(2027, 1, 1)) == (
        "You met the CE requirement for 2026: you were eligible to vote, be elected Clerk "
        "of the Year and run for Secretary."
    )


def test_why_not_eligible_in_words():
    records = [
        compute.Record(2026, D(17), "General"),
        compute.Record(2026, D(1), "Ethics"),
    ]
    mins = {2020: {"Ethics": D(3), "Technology": D(1)}}
    s = compute.standing(records, 2026, [compute.Policy(2020)], mins)
    assert s.reasons == ("2 hours short", "Ethics: 1 of 3 hours", "Technology: 0 of 1 hour")
    assert not s.eligible
    assert compute.what_remains(s, date(2026, 12, 31)) == [
        "You need 2 more hours by 12/31/2026.",
        "You need 2 more Ethics hours by 12/31/2026.",
        "You need 1 more Technology hour by 12/31/2026.",
    ]
    # Once the year has ended, what it ended short of (no deadline already past).
    ended = [
        "You were 2 hours short when the year ended on 12/31/2026.",
        "You were 2 Ethics hours short when the year ended on 12/31/2026.",
        "You were 1 Technology hour short when the year ended on 12/31/2026.",
    ]
    assert compute.what_remains(s, date(2026, 12, 31), date(2027, 1, 1), closed=True) == ended
    assert compute.what_remains(s, date(2026, 12, 31), date(2027, 1, 1)) == [
        *ended,
        "Courses you took by then still count until the office closes the year.",
    ]
    assert compute.what_remains(s, date(2026, 12, 31), today=date(2026, 12, 31))[0] == (
        "You need 2 more hours by 12/31/2026."
    )
    # Short only in a category: "Short by 0" is no longer the only thing shown.
    full = compute.standing([*records, compute.Record(2026, D(5), "General")], 2026, [], mins)
    assert full.short_by == 0
    assert full.reasons == ("Ethics: 1 of 3 hours", "Technology: 0 of 1 hour")
    assert compute.standing([], 2026, active=False).reasons == ("inactive", "20 hours short")


@pytest.mark.parametrize(
    ("due", "paid", "status", "owed"),
    [
        ("100", "0", "unpaid", "100"),
        ("100", "40", "partial", "60"),
        ("100", "100", "paid", "0"),
        ("100", "0", "waived", "0"),  # a waived row owes nothing
        ("50", "60", "paid", "0"),  # an overpayment owes nothing, never a negative amount
    ],
)
def test_dues_outstanding(due, paid, status, owed):
    assert compute.dues_outstanding(D(due), D(paid), status) == D(owed)


def test_a_renewal_cycle_counts_its_own_requirement_and_categories():
    cycle = compute.cycle_standing(
        {"General": D(35), "Ethics": D(9)}, D(30), {"Ethics": D(6), "Technology": D(2)}
    )
    assert (cycle.earned, cycle.remaining) == (D(44), D(0))
    assert cycle.categories == {"Ethics": (D(9), D(6)), "Technology": (D(0), D(2))}
    assert cycle.categories_to_go == {"Technology": D(2)}
    assert not cycle.met
    assert compute.cycle_standing({"Ethics": D(6)}, D(6), {"Ethics": D(6)}).met


def test_a_cycle_minimum_counts_its_category_whatever_the_case():
    cycle = compute.cycle_standing({"Ethics": D(2), "ETHICS": D(1)}, D(3), {"ethics": D(3)})
    assert cycle.categories == {"ethics": (D(3), D(3))}
    assert cycle.met
