"""Provider roster import (SPEC §5): file -> rows -> outcomes, in one transaction.

Never raises on a bad row: every row is either processed or failed with all the
reasons that apply, in words a provider can act on. A file that cannot be read
as a whole raises ``RejectedFile`` and writes nothing.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from cetracker import audit, config, courses, records, years
from cetracker import policy as policies
from cetracker.errors import RejectedFile
from cetracker.files import bounded
from cetracker.files.roster_columns import EXAMPLE_ROW, FIELDS, TEMPLATE_COLUMNS, start_reading
from cetracker.rules import compute
from cetracker.rules.cells import (
    EXCEL_ERRORS,
    QUOTE_LIMIT,
    date_problem,
    error_reason,
    excel_error,
    license_key,
    name_key,
    normalise_header,
    number_problem,
    parse_date,
    parse_int,
    parse_number,
    quote,
    shorten,
    text,
)
from cetracker.store import packed
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

# Templates made before the example row was marked held license number 123456.
_OLD_EXAMPLE = ("jane", "example", "123456")
Progress = Callable[[float, str], None]
# The columns read as text: an Excel error in them is named here; the others' readers name it.
_TEXT_FIELDS = ("first_name", "last_name", "license_number")
NAME_MISMATCH = "The last name does not match the member who holds this license number"
_EPOCH = date(1970, 1, 1)  # a date as a number: its days since this one (Arrow's date32)
_NO_DAY = -(2**31)  # no date: the smallest 32-bit number, far from any day of years 1-9999


# A row whose member already has its course on its date (from an earlier upload or the
# office's entry): nothing in the row to correct, and the words say so.
ALREADY_RECORDED = (
    "Already recorded: this member already has this course on this date; leave this row out"
)


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
class Roster:
    """A roster's non-blank rows, held as columns: row numbers, trimmed text and cells as read.

    Columns rather than one object a row: a 100,000-row roster is checked and stored
    without building 100,000 Python objects.
    """

    row_numbers: list[int]
    texts: dict[str, list[str]]
    cells: dict[str, list[object]]
    example_rows: list[int] = field(default_factory=list)  # the template's example, skipped
    _arrow: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.row_numbers)

    def text_column(self, f: str) -> Any:
        """A column's text as an Arrow array, made once: the checks and the stored rows
        share it."""
        found = self._arrow.get(f)
        if found is None:
            import pyarrow as pa

            found = self._arrow[f] = pa.array(self.texts[f], pa.string())
        return found

    def outcome(self, i: int, reasons: list[str] | None = None) -> RowOutcome:
        return RowOutcome(
            self.row_numbers[i],
            {f: self.texts[f][i] for f in FIELDS},
            {f: self.cells[f][i] for f in FIELDS},
            list(reasons or ()),
        )


@dataclass
class Outcome:
    """What an import did, in numbers."""

    import_id: int
    file_name: str
    processed: int
    failed: int
    total: int
    confirmed: int
    earlier_upload: str | None
    example_rows: list[int]

    def counts(self) -> dict[str, int]:
        return {"processed": self.processed, "failed": self.failed, "total": self.total}


@dataclass
class Summary(Outcome):
    """An import as the upload page shows it (a 100,000-row roster's cells stay behind)."""

    failed_rows: pd.DataFrame


@dataclass
class ImportResult(Outcome):
    roster: Roster
    reasons: list[list[str] | None]

    @property
    def outcomes(self) -> list[RowOutcome]:
        """Every row with its reasons (built on demand: a big roster keeps only columns)."""
        return [self.roster.outcome(i, r) for i, r in enumerate(self.reasons)]

    def failed_outcomes(self) -> list[RowOutcome]:
        return [self.roster.outcome(i, r) for i, r in enumerate(self.reasons) if r]

    def summary(self) -> Summary:
        """What a page keeps after the import: counts and failed rows, not every row."""
        numbers = {f.name: getattr(self, f.name) for f in fields(Outcome)}
        return Summary(**numbers, failed_rows=failed_rows_frame(self.failed_outcomes()))


# What a row is about (course, hours, date, year): rosters repeat the same few
# combinations on thousands of rows, so each distinct one is checked once.
@dataclass(frozen=True)
class _What:
    reasons: tuple[str, ...]
    course_id: int | None  # None when unknown or another provider's
    day: date | None  # None when unreadable, in the future or outside the course's dates
    record: int | None  # index into Checked.records when course, hours, date and year pass


@dataclass
class Checked:
    """What validation found: each row's reasons (None: none so far) and the rows that pass.

    A passing row is (row index, member id, index into ``records``); ``records`` holds
    each distinct (course id, category, CE year, course date, hours) once.
    """

    reasons: list[list[str] | None]
    rows: list[int] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    which: list[int] = field(default_factory=list)
    records: Any = None  # Arrow: which, course_id, category, ce_year, course_date, hours
    record_years: list[int] = field(default_factory=list)  # each record's CE year, by which
    courses: dict[int, tuple[str, Decimal]] = field(default_factory=dict)  # number, approved

    def fail(self, i: int, reason: str) -> None:
        found = self.reasons[i]
        if found is None:
            self.reasons[i] = [reason]
        else:
            found.append(reason)


def _texts(cells: list[object]) -> list[str]:
    """A column's cells as trimmed text, each distinct value's text worked out once."""
    kinds = set(map(type, cells))
    if kinds == {str}:
        return list(map(str.strip, cast("list[str]", cells)))
    if bool not in kinds:  # else TRUE and 1 would share a text: the typed path below
        known = {v: text(v) for v in set(cells)}
        return list(map(known.__getitem__, cells))
    seen: dict[tuple[type, object], str] = {}

    def as_text(value: object) -> str:
        key = (type(value), value)
        found = seen.get(key)
        if found is None:
            found = seen[key] = text(value)
        return found

    return [v.strip() if type(v) is str else as_text(v) for v in cells]


def _is_example(first: str, last: str, license_number: str) -> bool:
    key = license_key(license_number)
    return key == EXAMPLE_ROW[2] or (
        key == _OLD_EXAMPLE[2] and (name_key(first), name_key(last)) == _OLD_EXAMPLE[:2]
    )


def _example_rows(texts: list[list[str]]) -> list[int]:
    """Indexes of the rows that are the template's example (looked at only when a license
    cell could be one: a big roster pays one pass over its license column)."""
    first, last, licenses = texts[0], texts[1], texts[2]
    if {"EXAMPLE", "Example", "example", "123456"}.isdisjoint(licenses):
        return []
    return [i for i in range(len(licenses)) if _is_example(first[i], last[i], licenses[i])]


def read_roster(data: bytes, filename: str, reading: bounded.Started | None = None) -> Roster:
    """The roster's rows as raw text by template column; reject an unreadable file whole.

    The file is read in a bounded child process (``files.uploads``): a hostile file
    becomes one ``RejectedFile`` here and never touches this process. ``reading``: that
    reading, begun earlier by ``start_reading`` with these same bytes.
    """
    sheet = (reading or start_reading(data, filename)).result()
    missing = sheet.missing(TEMPLATE_COLUMNS)
    if missing:
        raise RejectedFile(
            f"{filename} has no {', '.join(missing)} column"
            f"{'s' if len(missing) > 1 else ''}. The first row must hold the template's "
            f"headers: {', '.join(TEMPLATE_COLUMNS)}. Download the template and copy the rows into it."
        )
    columns = [sheet.columns[normalise_header(c)] for c in TEMPLATE_COLUMNS]
    texts = [_texts(col) for col in columns]
    # Blank rows, and rows with text only outside the template's columns, are skipped.
    kept = list(map(any, zip(*texts, strict=True)))
    numbers = list(sheet.numbers)
    examples = _example_rows(texts)
    for i in examples:
        kept[i] = False
    if not all(kept):
        keep = [i for i, k in enumerate(kept) if k]
        numbers = [numbers[i] for i in keep]
        texts = [[col[i] for i in keep] for col in texts]
        columns = [[col[i] for i in keep] for col in columns]
    example_rows = [sheet.numbers[i] for i in examples]
    if not numbers:
        raise RejectedFile(
            f"{filename} holds "
            + ("only the template's example row" if example_rows else "the header row")
            + " but no roster rows. Fill in one row per attendee and upload it again."
        )
    return Roster(
        numbers,
        dict(zip(FIELDS, texts, strict=True)),
        dict(zip(FIELDS, columns, strict=True)),
        example_rows,
    )


def _fmt(value: Decimal) -> str:
    return compute.format_hours(value)


def _holders(db: Database, roster: Roster) -> tuple[Any, Any]:
    """For each row: the member id holding its license number (or null), and whether the
    row's last name differs from that member's (names folded as ``name_key`` does); Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def folded(names: Any) -> Any:
        """Each name's ``name_key``, worked out once per distinct name."""
        coded = pc.dictionary_encode(names)
        if isinstance(coded, pa.ChunkedArray):
            coded = coded.combine_chunks()
        keys = [None if n is None else name_key(n) for n in coded.dictionary.to_pylist()]
        return pc.take(pa.array(keys, pa.string()), coded.indices)

    # The key is ``license_key``'s, exactly. ASCII license numbers get it in Arrow (what
    # ``license_key`` drops of ASCII is \t-\r, \x1c-\x1f, space and "-"; ``upper`` of ASCII
    # is ``ascii_upper``); only the others, once per distinct number, need Python's.
    licenses = roster.texts["license_number"]
    given = roster.text_column("license_number")
    ascii_ = pc.string_is_ascii(given)
    stripped = pc.ascii_upper(pc.replace_substring_regex(given, r"[\t-\r\x1c-\x1f -]", ""))
    keys = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, pa.string()), stripped)
    others = pc.indices_nonzero(pc.invert(pc.fill_null(ascii_, True))).to_pylist()
    if others:
        wider = {n: license_key(n) or None for n in {licenses[i] for i in others}}
        listed = keys.to_pylist()
        for i in others:
            listed[i] = wider[licenses[i]]
        keys = pa.array(listed, pa.string())
    rows = pa.table({"key": keys})
    cur = db.cursor(bulk=True)  # every member's key, on a server
    try:
        cur.register("roster_who", rows)
        # The key is unique among members: one row out for every roster row.
        found = cur.execute(
            """SELECT m.id, m.last_name
               FROM (SELECT row_number() OVER () AS row, key FROM roster_who) r
               LEFT JOIN members m ON m.license_key = r.key
               ORDER BY r.row"""
        ).to_arrow_table()
        cur.unregister("roster_who")
    finally:
        cur.close()
    theirs = folded(found.column("last_name"))
    last_names = roster.text_column("last_name")
    mine = folded(last_names)
    mismatch = pc.and_(pc.not_equal(last_names, ""), pc.not_equal(mine, theirs))
    return found.column("id"), pc.fill_null(mismatch, False)


# The usual row settled in columns: its course known and the provider's, its hours, date and
# CE year written plainly and right. DuckDB checks every row at once, whatever the roster's
# shape (one course on 300 dates, or 50 courses on 730 dates with 7 hour values); only the
# rows it cannot settle (mistakes, unusual ways of writing) get a Python step, once per
# distinct (course, hours, date, year).
_FAST_SQL = r"""
WITH hours AS (  -- each way of writing a value is read once: a roster repeats a few
    SELECT text, TRY_CAST(text AS DECIMAL(8, 2)) AS value
    FROM (SELECT DISTINCT hours AS text FROM roster_cells)
    WHERE regexp_full_match(text, '[0-9]{1,6}(\.[0-9]{1,2})?')
),
days AS (
    SELECT day, day_text, value,
           CASE WHEN value <= e.ends THEN year(value) ELSE year(value) + 1 END AS ce_year
    FROM (SELECT day, day_text, coalesce(day, CASE
              WHEN regexp_full_match(day_text, '[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}')
              THEN try_strptime(day_text, '%m/%d/%Y')::DATE
              WHEN regexp_full_match(day_text, '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}')
              THEN try_strptime(day_text, '%Y-%m-%d')::DATE END) AS value
          FROM (SELECT DISTINCT day, day_text FROM roster_cells))
    JOIN roster_year_ends e ON e.calendar_year = year(value)
    WHERE value <= $today
),
years AS (
    SELECT text, TRY_CAST(text AS INTEGER) AS value
    FROM (SELECT DISTINCT year AS text FROM roster_cells)
    WHERE regexp_full_match(text, '[0-9]{4}')  -- (a filter's order is the planner's: try)
      AND TRY_CAST(text AS INTEGER) BETWEEN $first_year AND $last_year  -- compute.is_ce_year
),
numbers AS (
    SELECT n.text, c.*
    FROM (SELECT DISTINCT number AS text FROM roster_cells) n
    JOIN roster_courses c ON c.number = upper(n.text)
    WHERE regexp_full_match(n.text, '[ -~]*')  -- ASCII: upper-cased alike in Python
),
settled AS (
    SELECT r.i, c.course_id, c.category, h.value AS hours, d.value AS day, y.value AS year
    FROM roster_cells r
    JOIN numbers c ON c.text = r.number
    JOIN hours h ON h.text = r.hours
    JOIN days d ON d.day_text = r.day_text AND d.day IS NOT DISTINCT FROM r.day
    JOIN years y ON y.text = r.year
    WHERE h.value > 0 AND h.value <= c.hours
      AND (c.start_date IS NULL OR d.value >= c.start_date)
      AND (c.end_date IS NULL OR d.value <= c.end_date)
      AND y.value = d.ce_year
)
SELECT i, course_id, day, category, year AS ce_year, hours,
       (dense_rank() OVER (ORDER BY course_id, category, year, day, hours) - 1)::INTEGER AS which
FROM settled
"""


def _settled(
    db: Database,
    roster: Roster,
    known: dict[str, tuple[int, int, str, Decimal, date | None, date | None]],
    provider_id: int,
    loaded_policies: list[compute.Policy],
    today: date,
) -> tuple[Any, Any]:
    """The rows DuckDB settled (row index ``i``, course id, day and record index ``which``;
    the others are left to Python), and their distinct records (which, course id,
    category, CE year, date, hours). Arrow tables."""
    import pyarrow as pa

    dates = roster.cells["course_date"]
    kinds = set(map(type, dates))
    typed_days: list[date | None] = (
        [None] * len(dates)
        if kinds <= {str, type(None)}
        else [v.date() if type(v) is datetime else v if type(v) is date else None for v in dates]
    )
    cells = pa.table(
        {
            "i": pa.array(range(len(roster)), pa.int32()),
            "number": roster.text_column("course_number"),
            "hours": roster.text_column("ce_hours"),
            "day": pa.array(typed_days, pa.date32()),
            "day_text": roster.text_column("course_date"),
            "year": roster.text_column("ce_year"),
        }
    )
    mine = [(n, *c) for n, c in known.items() if c[1] == provider_id]
    course_table = pa.table(
        {
            "number": pa.array([c[0] for c in mine], pa.string()),
            "course_id": pa.array([c[1] for c in mine], pa.int32()),
            "category": pa.array([c[3] for c in mine], pa.string()),
            "hours": pa.array([c[4] for c in mine], pa.decimal128(8, 2)),
            "start_date": pa.array([c[5] for c in mine], pa.date32()),
            "end_date": pa.array([c[6] for c in mine], pa.date32()),
        }
    )
    # The CE-year rule for each calendar year a date of a CE year can fall in
    # (compute.ce_year_of), the range's edges included.
    calendar = range(compute.FIRST_CE_YEAR - 1, compute.LAST_CE_YEAR + 2)
    ends = pa.table(
        {
            "calendar_year": pa.array(calendar, pa.int32()),
            "ends": pa.array(
                [compute.ce_year_end(y, loaded_policies) for y in calendar], pa.date32()
            ),
        }
    )
    cur = db.cursor()
    try:
        cur.register("roster_cells", cells)
        cur.register("roster_courses", course_table)
        cur.register("roster_year_ends", ends)
        found = cur.execute(
            _FAST_SQL,
            {
                "today": today,
                "first_year": compute.FIRST_CE_YEAR,
                "last_year": compute.LAST_CE_YEAR,
            },
        ).to_arrow_table()
        cur.register("roster_settled", found)
        distinct = cur.execute(
            """SELECT DISTINCT which, course_id, category, ce_year, day AS course_date, hours
               FROM roster_settled ORDER BY which"""
        ).to_arrow_table()
        for name in ("roster_cells", "roster_courses", "roster_year_ends", "roster_settled"):
            cur.unregister(name)
    finally:
        cur.close()
    return found.select(["i", "course_id", "day", "which"]), distinct


def validate(
    db: Database, provider_id: int, roster: Roster, *, today: date | None = None
) -> Checked:
    """Every row's reasons, all of them, and the rows that pass, ready to record."""
    today = today or config.today()
    t = roster.texts
    member_ids, mismatches = _holders(db, roster)
    numbers = {courses.number_key(n) for n in set(t["course_number"])} - {""}
    number_sql = courses.number_key_sql("course_number")
    known = {
        number: (cid, pid, category, compute.hours(hrs), start, end)
        for cid, number, pid, category, hrs, start, end in db.rows(
            f"""SELECT id, {number_sql}, provider_id, category, hours, start_date, end_date
               FROM courses WHERE {number_sql} IN (SELECT unnest($n::VARCHAR[]))""",  # noqa: S608
            {"n": sorted(numbers)},
        )
    }
    loaded_policies = policies.load_policies(db)
    checked = Checked([None] * len(roster))
    records: dict[tuple[int, str, int, date, Decimal], int] = {}

    def what(number: str, hours_cell: object, date_cell: object, year_cell: object) -> _What:
        reasons: list[str] = []
        course = None
        if error := excel_error(number):
            reasons.append(error_reason("Course Number", error))
        elif number:
            course = known.get(courses.number_key(number))
            if course is None:
                reasons.append(f"No course has course number {shorten(number, QUOTE_LIMIT)}")
            elif course[1] != provider_id:
                reasons.append(
                    f"Course {shorten(number, QUOTE_LIMIT)} is not one of this provider's courses"
                )
                course = None

        hours = None
        if text(hours_cell):
            hours = parse_number(hours_cell)
            if hours is None:
                reasons.append(number_problem(hours_cell, "CE Hours"))
            elif (hours := compute.two_places(hours)) <= 0:
                reasons.append("CE Hours must be more than 0")
                hours = None
            elif course is not None and hours > course[3]:
                reasons.append(
                    f"CE Hours {_fmt(hours)} is more than the {compute.hours_text(course[3])} approved "
                    f"for course {number}"
                )
                hours = None

        day = None
        if text(date_cell):
            day = parse_date(date_cell)
            if day is None:
                reasons.append(date_problem(date_cell, "Course Date"))
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
        if text(year_cell):
            year = parse_int(year_cell)
            if error := excel_error(year_cell):
                reasons.append(error_reason("CE Year", error))
            elif year is None or not compute.is_ce_year(year):
                reasons.append(f"CE Year {quote(year_cell)} is not a year")
                year = None
            elif day is not None:
                actual = compute.ce_year_of(day, loaded_policies)
                if actual != year:
                    reasons.append(
                        f"CE Year {year} does not match the course date {day:%m/%d/%Y} "
                        f"(CE year {compute.ce_year_label(actual, loaded_policies)})"
                    )
        record = None
        if not reasons and course and day and hours is not None and year is not None:
            key = (course[0], course[2], year, day, hours)
            record = records.setdefault(key, len(records))
        return _What(tuple(reasons), course[0] if course else None, day, record)

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    settled, distinct = _settled(db, roster, known, provider_id, loaded_policies, today)
    # Each row's member, course, day (days since 1970) and record index as numbers; -1 (a
    # day: _NO_DAY) where there is none. The whole roster is checked in these columns; only
    # the rows that are not usual get a Python step below.
    member = member_ids.fill_null(-1).to_numpy().astype(np.int64)
    course = np.full(len(roster), -1, dtype=np.int64)
    day = np.full(len(roster), _NO_DAY, dtype=np.int64)
    which = np.full(len(roster), -1, dtype=np.int64)
    at = settled.column("i").to_numpy()
    course[at] = settled.column("course_id").to_numpy()
    day[at] = pc.cast(settled.column("day"), pa.int32()).to_numpy()
    which[at] = settled.column("which").to_numpy()
    course_reasons: dict[int, tuple[str, ...]] = {}
    # The rows DuckDB left over: one check per distinct (course, hours, date, year). Cells
    # are keyed by value, and by type as well where a TRUE could be taken for the number 1.
    left = np.flatnonzero(which < 0).tolist()
    offset = len(distinct)
    years, dates, hours = (roster.cells[f] for f in ("ce_year", "course_date", "ce_hours"))
    number = t["course_number"]
    typed = any(bool in {type(column[i]) for i in left} for column in (years, dates, hours))
    whats: dict[tuple[object, ...], _What] = {}
    for i in left:
        key = (
            (
                number[i],
                type(hours[i]),
                hours[i],
                type(dates[i]),
                dates[i],
                type(years[i]),
                years[i],
            )
            if typed
            else (number[i], hours[i], dates[i], years[i])
        )
        found = whats.get(key)
        if found is None:
            found = whats[key] = what(number[i], hours[i], dates[i], years[i])
        course[i] = -1 if found.course_id is None else found.course_id
        day[i] = _NO_DAY if found.day is None else (found.day - _EPOCH).days
        which[i] = -1 if found.record is None else offset + found.record
        if found.reasons:
            course_reasons[i] = found.reasons
    # All seven cells there (a cell showing an Excel error, #REF! or #N/A, is no value).
    complete = np.ones(len(roster), dtype=bool)
    errors = pa.array(sorted(EXCEL_ERRORS), pa.string())
    for f in FIELDS:
        cells = roster.text_column(f)
        there = pc.and_(pc.not_equal(cells, ""), pc.invert(pc.is_in(cells, value_set=errors)))
        complete &= there.to_numpy(zero_copy_only=False)
    # The first row holding each member, course and date (a later one repeats it): the
    # three numbers made one key in two steps (each fits 32 bits, two of them do not).
    # Only rows that would be recorded count: a row that fails (a wrong last name, say)
    # records nothing, so a correct row after it is no repeat of it.
    row_numbers = np.asarray(roster.row_numbers, dtype=np.int64)
    mismatch = mismatches.to_numpy(zero_copy_only=False)
    good = complete & (member >= 0) & ~mismatch & (which >= 0)
    pair = np.unique((member << 32) | (course & 0xFFFFFFFF), return_inverse=True)[1]
    same = (pair.astype(np.int64).reshape(-1) << 32) | (day & 0xFFFFFFFF)
    same = np.where(good, same, -1 - np.arange(len(same), dtype=np.int64))  # each its own
    _, first, group = np.unique(same, return_index=True, return_inverse=True)
    earliest = row_numbers[first][group.reshape(-1)]
    # The usual row: all there, its member found, its course, date, hours and year good,
    # and not a repeat. Only the others are looked at one by one.
    usual = good & (earliest == row_numbers)
    passing = np.flatnonzero(usual).tolist()
    reasons = checked.reasons
    odd = np.flatnonzero(~usual)
    for i, member_id, whole, wrong_name, course_id, on, record, first_row, row in zip(
        odd.tolist(),
        member[odd].tolist(),
        complete[odd].tolist(),
        mismatch[odd].tolist(),
        course[odd].tolist(),
        day[odd].tolist(),
        which[odd].tolist(),
        earliest[odd].tolist(),
        row_numbers[odd].tolist(),
        strict=True,
    ):
        if not whole:
            reasons[i] = [
                f"{label} is missing" if not t[f][i] else error_reason(label, t[f][i])
                for label, f in zip(TEMPLATE_COLUMNS, FIELDS, strict=True)
                if not t[f][i] or (f in _TEXT_FIELDS and t[f][i] in EXCEL_ERRORS)
            ] or None
        if member_id < 0:
            if t["license_number"][i] and t["license_number"][i] not in EXCEL_ERRORS:
                checked.fail(
                    i,
                    "No member holds license number "
                    + shorten(t["license_number"][i], QUOTE_LIMIT),
                )
        elif wrong_name and t["last_name"][i] not in EXCEL_ERRORS:
            checked.fail(i, NAME_MISMATCH)
        if i in course_reasons:
            reasons[i] = [*(reasons[i] or ()), *course_reasons[i]]
        if member_id >= 0 and on != _NO_DAY and course_id >= 0 and first_row != row:
            checked.fail(
                i,
                f"The same member, course and date appears earlier in this file (row {first_row})",
            )
        if reasons[i] is None and member_id >= 0 and record >= 0:
            passing.append(i)
    passing.sort()
    checked.rows = passing
    checked.members = member[passing].tolist()
    checked.which = which[passing].tolist()
    checked.records = _records_table(distinct, list(records))
    checked.record_years = checked.records.column("ce_year").to_pylist()
    checked.courses = {c[0]: (number, c[3]) for number, c in known.items()}
    return checked


def _records_table(settled: Any, more: list[tuple[int, str, int, date, Decimal]]) -> Any:
    """The distinct records: those DuckDB settled, then those of rows checked one by one."""
    import pyarrow as pa

    extra = pa.table(
        {
            "which": pa.array(range(len(settled), len(settled) + len(more)), pa.int32()),
            "course_id": pa.array([r[0] for r in more], pa.int32()),
            "category": pa.array([r[1] for r in more], pa.string()),
            "ce_year": pa.array([r[2] for r in more], pa.int32()),
            "course_date": pa.array([r[3] for r in more], pa.date32()),
            "hours": pa.array([r[4] for r in more], pa.decimal128(8, 2)),
        }
    )
    return pa.concat_tables([settled.cast(extra.schema), extra])


def _passing_table(checked: Checked) -> tuple[Any, Any]:
    """The passing rows (row, member, which) and their distinct records, as Arrow tables."""
    import pyarrow as pa

    rows = pa.table(
        {
            "row": pa.array(checked.rows, pa.int32()),
            "member_id": pa.array(checked.members, pa.int32()),
            "which": pa.array(checked.which, pa.int32()),
        }
    )
    return rows, checked.records


def import_roster(
    db: Database,
    data: bytes,
    filename: str,
    *,
    provider_id: int,
    uploaded_by: str,
    progress: Progress | None = None,
    today: date | None = None,
    reading: bounded.Started | None = None,
) -> ImportResult:
    """Read, check and record a roster; processed rows and the import commit together.
    ``reading``: the file's reading, begun by ``start_reading``."""
    with _collector_paused():
        return _import(db, data, filename, provider_id, uploaded_by, progress, today, reading)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A 100,000-row roster makes a million short-lived objects that hold no cycles:
    Python's cycle collector would rescan the whole heap many times over for nothing."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _import(
    db: Database,
    data: bytes,
    filename: str,
    provider_id: int,
    uploaded_by: str,
    progress: Progress | None,
    today: date | None,
    reading: bounded.Started | None,
) -> ImportResult:
    report = progress or (lambda _f, _t: None)
    report(0.05, "Reading the file…")
    roster = read_roster(data, filename, reading)
    report(0.35, f"Checking {len(roster):,} rows…")
    checked = validate(db, provider_id, roster, today=today)
    sha = hashlib.sha256(data).hexdigest()
    earlier = db.one(
        "SELECT uploaded_at, uploaded_by FROM imports WHERE sha256 = ? AND provider_id = ?"
        " ORDER BY id LIMIT 1",
        [sha, provider_id],
    )
    report(0.6, "Recording…")
    upload = _Upload(provider_id, uploaded_by, filename, sha, len(data))
    for attempt in (1, 2, 3):
        before = [list(r) if r else None for r in checked.reasons] if db.server else None
        try:
            import_id, confirmed, failed = _record(db, roster, checked, upload)
            break
        except Exception as exc:
            # Server mode: another app process recorded some of these rows after they were
            # checked, and the unique index refused them. Check again and record the rest.
            if before is None or attempt == 3 or not db.is_duplicate_key(exc):
                raise
            checked.reasons[:] = before
    total = len(roster)
    report(1.0, "Done.")
    return ImportResult(
        import_id=int(import_id),
        file_name=filename,
        processed=total - failed,
        failed=failed,
        total=total,
        confirmed=confirmed,
        roster=roster,
        reasons=checked.reasons,
        earlier_upload=(f"{earlier[0]:%m/%d/%Y %H:%M} by {earlier[1]}" if earlier else None),
        example_rows=roster.example_rows,
    )


@dataclass(frozen=True)
class _Upload:
    """What the import record says about the file: for whom, by whom, which file."""

    provider_id: int
    by: str
    file: str
    sha256: str
    size: int


def _record(
    db: Database,
    roster: Roster,
    checked: Checked,
    upload: _Upload,
) -> tuple[int, int, int]:
    """Record the passing rows, the import and every row's outcome in one transaction.

    Returns (import id, rows confirming a pending self-report, failed rows).
    """
    passing, distinct = _passing_table(checked)
    provider_id, uploaded_by, filename = upload.provider_id, upload.by, upload.file
    with db.transaction(tracked=True) as cur:
        cur.register("roster_passing", passing)
        cur.register("roster_records", distinct)
        # Checked again inside the transaction so that concurrent uploads cannot both add.
        shut = years.final_in(cur, set(checked.record_years))
        on_file = records.held_for(db, cur, _ROSTER_ROWS)
        held = records.existing(cur, _ROSTER_ROWS, on_file)
        confirm: list[int] = []
        for i, which in zip(checked.rows, checked.which, strict=True) if shut or held else ():
            year = checked.record_years[which]
            status = held.get(i)
            if year in shut:
                checked.fail(i, years.final_message(year, shut[year], reader="roster"))
            elif status == "pending":
                confirm.append(i)
            elif status is not None:
                checked.fail(i, ALREADY_RECORDED)
        over = _over_course_hours(cur, checked, on_file)
        confirm = [i for i in confirm if i not in over]
        failed = sum(1 for r in checked.reasons if r)
        total = len(roster)
        import_id = db.new_id("import_ids", cur)
        cur.execute(
            """INSERT INTO imports (id, provider_id, uploaded_by, file_name, sha256, size_bytes,
                                    processed, failed, total)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                import_id,
                provider_id,
                uploaded_by,
                filename[:255],
                upload.sha256,
                upload.size,
                total - failed,
                failed,
                total,
            ],
        )
        _store_rows(cur, import_id, roster, checked.reasons)
        skip = (
            set(held) | {i for i, r in enumerate(checked.reasons) if r}
            if shut or held or over
            else set()
        )
        _store_records(cur, import_id, uploaded_by, skip)
        if confirm:
            import pyarrow as pa

            cur.register("roster_confirm", pa.table({"row": pa.array(confirm, pa.int32())}))
            records.confirm_pending(
                cur,
                f"(SELECT * FROM {_ROSTER_ROWS} WHERE row IN (SELECT row FROM roster_confirm))",  # noqa: S608
                import_id=import_id,
                held=on_file,
            )
        for name in ("roster_passing", "roster_records", "roster_confirm", "held_records"):
            cur.unregister(name)
        audit.record(
            cur,
            uploaded_by,
            "roster imported",
            "import",
            import_id,
            {
                "file": filename,
                "processed": total - failed,
                "failed": failed,
                "total": total,
                "confirmed": len(confirm),
            },
        )
    return int(import_id), len(confirm), failed


def _over_course_hours(cur: Any, checked: Checked, on_file: str) -> set[int]:
    """Fail the passing rows that would take a member past a course's approved hours, counting
    what is recorded on other dates and the rows above in this file (SPEC §5); their indexes.

    Only a member and course that this file names twice, or that already has records, can
    go over (a single row over the approved hours failed earlier): those rows alone are
    walked, in file order, so a big roster of one row per member stays a column operation.
    ``on_file``: where the records held are read (``records.held_for``)."""
    import numpy as np

    if not checked.rows:
        return set()
    held = records.hours_held(cur, "roster_passing", "roster_records", on_file)
    # Each passing row's (member, course) as one number, to find repeats without a tuple a row.
    # ``checked.records`` is Arrow, in ``which`` order (its row i is record i).
    course_of = checked.records.column("course_id").to_numpy().astype(np.int64)
    keys = (np.array(checked.members, dtype=np.int64) << 32) | course_of[checked.which]
    found, counts = np.unique(keys, return_counts=True)
    watched = found[counts > 1]
    if held:
        held_keys = np.array([(m << 32) | c for m, c in held], dtype=np.int64)
        watched = np.union1d(watched, np.intersect1d(found, held_keys, assume_unique=True))
    if not watched.size:
        return set()
    record_days = checked.records.column("course_date").to_pylist()
    record_hours = checked.records.column("hours").to_pylist()
    over: set[int] = set()
    state: dict[tuple[int, int], dict[date, Decimal]] = {}
    from_file: dict[tuple[int, int], set[date]] = {}  # dates that rows above added
    for j in np.flatnonzero(np.isin(keys, watched)).tolist():
        i, which = checked.rows[j], checked.which[j]
        if checked.reasons[i]:  # failed in the transaction: adds nothing
            continue
        course_id, day, hours = int(course_of[which]), record_days[which], record_hours[which]
        pair = (checked.members[j], course_id)
        by_day = state.setdefault(pair, dict(held.get(pair, {})))
        other = sum((h for d, h in by_day.items() if d != day), compute.ZERO)
        number, approved = checked.courses[course_id]
        if other + hours > approved:
            in_file = bool(from_file.get(pair, set()) - {day})
            checked.fail(i, records.course_hours_used_up(number, other, approved, in_file=in_file))
            over.add(i)
        else:
            by_day[day] = hours
            from_file.setdefault(pair, set()).add(day)
    return over


# The passing rows of an upload with their record's values, as the records module reads them.
_ROSTER_ROWS = """(SELECT p.row, p.member_id, d.course_id, d.ce_year, d.course_date, d.hours,
                          d.category
                   FROM roster_passing p JOIN roster_records d USING (which))"""


def _store_rows(cur: Any, import_id: int, roster: Roster, reasons: list[list[str] | None]) -> None:
    """Keep every row of the upload as written (each cell cut at 1,000 characters) with
    its outcome, for Import History: one packed value (``store.packed``), not a row each."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = pa.table(
        {
            "row_number": pa.array(roster.row_numbers, pa.int32()),
            **{f: pc.utf8_slice_codeunits(roster.text_column(f), 0, 1000) for f in FIELDS},
            "reasons": pa.array(["; ".join(r) if r else None for r in reasons], pa.string()),
        }
    )
    cur.execute("INSERT INTO import_row_sets VALUES (?, ?)", [import_id, packed.pack(rows)])


def import_history(db: Database, provider_id: int | None) -> pd.DataFrame:
    """Every upload, newest first; a provider sees only its own (``provider_id``)."""
    return db.frame(
        """SELECT i.id AS "Import", i.uploaded_at AS "Uploaded", i.uploaded_by AS "By",
                  p.name AS "Provider", i.file_name AS "File", i.processed AS "Processed",
                  i.failed AS "Failed", i.total AS "Total"
           FROM imports i JOIN providers p ON p.id = i.provider_id
           WHERE $p IS NULL OR i.provider_id = $p
           ORDER BY i.id DESC""",
        {"p": provider_id},
    )


def import_rows(db: Database, import_id: int, provider_id: int | None) -> pd.DataFrame:
    """The rows of one upload, in file order, each with its Status ("Processed" or why it
    failed); empty when the upload is not the provider's (``provider_id``: whose uploads
    may be opened, None for all)."""
    import pandas as pd
    import pyarrow.compute as pc

    columns = ["Row", *TEMPLATE_COLUMNS, "Status"]
    blob = db.scalar(
        """SELECT s.rows FROM import_row_sets s JOIN imports i ON i.id = s.import_id
           WHERE s.import_id = $id AND ($p IS NULL OR i.provider_id = $p)""",
        {"id": import_id, "p": provider_id},
    )
    if blob is None:
        return pd.DataFrame(columns=columns)
    rows = packed.unpack(blob)
    status = pc.fill_null(rows.column("reasons"), "Processed")
    frame = rows.drop_columns(["reasons"]).append_column("Status", status).to_pandas()
    frame.columns = columns
    return frame


def _store_records(cur: Any, import_id: int, uploaded_by: str, skip: set[int]) -> None:
    """Insert the passing rows registered as roster_passing, but for the ``skip`` rows."""
    import pyarrow as pa

    cur.register("roster_skip", pa.table({"row": pa.array(sorted(skip), pa.int32())}))
    # Made once: the records module reads the rows several times (years, who, values).
    adding = cur.execute(
        f"""SELECT member_id, course_id, NULL::VARCHAR AS title,
                   NULL::VARCHAR AS provider_name, ce_year, course_date, hours, category
            FROM {_ROSTER_ROWS} WHERE row NOT IN (SELECT row FROM roster_skip) ORDER BY row"""  # noqa: S608
    ).to_arrow_table()
    cur.register("roster_adding", adding)
    records.insert_many(
        cur, "roster_adding", source="roster import", created_by=uploaded_by, import_id=import_id
    )
    for name in ("roster_skip", "roster_adding"):
        cur.unregister(name)


def preview_frame(roster: Roster, rows: int = 10) -> pd.DataFrame:
    """The first rows as read, before any check: what the upload page previews."""
    import pandas as pd

    return pd.DataFrame(
        {"Row": roster.row_numbers[:rows]}
        | {c: roster.texts[f][:rows] for c, f in zip(TEMPLATE_COLUMNS, FIELDS, strict=True)}
    )


def failed_rows_frame(outcomes: list[RowOutcome]) -> pd.DataFrame:
    """The failed rows in file order: the template's columns plus Status."""
    import pandas as pd

    failed = [o for o in outcomes if o.failed]
    return pd.DataFrame(
        [[o.raw[f] for f in FIELDS] + [o.status] for o in failed],
        columns=[*TEMPLATE_COLUMNS, "Status"],
    )
