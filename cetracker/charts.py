"""The report pages' and the Dashboard's charts (plotly), built from their figures.

Pages only pass a chart to ``st.plotly_chart``; the figures come from ``reports``,
``standing`` and ``dashboard`` with the page's filters and the user's scope, so a
chart shows exactly the members the table does. Axes read as people write: CE years
as whole years (a category axis: a number axis would put ticks at "2,022.5"), money
in dollars, hours in hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

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


def _bars(
    x: Iterable[object],
    series: Sequence[tuple[str, Iterable[object], str]],
    *,
    x_title: str,
    y_title: str,
    text: bool = False,
    y_format: str = ",",
    more_hover: tuple[str, Iterable[object], str] | None = None,
) -> go.Figure:
    """Bars over the category axis ``x``: one trace per (name, heights, colour) of
    ``series``, stacked. Built with graph objects (plotly.express takes ten times as long
    to build the same figure, on every rerun of a page). ``more_hover``: a further
    (label, values, format) shown when the pointer is on a bar."""
    # A member with no area (or county) is a bar of its own, named so ("nan" otherwise).
    xs = ["(none)" if v is None or v != v else str(v) for v in x]
    fig = go.Figure()
    for name, heights, colour in series:
        ys = list(heights)
        hover = f"{x_title}: %{{x}}<br>{name}: %{{y:{y_format}}}"
        extra = {}
        if more_hover is not None:
            label, values, fmt = more_hover
            extra["customdata"] = list(values)
            hover += f"<br>{label}: %{{customdata:{fmt}}}"
        fig.add_trace(
            go.Bar(
                name=name,
                x=xs,
                y=ys,
                marker_color=colour,
                text=[f"{v:,}" for v in ys] if text else None,
                hovertemplate=hover + "<extra></extra>",
                **extra,
            )
        )
    fig.update_layout(barmode="relative")
    fig.update_xaxes(title=x_title, type="category")
    fig.update_yaxes(title=y_title)
    return fig


def _counts(
    x: Iterable[object],
    counts: Iterable[object],
    colour: str,
    *,
    x_title: str,
    y_title: str,
    more_hover: tuple[str, Iterable[object], str] | None = None,
) -> go.Figure:
    """One series of counts (members, attendees) over the category axis ``x``: each bar
    labelled with its count, whole ticks only."""
    fig = _bars(
        x,
        [(y_title, counts, colour)],
        x_title=x_title,
        y_title=y_title,
        text=True,
        more_hover=more_hover,
    )
    _whole_numbers(fig)
    return _finish(fig)


def _hours(
    x: Iterable[object], hours: Iterable[object], colour: str, *, x_title: str, y_title: str
) -> go.Figure:
    """One series of hours over the category axis ``x``, from zero."""
    fig = _bars(x, [(y_title, hours, colour)], x_title=x_title, y_title=y_title, y_format=",.2~f")
    fig.update_yaxes(tickformat=",.0f", rangemode="tozero")
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
    return _counts(
        buckets["bucket"], buckets["members"], ORANGE, x_title="Hours short", y_title="Members"
    )


def eligibility_by_area(areas: pd.DataFrame) -> go.Figure:
    """Active members per area, eligible and not (columns ``area``, ``members``, ``eligible``)."""
    if areas.empty:
        return _empty("No active members match these filters.")
    fig = _bars(
        areas["area"],
        [
            ("Eligible", areas["eligible"], GREEN),
            ("Not eligible", areas["members"] - areas["eligible"], ORANGE),
        ],
        x_title="Area",
        y_title="Active members",
    )
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
    fig = _bars(
        areas["area"],
        [("Paid", areas["paid"], GREEN), ("Outstanding", areas["outstanding"], ORANGE)],
        x_title="Area",
        y_title="Amount ($)",
        y_format="$,.2f",
    )
    fig.update_yaxes(tickprefix="$", tickformat=",.0f", rangemode="tozero")
    return _finish(fig, legend=True)


# -- Carryover ----------------------------------------------------------------


def carried_hours(buckets: pd.DataFrame) -> go.Figure:
    """Members per hours carried in (columns ``hours``: a label, ``members``)."""
    if buckets.empty:
        return _empty("Nobody matching these filters carried hours.")
    return _counts(
        buckets["hours"], buckets["members"], BLUE, x_title="Hours carried over", y_title="Members"
    )


# -- Conference Report --------------------------------------------------------


def attendance_by_area(attendees: pd.DataFrame) -> go.Figure:
    """Attendees and their hours per area, from the Conference Report's rows."""
    if attendees.empty:
        return _empty("Nobody matching these filters attended.")
    # Approved hours, as the page's figure counts them (reports.conference_figures).
    approved = attendees["hours"].where(attendees["status"] == "approved", 0)
    per_area = (
        attendees.assign(approved=approved)
        .groupby("area", as_index=False)
        .agg(attendees=("license_number", "nunique"), hours=("approved", "sum"))
        .sort_values("area")
    )
    return _counts(
        per_area["area"],
        per_area["attendees"],
        BLUE,
        x_title="Area",
        y_title="Attendees",
        more_hover=("Approved hours", per_area["hours"], ",.2~f"),
    )


# -- My CE --------------------------------------------------------------------


def my_hours_by_year(by_year: pd.DataFrame) -> go.Figure:
    """A member's approved hours per CE year (columns ``year``, ``hours``)."""
    fig = _hours(by_year["year"], by_year["hours"], BLUE, x_title="CE year", y_title="Hours")
    fig.update_layout(height=280)
    return fig


# -- Dashboard ----------------------------------------------------------------


def eligible_trend(trend: pd.DataFrame) -> go.Figure:
    """Share of active members eligible, per CE year (columns ``year``, ``eligible``)."""
    fig = go.Figure(
        go.Scatter(
            x=[str(y) for y in trend["year"]],
            y=list(trend["eligible"]),
            mode="lines+markers",
            line_color=BLUE,
            name="Members eligible",
            hovertemplate="CE year: %{x}<br>Members eligible: %{y:.0%}<extra></extra>",
        )
    )
    fig.update_xaxes(title="CE year", type="category")
    fig.update_yaxes(title="Members eligible", tickformat=".0%", range=[0, 1])
    return _finish(fig)


def not_eligible_by_area(by_area: pd.DataFrame) -> go.Figure:
    """Active members not eligible per area (columns ``area``, ``not_eligible``): short of
    hours, of a category's minimum or of dues, as the Hour Summary counts them."""
    if by_area.empty:
        return _empty("No active members match these filters.")
    return _counts(
        by_area["area"],
        by_area["not_eligible"],
        BLUE,
        x_title="Area",
        y_title="Active members not eligible",
    )


def hours_by_month(months: pd.DataFrame) -> go.Figure:
    """Approved hours per month of the CE year (columns ``month`` as YYYY-MM, ``hours``)."""
    if months.empty:
        return _empty("No approved hours in this CE year yet.")
    import pandas as pd

    # Every month from the first to the last, a month without hours at 0: a gap in the
    # hours is what a reader looks for, and a left-out month hides it.
    hours = months.groupby(pd.PeriodIndex(months["month"], freq="M"))["hours"].sum()
    every = pd.period_range(hours.index.min(), hours.index.max(), freq="M")
    hours = hours.reindex(every, fill_value=0.0)
    return _hours(
        hours.index.strftime("%b %Y"), hours, GREEN, x_title="Month", y_title="Hours earned"
    )
