"""The report pages' and the Dashboard's charts (plotly), built from their figures.

Pages only pass a chart to ``st.plotly_chart``; the figures come from ``reports``,
``standing`` and ``dashboard`` with the page's filters and the user's scope, so a
chart shows exactly the members the table does. Axes read as people write: CE years
as whole years (a category axis: a number axis would put ticks at "2,022.5"), money
in dollars, hours in hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.express as px
import plotly.graph_objects as go

if TYPE_CHECKING:
    import pandas as pd

BLUE = "#1F4E79"
GREEN = "#2E7D32"
ORANGE = "#B35C00"
GREY = "#5F6368"
HEIGHT = 300
MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}


def _finish(fig: go.Figure, *, legend: bool = False) -> go.Figure:
    # Bar labels above the bars, level: a label squeezed into a short bar turns sideways.
    fig.update_traces(
        selector={"type": "bar"}, textposition="outside", textangle=0, cliponaxis=False
    )
    fig.update_layout(
        margin=MARGIN,
        height=HEIGHT,
        showlegend=legend,
        legend={"orientation": "h", "y": -0.25, "title": None},
        font={"size": 13},
    )
    return fig


def _empty(message: str) -> go.Figure:
    """A chart with nothing to draw says so in words instead of showing empty axes."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 14, "color": GREY})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _finish(fig)


def _whole_numbers(fig: go.Figure, axis: str = "y") -> None:
    """Counts of members on an axis: whole ticks only (never "2.5 members"). Up to ten,
    a tick at every whole number: Plotly's own ticks of a small count are 0, 0.2, 0.4 …,
    which whole-number labels would show as 0, 0, 0, 1, 1, 1."""
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    # The highest bar, stacked traces added up (an upper bound is enough here).
    highest = sum(
        max((float(v) for v in trace[axis] if v is not None), default=0.0)
        for trace in fig.data
        if trace[axis] is not None
    )
    every = {"tick0": 0, "dtick": 1} if highest <= 10 else {}
    update(tickformat=",d", rangemode="tozero", **every)


# -- Hour Summary -------------------------------------------------------------


def short_by_distribution(buckets: pd.DataFrame) -> go.Figure:
    """Members per "hours short" range (columns ``bucket``, ``members``, in order)."""
    if buckets.empty or int(buckets["members"].sum()) == 0:
        return _empty("No members match these filters.")
    fig = px.bar(
        buckets,
        x="bucket",
        y="members",
        text="members",
        labels={"bucket": "Hours short", "members": "Members"},
        color_discrete_sequence=[ORANGE],
    )
    fig.update_xaxes(type="category")
    _whole_numbers(fig)
    return _finish(fig)


def eligibility_by_area(areas: pd.DataFrame) -> go.Figure:
    """Active members per area, eligible and not (columns ``area``, ``members``, ``eligible``)."""
    if areas.empty:
        return _empty("No active members match these filters.")
    long = areas.assign(not_eligible=areas["members"] - areas["eligible"]).melt(
        id_vars="area",
        value_vars=["eligible", "not_eligible"],
        var_name="standing",
        value_name="count",
    )
    long["standing"] = long["standing"].map(
        {"eligible": "Eligible", "not_eligible": "Not eligible"}
    )
    fig = px.bar(
        long,
        x="area",
        y="count",
        color="standing",
        labels={"area": "Area", "count": "Active members", "standing": ""},
        color_discrete_map={"Eligible": GREEN, "Not eligible": ORANGE},
        category_orders={"standing": ["Eligible", "Not eligible"]},
    )
    fig.update_xaxes(type="category")
    _whole_numbers(fig)
    return _finish(fig, legend=True)


# -- Dues ---------------------------------------------------------------------


def dues_status(statuses: dict[str, int]) -> go.Figure:
    """Members per dues status (paid, partial, unpaid, waived, no dues record)."""
    order = ["paid", "partial", "unpaid", "waived", "no dues record"]
    shown = [s for s in order if statuses.get(s)] + [s for s in statuses if s not in order]
    if not shown:
        return _empty("No members match these filters.")
    colours = {"paid": GREEN, "partial": BLUE, "unpaid": ORANGE, "waived": GREY}
    fig = go.Figure(
        go.Bar(
            x=[s.capitalize() for s in shown],
            y=[statuses[s] for s in shown],
            text=[f"{statuses[s]:,}" for s in shown],
            marker_color=[colours.get(s, "#8C8C8C") for s in shown],
        )
    )
    fig.update_xaxes(title="Dues status", type="category")
    fig.update_yaxes(title="Members")
    _whole_numbers(fig)
    return _finish(fig)


def dues_by_area(areas: pd.DataFrame) -> go.Figure:
    """Dollars paid and outstanding per area (columns ``area``, ``paid``, ``outstanding``)."""
    if areas.empty:
        return _empty("No members match these filters.")
    long = areas.melt(
        id_vars="area", value_vars=["paid", "outstanding"], var_name="kind", value_name="amount"
    )
    long["kind"] = long["kind"].map({"paid": "Paid", "outstanding": "Outstanding"})
    fig = px.bar(
        long,
        x="area",
        y="amount",
        color="kind",
        labels={"area": "Area", "amount": "Amount ($)", "kind": ""},
        color_discrete_map={"Paid": GREEN, "Outstanding": ORANGE},
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickprefix="$", tickformat=",.0f", rangemode="tozero")
    return _finish(fig, legend=True)


# -- Carryover ----------------------------------------------------------------


def carried_hours(buckets: pd.DataFrame) -> go.Figure:
    """Members per hours carried in (columns ``hours``: a label, ``members``)."""
    if buckets.empty:
        return _empty("Nobody matching these filters carried hours.")
    fig = px.bar(
        buckets,
        x="hours",
        y="members",
        text="members",
        labels={"hours": "Hours carried over", "members": "Members"},
        color_discrete_sequence=[BLUE],
    )
    fig.update_xaxes(type="category")
    _whole_numbers(fig)
    return _finish(fig)


# -- Conference Report --------------------------------------------------------


def attendance_by_area(attendees: pd.DataFrame) -> go.Figure:
    """Attendees and their hours per area, from the Conference Report's rows."""
    if attendees.empty:
        return _empty("Nobody matching these filters attended.")
    per_area = (
        attendees.groupby("area", as_index=False)
        .agg(attendees=("license_number", "nunique"), hours=("hours", "sum"))
        .sort_values("area")
    )
    fig = px.bar(
        per_area,
        x="area",
        y="attendees",
        text="attendees",
        hover_data={"hours": ":,.1f"},
        labels={"area": "Area", "attendees": "Attendees", "hours": "Hours"},
        color_discrete_sequence=[BLUE],
    )
    fig.update_xaxes(type="category")
    _whole_numbers(fig)
    return _finish(fig)


# -- Dashboard ----------------------------------------------------------------


def eligible_trend(trend: pd.DataFrame) -> go.Figure:
    """Share of active members eligible, per CE year (columns ``year``, ``eligible``)."""
    fig = px.line(
        trend.assign(year=trend["year"].astype(str)),
        x="year",
        y="eligible",
        markers=True,
        labels={"year": "CE year", "eligible": "Members eligible"},
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    return _finish(fig)


def not_eligible_by_area(by_area: pd.DataFrame) -> go.Figure:
    """Active members not eligible per area (columns ``area``, ``not_eligible``): short of
    hours, of a category's minimum or of dues, as the Hour Summary counts them."""
    if by_area.empty:
        return _empty("No active members match these filters.")
    fig = px.bar(
        by_area,
        x="area",
        y="not_eligible",
        text="not_eligible",
        labels={"area": "Area", "not_eligible": "Active members not eligible"},
        color_discrete_sequence=[BLUE],
    )
    fig.update_xaxes(type="category")
    _whole_numbers(fig)
    return _finish(fig)


def hours_by_month(months: pd.DataFrame) -> go.Figure:
    """Approved hours per month of the CE year (columns ``month`` as YYYY-MM, ``hours``)."""
    if months.empty:
        return _empty("No approved hours in this CE year yet.")
    import pandas as pd

    shown = months.assign(month=pd.to_datetime(months["month"] + "-01").dt.strftime("%b %Y"))
    fig = px.bar(
        shown,
        x="month",
        y="hours",
        labels={"month": "Month", "hours": "Hours earned"},
        color_discrete_sequence=[GREEN],
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
    return _finish(fig)
