"""Golden files: every report in every export format, on a small fixed office.

The office below is built here, not taken from the random demo, so that every file
is the same on every run and on both backends. It holds what has broken exports
before: a report of a single row, a column empty in every row (phone and address;
the paid date within Area 3), Unicode names (Núñez, Ødegård, Łukasz), values a
spreadsheet would run as formulas (``=``, ``+``, ``-``, ``@``) and a director's scope.

Each report is exported as the command line and the download buttons do
(``reports.run_report`` then ``exports``) and compared with ``tests/golden/``:

- CSV literally (``NAME.csv``);
- Excel as text (``NAME.xlsx.txt``): each sheet's name, frozen cell, column widths and
  checks on typing (drop-downs), then every cell's address, type, number format and
  value (and note), and the runs of empty cells formatted in advance, read back with
  openpyxl;
- PDF as its extracted text (``NAME.pdf.txt``, pypdf). Nothing is masked: the tests pin
  today's date (``CETRACKER_TODAY``), so the production dates hold still.

tests/test_golden_files.py does the same for the other files people download (the roster
template, the failed-rows file, certificates, transcripts) with the helpers here. After an
intended change, regenerate the files and review the diff:

    CETRACKER_REGENERATE_GOLDEN=1 .venv/bin/pytest -n 0 -k "not postgresql" \
        tests/test_golden.py tests/test_golden_files.py

(a PostgreSQL run of the tests marked ``both_backends`` then checks that the server gives
the same files).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader

from cetracker import reports
from cetracker.files import exports
from cetracker.filters import Filters, Scope
from cetracker.store.db import Database

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("CETRACKER_REGENERATE_GOLDEN") == "1"

MEMBER_HEADER = [
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
]
RECORD_HEADER = [
    "License Number",
    "Course Number",
    "CE Year",
    "Course Date",
    "Hours",
    "Title",
    "Provider",
    "Category",
]
OFFICE = {
    "Members": [
        MEMBER_HEADER,
        ["TX-1001", "Ana", "Núñez", "ana@example.org", "", "", "Travis", "Area 3"]
        + ["County Clerk", "active", "2015-01-01"],
        ["TX-1002", "Zoë", "Ødegård", "", "", "", "Harris", "Area 6"]
        + ["Deputy Clerk", "active", ""],
        ["TX-1003", "Łukasz", "Nowak", "lukasz@example.org", "", "", "Travis", "Area 3"]
        + ["District Clerk", "active", "2020-07-15"],
        ["TX-1004", "+Bob", '=HYPERLINK("http://x")', "+bob@example.org", "", "", "Bexar", "Area 3"]
        + ["-Deputy", "inactive", ""],
    ],
    "Providers": [
        ["License Number", "Name", "Contact", "Email", "Phone"],
        ["P-1", "Clerks' Education Foundation", "Dana", "ce@example.org", ""],
    ],
    "Courses": [
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
        ["C1", "Winter Conference", "P-1", "General", 12, "2023-02-01", "2023-02-03"]
        + ["Austin", "conference"],
        ["C2", "Ethics for Clerks", "P-1", "Ethics", 3, "2024-03-01", "2024-03-01"]
        + ["Online", "webinar"],
        ["C3", "Records Day", "P-1", "General", 16, "2024-05-01", "2024-05-02"]
        + ["Waco", "workshop"],
        ["C4", "=Tricky Title", "P-1", "General", 2, "2024-06-01", "2024-06-01"]
        + ["Online", "online course"],
    ],
    "Policy": [
        ["Effective Year", "Required Hours", "Carryover Cap", "Year Start Month"],
        [2000, 20, 10, 1],
    ],
    "Category Minimums": [["Effective Year", "Category", "Minimum Hours"], [2024, "Ethics", 3]],
    "CE Records": [
        RECORD_HEADER,
        ["TX-1001", "C1", 2023, "2023-02-01", 12, "", "", ""],
        ["TX-1001", "", 2023, "2023-06-10", 14.5, "Open Records Seminar", "AG Office", "General"],
        ["TX-1001", "C2", 2024, "2024-03-01", 3, "", "", ""],
        ["TX-1001", "C3", 2024, "2024-05-01", 10, "", "", ""],
        ["TX-1002", "C3", 2024, "2024-05-01", 16, "", "", ""],
        ["TX-1003", "C3", 2024, "2024-05-01", 16, "", "", ""],
        ["TX-1003", "C2", 2024, "2024-03-01", 3, "", "", ""],
        ["TX-1003", "C4", 2024, "2024-06-01", 1.5, "", "", ""],
        ["TX-1004", "C3", 2024, "2024-05-02", 16, "", "", ""],
    ],
    "Dues": [
        ["License Number", "Year", "Amount Due", "Amount Paid", "Paid Date", "Status"],
        ["TX-1001", 2024, 50, 0, "", "unpaid"],
        ["TX-1002", 2024, 50, 50, "2024-02-01", "paid"],
        ["TX-1004", 2024, 50, 0, "", "waived"],
    ],
}

SCENARIOS = {
    "office": Filters(2024),
    "director": Filters(2024, scope=Scope(areas=("Area 3",))),
}
OPTIONS = {"conference": {"course_number": "C3"}}
FORMATS = ["csv", "xlsx", "pdf"]


@pytest.fixture
def office(workbook_database):
    return workbook_database("golden-office", OFFICE)


def xlsx_as_text(data: bytes) -> str:
    """What a person's spreadsheet program finds in the file, sheet by sheet."""
    return "".join(_sheet_as_text(sheet) for sheet in load_workbook(io.BytesIO(data)).worksheets)


def _sheet_as_text(sheet: Worksheet) -> str:
    """The sheet's name, frozen cell, column widths and checks on typing (drop-downs), then a
    line per cell (address, type, number format, value) and its note, and a line per run of
    empty cells formatted in advance (the rows of a template waiting to be filled in)."""
    lines = [f"sheet {sheet.title!r}, frozen at {sheet.freeze_panes}"]
    widths = {k: round(v.width) for k, v in sorted(sheet.column_dimensions.items()) if v.width}
    lines.append("widths " + " ".join(f"{k}={w}" for k, w in widths.items()))
    for check in sheet.data_validations.dataValidation:
        rule = " ".join(str(p) for p in (check.type, check.operator, check.formula1) if p)
        blank = "blank allowed" if check.allow_blank else "blank refused"
        title = f" {check.errorTitle!r}" if check.errorTitle else ""
        stops = f"\tstops with{title}: {check.error!r}" if check.showErrorMessage else ""
        lines.append(f"check {check.sqref}\t{rule}\t{blank}{stops}")
    runs: list[list[Any]] = []  # [column, first row, last row, number format]
    for column in sheet.iter_cols():
        for cell in column:
            if cell.value is not None or cell.number_format == "General":
                continue
            run = runs[-1] if runs else None
            if (
                run
                and run[0] == cell.column_letter
                and run[2:] == [cell.row - 1, cell.number_format]
            ):
                run[2] = cell.row
            else:
                runs.append([cell.column_letter, cell.row, cell.row, cell.number_format])
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is not None:
                lines.append(
                    f"{cell.coordinate}\t{cell.data_type}\t{cell.number_format}\t{cell.value!r}"
                )
            if cell.comment is not None:
                lines.append(
                    f"{cell.coordinate}\tnote by {cell.comment.author}\t{cell.comment.text!r}"
                )
    lines += [f"{c}{first}:{c}{last}\tempty\t{fmt}" for c, first, last, fmt in runs]
    return "\n".join(lines) + "\n"


def pdf_as_text(data: bytes) -> str:
    """The PDF's text, page by page (nothing masked: the tests pin today's date)."""
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    return "\n--- page break ---\n".join(pages) + "\n"


def assert_golden(name: str, got: str, db: Database) -> None:
    """``got`` is the golden file ``name``; the DuckDB run writes it when regenerating, and
    a PostgreSQL run then checks that the server gives the same file."""
    path = GOLDEN / name
    if REGENERATE and not db.server:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(got.encode())
    assert path.exists(), (
        f"{path.name} is missing: regenerate (see tests/test_golden.py's docstring)"
    )
    assert got == path.read_bytes().decode(), (
        f"{path.name} differs from the file made now; if the change is intended, regenerate it "
        "(see tests/test_golden.py's docstring) and review the diff"
    )


def export(name: str, frame, fmt: str, title: str, filters: Filters) -> tuple[str, str]:
    """The file's golden name suffix and its comparable text."""
    if fmt == "csv":
        return ".csv", exports.to_csv(reports.csv_frame(name, frame)).decode()
    if fmt == "xlsx":
        return ".xlsx.txt", xlsx_as_text(exports.to_xlsx(frame, title, filters.describe()))
    return ".pdf.txt", pdf_as_text(exports.to_pdf(frame, title, filters.describe()))


@pytest.mark.both_backends  # the reports' SQL: the server must give the same files
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("name", sorted(reports.REPORTS))
def test_golden_exports(office, name, scenario):
    filters = SCENARIOS[scenario]
    frame = reports.run_report(office, name, filters, **OPTIONS.get(name, {}))
    title = reports.REPORTS[name].title
    for fmt in FORMATS:
        suffix, got = export(name, frame, fmt, title, filters)
        assert_golden(f"{name}-{scenario}{suffix}", got, office)


def test_the_golden_office_covers_what_broke_before(office):
    """The fixed office keeps the awkward cases the golden files are there for."""
    director = SCENARIOS["director"]
    assert len(reports.carryover(office, director)) == 1  # a single row
    assert len(reports.certificates_list(office, director)) == 1
    dues = reports.dues(office, director)
    assert dues["paid_date"].isna().all() and len(dues) > 1  # empty in every row
    clerks = reports.member_list(office, SCENARIOS["office"])
    assert clerks["phone"].isna().all() or (clerks["phone"].fillna("") == "").all()
    assert {"Núñez", "Ødegård", "Nowak"} <= set(clerks["last_name"])
    assert clerks["last_name"].str.startswith("=").any()
    everyone = reports.hour_summary(office, SCENARIOS["office"])
    assert set(reports.hour_summary(office, director)["area"]) == {"Area 3"}
    assert len(everyone) == 4


def test_every_report_and_format_has_its_golden_files():
    expected = {
        f"{name}-{scenario}{suffix}"
        for name in reports.REPORTS
        for scenario in SCENARIOS
        for suffix in (".csv", ".xlsx.txt", ".pdf.txt")
    }
    assert expected <= {p.name for p in GOLDEN.iterdir()}
