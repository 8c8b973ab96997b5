"""The Hour Summary for all members at once, in SQL (SPEC §3.1, rules of §4).

The rules themselves live in ``cetracker.rules.compute``: the policy figures for Y and
Y−1 are looked up there and passed in as parameters, and a property test checks
this query against ``compute.standing`` on random member histories.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from cetracker import policy as policies
from cetracker.accounts.users import User
from cetracker.errors import NotAllowed
from cetracker.filters import Filters
from cetracker.rules import compute
from cetracker.rules.cells import name_order
from cetracker.store.db import Database, Touched, in_ids, on_server

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

HOUR_SUMMARY_COLUMNS = [
    "license_number",
    "first_name",
    "last_name",
    "county",
    "area",
    "position",
    "year",
    "earned",
    "carried_in",
    "credited",
    "required",
    "short_by",
    "eligible",
]

# Why members are short in categories: shared by the live query and a closed year's snapshot.
_CATEGORY_CTES = """
minimums AS (
    SELECT unnest($min_categories::VARCHAR[]) AS category,
           unnest($min_hours::DECIMAL(8, 2)[]) AS minimum
),
category_hours AS (  -- categories compare ignoring case (compute.category_key)
    SELECT member_id, lower(category) AS category_key, sum(hours) AS got
    FROM {records}
    WHERE status = 'approved' AND ce_year = $year
      AND lower(category) IN (SELECT lower(category) FROM minimums) {records_of}
    GROUP BY member_id, lower(category)
),
categories_short AS (
    SELECT m.id AS member_id, count(*) AS short_count,
           {reasons}
    FROM {members} m CROSS JOIN minimums mn
    LEFT JOIN category_hours g ON g.member_id = m.id AND g.category_key = lower(mn.category)
    WHERE coalesce(g.got, 0) < mn.minimum
    GROUP BY m.id
),
"""

_HOUR_SUMMARY_SQL = """
WITH yearly AS (
    SELECT member_id,
           sum(hours) FILTER (WHERE ce_year = $year) AS earned,
           sum(hours) FILTER (WHERE ce_year = $year - 1) AS earned_prev,
           count(*) FILTER (WHERE ce_year = $year) AS courses
    FROM {records}
    WHERE status = 'approved' AND ce_year IN ($year, $year - 1) {records_of}
    GROUP BY member_id
),
{category_ctes}standing AS (
    SELECT m.*,
           coalesce(y.earned, 0) AS earned_hours,
           {carried} AS carried_hours,
           coalesce(c.short_count, 0) AS categories_short,
           c.reasons AS category_reasons,
           coalesce(y.courses, 0) AS course_count
    FROM {members} m
    LEFT JOIN yearly y ON y.member_id = m.id
    LEFT JOIN categories_short c ON c.member_id = m.id
    WHERE {where}
)
SELECT license_number, first_name, last_name, county, area, position,
       $year::INTEGER AS year,
       {figures}
       {extra}
FROM standing
{having}
{order}
"""


# The words of the categories a member is short in (as ``compute.reasons`` writes them),
# which ``_why`` adds to the other reasons. Left out (NULL) where only eligibility is
# wanted: building the text is most of a million members' cost.
_CATEGORY_REASONS = """
    -- In category order (as compute.reasons): a list sorted after the grouping costs a
    -- fraction of an ordered string_agg over a million groups.
    array_to_string(list_transform(list_sort(list({
        'category': mn.category,
        'text': mn.category || ': '
                || rtrim(rtrim(coalesce(g.got, 0)::DECIMAL(18, 2)::VARCHAR, '0'), '.')
                || ' of ' || rtrim(rtrim(mn.minimum::DECIMAL(18, 2)::VARCHAR, '0'), '.')
                || CASE WHEN mn.minimum = 1 THEN ' hour' ELSE ' hours' END})),
        lambda r: r.text), '; ') AS reasons"""


def _carried(earned_prev: str) -> str:
    """SQL of the hours a member carries into the year from ``earned_prev`` (SQL of the
    hours earned the year before): what is over the year before's requirement, up to its
    cap (parameters ``$required_prev``, ``$cap_prev``)."""
    return f"least($cap_prev, greatest(0, coalesce({earned_prev}, 0) - $required_prev))"


def _figures(earned: str, carried: str, status: str, categories_short: str) -> dict[str, str]:
    """SQL of a member's figures in the Hour Summary, by column, from SQL of the member's
    hours earned and carried in (DECIMAL), status and count of categories short. The one
    home of these formulas: the query computes rows with them, a patch of a kept table
    updates rows with them (why a member is not eligible is worded when read: ``_why``)."""
    return {
        "earned": f"({earned})::DOUBLE",
        "carried_in": f"({carried})::DOUBLE",
        "credited": f"({earned} + {carried})::DOUBLE",
        "required": "$required::DOUBLE",
        "short_by": f"greatest(0, $required - {earned} - {carried})::DOUBLE",
        "eligible": (
            f"({status} = 'active' AND {earned} + {carried} >= $required"
            f" AND {categories_short} = 0)"
        ),
    }


# What ``_why`` reads of a row of a year's standing.
_WHY_READS = ("status", "short_by", "eligible", "category_reasons")


def _why(row: str) -> str:
    """SQL of why a member is not eligible, in words (as ``compute.reasons`` writes them),
    from a row (alias ``row``) of a year's standing: its ``_WHY_READS`` (the hours short as
    ``_figures`` or a closed year's snapshot worked them out). Worded when read, not kept:
    the words of a page's 5,000 rows cost nothing, while keeping them for a million
    members cost a text column to build and to update after every roster.
    A closed year's member not eligible for a reason no longer seen (a category rule
    changed since) reads ``compute.SHORT_WHEN_CLOSED``. (An open year's member who is not
    eligible always has a reason in the row, as long as it holds ``category_reasons``:
    read only a table kept with ``reasons=True`` through this.)"""
    short = f"{row}.short_by::DECIMAL(18, 2)"
    return f"""coalesce(nullif(concat_ws('; ',
              CASE WHEN {row}.status <> 'active' THEN 'inactive' END,
              CASE WHEN {short} > 0
                   THEN rtrim(rtrim({short}::VARCHAR, '0'), '.')
                        || CASE WHEN {short} = 1 THEN ' hour short' ELSE ' hours short' END
              END,
              {row}.category_reasons), ''),
             CASE WHEN NOT {row}.eligible THEN '{compute.SHORT_WHEN_CLOSED}' END, '')"""


_SNAPSHOT_SQL = """
{with_reasons}
SELECT m.license_number, m.first_name, m.last_name, m.county, m.area, m.position,
       $year::INTEGER AS year,
       s.earned::DOUBLE AS earned,
       s.carried_in::DOUBLE AS carried_in,
       (s.earned + s.carried_in)::DOUBLE AS credited,
       s.required::DOUBLE AS required,
       greatest(0, s.required - s.earned - s.carried_in)::DOUBLE AS short_by,
       s.eligible
       {extra}
FROM year_snapshots s JOIN {members} m ON m.id = s.member_id
{reasons_join}
WHERE s.ce_year = $year AND {where} {short}
{order}
"""
# A closed year's records and minimums are frozen, so its category reasons read live.
_SNAPSHOT_REASONS_JOIN = "LEFT JOIN categories_short c ON c.member_id = m.id"


@dataclass(frozen=True)
class Rules:
    """Policies and category-minimum sets: the database's, or a proposed change's."""

    policies: list[compute.Policy]
    minimum_sets: dict[int, dict[str, Decimal]]

    @classmethod
    def of(cls, db: Database) -> Rules:
        return cls(policies.load_policies(db), policies.load_minimum_sets(db))


def snapshot_year(db: Database, year: int) -> bool:
    return bool(db.scalar("SELECT count(*) FROM closed_years WHERE ce_year = ?", [year]))


def hour_summary_query(
    db: Database,
    filters: Filters,
    *,
    detail: bool = False,
    rules: Rules | None = None,
    live: bool = False,
    only: str | None = None,
    records: str = "ce_records",
    ordered: bool = True,
    reasons: bool = True,
) -> tuple[str, dict[str, object]]:
    """The SQL and parameters of the Hour Summary (used for tables and streamed exports).

    A closed year reads its snapshot unless ``live``; ``rules`` computes under proposed rules;
    ``only`` limits it to some members (what a write touched): ``IN (…)`` of their ids,
    SQL of code (``_register_members``); ``records`` is where
    the records of the year and the year before come from (SQL of code, never of input:
    columns member_id, ce_year, hours, category, status); ``ordered=False`` leaves the rows
    unsorted (a table that every reader sorts anyway); ``reasons=False`` leaves
    category_reasons empty (NULL) when only eligibility is wanted (the words of why a
    member is not eligible are made when the kept standing is read: ``_why``).
    """
    order = f"ORDER BY {name_order()}" if ordered else ""
    year = filters.year
    where, params = filters.member_where("m")
    records_of, members = "", "members"
    if only is not None:
        # Only these members' rows and records are read (a write's few, not a million): the
        # members table is narrowed once, before the joins, from a relation (a list bound as
        # a parameter costs more than the query at a hundred thousand ids).
        records_of = f"AND member_id {only}"
        members = _members_among(only)
    # The category reasons are shared with the closed-year snapshot's SQL.
    ctes = _CATEGORY_CTES.format(
        records=records,
        records_of=records_of,
        members=members,
        reasons=_CATEGORY_REASONS if reasons else "NULL::VARCHAR AS reasons",
    )
    if not live and rules is None and snapshot_year(db, year):
        category_reasons = "c.reasons" if reasons else "NULL::VARCHAR"
        extra = (
            ", s.status, s.categories_short, m.id AS member_id, (SELECT count(*) FROM ce_records r"  # noqa: S608 - SQL of code
            " WHERE r.member_id = m.id AND r.ce_year = $year AND r.status = 'approved')"
            f" AS course_count, {category_reasons} AS category_reasons"
            if detail
            else ""
        )
        short = (
            "AND (s.earned + s.carried_in < s.required OR s.categories_short > 0)"
            if filters.short_only
            else ""
        )
        params["year"] = year
        order = order.replace("ORDER BY ", "ORDER BY m.").replace(", ", ", m.")
        with_reasons = reasons_join = ""
        if reasons and detail:
            minimums = compute.binding_minimums(policies.load_minimum_sets(db), year)
            params.update(min_categories=list(minimums), min_hours=list(minimums.values()))
            with_reasons = f"WITH {ctes.rstrip().rstrip(',')}"
            reasons_join = _SNAPSHOT_REASONS_JOIN
        sql = _SNAPSHOT_SQL.format(
            with_reasons=with_reasons,
            reasons_join=reasons_join,
            members=members,
            where=where,
            extra=extra,
            short=short,
            order=order,
        )
        return sql, params
    rules = rules or Rules.of(db)
    extra = (
        ", status, categories_short, id AS member_id, course_count, category_reasons"
        if detail
        else ""
    )
    having = (
        "WHERE earned_hours + carried_hours < $required OR categories_short > 0"
        if filters.short_only
        else ""
    )
    sql = _HOUR_SUMMARY_SQL.format(
        members=members,
        where=where,
        extra=extra,
        having=having,
        records=records,
        records_of=records_of,
        category_ctes=ctes,
        order=order,
        carried=_carried("y.earned_prev"),
        figures=",\n       ".join(
            f"{sql} AS {name}"
            for name, sql in _figures(
                "earned_hours", "carried_hours", "status", "categories_short"
            ).items()
        ),
    )
    params.update(_rule_params(rules, year))
    return sql, params


def _rule_params(rules: Rules, year: int) -> dict[str, object]:
    """The parameters of the year's rules that the Hour Summary's SQL reads."""
    this_year = compute.policy_for_year(rules.policies, year)
    previous = compute.policy_for_year(rules.policies, year - 1)
    minimums = compute.binding_minimums(rules.minimum_sets, year)
    return {
        "year": year,
        "required": this_year.required_hours,
        "required_prev": previous.required_hours,
        "cap_prev": previous.carryover_cap,
        "min_categories": list(minimums),
        "min_hours": list(minimums.values()),
    }


def _members_among(only: str) -> str:
    """The members ``only`` (``IN (…)`` of their ids) names, with the columns the Hour
    Summary reads (not their contact details: a fifth of the cost at 100,000 members)."""
    return f"""(SELECT id, license_number, first_name, last_name, county, area, position, status,
                       search_key
                FROM members WHERE id {only})"""  # noqa: S608 - SQL of code


def _register_members(cur: duckdb.DuckDBPyConnection, name: str, ids: set[int]) -> str:
    """Member ids as the relation ``name`` (column ``id``) of the cursor's queries, and the
    ``IN (…)`` that names them: the ids themselves when they are few (``in_ids``), else the
    relation (a list of 100,000 bound as a parameter costs more than the query)."""
    import pyarrow as pa

    cur.register(name, pa.table({"id": pa.array(list(ids), pa.int32())}))
    return in_ids(ids) or f"IN (SELECT id FROM {name})"  # noqa: S608 - a name of code


@dataclass
class _Reach:
    """The members whose standing in a year some changes can alter, by how: ``touched``
    all of them; ``carried`` those touched only through their records of the year before
    (what they carry in); ``added`` those whose records of the year were only added to
    and nothing else of theirs changed."""

    touched: set[int]
    carried: set[int]
    added: set[int]


def _reach(changes: list[Touched], year: int) -> _Reach | None:
    """Who ``changes`` touch in ``year`` (None: the year's rules or closed state changed,
    so every member). One pass over the changes: a roster's are 100,000 members each."""
    direct: set[int] = set()
    before: set[int] = set()
    added: set[int] = set()
    other: set[int] = set()
    for change in changes:
        if year in change.years:
            return None
        mine = change.records.get(year, set())
        rewritten = change.rewritten.get(year, set())
        direct |= change.members
        direct |= mine
        before |= change.records.get(year - 1, set())
        added |= mine - rewritten if rewritten else mine
        other |= change.members
        other |= rewritten
    carried = before - direct
    return _Reach(direct | before, carried, added - other - before)


def _without_minimums(
    changes: list[Touched], year: int, members: set[int], minimums: list[str]
) -> set[int]:
    """Of ``members``, those none of whose records of ``year`` that the changes added is in
    a category with a minimum (the others' categories are counted again)."""
    if not minimums or not members:
        return members
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = {compute.category_key(c) for c in minimums}
    counted: set[int] = set()
    for rows in (rows for change in changes for rows in change.added):
        # The few categories are lowered by the category rule itself (Arrow's own lowering
        # differs from it on letters newer than Python's Unicode).
        categories = pc.unique(rows.column("category")).to_pylist()
        theirs = [c for c in categories if c is not None and compute.category_key(c) in wanted]
        in_minimum = pc.and_(
            pc.equal(rows.column("ce_year"), year),
            pc.is_in(rows.column("category"), value_set=pa.array(theirs, pa.string())),
        )
        counted.update(rows.filter(in_minimum).column("member_id").to_pylist())
    return members - counted


def _update_figures(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    source: str,
    figures: dict[str, str],
    params: dict[str, object],
    *,
    where: str = "",
    more: str = "",
) -> None:
    """Update the ``columns`` of the rows of ``table`` (alias s) that ``source`` (SQL of
    code with a ``member_id`` column, alias n) names, by the Hour Summary's formulas."""
    sets = ", ".join(f"{c} = {figures[c]}" for c in columns if c in figures) + more
    sql = f"UPDATE {table} s SET {sets} FROM ({source}) n WHERE s.member_id = n.member_id {where}"  # noqa: S608 - SQL of code
    # DuckDB refuses parameters a statement does not name.
    cur.execute(sql, {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)})


def _update_carried(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    records: str,
    members: set[int],
    params: dict[str, object],
) -> None:
    """Members whose records of the year before changed and nothing else of theirs: the
    hours they carry in are read again and, where they differ, their figures follow (most
    of a roster's members are over the carryover cap or under the requirement already)."""
    _register_members(cur, "carry_members", members)
    carried = f"""SELECT c.id AS member_id, {_carried("sum(r.hours)")} AS carried
                  FROM carry_members c
                  LEFT JOIN (SELECT member_id, hours FROM {records} WHERE ce_year = $year - 1) r
                      ON r.member_id = c.id
                  GROUP BY c.id"""  # noqa: S608 - SQL of code
    figures = _figures("s.earned::DECIMAL(18, 2)", "n.carried", "s.status", "s.categories_short")
    where = "AND s.carried_in <> n.carried::DOUBLE"
    changed = tuple(c for c in columns if c != "earned")  # (each column updated costs)
    _update_figures(cur, table, changed, carried, figures, params, where=where)
    cur.unregister("carry_members")


def _update_added(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    changes: list[Touched],
    members: set[int],
    params: dict[str, object],
) -> None:
    """Members whose records of the year were only added to: the added hours and courses
    add to the figures the table holds (their categories with a minimum, where the
    additions reach one, are counted again next: ``_update_categories``)."""
    import pyarrow as pa

    cur.register("added_records", pa.concat_tables([a for c in changes for a in c.added]))
    _register_members(cur, "added_members", members)
    added = """SELECT member_id, sum(hours) AS hours, count(*) AS courses FROM added_records
               WHERE ce_year = $year AND status = 'approved'
                 AND member_id IN (SELECT id FROM added_members)
               GROUP BY member_id"""
    figures = _figures(
        "(s.earned::DECIMAL(18, 2) + n.hours)",
        "s.carried_in::DECIMAL(18, 2)",
        "s.status",
        "s.categories_short",
    )
    more = ", course_count = s.course_count + n.courses" if "course_count" in columns else ""
    changed = tuple(c for c in columns if c != "carried_in")
    _update_figures(cur, table, changed, added, figures, params, more=more)
    cur.unregister("added_members")
    cur.unregister("added_records")


def _update_categories(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    records: str,
    members: set[int],
    params: dict[str, object],
    *,
    reasons: bool,
) -> None:
    """Members whose records of the year were only added to, some in a category with a
    minimum (after ``_update_added``): their hours in those categories are counted again
    from ``records`` (the categories only, by the same SQL as the Hour Summary's), and the
    figures that follow from them are updated in place."""
    among = _register_members(cur, "category_members", members)
    ctes = _CATEGORY_CTES.format(
        records=records,
        records_of=f"AND member_id {among}",
        members="(SELECT id FROM category_members)",
        reasons=_CATEGORY_REASONS if reasons else "NULL::VARCHAR AS reasons",
    )
    counted = f"""WITH {ctes.rstrip().rstrip(",")}
                  SELECT a.id AS member_id, coalesce(c.short_count, 0) AS short_count,
                         c.reasons
                  FROM category_members a LEFT JOIN categories_short c ON c.member_id = a.id"""  # noqa: S608 - SQL of code
    figures = _figures(
        "s.earned::DECIMAL(18, 2)", "s.carried_in::DECIMAL(18, 2)", "s.status", "n.short_count"
    )
    more = ", categories_short = n.short_count" + (
        ", category_reasons = n.reasons" if reasons else ""
    )
    changed = tuple(c for c in columns if c == "eligible")
    _update_figures(cur, table, changed, counted, figures, params, more=more)
    cur.unregister("category_members")


# A write touching more members than this rebuilds a year's table instead of patching it.
PATCH_LIMIT = 250_000


def _standing_rows(sql: str, members: str) -> str:
    # The name search reads the members' own search key (the one rule: filters.name_search).
    # The rows are stored in name order, the order every list shows: a page's first rows
    # are then in the table's first row groups, and the sort of a page's top rows skips
    # the others by the range of names each holds.
    return f"""SELECT s.*, m.search_key AS search
               FROM ({sql}) s JOIN {members} m ON m.id = s.member_id
               ORDER BY {name_order("m")}"""  # noqa: S608 - fixed SQL


def _two_years(db: Database, year: int) -> str:
    """The approved records of ``year`` and the year before, from their maintained tables
    (``year_records``), as the Hour Summary query reads records."""
    return f"""(SELECT member_id, $year::INTEGER AS ce_year, hours, category,
                       'approved' AS status FROM {year_records(db, year)}
                UNION ALL
                SELECT member_id, ($year - 1)::INTEGER, hours, category, 'approved'
                FROM {year_records(db, year - 1)})"""  # noqa: S608 - names of our tables


def _kept_standing(
    db: Database,
    year: int,
    family: str,
    rows: Callable[[str, str], str],
    figures: tuple[str, ...],
    *,
    reasons: bool = True,
) -> str:
    """A maintained table of ``rows(query, members)`` over the year's Hour Summary query
    (``members``: the members table, or the rows of those the query is limited to), computed
    from the maintained tables of the year's and the year before's records (in memory: a
    write's members are recomputed without reading the records table); ``figures`` are the
    Hour Summary's columns that the rows hold besides the member's (see ``_figures``; with
    ``categories_short`` and, with ``course_count``, ``category_reasons`` that ``_why``
    reads). See ``year_standing``."""

    def build(records: str) -> tuple[str, dict[str, object]]:
        sql, params = hour_summary_query(
            db, Filters(year=year), detail=True, records=records, ordered=False, reasons=reasons
        )
        return rows(sql, "members"), params

    def patch(
        cur: duckdb.DuckDBPyConnection,
        table: str,
        changes: list[Touched],
        records: str,
        exact: bool,
    ) -> bool:
        reach = _reach(changes, year)
        if reach is None or len(reach.touched) > PATCH_LIMIT:
            return False
        touched = reach.touched
        carried: set[int] = set()
        added: set[int] = set()
        categories: set[int] = set()
        rules = Rules.of(db)
        params = _rule_params(rules, year)
        if not snapshot_year(db, year):  # a closed year's figures are its snapshot's
            # Members whose own row stays as it was keep their row; their figures are
            # updated in place (cheaper than computing the rows again).
            carried = reach.carried
            if exact:  # the table holds no write later than its mark: sums can grow
                added = reach.added
                minimums = list(compute.binding_minimums(rules.minimum_sets, year))
                categories = added - _without_minimums(changes, year, added, minimums)
        again = touched - carried - added
        if again:
            among = _register_members(cur, "touched_members", again)
            some, some_params = hour_summary_query(
                db,
                Filters(year=year),
                detail=True,
                only=among,
                records=records,
                ordered=False,
                reasons=reasons,
            )
            cur.execute(
                f"DELETE FROM {table} WHERE member_id {among}"  # noqa: S608
            )
            theirs = _members_among(among)
            cur.execute(f"INSERT INTO {table} {rows(some, theirs)}", some_params)  # noqa: S608
            cur.unregister("touched_members")
        if carried:
            _update_carried(cur, table, figures, records, carried, params)
        if added:
            _update_added(cur, table, figures, changes, added, params)
        if categories:
            _update_categories(cur, table, figures, records, categories, params, reasons=reasons)
        return True

    return db.maintained_table(_family(family, year), build, patch, lambda: _two_years(db, year))


def _family(family: str, year: int) -> str:
    """The name a year's kept table is held under (see ``Database.maintained_table``)."""
    return f"{family}_{int(year)}"


def year_standing(db: Database, year: int) -> str:
    """Every member's standing for ``year`` (or its snapshot), kept up to date across writes.

    Returns the name of an in-memory table: a filter change then reads it instead of
    the records; filters, the director's scope and the sort apply to it in SQL. Built once;
    a write then recomputes only the members it touched, in the years it can change (its
    records' year and the next, through carried hours); a change of the year's rules, its
    closing or reopening, or a write of unknown reach rebuilds it. A member whose records
    were only added to, or whose carried hours alone changed, keeps the row: its figures
    are updated.
    """
    return _kept_standing(
        db,
        year,
        "standing",
        _standing_rows,
        (
            "earned",
            "carried_in",
            "credited",
            "short_by",
            "eligible",
            "course_count",
        ),
    )


def year_eligibility(db: Database, year: int) -> str:
    """Each member's eligibility for ``year`` with status, area and county: what the
    compliance trend counts for its earlier years, a sliver of ``year_standing`` (a
    twentieth of its memory at a million members), kept up to date the same way (with the
    hours earned and carried in, and the count of categories short, that its updates read)."""
    return _kept_standing(
        db,
        year,
        "eligibility",
        lambda sql, _: (
            "SELECT member_id, status, area, county, eligible, carried_in, earned,"  # noqa: S608
            f" categories_short FROM ({sql})"
        ),
        ("earned", "carried_in", "eligible"),
        reasons=False,
    )


def eligibility_counts(db: Database, filters: Filters) -> tuple[int, int]:
    """Active members and how many are eligible, for the filters' year and scope, from the
    year's slim eligibility table (``year_eligibility``); remembered until a write can
    change the year's standing (a write into the current year leaves earlier years be)."""
    year = filters.year
    counts: tuple[int, int] = db.maintained_value(
        repr(("eligibility counts", filters)),
        lambda: _eligibility_counts(db, filters),
        lambda change: year in change.years or bool(change.members_for(year)),
    )
    return counts


def _eligibility_counts(db: Database, filters: Filters) -> tuple[int, int]:
    where, params = filters.member_where("s")
    # The year's whole standing, when it is kept and up to date (someone had its Hour
    # Summary open), holds the same figures: it saves bringing the slim table up to date
    # after a write (~0.1 s after a 100,000-row roster at a million members).
    kept = db.maintained_if_current(_family("standing", filters.year))
    row = db.one(
        f"""SELECT count(*), count(*) FILTER (WHERE eligible)
            FROM {kept or year_eligibility(db, filters.year)} s
            WHERE status = 'active' AND {where}""",  # noqa: S608 - fixed clauses, values are parameters
        params,
    )
    assert row is not None  # an aggregate always yields a row
    return int(row[0]), int(row[1])


_YEAR_RECORDS_SQL = """SELECT member_id, course_date, course_id, title, source, hours, category
                       FROM ce_records WHERE ce_year = {year} AND status = 'approved' {only}"""


def year_records(db: Database, year: int) -> str:
    """The year's approved records, kept up to date across writes (in memory).

    What Conference Detail lists and what a year's standing is computed from: a tenth of
    the records table. A write adds the records it added (a roster's rows are not read
    again) and reads again the records of the members whose records it otherwise changed.
    """

    def patch(
        cur: duckdb.DuckDBPyConnection, table: str, changes: list[Touched], _: None, exact: bool
    ) -> bool:
        # (Rules and closing leave records where they are: a start month cannot change
        # under recorded years.)
        again = set().union(*(change.rewritten.get(year, set()) for change in changes))
        if len(again) > PATCH_LIMIT:
            return False
        among = _register_members(cur, "reread_members", again)
        if again:
            cur.execute(f"DELETE FROM {table} WHERE member_id {among}")  # noqa: S608
            only = f"AND member_id {among}"
            cur.execute(
                f"INSERT INTO {table} {_YEAR_RECORDS_SQL.format(year='$year', only=only)}",  # noqa: S608
                {"year": int(year)},
            )
        for change in changes:
            for added in change.added:
                # Unless the table holds exactly the writes up to its mark, added rows it
                # holds already (it was built after they were) are skipped: a record is
                # unique by member, course and date.
                held = (
                    ""
                    if exact
                    else f"""AND NOT EXISTS (
                              SELECT 1 FROM {table} t
                              WHERE t.member_id = a.member_id AND t.course_id = a.course_id
                                AND t.course_date = a.course_date)"""  # noqa: S608
                )
                cur.register("kept_added", added)
                cur.execute(
                    f"""INSERT INTO {table}
                        SELECT a.member_id, a.course_date, a.course_id, a.title, a.source,
                               a.hours, a.category
                        FROM kept_added a
                        WHERE a.ce_year = $year AND a.status = 'approved'
                          AND a.member_id NOT IN (SELECT id FROM reread_members) {held}""",  # noqa: S608
                    {"year": int(year)},
                )
                cur.unregister("kept_added")
        cur.unregister("reread_members")
        return True

    def build(_: None) -> tuple[str, dict[str, object]]:
        if db.records_in_year_order():
            # The server plans the read itself, through its index of each year's block
            # ranges (migration 15): a tenth of the table, where DuckDB's scanner reads
            # every page of it. (Records out of year order are read in page ranges.)
            read = on_server(_YEAR_RECORDS_SQL.format(year=int(year), only=""))
            return f"{read} ORDER BY member_id", {}
        return _YEAR_RECORDS_SQL.format(year="$year", only="") + " ORDER BY member_id", {
            "year": int(year)
        }

    return db.maintained_table(f"records_{int(year)}", build, patch)


def _over_standing(
    db: Database, filters: Filters, select: str, tail: str = ""
) -> tuple[str, dict[str, object]]:
    where, params = filters.member_where("s", search_column="search")
    short = "AND (short_by > 0 OR categories_short > 0)" if filters.short_only else ""
    table = year_standing(db, filters.year)
    return f"SELECT {select} FROM {table} s WHERE {where} {short} {tail}", params  # noqa: S608


def standing_query(db: Database, filters: Filters) -> tuple[str, dict[str, object]]:
    """SQL for the filtered rows of the year's standing (every column, incl. member_id)."""
    return _over_standing(db, filters, "*")


def hour_summary(
    db: Database,
    filters: Filters,
    *,
    detail: bool = False,
    limit: int | None = None,
    only: str = "",
    reasons: bool = False,
) -> pd.DataFrame:
    """One row per member for the filters' year, columns as the hour-summary CSV (SPEC §7).

    ``limit`` returns only the first rows in report order (what a page shows); ``only`` is
    a fixed SQL condition of the caller's (``"eligible"``, ``"carried_in > 0"``); ``reasons``
    adds why each member is not eligible (pages, Excel and PDF; the CSV keeps SPEC §7's columns).
    """
    why = reasons or detail
    columns = [
        *HOUR_SUMMARY_COLUMNS,
        *(["why_not_eligible"] if why else []),
        *(["status", "categories_short", "member_id"] if detail else []),
    ]
    order = f"ORDER BY {name_order(key='search')}"
    tail = (f"AND ({only}) " if only else "") + order

    def selected(row: str, kept: list[str]) -> str:
        worded = f"{_why(row)} AS why_not_eligible"
        return ", ".join(worded if c == "why_not_eligible" else f"{row}.{c}" for c in kept)

    if limit is None or not why:
        limited = f" LIMIT {int(limit)}" if limit is not None else ""
        sql, params = _over_standing(db, filters, selected("s", columns), tail + limited)
    else:
        # The first rows are found first, then only theirs are worded.
        read = [c for c in columns if c != "why_not_eligible"]
        read += [c for c in (*_WHY_READS, "search") if c not in read]
        sql, params = _over_standing(db, filters, selected("s", read), f"{tail} LIMIT {int(limit)}")
        sql = f"SELECT {selected('f', columns)} FROM ({sql}) f {order}"  # noqa: S608 - SQL of code
    frame: pd.DataFrame = db.cached(
        repr(("hour_summary", filters, detail, limit, only, reasons)), lambda: db.frame(sql, params)
    )
    return frame


def hour_summary_csv_query(db: Database, filters: Filters) -> tuple[str, dict[str, object]]:
    """The Hour Summary CSV's rows (SPEC §7's columns, report order) as SQL over the
    year's standing, for an export that DuckDB streams to a file."""
    return _over_standing(
        db,
        filters,
        ", ".join(HOUR_SUMMARY_COLUMNS),
        f"ORDER BY {name_order(key='search')}",
    )


@dataclass(frozen=True)
class Counts:
    members: int
    eligible: int
    short_hours: float

    @property
    def not_eligible(self) -> int:
        return self.members - self.eligible


def hour_summary_counts(db: Database, filters: Filters) -> Counts:
    """The figures at the top of the Hour Summary, without fetching the rows."""
    sql, params = _over_standing(
        db,
        filters,
        "count(*), count(*) FILTER (WHERE eligible), coalesce(sum(short_by), 0)",
    )
    row = db.one(sql, params)
    assert row is not None  # an aggregate always yields a row
    return Counts(int(row[0]), int(row[1]), float(row[2]))


def eligibility_by_area(db: Database, filters: Filters) -> pd.DataFrame:
    """Active members and how many are eligible, per area: what charts need, without the rows."""
    sql, params = _over_standing(
        db,
        filters,
        "area, count(*) AS members, count(*) FILTER (WHERE eligible) AS eligible",
        "AND status = 'active' GROUP BY area ORDER BY area",
    )
    return db.cached_frame(sql, params)


# -- one member ---------------------------------------------------------------------------


def member_rule_records(db: Database, member_id: int) -> list[compute.Record]:
    return [
        compute.Record(int(y), compute.hours(h), c, s)
        for y, h, c, s in db.rows(
            "SELECT ce_year, hours, category, status FROM ce_records WHERE member_id = ?",
            [member_id],
        )
    ]


def member_standing(db: Database, member_id: int, year: int) -> compute.Standing:
    """One member's standing for ``year``: a closed year's is its snapshot, as its reports
    and certificates read it (a member made inactive since the close stays as closed)."""
    status = db.scalar("SELECT status FROM members WHERE id = ?", [member_id])
    live = compute.standing(
        member_rule_records(db, member_id),
        year,
        policies.load_policies(db),
        policies.load_minimum_sets(db),
        active=status == "active",
    )
    frozen = db.one(
        """SELECT status, earned, carried_in, required, eligible FROM year_snapshots
           WHERE ce_year = ? AND member_id = ?""",
        [year, member_id],
    )
    if frozen is None:
        return live
    # The year's records and minimums are frozen (years.final_in): its categories read live.
    active, earned, carried = frozen[0] == "active", *map(compute.hours, frozen[1:3])
    required = compute.hours(frozen[3])
    short_by = max(compute.ZERO, required - earned - carried)
    why = compute.reasons(active=active, short_by=short_by, categories=live.categories)
    return compute.Standing(
        year=year,
        earned=earned,
        carried_in=carried,
        credited=earned + carried,
        required=required,
        short_by=short_by,
        category_shortfalls=live.category_shortfalls,
        active=active,
        eligible=bool(frozen[4]),
        categories=live.categories,
        # A snapshot whose category rule has changed since (categories compared by their
        # exact spelling before compute.category_key) may hold a shortfall no longer seen.
        reasons=why or (() if frozen[4] else (compute.SHORT_WHEN_CLOSED,)),
    )


def my_standing(db: Database, user: User, year: int | None = None) -> compute.Standing:
    """The signed-in member's own standing for ``year`` (this CE year by default)."""
    if user.member_id is None:
        raise NotAllowed("This account is not linked to a member.")
    return member_standing(db, user.member_id, year or policies.current_ce_year(db))


# -- a proposed policy ----------------------------------------------------------------


@dataclass(frozen=True)
class YearImpact:
    year: int
    members: int
    eligible_before: int
    eligible_after: int
    gain: int
    lose: int
    closed: bool

    @property
    def changed(self) -> int:
        return self.gain + self.lose


def _with_proposal(
    db: Database, proposal: policies.Proposal
) -> tuple[list[compute.Policy], dict[int, dict[str, Decimal]]]:
    stored = [p for p in policies.load_policies(db) if p.effective_year != proposal.effective_year]
    sets = {y: m for y, m in policies.load_minimum_sets(db).items() if y != proposal.effective_year}
    sets[proposal.effective_year] = dict(proposal.minimums)
    return sorted([*stored, proposal.policy], key=lambda p: p.effective_year), sets


def policy_impact(db: Database, proposal: policies.Proposal) -> list[YearImpact]:
    """For each year from the effective year on: how many members' eligibility would change.

    Carried hours make a change reach one year further than its own years.
    """
    before = Rules.of(db)
    policies_after, sets_after = _with_proposal(db, proposal)
    after = Rules(policies_after, sets_after)
    newest = max(
        policies.current_ce_year(db),
        int(db.scalar("SELECT coalesce(max(ce_year), 0) FROM ce_records")),
    )
    governed = policies.governed_years(db, proposal)
    reach = [y for y in governed if y <= newest] or [proposal.effective_year]
    results = []
    for year in reach:
        closed = bool(db.scalar("SELECT count(*) FROM closed_years WHERE ce_year = ?", [year]))
        old_sql, old_params = hour_summary_query(db, Filters(year=year), detail=True, rules=before)
        new_sql, new_params = hour_summary_query(db, Filters(year=year), detail=True, rules=after)
        old = db.frame(f"SELECT member_id, eligible FROM ({old_sql})", old_params)  # noqa: S608
        new = db.frame(f"SELECT member_id, eligible FROM ({new_sql})", new_params)  # noqa: S608
        both = old.merge(new, on="member_id", suffixes=("_old", "_new"))
        gain = int((~both["eligible_old"] & both["eligible_new"]).sum())
        lose = int((both["eligible_old"] & ~both["eligible_new"]).sum())
        results.append(
            YearImpact(
                year,
                len(both),
                int(both["eligible_old"].sum()),
                int(both["eligible_new"].sum()),
                0 if closed else gain,
                0 if closed else lose,
                closed,
            )
        )
    return results
