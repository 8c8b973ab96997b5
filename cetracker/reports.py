"""The reports of SPEC §3: each a function from filters to a table, plus its title.

Pages and the command line both call ``run_report``; exports take its frame, so
a download holds exactly the rows the page shows. Every query filters members
through ``Filters.member_where``, so a director's scope applies everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cetracker import dues as dues_rules
from cetracker import members, records
from cetracker import policy as policies
from cetracker.courses import number_key, number_key_sql
from cetracker.errors import CetrackerError
from cetracker.filters import Filters
from cetracker.rules import compute
from cetracker.rules.cells import name_order
from cetracker.standing import HOUR_SUMMARY_COLUMNS, hour_summary, standing_query, year_records
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd


def _limited(sql: str, limit: int | None) -> str:
    return sql if limit is None else f"{sql}\nLIMIT {int(limit)}"


def conference_detail(db: Database, filters: Filters, limit: int | None = None) -> pd.DataFrame:
    """Per member: every course in year Y, a "carried over from Y−1" line, and the total.

    Every member has the carried-over line, reading "none" with 0 hours when nothing was
    carried: a missing line reads as a forgotten one.
    """
    summary_sql, params = standing_query(db, filters)
    if limit is not None:
        # A member's lines: one per course, the carried-over line, the total. Only the
        # members whose lines start within the first ``limit`` are joined with records.
        # A member has two lines at least: the first ``limit`` lines are those of the first
        # ``limit`` // 2 members at most (a top-N, cheaper than sorting an area's members).
        order = name_order(key="search")
        summary_sql = f"""SELECT * EXCLUDE (lines_before) FROM (
            SELECT *, sum(course_count + 2) OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING)
                   - (course_count + 2) AS lines_before
            FROM ({summary_sql} ORDER BY {order} LIMIT {int(limit) // 2 + 1}))
            WHERE lines_before < {int(limit)}"""  # noqa: S608
    params["year"] = filters.year
    return db.cached_frame(
        _limited(
            f"""WITH s AS ({summary_sql}),
            lines AS (
                SELECT s.search, s.license_number, s.first_name, s.last_name, s.county, s.area,
                       1 AS line_order, r.course_date AS date,
                       coalesce(c.course_number, '') AS course_number,
                       coalesce(c.title, r.title) AS course, coalesce(c.kind, r.source) AS kind,
                       r.hours::DOUBLE AS hours
                FROM s JOIN {year_records(db, filters.year)} r ON r.member_id = s.member_id
                LEFT JOIN courses c ON c.id = r.course_id
                UNION ALL
                SELECT search, license_number, first_name, last_name, county, area, 2, NULL, '',
                       'Carried over from ' || ($year - 1)
                           || CASE WHEN carried_in > 0 THEN '' ELSE ': none' END,
                       'carryover', carried_in
                FROM s
                UNION ALL
                SELECT search, license_number, first_name, last_name, county, area, 3, NULL, '',
                       'Total credited', 'total', credited
                FROM s
            )
            SELECT license_number, first_name, last_name, county, area, date, course_number,
                   course, kind, hours
            FROM lines
            ORDER BY {name_order(key="search")}, line_order, date, course_number""",  # noqa: S608 - composed of fixed SQL
            limit,
        ),
        params,
    )


def conference_detail_counts(db: Database, filters: Filters) -> tuple[int, int]:
    """How many members, and how many course records they have, in the Conference Detail."""
    summary_sql, params = standing_query(db, filters)
    row = db.one(
        f"SELECT count(*), coalesce(sum(course_count), 0) FROM ({summary_sql})",  # noqa: S608
        params,
    )
    assert row is not None
    return int(row[0]), int(row[1])


def carryover(db: Database, filters: Filters, limit: int | None = None) -> pd.DataFrame:
    """Members with hours carried from Y−1 into Y."""
    shown = hour_summary(db, filters, only="carried_in > 0", limit=limit)
    return shown[
        [
            "license_number",
            "first_name",
            "last_name",
            "county",
            "area",
            "position",
            "year",
            "carried_in",
            "earned",
            "credited",
        ]
    ].reset_index(drop=True)


def carryover_totals(db: Database, filters: Filters) -> tuple[int, float]:
    """Members with carried hours, and the hours carried, without fetching the rows."""
    sql, params = standing_query(db, filters)
    row = db.one(
        f"SELECT count(*), coalesce(sum(carried_in), 0) FROM ({sql}) WHERE carried_in > 0",  # noqa: S608
        params,
    )
    assert row is not None
    return int(row[0]), float(row[1])


def active_members(db: Database, filters: Filters) -> int:
    """How many of the Hour Summary's members are active (the others are not written to
    unless the sender says so)."""
    sql, params = standing_query(db, filters)
    return int(
        db.scalar(f"SELECT count(*) FROM ({sql}) WHERE status = 'active'", params)  # noqa: S608
    )


SHORT_BY_BUCKETS = ("none", "under 5", "5 to 10", "10 to 15", "15 or more")


def short_by_buckets(db: Database, filters: Filters) -> pd.DataFrame:
    """The Hour Summary's members per range of hours short (every range, in order)."""
    import pandas as pd

    sql, params = standing_query(db, filters)
    counted = dict(
        db.rows(
            f"""SELECT CASE WHEN short_by <= 0 THEN 'none' WHEN short_by < 5 THEN 'under 5'
                            WHEN short_by < 10 THEN '5 to 10' WHEN short_by < 15 THEN '10 to 15'
                            ELSE '15 or more' END, count(*)
                FROM ({sql}) GROUP BY ALL""",  # noqa: S608
            params,
        )
    )
    return pd.DataFrame(
        {
            "bucket": list(SHORT_BY_BUCKETS),
            "members": [int(counted.get(b, 0)) for b in SHORT_BY_BUCKETS],
        }
    )


def carried_buckets(db: Database, filters: Filters) -> pd.DataFrame:
    """Members with carried hours per whole-hour range ("up to 1", "1–2", …), in order."""
    sql, params = standing_query(db, filters)
    frame = db.frame(
        f"""SELECT ceil(carried_in)::INTEGER AS upto, count(*) AS members
            FROM ({sql}) WHERE carried_in > 0 GROUP BY ALL ORDER BY upto""",  # noqa: S608
        params,
    )
    labels = ["up to 1" if h == 1 else f"{h - 1}–{h}" for h in frame["upto"]]
    return frame.assign(hours=labels)[["hours", "members"]]


def member_count(db: Database, filters: Filters) -> int:
    where, params = filters.member_where("m")
    return int(db.scalar(f"SELECT count(*) FROM {members.kept(db)} m WHERE {where}", params))  # noqa: S608


def member_list(db: Database, filters: Filters, limit: int | None = None) -> pd.DataFrame:
    """The Clerk List: contact details."""
    where, params = filters.member_where("m")
    return db.cached_frame(
        _limited(
            f"""SELECT license_number, first_name, last_name, position, county, area, email, phone,
                   address, status, joined
            FROM {members.kept(db)} m WHERE {where}
            ORDER BY {name_order()}""",  # noqa: S608
            limit,
        ),
        params,
    )


def dues(db: Database, filters: Filters, limit: int | None = None) -> pd.DataFrame:
    """Dues status for year Y; a member without a dues row shows "no dues record"."""
    sql, params = dues_rules.members_dues_sql(
        filters,
        limit=limit,
        members_table=members.kept(db),
        dues_table=dues_rules.kept(db, filters.year),
    )
    return db.cached_frame(sql, params)


def dues_by_area(db: Database, filters: Filters) -> pd.DataFrame:
    """Dollars paid and outstanding per area, for the Dues chart (``dues.totals`` counts
    them in the pass that counts its totals)."""
    import pandas as pd

    areas = dues_rules.totals(db, filters).by_area
    return pd.DataFrame(list(areas), columns=["area", "paid", "outstanding"])


def conference(db: Database, filters: Filters, course_number: str) -> pd.DataFrame:
    """Who attended one course or conference, with their hours."""
    where, params = filters.member_where("m")
    number = number_key_sql("c.course_number")
    ids = [
        int(i)
        for (i,) in db.rows(
            f"SELECT id FROM courses c WHERE {number} = ?",  # noqa: S608
            [number_key(course_number)],
        )
    ]
    if not ids:
        raise CetrackerError(f"No course has course number {course_number}.")
    with records.of_courses(db, ids) as (cur, attended):
        return cur.execute(
            f"""SELECT c.course_number, c.title AS course, r.course_date AS date,
                       m.license_number, m.first_name, m.last_name, m.county, m.area,
                       r.hours::DOUBLE AS hours, r.status
                FROM {attended} r JOIN courses c ON c.id = r.course_id
                JOIN {members.kept(db)} m ON m.id = r.member_id
                WHERE r.status <> 'rejected' AND {where}
                ORDER BY {name_order("m")}, r.course_date""",  # noqa: S608
            params,
        ).df()


def certificates_list(db: Database, filters: Filters) -> pd.DataFrame:
    """Every annual certificate earned in year Y (eligible members), as a table."""
    shown = hour_summary(db, filters, only="eligible")
    return shown[
        [
            "license_number",
            "first_name",
            "last_name",
            "county",
            "area",
            "year",
            "earned",
            "carried_in",
            "credited",
        ]
    ].reset_index(drop=True)


def course_choices(db: Database, year: int | None = None) -> list[tuple[str, str]]:
    """The courses and conferences held in CE year ``year`` (any of their days inside it,
    by the CE-year rule: a July–June year holds a September conference of the calendar
    year before), or every course."""
    if year is None:
        span: dict[str, object] = {"first": None, "last": None}
    else:
        rules = policies.load_policies(db)
        span = {
            "first": compute.ce_year_start(year, rules),
            "last": compute.ce_year_end(year, rules),
        }
    return [
        (n, t)
        for n, t in db.rows(
            """SELECT course_number, title FROM courses
               WHERE $first IS NULL
                  OR (coalesce(start_date, end_date) <= $last
                      AND coalesce(end_date, start_date) >= $first)
               ORDER BY start_date DESC NULLS LAST, course_number""",
            span,
        )
    ]


def conference_figures(frame: pd.DataFrame) -> tuple[int, float]:
    """The Conference Report's attendees (members, however many days each came) and their
    approved hours (pending records are listed, not counted), from its rows."""
    approved = frame[frame["status"] == "approved"]
    return int(frame["license_number"].nunique()), float(approved["hours"].sum())


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    build: Callable[..., pd.DataFrame]
    csv_columns: tuple[str, ...] = ()  # the CSV's columns when fixed (SPEC §7), else all


REPORTS: dict[str, Report] = {
    r.name: r
    for r in [
        Report(
            "hour-summary",
            "Hour Summary Report",
            lambda db, filters: hour_summary(db, filters, reasons=True),
            tuple(HOUR_SUMMARY_COLUMNS),
        ),
        Report("conference-detail", "Conference Detail Report", conference_detail),
        Report("certificates", "Certificate Report", certificates_list),
        Report("conference", "Conference Report", conference),
        Report("member-list", "Clerk List", member_list),
        Report("dues", "Clerk Dues Report", dues),
        Report("carryover", "Carryover Report", carryover),
    ]
}


def run_report(db: Database, name: str, filters: Filters, **options: str) -> pd.DataFrame:
    return REPORTS[name].build(db, filters, **options)


def csv_frame(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """What a report's CSV holds: its fixed columns (SPEC §7) where it has them."""
    fixed = list(REPORTS[name].csv_columns)
    return frame[fixed] if fixed else frame
