"""The dashboard's figures and charts (SPEC §3.8), limited to the user's scope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cetracker import dues
from cetracker.filters import Filters, Scope
from cetracker.standing import eligibility_by_area
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Figures:
    year: int
    members: int
    eligible_share: float
    dues_paid_share: float
    pending: int
    not_eligible_by_area: pd.DataFrame
    hours_by_month: pd.DataFrame
    trend: pd.DataFrame


def figures(db: Database, scope: Scope, year: int, areas: tuple[str, ...] = ()) -> Figures:
    """The Dashboard's figures for ``scope`` (narrowed to ``areas`` when given), computed
    once per data version."""
    result: Figures = db.cached(
        repr(("dashboard", scope, year, areas)), lambda: _figures(db, scope, year, areas)
    )
    return result


def _figures(db: Database, scope: Scope, year: int, areas: tuple[str, ...] = ()) -> Figures:
    filters = Filters(year=year, areas=areas, scope=scope)
    per_area = eligibility_by_area(db, filters)
    members = int(per_area["members"].sum())
    eligible = int(per_area["eligible"].sum())
    by_area = per_area.assign(not_eligible=per_area["members"] - per_area["eligible"])[
        ["area", "members", "not_eligible"]
    ]
    where, params = filters.member_where("m")
    months = db.frame(
        f"""SELECT strftime(r.course_date, '%Y-%m') AS month, sum(r.hours)::DOUBLE AS hours
            FROM ce_records r JOIN members m ON m.id = r.member_id
            WHERE r.status = 'approved' AND r.ce_year = $year AND {where}
            GROUP BY month ORDER BY month""",  # noqa: S608 - fixed clause, values are parameters
        {**params, "year": year},
    )
    dues_figures = dues.totals(db, filters)
    pending = db.scalar(
        f"""SELECT count(*) FROM ce_records r JOIN members m ON m.id = r.member_id
            WHERE r.status = 'pending' AND {where}""",  # noqa: S608
        params,
    )
    trend = compliance_trend(db, scope, range(year - 4, year + 1), areas)
    return Figures(
        year=year,
        trend=trend,
        members=members,
        eligible_share=eligible / members if members else 0.0,
        dues_paid_share=dues_figures.paid_share,
        pending=int(pending or 0),
        not_eligible_by_area=by_area,
        hours_by_month=months,
    )


_TREND_SQL = """
WITH params AS (
    SELECT unnest($years::INTEGER[]) AS year, unnest($required::DECIMAL(8, 2)[]) AS required,
           unnest($required_prev::DECIMAL(8, 2)[]) AS required_prev,
           unnest($cap_prev::DECIMAL(8, 2)[]) AS cap_prev, unnest($min_count::INTEGER[]) AS min_count
),
minimums AS (
    SELECT unnest($m_year::INTEGER[]) AS year, unnest($m_category::VARCHAR[]) AS category,
           unnest($m_hours::DECIMAL(8, 2)[]) AS minimum
),
yearly AS (
    SELECT member_id, ce_year, sum(hours) AS earned
    FROM ce_records
    WHERE status = 'approved' AND ce_year BETWEEN $first - 1 AND $last
    GROUP BY ALL
),
categories_met AS (
    SELECT r.member_id, r.ce_year, count(*) AS met
    FROM (SELECT member_id, ce_year, category, sum(hours) AS got
          FROM ce_records
          WHERE status = 'approved' AND ce_year BETWEEN $first AND $last
          GROUP BY ALL) r
    JOIN minimums n ON n.year = r.ce_year AND n.category = r.category
    WHERE r.got >= n.minimum
    GROUP BY ALL
)
SELECT p.year, m.area, m.county, count(*) AS members,
       count(*) FILTER (
           WHERE coalesce(cur.earned, 0)
                 + least(p.cap_prev, greatest(0, coalesce(prev.earned, 0) - p.required_prev))
                 >= p.required
             AND coalesce(c.met, 0) = p.min_count) AS eligible
FROM members m CROSS JOIN params p
LEFT JOIN yearly cur ON cur.member_id = m.id AND cur.ce_year = p.year
LEFT JOIN yearly prev ON prev.member_id = m.id AND prev.ce_year = p.year - 1
LEFT JOIN categories_met c ON c.member_id = m.id AND c.ce_year = p.year
WHERE m.status = 'active'
GROUP BY p.year, m.area, m.county
"""


def compliance_trend(
    db: Database, scope: Scope, years: range, areas: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Share of active members eligible, year by year (in ``areas`` when given).

    Counted per area and county for everyone, so that every scope's trend is a sum
    over its own areas and counties. Closed years read their snapshot. The rules per
    year come from ``compute``; a test checks this against the Hour Summary of each
    year.
    """
    import pandas as pd

    closed = {int(y) for (y,) in db.rows("SELECT ce_year FROM closed_years")}
    open_years = [y for y in years if y not in closed]
    groups = _open_year_groups(db, open_years, years[-1])
    if not scope.everyone:
        groups = groups[groups["area"].isin(scope.areas) | groups["county"].isin(scope.counties)]
    if areas:
        groups = groups[groups["area"].isin(areas)]
    totals = groups.groupby("year")[["members", "eligible"]].sum()
    shares = []
    for y in years:
        if y in closed:
            frozen = eligibility_by_area(db, Filters(year=y, areas=areas, scope=scope))
            members, eligible = int(frozen["members"].sum()), int(frozen["eligible"].sum())
        elif y in totals.index:
            members, eligible = (int(v) for v in totals.loc[y])
        else:
            members, eligible = 0, 0
        shares.append((str(y), eligible / members if members else 0.0))
    return pd.DataFrame(shares, columns=["year", "eligible"])


def _open_year_groups(db: Database, open_years: list[int], current: int) -> pd.DataFrame:
    """Per open year, area and county: active members and how many are eligible.

    A write reaches back into the current year (or one other) far more often than
    into four: a year's counts are kept across writes under a fingerprint of all they
    depend on (its records and the year before's, the members' status, area and
    county, and the two years' rules) and recounted only when that changes. The
    current year's come from its standing, which the Dashboard reads anyway.
    """
    import pandas as pd

    if db.server:  # fingerprints would read the records through the network: per version
        return _groups_per_version(db, open_years)
    version = db.data_version
    prints = db.cached(
        repr(("trend fingerprints", tuple(open_years))), lambda: _fingerprints(db, open_years)
    )
    keys = {y: repr(("trend year", y, *prints(y))) for y in open_years}
    found = {y: db.kept(keys[y]) for y in open_years}
    if current in found and found[current] is None:
        found[current] = _groups_from_standing(db, current)
    missing = [y for y, groups in found.items() if groups is None]
    if missing:
        counted = _trend_groups(db, missing)
        found |= {y: counted[counted["year"] == y] for y in missing}
    if db.data_version == version:  # else counted from rows newer than the fingerprints
        for y, groups in found.items():
            db.keep(keys[y], groups)
    columns = ["year", "area", "county", "members", "eligible"]
    frames = [found[y] for y in open_years if len(found[y])]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _groups_per_version(db: Database, open_years: list[int]) -> pd.DataFrame:
    groups: pd.DataFrame = db.cached(
        repr(("trend groups", tuple(open_years))), lambda: _trend_groups(db, open_years)
    )
    return groups


def _fingerprints(db: Database, open_years: list[int]) -> Callable[[int], tuple[object, ...]]:
    """For a year: what its trend counts depend on, as a few numbers and the rules."""
    from cetracker.rules import compute
    from cetracker.standing import Rules

    rules = Rules.of(db)
    records: dict[int, list[object]] = {}
    if open_years:
        records = {
            int(y): rest
            for y, *rest in db.rows(
                """SELECT ce_year, count(*), sum(hours),
                          bit_xor(hash(id, member_id, hours, category))
                   FROM ce_records
                   WHERE status = 'approved' AND ce_year BETWEEN $first - 1 AND $last
                   GROUP BY ce_year""",
                {"first": min(open_years), "last": max(open_years)},
            )
        }
    members = db.one("SELECT count(*), bit_xor(hash(id, status, area, county)) FROM members")

    def of(year: int) -> tuple[object, ...]:
        return (
            records.get(year),
            records.get(year - 1),
            members,
            compute.policy_for_year(rules.policies, year),
            compute.policy_for_year(rules.policies, year - 1),
            sorted(compute.binding_minimums(rules.minimum_sets, year).items()),
        )

    return of


def _groups_from_standing(db: Database, year: int) -> pd.DataFrame:
    from cetracker.standing import year_standing

    table = year_standing(db, year)
    return db.frame(
        f"""SELECT $year::INTEGER AS year, area, county, count(*) AS members,
                   count(*) FILTER (WHERE eligible) AS eligible
            FROM {table} WHERE status = 'active' GROUP BY area, county""",  # noqa: S608
        {"year": year},
    )


def _trend_groups(db: Database, open_years: list[int]) -> pd.DataFrame:
    """Active members and how many are eligible, per open year, area and county."""
    import pandas as pd

    from cetracker.rules import compute
    from cetracker.standing import Rules

    rules = Rules.of(db)
    if not open_years:
        return pd.DataFrame({"year": [], "area": [], "county": [], "members": [], "eligible": []})
    policies = [compute.policy_for_year(rules.policies, y) for y in open_years]
    previous = [compute.policy_for_year(rules.policies, y - 1) for y in open_years]
    minimums = [compute.binding_minimums(rules.minimum_sets, y) for y in open_years]
    params = {
        "years": open_years,
        "required": [p.required_hours for p in policies],
        "required_prev": [p.required_hours for p in previous],
        "cap_prev": [p.carryover_cap for p in previous],
        "min_count": [len(m) for m in minimums],
        "m_year": [y for y, m in zip(open_years, minimums, strict=True) for _ in m],
        "m_category": [c for m in minimums for c in m],
        "m_hours": [h for m in minimums for h in m.values()],
        "first": min(open_years),
        "last": max(open_years),
    }
    return db.frame(_TREND_SQL, params)
