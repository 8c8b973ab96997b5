"""The dashboard's figures and charts (SPEC §3.8), limited to the user's scope."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from cetracker import dues, records, self_reports
from cetracker.filters import Filters, Scope
from cetracker.standing import eligibility_by_area, eligibility_counts, year_records
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Headline:
    """The Dashboard's figures but the trend: what the top of the page shows."""

    year: int
    members: int
    eligible_share: float
    dues_paid_share: float
    pending: int
    not_eligible_by_area: pd.DataFrame
    hours_by_month: pd.DataFrame


@dataclass(frozen=True)
class Figures(Headline):
    trend: pd.DataFrame


def figures(db: Database, scope: Scope, year: int, areas: tuple[str, ...] = ()) -> Figures:
    """The Dashboard's figures for ``scope`` (narrowed to ``areas`` when given): its
    headline and its trend, each computed once per data version."""
    top = headline(db, scope, year, areas)
    values = {f.name: getattr(top, f.name) for f in fields(top)}
    return Figures(**values, trend=trend(db, scope, year, areas))


def headline(db: Database, scope: Scope, year: int, areas: tuple[str, ...] = ()) -> Headline:
    """The figures at the top of the Dashboard, computed once per data version. The page
    shows them before it works out the trend: on a process's first visit the earlier
    years' standing takes as long again."""
    result: Headline = db.cached(
        repr(("dashboard", scope, year, areas)), lambda: _figures(db, scope, year, areas)
    )
    return result


def trend(db: Database, scope: Scope, year: int, areas: tuple[str, ...] = ()) -> pd.DataFrame:
    """The share of active members eligible in ``year`` and the four years before, from
    the first CE year with records: a year before the office kept any would show
    nobody eligible, which is not what happened."""
    span = records.year_span(db)
    first = min(max(year - 4, span[0]), year) if span else year
    result: pd.DataFrame = db.cached(
        repr(("dashboard trend", scope, first, year, areas)),
        lambda: compliance_trend(db, scope, range(first, year + 1), areas),
    )
    return result


def _figures(db: Database, scope: Scope, year: int, areas: tuple[str, ...] = ()) -> Headline:
    filters = Filters(year=year, areas=areas, scope=scope)
    per_area = eligibility_by_area(db, filters)
    members = int(per_area["members"].sum())
    eligible = int(per_area["eligible"].sum())
    by_area = per_area.assign(not_eligible=per_area["members"] - per_area["eligible"])[
        ["area", "members", "not_eligible"]
    ]
    where, params = filters.member_where("m")
    # The year's approved records are kept in memory (``year_records``); members are
    # joined only to limit them to a director's scope or the chosen areas.
    join = "" if scope.everyone and not areas else "JOIN members m ON m.id = r.member_id"
    months = db.frame(
        f"""SELECT strftime(first, '%Y-%m') AS month, hours FROM (
                SELECT date_trunc('month', r.course_date) AS first, sum(r.hours)::DOUBLE AS hours
                FROM {year_records(db, year)} r {join}
                WHERE {where if join else "true"}
                GROUP BY first) ORDER BY month""",  # noqa: S608 - fixed clause, values are parameters
        params if join else {},
    )
    dues_figures = dues.totals(db, filters)
    pending = self_reports.awaiting_review(db, filters)
    return Headline(
        year=year,
        members=members,
        eligible_share=eligible / members if members else 0.0,
        dues_paid_share=dues_figures.paid_share,
        pending=pending,
        not_eligible_by_area=by_area,
        hours_by_month=months,
    )


def compliance_trend(
    db: Database, scope: Scope, years: range, areas: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Share of active members eligible, year by year (in ``areas`` when given).

    The last year's figures come from its standing (which the Dashboard reads anyway),
    the earlier years' from their slim eligibility tables; a closed year's from its
    snapshot. All are kept up to date across writes, so a write recounts only the
    members it touched, in the years it can change.
    """
    import pandas as pd

    shares = []
    for y in years:
        filters = Filters(year=y, areas=areas, scope=scope)
        if y == years[-1]:
            per_area = eligibility_by_area(db, filters)
            members, eligible = int(per_area["members"].sum()), int(per_area["eligible"].sum())
        else:
            members, eligible = eligibility_counts(db, filters)
        shares.append((str(y), eligible / members if members else 0.0))
    return pd.DataFrame(shares, columns=["year", "eligible"])
