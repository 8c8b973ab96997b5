"""The report pages' charts: the same members as the table, axes a person reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cetracker import charts, dashboard, dues, records, reports
from cetracker.filters import Filters, Scope
from cetracker.standing import eligibility_by_area, hour_summary

PAGES = Path(__file__).parents[1] / "pages"
AREA3 = Scope(areas=("Area 3",))


def bars(fig) -> dict[str, float]:
    """Bar labels to heights, summed over the figure's traces."""
    out: dict[str, float] = {}
    for trace in fig.data:
        for x, y in zip(trace.x, trace.y, strict=True):
            out[str(x)] = out.get(str(x), 0) + float(y)
    return out


@pytest.mark.parametrize(
    "filters",
    [Filters(2025), Filters(2025, scope=AREA3), Filters(2025, short_only=True, counties=())],
    ids=["everyone", "director", "short only"],
)
def test_hour_summary_charts_count_the_members_of_the_table(demo_db, filters):
    table = hour_summary(demo_db, filters, detail=True)
    short = bars(charts.short_by_distribution(reports.short_by_buckets(demo_db, filters)))
    assert list(short) == list(reports.SHORT_BY_BUCKETS)
    assert sum(short.values()) == len(table)
    assert short["none"] == (table["short_by"] <= 0).sum()
    areas = charts.eligibility_by_area(eligibility_by_area(demo_db, filters))
    active = table[table["status"] == "active"]
    assert sum(bars(areas).values()) == len(active)
    eligible = next(t for t in areas.data if t.name == "Eligible")
    assert sum(eligible.y) == active["eligible"].sum()
    if not filters.scope.everyone:
        assert set(bars(areas)) == {"Area 3"}
    assert areas.layout.yaxis.title.text == "Active members"
    assert areas.layout.yaxis.tickformat == ",d"  # whole members


def test_dues_and_carryover_charts_match_their_totals(demo_db):
    filters = Filters(2025, scope=AREA3)
    totals = dues.totals(demo_db, filters)
    status = charts.dues_status(totals.statuses)
    assert sum(bars(status).values()) == totals.members
    money = charts.dues_by_area(reports.dues_by_area(demo_db, filters))
    assert money.layout.yaxis.tickprefix == "$"
    paid = next(t for t in money.data if t.name == "Paid")
    assert sum(paid.y) == pytest.approx(totals.paid)
    outstanding = next(t for t in money.data if t.name == "Outstanding")
    assert sum(outstanding.y) == pytest.approx(totals.outstanding)
    assert set(paid.x) == {"Area 3"}
    members, _ = reports.carryover_totals(demo_db, filters)
    carried = charts.carried_hours(reports.carried_buckets(demo_db, filters))
    assert sum(bars(carried).values()) == members > 0
    assert carried.layout.xaxis.title.text == "Hours carried over"


def test_attendance_by_area_counts_attendees(demo_db):
    frame = reports.conference(demo_db, Filters(2025), "C2025-001")
    fig = charts.attendance_by_area(frame)
    assert sum(bars(fig).values()) == frame["license_number"].nunique()
    # The hours on hover are the page's approved hours (pending listed, not counted).
    assert sum(fig.data[0].customdata) == pytest.approx(reports.conference_figures(frame)[1])
    with_pending = frame.assign(status="pending")
    assert sum(charts.attendance_by_area(with_pending).data[0].customdata) == 0


def test_members_with_no_area_are_a_bar_named_so():
    import pandas as pd

    areas = pd.DataFrame({"area": ["Area 1", None], "members": [5, 2], "eligible": [3, 1]}).astype(
        {"area": object}
    )
    fig = charts.eligibility_by_area(areas)
    assert list(fig.data[0].x) == ["Area 1", "(none)"]
    nan_area = areas.assign(area=[float("nan"), "Area 2"])
    assert list(charts.eligibility_by_area(nan_area).data[0].x) == ["(none)", "Area 2"]


def test_the_dashboard_trend_has_whole_years_and_honours_the_area_filter(demo_db):
    everyone = dashboard.figures(demo_db, Scope(), 2025)
    fig = charts.eligible_trend(everyone.trend)
    assert fig.layout.xaxis.type == "category"  # ticks 2021, 2022 … never 2,022.5
    # Five years at most, from the first with records: the years before it are left
    # out, not drawn as nobody eligible.
    first = records.year_span(demo_db)[0]
    assert first == 2022
    assert list(fig.data[0].x) == [str(y) for y in range(2022, 2026)]
    assert list(dashboard.figures(demo_db, Scope(), 2026).trend["year"]) == [
        str(y) for y in range(2022, 2027)
    ]
    assert list(dashboard.figures(demo_db, Scope(), 2023).trend["year"]) == ["2022", "2023"]
    area3 = dashboard.figures(demo_db, Scope(), 2025, ("Area 3",))
    director = dashboard.figures(demo_db, AREA3, 2025)
    assert area3.members == director.members < everyone.members
    assert list(area3.trend["eligible"]) == pytest.approx(list(director.trend["eligible"]))
    assert set(area3.not_eligible_by_area["area"]) == {"Area 3"}


def test_the_dashboard_shows_a_month_without_hours_as_nothing_earned():
    import pandas as pd

    months = pd.DataFrame({"month": ["2025-01", "2025-04", "2025-03"], "hours": [3.0, 5.0, 1.5]})
    fig = charts.hours_by_month(months)
    assert list(fig.data[0].x) == ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025"]
    assert list(fig.data[0].y) == [3.0, 0.0, 1.5, 5.0]


def test_an_empty_chart_says_so():
    import pandas as pd

    fig = charts.carried_hours(pd.DataFrame({"hours": [], "members": []}))
    assert fig.layout.annotations[0].text.startswith("Nobody")


@pytest.mark.parametrize(
    ("page", "charts_shown"),
    [
        ("hour_summary.py", 2),
        ("dues.py", 2),
        ("carryover.py", 1),
        ("conference_report.py", 1),
        ("dashboard.py", 3),
    ],
)
def test_report_pages_draw_their_charts_for_a_director(demo_db_path, page, charts_shown):
    at = AppTest.from_file(str(PAGES / page), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "director"
    at.run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == charts_shown


def test_the_dashboard_counts_not_eligible_members_as_the_hour_summary_does(demo_db):
    # The bar chart once said "short of hours" over members - eligible, which also holds
    # members short of a category's minimum or of dues: it names what it counts.
    figures = dashboard.figures(demo_db, Scope(), 2026)
    summary = hour_summary(demo_db, Filters(year=2026), detail=True)
    active = summary[summary["status"] == "active"]
    assert int(figures.not_eligible_by_area["not_eligible"].sum()) == int(
        (~active["eligible"]).sum()
    )
    fig = charts.not_eligible_by_area(figures.not_eligible_by_area)
    assert fig.layout.yaxis.title.text == "Active members not eligible"


def test_the_dashboard_counts_the_self_reports_awaiting_review_in_its_scope(demo_db):
    def pending(where: str = "true") -> int:
        return int(
            demo_db.scalar(
                "SELECT count(*) FROM ce_records r JOIN members m ON m.id = r.member_id"  # noqa: S608 - fixed test SQL
                f" WHERE r.status = 'pending' AND {where}"
            )
        )

    everyone = dashboard.headline(demo_db, Scope(), 2026)
    director = dashboard.headline(demo_db, AREA3, 2026)
    assert everyone.pending == pending() > 0
    assert director.pending == pending("m.area = 'Area 3'") < everyone.pending


def test_a_small_count_has_a_tick_at_each_whole_number(demo_db):
    """One member found: ticks 0 and 1, not 0, 0.2 … shown as 0, 0, 0, 1, 1, 1."""
    one = Filters(2026, name="100000")
    fig = charts.eligibility_by_area(eligibility_by_area(demo_db, one))
    assert (fig.layout.yaxis.dtick, fig.layout.yaxis.tick0) == (1, 0)
    everyone = charts.eligibility_by_area(eligibility_by_area(demo_db, Filters(2026)))
    assert everyone.layout.yaxis.dtick is None  # hundreds: Plotly's own whole ticks


def test_a_members_hours_by_year_read_as_whole_years(demo_db):
    from cetracker import records
    from cetracker.accounts.users import load_user

    by_year = records.hours_by_year(demo_db, load_user(demo_db, "member"))
    fig = charts.my_hours_by_year(by_year)
    assert fig.layout.xaxis.type == "category"  # ticks 2021, 2022 … never 2,022.5
    assert list(bars(fig)) == [str(y) for y in by_year["year"]]
    assert sum(bars(fig).values()) == pytest.approx(by_year["hours"].sum())
