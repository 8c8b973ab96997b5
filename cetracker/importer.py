"""Provider roster import (SPEC §5): file -> rows -> outcomes, in one transaction.

Never raises on a bad row: every row is either processed or failed with all the
reasons that apply, in words a provider can act on. A file that cannot be read
as a whole raises ``RejectedFile`` and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cetracker import audit, compute, config, years
from cetracker import policy as policies
from cetracker.cells import (
    license_key,
    name_key,
    normalise_header,
    parse_date,
    parse_int,
    parse_number,
    text,
)
from cetracker.db import Database
from cetracker.errors import CetrackerError, RejectedFile
from cetracker.spreadsheets import read_first_sheet

if TYPE_CHECKING:
    import pandas as pd

TEMPLATE_COLUMNS = [
    "First Name",
    "Last Name",
    "License Number",
    "Course Number",
    "CE Year",
    "Course Date",
    "CE Hours",
]
FIELDS = [
    "first_name",
    "last_name",
    "license_number",
    "course_number",
    "ce_year",
    "course_date",
    "ce_hours",
]
Progress = Callable[[float, str], None]


@dataclass
class RowOutcome:
    """One roster row: its cells as typed (``raw``, trimmed text), as read, and its reasons."""

    row_number: int
    raw: dict[str, str]
    values: dict[str, object] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.reasons)

    @property
    def status(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "Processed"


@dataclass
class ImportResult:
    import_id: int
    file_name: str
    processed: int
    failed: int
    total: int
    confirmed: int
    outcomes: list[RowOutcome]
    earlier_upload: str | None = None

    def counts(self) -> dict[str, int]:
        return {"processed": self.processed, "failed": self.failed, "total": self.total}

    def failed_outcomes(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.failed]


@dataclass
class _Valid:
    outcome: RowOutcome
    member_id: int
    course_id: int
    category: str
    ce_year: int
    course_date: date
    hours: Decimal


def provider_id_for(db: Database, provider_license: str) -> int:
    found = db.scalar(
        "SELECT id FROM providers WHERE upper(replace(replace(license_number, ' ', ''), '-', ''))"
        " = ?",
        [license_key(provider_license)],
    )
    if found is None:
        raise CetrackerError(f"No provider holds license number {provider_license}.")
    return int(found)


def read_roster(data: bytes, filename: str) -> list[RowOutcome]:
    """The roster's rows as raw text by template column; reject an unreadable file whole."""
    sheet = read_first_sheet(data, filename, max_bytes=config.max_upload_bytes())
    index = sheet.column_index()
    missing = [c for c in TEMPLATE_COLUMNS if normalise_header(c) not in index]
    if missing:
        raise RejectedFile(
            f"{filename} has no {', '.join(missing)} column"
            f"{'s' if len(missing) > 1 else ''}. The first row must hold the template's "
            f"headers: {', '.join(TEMPLATE_COLUMNS)}. Download the template and copy the rows into it."
        )
    positions = [index[normalise_header(c)] for c in TEMPLATE_COLUMNS]
    outcomes = []
    width = max(positions) + 1
    # Rosters repeat the same numbers and dates on thousands of rows: each value's text
    # is worked out once (keyed by type too, so that TRUE is not taken for 1).
    seen: dict[tuple[type, object], str] = {}

    def as_text(value: object) -> str:
        key = (type(value), value)
        found = seen.get(key)
        if found is None:
            found = seen[key] = text(value)
        return found

    for number, cells in sheet.rows:
        if len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        values = [cells[p] for p in positions]
        texts = [v.strip() if type(v) is str else as_text(v) for v in values]
        if not any(texts):
            continue  # a row with text only outside the template's columns is blank to us
        outcomes.append(
            RowOutcome(
                number,
                dict(zip(FIELDS, texts, strict=True)),
                dict(zip(FIELDS, values, strict=True)),
            )
        )
    if not outcomes:
        raise RejectedFile(
            f"{filename} holds the header row but no roster rows. Fill in one row per attendee "
            "and upload it again."
        )
    return outcomes


def _fmt(value: Decimal) -> str:
    return compute.format_hours(value)


def validate(
    db: Database, provider_id: int, outcomes: list[RowOutcome], *, today: date | None = None
) -> list[_Valid]:
    """Fill each outcome's reasons; return the rows that pass, ready to record."""
    today = today or date.today()
    license_keys: dict[str, str] = {}
    for o in outcomes:
        raw_license = o.raw["license_number"]
        if raw_license not in license_keys:
            license_keys[raw_license] = license_key(raw_license)
    licenses = set(license_keys.values()) - {""}
    members = {
        key: (
            mid,
            last,
        )
        for mid, key, last in db.rows(
            """SELECT id, upper(regexp_replace(license_number, '[\\s-]', '', 'g')), last_name
               FROM members
               WHERE upper(regexp_replace(license_number, '[\\s-]', '', 'g'))
                     IN (SELECT unnest($keys::VARCHAR[]))""",
            {"keys": sorted(licenses)},
        )
    }
    numbers = {o.raw["course_number"].upper() for o in outcomes} - {""}
    courses = {
        number: (cid, pid, category, compute.hours(hrs), start, end)
        for cid, number, pid, category, hrs, start, end in db.rows(
            """SELECT id, upper(trim(course_number)), provider_id, category, hours, start_date,
                      end_date
               FROM courses WHERE upper(trim(course_number)) IN (SELECT unnest($n::VARCHAR[]))""",
            {"n": sorted(numbers)},
        )
    }
    loaded_policies = policies.load_policies(db)
    seen: dict[tuple[int, int, date], int] = {}
    valid: list[_Valid] = []
    member_names: dict[int, str] = {}
    # Rosters repeat the same dates, hours and years on thousands of rows: parse each once
    # (typed, so that a TRUE cell is not taken for the number 1).
    read_hours = lru_cache(maxsize=None, typed=True)(parse_number)
    read_date = lru_cache(maxsize=None, typed=True)(parse_date)
    read_year = lru_cache(maxsize=None, typed=True)(parse_int)
    for o in outcomes:
        raw = o.raw
        cell = o.values or raw
        reasons = o.reasons
        for label, key in zip(TEMPLATE_COLUMNS, FIELDS, strict=True):
            if raw[key] == "":
                reasons.append(f"{label} is missing")

        member = None
        if raw["license_number"]:
            member = members.get(license_keys[raw["license_number"]])
            if member is None:
                reasons.append(f"No member holds license number {raw['license_number']}")
            elif raw["last_name"]:
                mid, last = member
                holder = member_names.setdefault(mid, name_key(last))
                if name_key(raw["last_name"]) != holder:
                    reasons.append(
                        "The last name does not match the member who holds this license number"
                    )

        course = None
        if raw["course_number"]:
            course = courses.get(raw["course_number"].upper())
            if course is None:
                reasons.append(f"No course has course number {raw['course_number']}")
            elif course[1] != provider_id:
                reasons.append(
                    f"Course {raw['course_number']} is not one of this provider's courses"
                )
                course = None

        hours = None
        if raw["ce_hours"]:
            hours = read_hours(cell["ce_hours"])
            if hours is None:
                reasons.append(f"CE Hours “{raw['ce_hours']}” is not a number")
            elif hours <= 0:
                reasons.append("CE Hours must be more than 0")
                hours = None
            elif course is not None and hours > course[3]:
                reasons.append(
                    f"CE Hours {_fmt(hours)} is more than the {_fmt(course[3])} hours approved "
                    f"for course {raw['course_number']}"
                )
                hours = None

        day = None
        if raw["course_date"]:
            day = read_date(cell["course_date"])
            if day is None:
                reasons.append(
                    f"Course Date “{raw['course_date']}” is not a date (use MM/DD/YYYY or YYYY-MM-DD)"
                )
            elif day > today:
                reasons.append(f"Course Date {day:%m/%d/%Y} is in the future")
                day = None
            elif course is not None and (
                (course[4] and day < course[4]) or (course[5] and day > course[5])
            ):
                span = (
                    (f"{course[4]:%m/%d/%Y}" if course[4] else "…")
                    + " to "
                    + (f"{course[5]:%m/%d/%Y}" if course[5] else "…")
                )
                reasons.append(f"Course Date {day:%m/%d/%Y} is outside the course's dates ({span})")
                day = None

        year = None
        if raw["ce_year"]:
            year = read_year(cell["ce_year"])
            if year is None or not 1900 <= year <= 2200:
                reasons.append(f"CE Year “{raw['ce_year']}” is not a year")
                year = None
            elif day is not None:
                start = compute.policy_for_year(loaded_policies, year).ce_year_start_month
                actual = compute.ce_year_of(day, start)
                if actual != year:
                    reasons.append(
                        f"CE Year {year} does not match the course date {day:%m/%d/%Y} "
                        f"(CE year {compute.ce_year_label(actual, start)})"
                    )

        if member is not None and course is not None and day is not None:
            same = (member[0], course[0], day)
            if same in seen:
                reasons.append(
                    f"The same member, course and date appears earlier in this file (row {seen[same]})"
                )
            else:
                seen[same] = o.row_number
        if not reasons and member and course and day and hours is not None and year is not None:
            valid.append(_Valid(o, member[0], course[0], course[2], year, day, hours))
    return valid


def _already_recorded(db: Database, valid: list[_Valid]) -> dict[tuple[int, int, date], str]:
    """Existing records with the same member, course and date, and their status."""
    if not valid:
        return {}
    import pyarrow as pa

    keys = pa.table(
        {
            "member_id": pa.array([v.member_id for v in valid], pa.int32()),
            "course_id": pa.array([v.course_id for v in valid], pa.int32()),
            "course_date": pa.array([v.course_date for v in valid], pa.date32()),
        }
    )
    cur = db.cursor()
    try:
        cur.register("roster_keys", keys)
        rows = cur.execute(
            """SELECT r.member_id, r.course_id, r.course_date, r.status
               FROM ce_records r
               JOIN roster_keys k USING (member_id, course_id, course_date)"""
        ).fetchall()
    finally:
        cur.close()
    return {(m, c, d): s for m, c, d, s in rows}


def import_roster(
    db: Database,
    data: bytes,
    filename: str,
    *,
    provider_id: int,
    uploaded_by: str,
    progress: Progress | None = None,
    today: date | None = None,
) -> ImportResult:
    """Read, check and record a roster; processed rows and the import commit together."""
    report = progress or (lambda _f, _t: None)
    report(0.05, "Reading the file…")
    outcomes = read_roster(data, filename)
    report(0.35, f"Checking {len(outcomes):,} rows…")
    valid = validate(db, provider_id, outcomes, today=today)
    sha = hashlib.sha256(data).hexdigest()
    earlier = db.one(
        "SELECT uploaded_at, uploaded_by FROM imports WHERE sha256 = ? AND provider_id = ?"
        " ORDER BY id LIMIT 1",
        [sha, provider_id],
    )
    report(0.6, "Recording…")
    with db.transaction() as cur:
        # Checked again inside the transaction so that concurrent uploads cannot both add.
        existing = _already_recorded(db, valid) if valid else {}
        shut = set(years.closed_in(cur, {v.ce_year for v in valid}))
        to_insert: list[_Valid] = []
        to_confirm: list[_Valid] = []
        for v in valid:
            status = existing.get((v.member_id, v.course_id, v.course_date))
            if v.ce_year in shut:
                v.outcome.reasons.append(
                    f"CE year {v.ce_year} is closed; its hours are final. Ask the office to "
                    "reopen it if this row should count"
                )
            elif status is None:
                to_insert.append(v)
            elif status == "pending":
                to_confirm.append(v)
            else:
                v.outcome.reasons.append(
                    "Already recorded: this member, course and date came in an earlier upload"
                )
        failed = sum(1 for o in outcomes if o.failed)
        import_id = cur.execute(
            """INSERT INTO imports (provider_id, uploaded_by, file_name, sha256, size_bytes,
                                    processed, failed, total)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [
                provider_id,
                uploaded_by,
                filename[:255],
                sha,
                len(data),
                len(outcomes) - failed,
                failed,
                len(outcomes),
            ],
        ).fetchone()[0]  # type: ignore[index]  # RETURNING always yields a row
        _store_rows(cur, import_id, outcomes)
        _store_records(cur, import_id, to_insert, uploaded_by)
        for v in to_confirm:
            cur.execute(
                """UPDATE ce_records SET status = 'approved', import_id = ?, hours = ?,
                          status_reason = 'Confirmed by a roster upload'
                   WHERE member_id = ? AND course_id = ? AND course_date = ?""",
                [import_id, v.hours, v.member_id, v.course_id, v.course_date],
            )
        audit.record(
            cur,
            uploaded_by,
            "roster imported",
            "import",
            import_id,
            {
                "file": filename,
                "processed": len(outcomes) - failed,
                "failed": failed,
                "total": len(outcomes),
                "confirmed": len(to_confirm),
            },
        )
    report(1.0, "Done.")
    return ImportResult(
        import_id=int(import_id),
        file_name=filename,
        processed=len(outcomes) - failed,
        failed=failed,
        total=len(outcomes),
        confirmed=len(to_confirm),
        outcomes=outcomes,
        earlier_upload=(f"{earlier[0]:%m/%d/%Y %H:%M} by {earlier[1]}" if earlier else None),
    )


def _store_rows(cur: Any, import_id: int, outcomes: list[RowOutcome]) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    frame = pa.table(
        {
            "import_id": pa.array([import_id] * len(outcomes), pa.int32()),
            "row_number": pa.array([o.row_number for o in outcomes], pa.int32()),
            **{
                f: pc.utf8_slice_codeunits(
                    pa.array([o.raw[f] for o in outcomes], pa.string()), 0, 1000
                )
                for f in FIELDS
            },
            "outcome": pa.array(["failed" if o.failed else "processed" for o in outcomes]),
            "reasons": pa.array([o.status if o.failed else None for o in outcomes], pa.string()),
        }
    )
    cur.register("incoming_rows", frame)
    cur.execute("INSERT INTO import_rows SELECT * FROM incoming_rows")
    cur.unregister("incoming_rows")


def _store_records(cur: Any, import_id: int, rows: list[_Valid], uploaded_by: str) -> None:
    if not rows:
        return
    import pyarrow as pa

    frame = pa.table(
        {
            "member_id": pa.array([v.member_id for v in rows], pa.int32()),
            "course_id": pa.array([v.course_id for v in rows], pa.int32()),
            "ce_year": pa.array([v.ce_year for v in rows], pa.int32()),
            "course_date": pa.array([v.course_date for v in rows], pa.date32()),
            "hours": pa.array([v.hours for v in rows], pa.decimal128(8, 2)),
            "category": pa.array([v.category for v in rows], pa.string()),
        }
    )
    cur.register("incoming_records", frame)
    cur.execute(
        """INSERT INTO ce_records (member_id, course_id, ce_year, course_date, hours, category,
                                   source, import_id, status, created_by)
           SELECT member_id, course_id, ce_year, course_date, hours, category, 'roster import',
                  $import_id, 'approved', $by FROM incoming_records""",
        {"import_id": import_id, "by": uploaded_by},
    )
    cur.unregister("incoming_records")


def preview_frame(outcomes: list[RowOutcome]) -> pd.DataFrame:
    """Rows as read, before any check: what the upload page previews."""
    import pandas as pd

    return pd.DataFrame(
        [[o.row_number] + [o.raw[f] for f in FIELDS] for o in outcomes],
        columns=["Row", *TEMPLATE_COLUMNS],
    )


def failed_rows_frame(outcomes: list[RowOutcome]) -> pd.DataFrame:
    """The failed rows in file order: the template's columns plus Status."""
    import pandas as pd

    failed = [o for o in outcomes if o.failed]
    return pd.DataFrame(
        [[o.raw[f] for f in FIELDS] + [o.status] for o in failed],
        columns=[*TEMPLATE_COLUMNS, "Status"],
    )
