"""The dashboard's figures and charts (SPEC §3.8), limited to the user's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import plotly.express as px

from cetracker.db import Database
from cetracker.filters import Filters, Scope
from cetracker.summary import eligibility_by_area

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
    filters = Filters(year=year, scope=scope)
    areas = eligibility_by_area(db, filters)
    members = int(areas["members"].sum())
    eligible = int(areas["eligible"].sum())
    by_area = areas.assign(short=areas["members"] - areas["eligible"])[["area", "members", "short"]]
    where, params = filters.member_where("m")
    months = db.frame(
        f"""SELECT strftime(r.course_date, '%Y-%m') AS month, sum(r.hours)::DOUBLE AS hours
            FROM ce_records r JOIN members m ON m.id = r.member_id
            WHERE r.status = 'approved' AND r.ce_year = $year AND {where}
            GROUP BY month ORDER BY month""",  # noqa: S608 - fixed clause, values are parameters
        {**params, "year": year},
    )
    dues = db.one(
        f"""SELECT count(*) FILTER (WHERE d.status IN ('paid', 'waived')), count(*)
            FROM dues d JOIN members m ON m.id = d.member_id
            WHERE d.year = $year AND {where}""",  # noqa: S608
        {**params, "year": year},
    )
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
        dues_paid_share=(dues[0] / dues[1]) if dues and dues[1] else 0.0,
        pending=int(pending or 0),
        short_by_area=by_area,
        hours_by_month=months,
    )


def compliance_trend(db: Database, scope: Scope, years: range) -> pd.DataFrame:
    """Share of active members eligible, year by year."""
    import pandas as pd

    shares = []
    for y in years:
        areas = eligibility_by_area(db, Filters(year=y, scope=scope))
        members = int(areas["members"].sum())
        shares.append((str(y), int(areas["eligible"].sum()) / members if members else 0.0))
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
