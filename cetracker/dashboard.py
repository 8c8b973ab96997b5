"""The dashboard's figures and charts (SPEC §3.8), limited to the user's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import plotly.express as px

from cetracker import dues
from cetracker.filters import Filters, Scope
from cetracker.standing import eligibility_by_area, eligibility_counts, year_records
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go


@dataclass(frozen=True)
class Figures:
    year: int
    members: int
    eligible_share: float
    dues_paid_share: float
    pending: int
    short_by_area: pd.DataFrame
    hours_by_month: pd.DataFrame
    trend: pd.DataFrame


def figures(db: Database, scope: Scope, year: int) -> Figures:
    """The Dashboard's figures for ``scope``, computed once per data version."""
    result: Figures = db.cached(repr(("dashboard", scope, year)), lambda: _figures(db, scope, year))
    return result


def _figures(db: Database, scope: Scope, year: int) -> Figures:
    filters = Filters(year=year, scope=scope)
    areas = eligibility_by_area(db, filters)
    members = int(areas["members"].sum())
    eligible = int(areas["eligible"].sum())
    by_area = areas.assign(short=areas["members"] - areas["eligible"])[["area", "members", "short"]]
    where, params = filters.member_where("m")
    # The year's approved records are kept in memory (``year_records``); members are
    # joined only to limit them to a director's scope.
    join = "" if scope.everyone else "JOIN members m ON m.id = r.member_id"
    months = db.frame(
        f"""SELECT strftime(first, '%Y-%m') AS month, hours FROM (
                SELECT date_trunc('month', r.course_date) AS first, sum(r.hours)::DOUBLE AS hours
                FROM {year_records(db, year)} r {join}
                WHERE {where if join else "true"}
                GROUP BY first) ORDER BY month""",  # noqa: S608 - fixed clause, values are parameters
        params if join else {},
    )
    dues_figures = dues.totals(db, filters)
    pending = db.scalar(
        f"""SELECT count(*) FROM ce_records r JOIN members m ON m.id = r.member_id
            WHERE r.status = 'pending' AND {where}""",  # noqa: S608
        params,
    )
    trend = compliance_trend(db, scope, range(year - 4, year + 1))
    return Figures(
        year=year,
        trend=trend,
        members=members,
        eligible_share=eligible / members if members else 0.0,
        dues_paid_share=dues_figures.paid_share,
        pending=int(pending or 0),
        short_by_area=by_area,
        hours_by_month=months,
    )


def compliance_trend(db: Database, scope: Scope, years: range) -> pd.DataFrame:
    """Share of active members eligible, year by year.

    The last year's figures come from its standing (which the Dashboard reads anyway),
    the earlier years' from their slim eligibility tables; a closed year's from its
    snapshot. All are kept up to date across writes, so a write recounts only the
    members it touched, in the years it can change.
    """
    import pandas as pd

    shares = []
    for y in years:
        filters = Filters(year=y, scope=scope)
        if y == years[-1]:
            areas = eligibility_by_area(db, filters)
            members, eligible = int(areas["members"].sum()), int(areas["eligible"].sum())
        else:
            members, eligible = eligibility_counts(db, filters)
        shares.append((str(y), eligible / members if members else 0.0))
    return pd.DataFrame(shares, columns=["year", "eligible"])


def trend_chart(f: Figures) -> go.Figure:
    fig = px.line(
        f.trend,
        x="year",
        y="eligible",
        markers=True,
        labels={"year": "CE year", "eligible": "Members eligible"},
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=320)
    return fig


def short_by_area_chart(f: Figures) -> go.Figure:
    fig = px.bar(
        f.short_by_area,
        x="area",
        y="short",
        text="short",
        labels={"area": "Area", "short": "Members short of hours"},
        color_discrete_sequence=["#1F4E79"],
    )
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=320)
    return fig


def hours_by_month_chart(f: Figures) -> go.Figure:
    fig = px.bar(
        f.hours_by_month,
        x="month",
        y="hours",
        labels={"month": "Month", "hours": "Hours earned"},
        color_discrete_sequence=["#2E7D32"],
    )
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=320)
    return fig
