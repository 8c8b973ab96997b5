"""Random rosters and workbooks for the fuzzer (tests/test_fuzz_files.py, bench/fuzz.py).

A roster case is a sheet of random cells (text in any script, numbers, dates,
booleans, formulas, Excel errors, near-valid values) written as a real .xlsx,
.xls, .ods or CSV in one of the encodings spreadsheets save. ``check_roster``
imports it and checks the invariant of SPEC §5: the file is rejected whole
(``RejectedFile``) or every non-blank row is counted once, each processed xor
failed, under its own row number.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cetracker import importer
from cetracker.errors import RejectedFile
from tests import hostile
from tests.rosters import HEADER

FORMATS = ("xlsx", "xls", "ods", "csv")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")
# Values a real roster holds, so that some rows pass and reach the duplicate checks.
KNOWN = ["Ana", "Núñez", "1001", "1002", "Ødegård", "C3", "C-100", "2024", "2024-05-01", "8"]
ERRORS = ["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?"]


def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=12),
        st.text(alphabet=st.characters(codec="cp1252"), max_size=8),
        st.sampled_from(["", " ", "  \t", "1,5", "1.000,5", "2 hrs", "=1/0", "=A1+1", "0x10"]),
        st.sampled_from(KNOWN + ERRORS),
        st.text(alphabet="0123456789-/. ,", min_size=1, max_size=12),
        st.just("é" * 40_000),  # longer than an Excel cell holds
    )


CELLS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    _text(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 12, 31)),
)


@dataclass
class RosterCase:
    kind: str
    encoding: str
    delimiter: str
    header: list[str]
    rows: list[list[Any]]
    leading_blank_rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"fuzz.{self.kind}"


@st.composite
def roster_cases(draw: st.DrawFn) -> RosterCase:
    header = list(HEADER)
    if draw(st.booleans()):  # headers as people retype them
        header = [
            draw(st.sampled_from([h, h.upper(), h.replace(" ", "_"), f" {h.lower()}."]))
            for h in header
        ]
    extra = draw(st.lists(st.sampled_from(["Notes", "Email", "", "CE Hours"]), max_size=2))
    header = header + extra
    if draw(st.integers(0, 9)) == 0:  # now and then a template column is missing
        header.pop(draw(st.integers(0, 6)))
    if draw(st.booleans()):
        order = draw(st.permutations(range(len(header))))
        header = [header[i] for i in order]
    width = len(header) + draw(st.integers(0, 2))
    rows = draw(
        st.lists(
            st.one_of(
                st.lists(CELLS, min_size=0, max_size=width),
                st.just([None] * width),
                st.just([" "] * width),
            ),
            max_size=25,
        )
    )
    return RosterCase(
        kind=draw(st.sampled_from(FORMATS)),
        encoding=draw(st.sampled_from(ENCODINGS)),
        delimiter=draw(st.sampled_from([",", ";", "\t"])),
        header=header,
        rows=rows,
        leading_blank_rows=draw(st.integers(0, 2)),
    )


# -- writing a case as a real file, and what a person would see in each cell ------------------


def _fit(case: RosterCase, value: Any) -> Any:
    """The value as this file format can hold it (what the writer would refuse is changed)."""
    if isinstance(value, str):
        if case.kind in ("xlsx", "ods", "xls"):
            value = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r", "")
        if case.kind == "xls":
            value = value[:32_767]
        if case.kind == "csv" and case.encoding == "cp1252":
            value = value.encode("cp1252", "replace").decode("cp1252")
        if case.kind == "csv":
            value = value.replace("\x00", "").replace("\r", " ")
        return value
    if case.kind == "xls" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # .xls holds numbers as doubles
    if case.kind == "xls" and isinstance(value, datetime | date) and value.year < 1901:
        return value.isoformat()  # xlwt cannot write dates before 1900's leap-year quirk
    return value


def file_bytes(case: RosterCase) -> tuple[bytes, list[list[Any]]]:
    """The case as a file, and the grid of values actually written (header first)."""
    grid = [[None] * len(case.header)] * case.leading_blank_rows
    grid = [*grid, case.header, *case.rows]
    grid = [[_fit(case, v) for v in row] for row in grid]
    if case.kind == "xlsx":
        book = Workbook()
        sheet = book.active
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(r, c, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "f"  # a formula with no saved value, as some tools write
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), grid
    if case.kind == "xls":
        return hostile.xls_bytes(grid[1:], header=grid[0]), grid
    if case.kind == "ods":
        return hostile.ods_bytes(grid[1:], header=grid[0], tail=False), grid
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=case.delimiter, lineterminator="\r\n")
    for row in grid:
        writer.writerow(["" if v is None else _csv_text(v) for v in row])
    return buffer.getvalue().encode(case.encoding, "replace"), grid


def _csv_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.isoformat(" ")
    return str(value)


def _blank(case: RosterCase, value: Any) -> bool:
    """Whether a person would call this cell empty, as the file holds it."""
    if value is None:
        return True
    if isinstance(value, str):
        if case.kind == "xlsx" and value.startswith("="):
            return True  # a formula never calculated shows nothing
        return not value.strip()
    return False


def expected_rows(case: RosterCase, grid: list[list[Any]]) -> list[int] | None:
    """The row numbers a person expects to be counted, or None when the file has no
    template header (it must be rejected whole)."""
    from cetracker.rules.cells import normalise_header

    first = next((i for i, row in enumerate(grid) if not all(_blank(case, v) for v in row)), None)
    if first is None:
        return None
    header = [normalise_header(v if isinstance(v, str) else "") for v in grid[first]]
    wanted = [normalise_header(h) for h in HEADER]
    if any(w not in header for w in wanted):
        return None
    positions = [header.index(w) for w in wanted]
    numbers = []
    for i in range(first + 1, len(grid)):
        row = grid[i]
        if any(p < len(row) and not _blank(case, row[p]) for p in positions):
            numbers.append(i + 1)
    return numbers


@dataclass
class Tally:
    """What a fuzzing run found; every figure but ``cases`` must stay 0."""

    cases: int = 0
    rejected: int = 0
    rows: int = 0
    crashes: int = 0
    rows_both: int = 0  # counted as processed and as failed
    rows_uncounted: int = 0  # a non-blank row missing from the outcome (or a blank one in it)
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text[:2000])


def check_roster(db: Any, provider_id: int, case: RosterCase, tally: Tally) -> None:
    """Import the case and check the invariant, adding what was found to ``tally``."""
    data, grid = file_bytes(case)
    expected = expected_rows(case, grid)
    tally.cases += 1
    try:
        result = importer.import_roster(
            db,
            data,
            case.filename,
            provider_id=provider_id,
            uploaded_by="fuzz",
            today=date(2030, 1, 1),
        )
    except RejectedFile as exc:
        tally.rejected += 1
        if expected and case.kind != "csv" and "no roster rows" not in exc.message:
            # A well-formed file with rows under the template's header is never rejected.
            tally.crashes += 1
            tally.note(f"{case!r:.1500} rejected: {exc.message}")
        return
    except Exception as exc:  # the invariant: nothing but RejectedFile
        tally.crashes += 1
        tally.note(f"{case!r:.1500} raised {exc!r}")
        return
    outcomes = result.outcomes
    tally.rows += len(outcomes)
    processed = [o for o in outcomes if not o.failed]
    failed = [o for o in outcomes if o.failed]
    tally.rows_both += len(outcomes) - len({o.row_number for o in outcomes})
    tally.rows_both += abs(result.processed - len(processed)) + abs(result.failed - len(failed))
    if result.total != len(outcomes) or result.processed + result.failed != result.total:
        tally.rows_both += 1
        tally.note(f"{case!r:.1500}: counts {result.counts()} for {len(outcomes)} rows")
    seen = [o.row_number for o in outcomes]
    if expected is not None and case.kind != "csv" and seen != expected:
        tally.rows_uncounted += len(set(seen) ^ set(expected)) or 1
        tally.note(f"{case!r:.1500}: rows {seen} expected {expected}")
    if case.kind == "csv" and expected is not None and seen != expected:
        # A CSV's quoting can join lines; its count must still match what was written.
        tally.rows_uncounted += len(set(seen) ^ set(expected)) or 1
        tally.note(f"{case!r:.1500}: rows {seen} expected {expected}")


# -- the office's workbook ---------------------------------------------------------------------

SHEETS = {
    "Members": ["License Number", "First Name", "Last Name", "Email", "Status", "Joined"],
    "Providers": ["License Number", "Name", "Email"],
    "Courses": ["Course Number", "Title", "Provider License", "Hours", "Start Date", "End Date"],
    "Dues": ["License Number", "Year", "Amount Due", "Amount Paid", "Status"],
    "Policy": ["Effective Year", "Required Hours", "Carryover Cap", "Year Start Month"],
}


@st.composite
def workbook_cases(draw: st.DrawFn) -> tuple[str, dict[str, list[list[Any]]]]:
    names = draw(st.lists(st.sampled_from(list(SHEETS)), min_size=1, max_size=3, unique=True))
    sheets = {}
    for name in names:
        header = SHEETS[name]
        rows = draw(st.lists(st.lists(CELLS, max_size=len(header) + 1), max_size=8))
        sheets[name] = [header, *rows]
    return draw(st.sampled_from(["xlsx", "xls", "ods"])), sheets


def workbook_bytes(kind: str, sheets: dict[str, list[list[Any]]]) -> bytes:
    case = RosterCase(kind, "utf-8", ",", [], [])
    fitted = {n: [[_fit(case, v) for v in row] for row in rows] for n, rows in sheets.items()}
    if kind == "xlsx":
        book = Workbook()
        book.remove(book.active)
        for name, rows in fitted.items():
            sheet = book.create_sheet(name)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    cell = sheet.cell(r, c, value)
                    if isinstance(value, str) and value.startswith("="):
                        cell.data_type = "s"
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    parts = [
        (hostile.xls_bytes if kind == "xls" else hostile.ods_bytes)(
            rows[1:], header=rows[0], sheet=name
        )
        for name, rows in list(fitted.items())[:1]
    ]
    return parts[0]
