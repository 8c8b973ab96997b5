"""``cetracker load WORKBOOK.xlsx``: upsert the office's own lists (SPEC §7).

Every sheet is optional; rows upsert by their key (the first column). Every row
of every sheet is checked first; one bad row rejects the whole workbook, named
by sheet and row, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from cetracker import audit, records, years
from cetracker import policy as policies
from cetracker.errors import CetrackerError, RejectedFile
from cetracker.files import uploads
from cetracker.rules import compute
from cetracker.rules.cells import (
    QUOTE_LIMIT,
    date_problem,
    error_reason,
    excel_error,
    license_key,
    normalise_header,
    number_problem,
    parse_date,
    parse_int,
    parse_number,
    shorten,
    text,
)
from cetracker.store.db import Database

KINDS = ("conference", "workshop", "webinar", "online course")
MEMBER_STATUSES = ("active", "inactive")
DUES_STATUSES = ("paid", "partial", "unpaid", "waived")


class RowError(Exception):
    pass


def _shown(value: object) -> str:
    """A cell's text as a problem quotes it, cut to a readable length."""
    return repr(shorten(text(value), QUOTE_LIMIT))


def _required(value: object, column: str) -> str:
    raw = text(value)
    if not raw:
        raise RowError(f"{column} is missing")
    return raw


def _date(value: object, column: str, required: bool = False) -> date | None:
    if not text(value):
        if required:
            raise RowError(f"{column} is missing")
        return None
    found = parse_date(value)
    if found is None:
        raise RowError(date_problem(value, column))
    return found


def _number(
    value: object,
    column: str,
    *,
    required: bool = True,
    positive: bool = False,
    default: Decimal | None = None,
) -> Decimal | None:
    if not text(value):
        if required and default is None:
            raise RowError(f"{column} is missing")
        return default
    number = parse_number(value)
    if number is None:
        raise RowError(number_problem(value, column))
    if number < 0 or (positive and number == 0):
        raise RowError(f"{column} must be {'more than 0' if positive else '0 or more'}")
    return number


def _int(value: object, column: str, lo: int, hi: int) -> int:
    raw = _required(value, column)
    number = parse_int(value)
    if number is None and (error := excel_error(value)):
        raise RowError(error_reason(column, error))
    if number is None or not lo <= number <= hi:
        raise RowError(f"{column} {_shown(raw)} must be a whole number from {lo} to {hi}")
    return number


def _choice(value: object, column: str, choices: tuple[str, ...], default: str) -> str:
    raw = text(value).lower()
    if not raw:
        return default
    if raw not in choices:
        raise RowError(f"{column} {_shown(value)} must be one of: {', '.join(choices)}")
    return raw


@dataclass
class SheetSpec:
    name: str
    columns: list[str]
    parse: Callable[[dict[str, Any]], dict[str, Any]]


def _member(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "license_number": license_key(_required(r["License Number"], "License Number")),
        "first_name": _required(r["First Name"], "First Name"),
        "last_name": _required(r["Last Name"], "Last Name"),
        "email": text(r["Email"]) or None,
        "phone": text(r["Phone"]) or None,
        "address": text(r["Address"]) or None,
        "county": text(r["County"]) or None,
        "area": text(r["Area"]) or None,
        "position": text(r["Position"]) or None,
        "status": _choice(r["Status"], "Status", MEMBER_STATUSES, "active"),
        "joined": _date(r["Joined"], "Joined"),
    }


def _provider(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "license_number": license_key(_required(r["License Number"], "License Number")),
        "name": _required(r["Name"], "Name"),
        "contact": text(r["Contact"]) or None,
        "email": text(r["Email"]) or None,
        "phone": text(r["Phone"]) or None,
    }


def _course(r: dict[str, Any]) -> dict[str, Any]:
    start, end = _date(r["Start Date"], "Start Date"), _date(r["End Date"], "End Date")
    if start and end and end < start:
        raise RowError("End Date is before Start Date")
    kind = text(r["Kind"]).lower() or None
    if kind and kind not in KINDS:
        raise RowError(f"Kind {_shown(r['Kind'])} must be one of: {', '.join(KINDS)}")
    return {
        "course_number": _required(r["Course Number"], "Course Number"),
        "title": _required(r["Title"], "Title"),
        "provider_license": license_key(_required(r["Provider License"], "Provider License")),
        "category": text(r["Category"]) or "General",
        "hours": _number(r["Hours"], "Hours", positive=True),
        "start_date": start,
        "end_date": end,
        "location": text(r["Location"]) or None,
        "kind": kind,
    }


def _dues(r: dict[str, Any]) -> dict[str, Any]:
    due = _number(r["Amount Due"], "Amount Due", default=Decimal(0))
    paid = _number(r["Amount Paid"], "Amount Paid", default=Decimal(0))
    assert due is not None and paid is not None
    derived = "paid" if paid >= due else "partial" if paid > 0 else "unpaid"
    return {
        "license_number": license_key(_required(r["License Number"], "License Number")),
        "year": _int(r["Year"], "Year", 1900, 2200),
        "amount_due": due,
        "amount_paid": paid,
        "paid_date": _date(r["Paid Date"], "Paid Date"),
        "status": _choice(r["Status"], "Status", DUES_STATUSES, derived),
    }


def _policy(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "effective_year": _int(r["Effective Year"], "Effective Year", 1900, 2200),
        "required_hours": _number(r["Required Hours"], "Required Hours", default=Decimal(20)),
        "carryover_cap": _number(r["Carryover Cap"], "Carryover Cap", default=Decimal(10)),
        "ce_year_start_month": _int(r["Year Start Month"] or 1, "Year Start Month", 1, 12),
    }


def _minimum(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "effective_year": _int(r["Effective Year"], "Effective Year", 1900, 2200),
        "category": text(r["Category"]),
        "minimum_hours": _number(
            r["Minimum Hours"], "Minimum Hours", required=bool(text(r["Category"]))
        ),
    }


def _record(r: dict[str, Any]) -> dict[str, Any]:
    course = text(r["Course Number"])
    title, provider = text(r["Title"]), text(r["Provider"])
    if not course and not (title and provider):
        raise RowError("give a Course Number, or else Title and Provider")
    return {
        "license_number": license_key(_required(r["License Number"], "License Number")),
        "course_number": course or None,
        "title": title or None,
        "provider_name": provider or None,
        "ce_year": _int(r["CE Year"], "CE Year", 1900, 2200),
        "course_date": _date(r["Course Date"], "Course Date", required=True),
        "hours": _number(r["Hours"], "Hours", positive=True),
        "category": text(r["Category"]) or None,
    }


SHEETS = [
    SheetSpec(
        "Members",
        [
            "License Number",
            "First Name",
            "Last Name",
            "Email",
            "Phone",
            "Address",
            "County",
            "Area",
            "Position",
            "Status",
            "Joined",
        ],
        _member,
    ),
    SheetSpec("Providers", ["License Number", "Name", "Contact", "Email", "Phone"], _provider),
    SheetSpec(
        "Courses",
        [
            "Course Number",
            "Title",
            "Provider License",
            "Category",
            "Hours",
            "Start Date",
            "End Date",
            "Location",
            "Kind",
        ],
        _course,
    ),
    SheetSpec(
        "Dues",
        ["License Number", "Year", "Amount Due", "Amount Paid", "Paid Date", "Status"],
        _dues,
    ),
    SheetSpec(
        "Policy", ["Effective Year", "Required Hours", "Carryover Cap", "Year Start Month"], _policy
    ),
    SheetSpec("Category Minimums", ["Effective Year", "Category", "Minimum Hours"], _minimum),
    SheetSpec(
        "CE Records",
        [
            "License Number",
            "Course Number",
            "CE Year",
            "Course Date",
            "Hours",
            "Title",
            "Provider",
            "Category",
        ],
        _record,
    ),
]


def read_workbook(data: bytes, filename: str) -> dict[str, list[dict[str, Any]]]:
    """Parse and check every sheet; raise one error naming sheet, row and problem."""
    found = uploads.read_workbook_sheets(
        data, filename, {spec.name: spec.columns for spec in SHEETS}
    )
    parsed: dict[str, list[dict[str, Any]]] = {}
    problems: list[str] = []
    for spec in SHEETS:
        sheet = found.get(spec.name)
        if sheet is None:
            continue
        key_column = spec.columns[0]
        if sheet.missing([key_column]):
            problems.append(f"sheet {spec.name}: the column {key_column!r} is missing")
            continue
        rows = []
        seen: dict[tuple[object, ...], int] = {}
        keys = [(col, normalise_header(col)) for col in spec.columns]
        for number, cells in sheet.rows:
            values = {col: cells.get(key) for col, key in keys}
            try:
                row = spec.parse(values)
            except RowError as exc:
                problems.append(f"sheet {spec.name}, row {number}: {exc}")
                continue
            key = _row_key(spec.name, row)
            if key in seen and spec.name != "Category Minimums":
                problems.append(f"sheet {spec.name}, row {number}: the same key as row {seen[key]}")
                continue
            seen[key] = number
            row["_row"] = number
            rows.append(row)
        parsed[spec.name] = rows
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise CetrackerError(
            f"{filename} was not loaded: {problems[0]}{more}. Nothing was written; "
            "correct the workbook and load it again."
        )
    if not any(parsed.values()):
        raise RejectedFile(
            f"{filename} has none of the sheets Members, Providers, Courses, Dues, Policy, "
            "Category Minimums or CE Records with rows in it. Nothing was written."
        )
    return parsed


def _row_key(sheet: str, row: dict[str, Any]) -> tuple[object, ...]:
    if sheet == "Dues":
        return (row["license_number"], row["year"])
    if sheet == "Category Minimums":
        return (row["effective_year"], row["category"])
    if sheet == "CE Records":
        return (row["license_number"], row["course_number"] or row["title"], row["course_date"])
    return (next(iter(row.values())),)


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[r[c] for c in columns] for r in rows], columns=columns).astype(object)


def _upsert(
    cur: Any, table: str, key: list[str], rows: list[dict[str, Any]], columns: list[str]
) -> None:
    if not rows:
        return
    frame = _frame(rows, columns)
    cur.register("incoming", frame)
    # An UPDATE of the rows there already, then an INSERT of the others: the same on both
    # backends (PostgreSQL through DuckDB fills no server defaults in ON CONFLICT inserts).
    same = " AND ".join(f"t.{k} = i.{k}" for k in key)
    updates = ", ".join(f"{c} = i.{c}" for c in columns if c not in key)
    if updates:
        cur.execute(
            f"UPDATE {table} t SET {updates} FROM incoming i WHERE {same}"  # noqa: S608 - fixed names
        )
    cur.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM incoming i "  # noqa: S608 - fixed names
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {same})"
    )
    cur.unregister("incoming")


def load(db: Database, data: bytes, filename: str, *, actor: str = "cli") -> dict[str, int]:
    """Load a workbook in one transaction; return the number of rows per sheet."""
    sheets = read_workbook(data, filename)
    with db.transaction() as cur:
        member_cols = [
            "license_number",
            "first_name",
            "last_name",
            "email",
            "phone",
            "address",
            "county",
            "area",
            "position",
            "status",
            "joined",
        ]
        _upsert(cur, "members", ["license_number"], sheets.get("Members", []), member_cols)
        _upsert(
            cur,
            "providers",
            ["license_number"],
            sheets.get("Providers", []),
            ["license_number", "name", "contact", "email", "phone"],
        )
        providers = dict(cur.execute("SELECT license_number, id FROM providers").fetchall())
        for row in sheets.get("Courses", []):
            if row["provider_license"] not in providers:
                raise CetrackerError(
                    f"{filename} was not loaded: sheet Courses, row {row['_row']}: no provider holds "
                    f"license number {row['provider_license']}. Nothing was written."
                )
            row["provider_id"] = providers[row["provider_license"]]
        _upsert(
            cur,
            "courses",
            ["course_number"],
            sheets.get("Courses", []),
            [
                "course_number",
                "title",
                "provider_id",
                "category",
                "hours",
                "start_date",
                "end_date",
                "location",
                "kind",
            ],
        )
        members = dict(cur.execute("SELECT license_number, id FROM members").fetchall())
        for row in sheets.get("Dues", []):
            row["member_id"] = _member_id(members, row, "Dues", filename)
        _upsert(
            cur,
            "dues",
            ["member_id", "year"],
            sheets.get("Dues", []),
            ["member_id", "year", "amount_due", "amount_paid", "paid_date", "status"],
        )
        _upsert(
            cur,
            "policy",
            ["effective_year"],
            sheets.get("Policy", []),
            ["effective_year", "required_hours", "carryover_cap", "ce_year_start_month"],
        )
        by_year: dict[int, dict[str, Decimal]] = {}
        for row in sheets.get("Category Minimums", []):
            chosen = by_year.setdefault(row["effective_year"], {})
            if row["category"]:
                chosen[row["category"]] = row["minimum_hours"]
        for year, minimums in by_year.items():
            policies.save_minimum_set(cur, year, minimums)
        _load_records(cur, sheets.get("CE Records", []), members, filename)
        audit.record(
            cur,
            actor,
            "workbook loaded",
            "workbook",
            filename,
            {name: len(rows) for name, rows in sheets.items()},
        )
    return {name: len(rows) for name, rows in sheets.items()}


def _member_id(members: dict[str, int], row: dict[str, Any], sheet: str, filename: str) -> int:
    if row["license_number"] not in members:
        raise CetrackerError(
            f"{filename} was not loaded: sheet {sheet}, row {row['_row']}: no member holds license "
            f"number {row['license_number']}. Nothing was written."
        )
    return members[row["license_number"]]


def _load_records(
    cur: Any, rows: list[dict[str, Any]], members: dict[str, int], filename: str
) -> None:
    if not rows:
        return
    courses = {
        n: (i, c)
        for n, i, c in cur.execute("SELECT course_number, id, category FROM courses").fetchall()
    }
    stored_policies = [
        compute.Policy(int(y), compute.hours(r), compute.hours(c), int(m))
        for y, r, c, m in cur.execute("SELECT * FROM policy").fetchall()
    ]
    for row in rows:
        row["member_id"] = _member_id(members, row, "CE Records", filename)
        where = f"{filename} was not loaded: sheet CE Records, row {row['_row']}"
        if row["course_number"]:
            if row["course_number"] not in courses:
                raise CetrackerError(
                    f"{where}: no course has number {row['course_number']}. Nothing was written."
                )
            row["course_id"], course_category = courses[row["course_number"]]
            row["category"] = row["category"] or course_category
        else:
            row["course_id"] = None
            row["category"] = row["category"] or "General"
        actual = compute.ce_year_of(row["course_date"], stored_policies)
        if actual != row["ce_year"]:
            raise CetrackerError(
                f"{where}: CE Year {row['ce_year']} does not match the course date "
                f"{row['course_date']} (CE year {compute.ce_year_label(actual, stored_policies)}). "
                "Nothing was written."
            )
    shut = years.closed_in(cur, {row["ce_year"] for row in rows})
    if shut:
        raise CetrackerError(
            f"The CE Records sheet has records for CE year {shut[0]}, which is closed. Reopen "
            "the year first (CE Years page, with a reason) or leave those rows out. "
            "Nothing was written."
        )
    # Update what exists, insert the rest (DuckDB refuses delete-then-insert of one key
    # inside a transaction, so no delete here).
    columns = [
        "member_id",
        "course_id",
        "title",
        "provider_name",
        "ce_year",
        "course_date",
        "hours",
        "category",
    ]
    cur.register("incoming", _frame(rows, columns))
    records.upsert_history(cur, "incoming", created_by="workbook")
    cur.unregister("incoming")


def load_file(db: Database, path: Path, *, actor: str = "cli") -> dict[str, int]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CetrackerError(f"Cannot read {path}: {exc.strerror}.") from exc
    return load(db, data, path.name, actor=actor)
