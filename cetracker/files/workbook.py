"""``cetracker load WORKBOOK.xlsx``: upsert the office's own lists (SPEC §7).

Every sheet is optional; rows upsert by their key (the first column). Every row
of every sheet is checked first; one bad row rejects the whole workbook, named
by sheet and row, and nothing is written. Members, providers, courses and dues are
checked and written by their own modules, with the same checks as the office's forms;
the Policy and Category Minimums sheets by the CE Rules page's (``check_rules``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pandas as pd

from cetracker import audit, config, courses, dues, entities, members, providers, records, years
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
    written_day,
)
from cetracker.store.db import Database


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
    default: Decimal | None = None,
) -> Decimal | None:
    if not text(value):
        if required and default is None:
            raise RowError(f"{column} is missing")
        return default
    number = parse_number(value)
    if number is None:
        raise RowError(number_problem(value, column))
    number = compute.two_places(number)
    if number < 0:
        raise RowError(f"{column} must be 0 or more")
    return number


def _int(value: object, column: str, lo: int, hi: int) -> int:
    raw = _required(value, column)
    number = parse_int(value)
    if number is None and (error := excel_error(value)):
        raise RowError(error_reason(column, error))
    if number is None or not lo <= number <= hi:
        raise RowError(f"{column} {_shown(raw)} must be a whole number from {lo} to {hi}")
    return number


@dataclass
class SheetSpec:
    name: str
    columns: list[str]
    parse: Callable[[dict[str, Any]], dict[str, Any]]


def _checked(
    check: Callable[[dict[str, Any]], dict[str, Any]], values: dict[str, Any]
) -> dict[str, Any]:
    """A row through its table's own checks; every problem of the row in one line."""
    try:
        return check(values)
    except entities.Invalid as exc:
        raise RowError(" ".join(exc.problems).rstrip(".")) from exc


def _member(r: dict[str, Any]) -> dict[str, Any]:
    return _checked(
        members.check_row,
        {
            "license_number": r["License Number"],
            "first_name": r["First Name"],
            "last_name": r["Last Name"],
            "email": r["Email"],
            "phone": r["Phone"],
            "address": r["Address"],
            "county": r["County"],
            "area": r["Area"],
            "position": r["Position"],
            "status": r["Status"],
            "joined": r["Joined"],
        },
    )


def _provider(r: dict[str, Any]) -> dict[str, Any]:
    return _checked(
        providers.check_row,
        {
            "license_number": r["License Number"],
            "name": r["Name"],
            "contact": r["Contact"],
            "email": r["Email"],
            "phone": r["Phone"],
        },
    )


def _course(r: dict[str, Any]) -> dict[str, Any]:
    provider = text(r["Provider License"])
    try:
        row = _checked(
            courses.check_row,
            {
                "course_number": r["Course Number"],
                "title": r["Title"],
                "category": r["Category"],
                "hours": r["Hours"],
                "start_date": r["Start Date"],
                "end_date": r["End Date"],
                "location": r["Location"],
                "kind": r["Kind"],
            },
        )
    except RowError as exc:
        if not provider:
            raise RowError(f"{exc} Provider License is missing") from exc
        raise
    if not provider:
        raise RowError("Provider License is missing")
    return {**row, "provider_license": provider}


def _dues(r: dict[str, Any]) -> dict[str, Any]:
    holder = text(r["License Number"])
    row = _checked(
        dues.check_row,
        {
            "year": r["Year"],
            "amount_due": r["Amount Due"],
            "amount_paid": r["Amount Paid"],
            "paid_date": r["Paid Date"],
            "status": r["Status"],
        },
    )
    if not holder:
        raise RowError("License Number is missing")
    return {**row, "license_number": holder}


def _policy(r: dict[str, Any]) -> dict[str, Any]:
    policy = compute.Policy(
        effective_year=_int(
            r["Effective Year"], "Effective Year", compute.FIRST_CE_YEAR, compute.LAST_CE_YEAR
        ),
        required_hours=_number(r["Required Hours"], "Required Hours", default=Decimal(20))
        or Decimal(0),
        carryover_cap=_number(r["Carryover Cap"], "Carryover Cap", default=Decimal(10))
        or Decimal(0),
        ce_year_start_month=_int(r["Year Start Month"] or 1, "Year Start Month", 1, 12),
    )
    if problems := policies.range_problems(policy):
        raise RowError(" ".join(problems))
    return {
        "effective_year": policy.effective_year,
        "required_hours": policy.required_hours,
        "carryover_cap": policy.carryover_cap,
        "ce_year_start_month": policy.ce_year_start_month,
    }


def _minimum(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "effective_year": _int(
            r["Effective Year"], "Effective Year", compute.FIRST_CE_YEAR, compute.LAST_CE_YEAR
        ),
        "category": text(r["Category"]),
        "minimum_hours": _number(
            r["Minimum Hours"], "Minimum Hours", required=bool(text(r["Category"]))
        ),
    }


# A CE record's hours: the same rule as an admin's entry of one (``records.RECORD``: more
# than 0, at most the limit past which a figure is a typo), named by the sheet's column.
_RECORD_HOURS = replace(next(f for f in records.RECORD.fields if f.name == "hours"), label="Hours")


def _hours(value: object) -> Decimal:
    problems: list[str] = []
    hours = entities.clean_field(_RECORD_HOURS, value, problems, config.today())
    if problems:
        raise RowError(" ".join(problems).rstrip("."))
    return cast("Decimal", hours)


def _record(r: dict[str, Any]) -> dict[str, Any]:
    course = text(r["Course Number"])
    title, provider = text(r["Title"]), text(r["Provider"])
    if not course and not (title and provider):
        raise RowError("give a Course Number, or else Title and Provider")
    return {
        "license_number": _required(r["License Number"], "License Number"),
        "course_number": course or None,
        "title": title or None,
        "provider_name": provider or None,
        "ce_year": _int(r["CE Year"], "CE Year", compute.FIRST_CE_YEAR, compute.LAST_CE_YEAR),
        "course_date": _date(r["Course Date"], "Course Date", required=True),
        "hours": _hours(r["Hours"]),
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
            if key is not None:
                if key in seen:
                    problems.append(
                        f"sheet {spec.name}, row {number}: the same key as row {seen[key]}"
                    )
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


def _row_key(sheet: str, row: dict[str, Any]) -> tuple[object, ...] | None:
    """The key two rows of a sheet must not share; None where the table's own module checks
    (members, providers, courses, dues) or a repeat is meant (category minimums)."""
    if sheet == "Policy":
        return (row["effective_year"],)
    if sheet == "CE Records":
        return (
            license_key(row["license_number"]),
            row["course_number"] or row["title"],
            row["course_date"],
        )
    return None


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[r[c] for c in columns] for r in rows], columns=columns).astype(object)


def _upsert(
    cur: Any, table: str, key: list[str], rows: list[dict[str, Any]], columns: list[str]
) -> None:
    """The policy sheet's rows, updated by key or added (members, providers, courses and dues
    go through their own modules)."""
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


def _refused(
    filename: str, sheet: str, row: int, problem: str, more: int = 0, *, advised: bool = False
) -> CetrackerError:
    """One line naming file, sheet and row; ``advised`` when the problem says what to do."""
    others = f" (and {more} more problems)" if more else ""
    advice = "" if advised else "; correct the workbook and load it again"
    return CetrackerError(
        f"{filename} was not loaded: sheet {sheet}, row {row}: {problem.rstrip('.')}{others}. "
        f"Nothing was written{advice}."
    )


def _same_policy(one: compute.Policy, other: compute.Policy) -> bool:
    """The same rules (whatever year each takes effect from)."""
    return (
        one.ce_year_start_month == other.ce_year_start_month
        and compute.two_places(one.required_hours) == compute.two_places(other.required_hours)
        and compute.two_places(one.carryover_cap) == compute.two_places(other.carryover_cap)
    )


def _same_minimums(one: dict[str, Decimal], other: dict[str, Decimal]) -> bool:
    return one.keys() == other.keys() and all(
        compute.two_places(one[c]) == compute.two_places(m) for c, m in other.items()
    )


def check_rules(
    db: Database, sheets: dict[str, list[dict[str, Any]]], filename: str
) -> dict[int, dict[str, Decimal]]:
    """Hold the Policy and Category Minimums sheets to the CE Rules page's checks; return the
    minimum sets by effective year, as they are to be written.

    Each effective year whose Policy row (or minimum set) changes the rules of that year is
    the change the CE Rules page would make for it: that year's policy and minimums as they
    stand once the workbook is loaded, checked by ``policy.check_proposal`` (the start month
    of years with records, closed years, minimums beyond the required hours, the ranges). A
    row that gives its year the rules it has already (a workbook loaded again, an upsert)
    changes nothing and is not refused, even where a closed year follows it.
    """
    minimum_sets: dict[int, dict[str, Decimal]] = {}
    first_rows: dict[int, int] = {}
    problems: list[tuple[str, int, str]] = []
    for row in sheets.get("Category Minimums", []):
        chosen = minimum_sets.setdefault(row["effective_year"], {})
        first_rows.setdefault(row["effective_year"], row["_row"])
        if not row["category"]:
            continue
        problem = policies.minimum_problem(row["category"], row["minimum_hours"], chosen)
        if problem:
            problems.append(("Category Minimums", row["_row"], problem))
        else:
            chosen[row["category"]] = row["minimum_hours"]
    policy_rows = {
        row["effective_year"]: (
            row["_row"],
            compute.Policy(
                row["effective_year"],
                row["required_hours"],
                row["carryover_cap"],
                row["ce_year_start_month"],
            ),
        )
        for row in sheets.get("Policy", [])
    }
    if not problems and (policy_rows or minimum_sets):
        stored = {p.effective_year: p for p in policies.load_policies(db)}
        stored_sets = policies.load_minimum_sets(db)
        after = {**stored, **{year: p for year, (_, p) in policy_rows.items()}}
        sets_after = {**stored_sets, **minimum_sets}
        for year in sorted({*policy_rows, *minimum_sets}):
            policy = compute.policy_for_year(after.values(), year)
            minimums = compute.minimums_for_year(sets_after, year)
            policy_changed = year in policy_rows and not _same_policy(
                compute.policy_for_year(stored.values(), year), policy
            )
            if not policy_changed and (
                year not in minimum_sets
                or _same_minimums(compute.minimums_for_year(stored_sets, year), minimums)
            ):
                continue
            proposal = policies.Proposal(replace(policy, effective_year=year), minimums)
            try:
                policies.check_proposal(db, proposal)
            except CetrackerError as exc:
                problems.append(
                    ("Policy", policy_rows[year][0], exc.message)
                    if policy_changed
                    else ("Category Minimums", first_rows[year], exc.message)
                )
    if problems:
        sheet, number, problem = problems[0]
        raise _refused(filename, sheet, number, problem, len(problems) - 1, advised=True)
    return minimum_sets


def _write(
    write: Callable[[Any, list[dict[str, Any]]], None],
    cur: Any,
    rows: list[dict[str, Any]],
    sheet: str,
    filename: str,
) -> None:
    """One sheet's rows through their table's own bulk write; a refused row named by sheet."""
    try:
        write(cur, rows)
    except entities.RowsInvalid as exc:
        first, problems = next(iter(exc.rows.items()))
        more = sum(map(len, exc.rows.values())) - 1
        raise _refused(filename, sheet, rows[first]["_row"], " ".join(problems), more) from exc


def _resolve(
    rows: list[dict[str, Any]],
    ids: dict[str, int],
    column: str,
    into: str,
    sheet: str,
    filename: str,
    what: str,
) -> None:
    """Set each row's ``into`` id from the license number in ``column`` (compared by key)."""
    for row in rows:
        found = ids.get(license_key(row[column]))
        if found is None:
            raise _refused(
                filename, sheet, row["_row"], f"no {what} holds license number {row[column]}"
            )
        row[into] = found


def load(db: Database, data: bytes, filename: str, *, actor: str = "cli") -> dict[str, int]:
    """Load a workbook in one transaction; return the number of rows per sheet."""
    sheets = read_workbook(data, filename)
    minimum_sets = check_rules(db, sheets, filename)
    with db.transaction() as cur:
        _write(members.upsert_many, cur, sheets.get("Members", []), "Members", filename)
        _write(providers.upsert_many, cur, sheets.get("Providers", []), "Providers", filename)
        course_rows = sheets.get("Courses", [])
        if course_rows:
            _resolve(
                course_rows,
                providers.ids_by_key(cur),
                "provider_license",
                "provider_id",
                "Courses",
                filename,
                "provider",
            )
        _write(courses.upsert_many, cur, course_rows, "Courses", filename)
        member_ids = members.ids_by_key(cur)
        _resolve(
            sheets.get("Dues", []),
            member_ids,
            "license_number",
            "member_id",
            "Dues",
            filename,
            "member",
        )
        _write(dues.upsert_many, cur, sheets.get("Dues", []), "Dues", filename)
        _upsert(
            cur,
            "policy",
            ["effective_year"],
            sheets.get("Policy", []),
            ["effective_year", "required_hours", "carryover_cap", "ce_year_start_month"],
        )
        for year, minimums in minimum_sets.items():
            policies.save_minimum_set(cur, year, minimums)
        _load_records(cur, sheets.get("CE Records", []), member_ids, filename)
        audit.record(
            cur,
            actor,
            "workbook loaded",
            "workbook",
            filename,
            {name: len(rows) for name, rows in sheets.items()},
        )
    return {name: len(rows) for name, rows in sheets.items()}


def _load_records(
    cur: Any, rows: list[dict[str, Any]], member_ids: dict[str, int], filename: str
) -> None:
    if not rows:
        return
    by_number = courses.ids_by_number(cur)
    stored_policies = [
        compute.Policy(int(y), compute.hours(r), compute.hours(c), int(m))
        for y, r, c, m in cur.execute("SELECT * FROM policy").fetchall()
    ]
    _resolve(rows, member_ids, "license_number", "member_id", "CE Records", filename, "member")
    for row in rows:
        where = f"{filename} was not loaded: sheet CE Records, row {row['_row']}"
        if row["course_number"]:
            if courses.number_key(row["course_number"]) not in by_number:
                raise CetrackerError(
                    f"{where}: no course has number {row['course_number']}. Nothing was written."
                )
            row["course_id"], course_category = by_number[courses.number_key(row["course_number"])]
            # A listed course's record is in the course's category (records.course_category).
            if row["category"] and compute.category_key(row["category"]) != (
                compute.category_key(course_category)
            ):
                raise CetrackerError(
                    f"{where}: category {row['category']} is not course "
                    f"{row['course_number']}'s category ({course_category}); a listed course's "
                    "records are in its category. Leave the cell empty or write "
                    f"{course_category}. Nothing was written."
                )
            row["category"] = course_category
        else:
            row["course_id"] = None
            row["category"] = row["category"] or "General"
        actual = compute.ce_year_of(row["course_date"], stored_policies)
        if actual != row["ce_year"]:
            raise CetrackerError(
                f"{where}: CE Year {row['ce_year']} does not match the course date "
                f"{written_day(row['course_date'])} (CE year {compute.ce_year_label(actual, stored_policies)}). "
                "Nothing was written."
            )
    for year, closed_year in years.final_in(cur, {row["ce_year"] for row in rows}).items():
        raise CetrackerError(
            f"The CE Records sheet has records for CE year {year}: "
            f"{years.final_message(year, closed_year)} Or leave those rows out. "
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
