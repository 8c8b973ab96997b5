"""Dues (SPEC §2): the only writer of ``dues``, with its checks and the outstanding rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cetracker import audit, config, entities, members
from cetracker.filters import Filters
from cetracker.rules.cells import name_order
from cetracker.store.db import Database, Touched, note

if TYPE_CHECKING:
    import pandas as pd

DUES_STATUSES = ("paid", "partial", "unpaid", "waived")


DUES = entities.Entity(
    "dues",
    "dues",
    (
        entities.Field("amount_due", "Amount due", "money", required=True, default=Decimal(0)),
        entities.Field("amount_paid", "Amount paid", "money", required=True, default=Decimal(0)),
        entities.Field("paid_date", "Paid date", "date"),
        # Blank: what the amounts say (paid, partial or unpaid); waived is only ever chosen.
        entities.Field("status", "Status", "choice", choices=DUES_STATUSES),
    ),
)
YEAR = entities.Field("year", "Year", "year", required=True)
COLUMNS = ["member_id", "year", *(f.name for f in DUES.fields)]


def check_row(values: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """One member's dues for a year as stored (``year`` and the amounts, date and status),
    or ``entities.Invalid`` listing every problem: the form's and the workbook load's checks.
    """
    problems: list[str] = []
    day = today or config.today()
    cleaned = {
        f.name: entities.clean_field(f, values.get(f.name), problems, day) for f in DUES.fields
    }
    cleaned["year"] = entities.clean_field(YEAR, values.get("year"), problems, day)
    due, paid, status = cleaned["amount_due"], cleaned["amount_paid"], cleaned["status"]
    if due is not None and paid is not None:
        if status is None:
            status = cleaned["status"] = status_of(due, paid)
        if status == "paid" and paid < due:
            problems.append(f"Status is paid but only {paid} of {due} was paid; choose partial.")
        if status == "partial" and not 0 < paid < due:
            problems.append("Status partial needs an amount paid above 0 and below the amount due.")
        if status == "unpaid" and paid > 0:
            problems.append("Status is unpaid but an amount was paid; choose partial or paid.")
        if paid > 0 and cleaned["paid_date"] is None:
            problems.append("Enter the date the dues were paid.")
        if paid == 0 and cleaned["paid_date"] is not None:
            problems.append("A paid date needs an amount paid.")
    if problems:
        raise entities.Invalid(problems)
    return cleaned


def save_dues(
    db: Database,
    member_id: int,
    year: int,
    values: dict[str, Any],
    *,
    actor: str,
    loaded: dict[str, Any] | None | str = "load",
    today: date | None = None,
) -> dict[str, list[Any]]:
    """Set one member's dues for a year; the status must agree with the amounts.

    ``loaded`` is the row as the editor saw it (None: there was none); by default it is read now.
    """
    cleaned = check_row({**values, "year": year}, today)
    del cleaned["year"]
    key = {"member_id": member_id, "year": year}
    seen = entities.current(db, DUES, key) if isinstance(loaded, str) else loaded
    return entities.save(
        db,
        DUES,
        key,
        cleaned,
        seen,
        actor,
        lambda _c, _v: note(tables=["dues"]),
        "dues",
        tracked=True,
    )


def upsert_many(cur: Any, rows: list[dict[str, Any]] | pd.DataFrame) -> None:
    """Set many members' dues at once (a workbook load, the demo data), by member and year.

    ``rows`` are ``check_row`` results with ``member_id`` set. Raises
    ``entities.RowsInvalid`` for a member and year given twice, and writes nothing then.
    """
    import pandas as pd

    frame = (
        rows[COLUMNS].copy()
        if isinstance(rows, pd.DataFrame)
        else pd.DataFrame(rows, columns=COLUMNS).astype(object)
    )
    if frame.empty:
        return
    twice = frame.duplicated(["member_id", "year"]).to_numpy().nonzero()[0]
    if len(twice):
        raise entities.RowsInvalid(
            {
                int(i): ["This member's dues for the year appear on an earlier row too."]
                for i in twice
            }
        )
    cur.register("incoming_dues", frame)
    try:
        same = "t.member_id = i.member_id AND t.year = i.year"
        cur.execute(
            f"""UPDATE dues t SET {", ".join(f"{c} = i.{c}" for c in COLUMNS[2:])}
                FROM incoming_dues i WHERE {same}"""  # noqa: S608 - our column names
        )
        listed = ", ".join(COLUMNS)
        cur.execute(
            f"""INSERT INTO dues ({listed}) SELECT {listed} FROM incoming_dues i
                WHERE NOT EXISTS (SELECT 1 FROM dues t WHERE {same})"""  # noqa: S608 - our column names
        )
    finally:
        cur.unregister("incoming_dues")


def outstanding_sql(alias: str) -> str:
    """``compute.dues_outstanding`` for a dues row ``alias`` in SQL (a test holds them equal)."""
    return (
        f"CASE WHEN {alias}.status = 'waived' THEN 0 "
        f"ELSE greatest(0, {alias}.amount_due - {alias}.amount_paid) END"
    )


NO_DUES_RECORD = "no dues record"


_REPORT_ORDER = name_order("m")


def members_dues_sql(
    filters: Filters,
    *,
    ordered: bool = True,
    limit: int | None = None,
    members_table: str = "members",
    dues_table: str = "dues",
) -> tuple[str, dict[str, object]]:
    """Per member: the year's dues row, or "no dues record" (never "unpaid", SPEC §2).

    Outstanding = due − paid for paid, partial and unpaid rows; a waived row owes
    nothing; a member without a row owes nothing that is recorded (empty). ``ordered``
    sorts the rows in report order (not wanted under an aggregate); ``limit`` keeps the
    first members in that order. ``members_table`` and ``dues_table``: where the members
    and the dues are read (``members.kept``, ``kept``).
    """
    where, params = filters.member_where("m")
    if limit is not None:
        # The first members in report order, then their dues (a member has one row a year):
        # the page's first rows without joining an area's hundred thousand.
        members = f"""(SELECT id, license_number, first_name, last_name, county, area, search_key
                       FROM {members_table} m WHERE {where}
                       ORDER BY {_REPORT_ORDER} LIMIT {int(limit)})"""  # noqa: S608
        where, chosen = "true", ""
    else:
        members = members_table
        # With filters, only the chosen members' dues rows are joined (the year holds a row
        # per member: a million at a statewide board, against an area's hundred thousand).
        # The members' clause is the same SQL with the same parameters, on another alias.
        same_members = filters.member_where("c")[0]
        chosen = (
            ""
            if where == "true"
            else f"AND d.member_id IN (SELECT c.id FROM {members_table} c WHERE {same_members})"  # noqa: S608
        )
    order = f"ORDER BY {_REPORT_ORDER}" if ordered or limit is not None else ""
    return (
        f"""SELECT m.license_number, m.first_name, m.last_name, m.county, m.area,
                   $year::INTEGER AS year, d.amount_due::DOUBLE AS amount_due,
                   d.amount_paid::DOUBLE AS amount_paid,
                   ({outstanding_sql("d")})::DOUBLE AS outstanding,
                   d.paid_date, coalesce(d.status, '{NO_DUES_RECORD}') AS status
            FROM {members} m
            LEFT JOIN (SELECT * FROM {dues_table} d WHERE d.year = $year {chosen}) d
                ON d.member_id = m.id
            WHERE {where}
            {order}""",  # noqa: S608
        {**params, "year": filters.year},
    )


# Members, dollars paid and outstanding per area, county, position and dues status: what
# the totals add up, for any filter on those (exact: the amounts are decimals until the end).
_GROUPS_SQL = f"""SELECT m.area, m.county, m.position,
                         coalesce(d.status, '{NO_DUES_RECORD}') AS status, count(*) AS members,
                         sum(d.amount_paid) AS paid, sum({outstanding_sql("d")}) AS outstanding
                  FROM {{members}} m LEFT JOIN {{dues}} d ON d.member_id = m.id AND d.year = $year
                  WHERE {{where}}
                  GROUP BY ALL"""  # noqa: S608 - SQL of code


def _dues_changed(change: Touched) -> bool:
    """Whether a write changed dues rows (every writer of the dues notes it)."""
    return "dues" in change.tables


def _rebuilt_after(changed: Callable[[Touched], bool]) -> Callable[..., bool]:
    """A kept table's patch that keeps it as it is unless a write ``changed`` it (then it
    is built again: see ``Database.maintained_table``)."""

    def unchanged(
        _cur: object, _table: str, changes: list[Touched], _ready: object, _exact: bool
    ) -> bool:
        return not any(map(changed, changes))

    return unchanged


def _year_groups(db: Database, year: int) -> str:
    """``_GROUPS_SQL`` for every member, kept in memory until dues or members change (a
    few thousand rows: a filter on area, county or position then adds some of them up)."""

    return db.maintained_table(
        f"dues_{int(year)}",
        lambda tables: (
            _GROUPS_SQL.format(members=tables[0], dues=tables[1], where="true"),
            {"year": year},
        ),
        _rebuilt_after(lambda c: bool(c.members) or _dues_changed(c)),
        lambda: (members.kept(db), kept(db, year)),
    )


def kept(db: Database, year: int) -> str:
    """The dues rows for reports of ``year`` to read: the table itself, or on a PostgreSQL
    server a copy of the year's rows in DuckDB's memory, kept until dues change (a list
    joined the year's million rows from the server on every page run at a million
    members). Only for reading, and only the rows of ``year``."""
    if not db.server:
        return "dues"

    return db.maintained_table(
        f"dues_rows_{int(year)}",
        lambda _ready: ("SELECT * FROM dues WHERE year = $year", {"year": year}),
        _rebuilt_after(_dues_changed),
    )


@dataclass(frozen=True)
class DuesTotals:
    """Dues for a year among the filtered members: one definition for the Dues report, Dues
    Entry and the Dashboard (SPEC §2)."""

    statuses: dict[str, int]  # members per status, "no dues record" included
    paid: float
    outstanding: float
    # (area, paid, outstanding) per area of the members, in area order (none last): the
    # Dues report's chart, counted in the same pass
    by_area: tuple[tuple[str | None, float, float], ...] = ()

    @property
    def members(self) -> int:
        """Members matching the filters."""
        return sum(self.statuses.values())

    @property
    def no_record(self) -> int:
        return self.statuses.get(NO_DUES_RECORD, 0)

    @property
    def with_dues(self) -> int:
        """Members with a dues row for the year."""
        return self.members - self.no_record

    @property
    def paid_in_full(self) -> int:
        """Members whose dues are paid or waived: they owe nothing for the year."""
        return self.statuses.get("paid", 0) + self.statuses.get("waived", 0)

    @property
    def paid_share(self) -> float:
        return self.paid_in_full / self.with_dues if self.with_dues else 0.0


def totals(db: Database, filters: Filters) -> DuesTotals:
    """The year's dues figures for the filters' members (remembered until dues or members
    change: a roster or an approval leaves them be)."""
    totals: DuesTotals = db.maintained_value(
        repr(("dues totals", filters)),
        lambda: _totals(db, filters),
        lambda change: bool(change.members) or _dues_changed(change),
    )
    return totals


def _totals(db: Database, filters: Filters) -> DuesTotals:
    where, params = filters.member_where("m")
    if filters.name.strip():  # the name search reads the members' own search keys
        kept_members, kept_dues = members.kept(db), kept(db, filters.year)
        groups = f"({_GROUPS_SQL.format(members=kept_members, dues=kept_dues, where=where)})"
        where, params = "true", {**params, "year": filters.year}
    else:
        groups = _year_groups(db, filters.year)
    rows = db.rows(
        f"""SELECT grouping(area) = 1 AS per_status, status, area, sum(members),
                   coalesce(sum(paid), 0)::DOUBLE, coalesce(sum(outstanding), 0)::DOUBLE
            FROM {groups} m WHERE {where}
            GROUP BY GROUPING SETS ((status), (area))
            ORDER BY per_status, area NULLS LAST""",  # noqa: S608  (fixed clauses; values are parameters)
        params,
    )
    statuses = [r for r in rows if r[0]]
    return DuesTotals(
        statuses={str(status): int(n) for _, status, _, n, _, _ in statuses},
        paid=sum(float(r[4]) for r in statuses),
        outstanding=sum(float(r[5]) for r in statuses),
        by_area=tuple(
            (area, paid, owed) for per_status, _, area, _, paid, owed in rows if not per_status
        ),
    )


def status_of(due: Decimal, paid: Decimal) -> str:
    """Dues' status from the amounts: paid (nothing left to pay, waived dues of 0 too),
    partial, or unpaid."""
    return "paid" if paid >= due else "partial" if paid > 0 else "unpaid"


def add_dues_for_year(db: Database, year: int, amount: Any, *, actor: str) -> int:
    """Dues of ``amount`` for every active member who has none for ``year`` yet."""
    cleaned = entities.check_values(
        entities.Entity(
            "dues", "dues", (entities.Field("amount_due", "Amount due", "money", required=True),)
        ),
        {"amount_due": amount},
        config.today(),
    )
    with db.transaction(tracked=True) as cur:
        note(tables=["dues"])
        added = cur.execute(
            """INSERT INTO dues (member_id, year, amount_due, amount_paid, status)
               SELECT id, $y, $a, 0, $status FROM members m
               WHERE status = 'active'
                 AND NOT EXISTS (SELECT 1 FROM dues d WHERE d.member_id = m.id AND d.year = $y)""",
            {
                "y": year,
                "a": cleaned["amount_due"],
                "status": status_of(cleaned["amount_due"], Decimal(0)),
            },
        ).fetchone()[0]  # type: ignore[index]  # DuckDB reports the inserted count
        audit.record(
            cur,
            actor,
            "dues added for the year",
            "dues",
            year,
            {"members": int(added), "amount_due": cleaned["amount_due"]},
        )
    return int(added)
