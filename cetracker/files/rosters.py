"""The roster template a provider fills in, and the failed-rows file it gets back (SPEC §5)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from cetracker import config
from cetracker import policy as policies
from cetracker.files.exports import neutralise
from cetracker.importer import TEMPLATE_COLUMNS
from cetracker.rules import compute
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
WIDTHS = [16, 18, 17, 16, 9, 13, 10, 60]
INSTRUCTIONS = [
    "How to fill in this roster",
    "",
    "One row per person who attended one course on one date.",
    "First Name, Last Name: as the member is known; the last name must match the member's "
    "record (accents, spaces and apostrophes do not matter).",
    "License Number: the member's license number (spaces and dashes do not matter).",
    "Course Number: pick one of your courses from the drop-down.",
    "CE Year: the CE year the course date falls in.",
    "Course Date: the day the member attended (MM/DD/YYYY), within the course's dates, not in "
    "the future.",
    "CE Hours: hours earned, more than 0 and no more than the course's approved hours.",
    "",
    "Keep the header row as it is. Delete the example row before uploading.",
    "Save as .xlsx (or .csv) and upload it on the Upload Roster page.",
    "Rows that fail come back in a file with a Status column: fix them there and upload that file.",
]


def _header(sheet, columns: list[str]) -> None:  # type: ignore[no-untyped-def]
    for i, name in enumerate(columns, start=1):
        cell = sheet.cell(1, i, name)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[cell.column_letter].width = WIDTHS[i - 1]
    sheet.freeze_panes = "A2"


def template_xlsx(db: Database, provider_id: int | None) -> bytes:
    """A real roster template: header, one example row, formats, course drop-down, instructions."""
    courses = db.rows(
        """SELECT course_number, title, hours, start_date FROM courses
           WHERE $p IS NULL OR provider_id = $p ORDER BY start_date DESC NULLS LAST, course_number""",
        {"p": provider_id},
    )
    book = Workbook()
    roster = book.active
    roster.title = "Roster"
    _header(roster, TEMPLATE_COLUMNS)
    example_course = courses[0] if courses else ("C-0001", "", 1, config.today())
    example_day = example_course[3] or config.today()
    start = policies.policy_for_year(db, example_day.year).ce_year_start_month
    roster.append(
        [
            "Jane",
            "Example",
            "123456",
            example_course[0],
            compute.ce_year_of(example_day, start),
            example_day,
            float(example_course[2]),
        ]
    )
    for row in range(2, 5002):
        roster.cell(row, 6).number_format = "mm/dd/yyyy"
        roster.cell(row, 7).number_format = "0.00"
        roster.cell(row, 3).number_format = "@"
    listing = book.create_sheet("Courses")
    listing.append(["Course Number", "Title", "Approved Hours", "Start Date"])
    for number, title, hours, day in courses:
        listing.append([number, neutralise(title or ""), float(hours), day])
    for col, width in zip("ABCD", (16, 50, 15, 13), strict=True):
        listing.column_dimensions[col].width = width
    if courses:
        check = DataValidation(
            type="list",
            formula1=f"=Courses!$A$2:$A${len(courses) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Unknown course",
            error="Pick one of your course numbers from the list.",
        )
        roster.add_data_validation(check)
        check.add("D2:D5001")
    hours_check = DataValidation(
        type="decimal",
        operator="greaterThan",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        error="CE Hours must be a number more than 0.",
    )
    roster.add_data_validation(hours_check)
    hours_check.add("G2:G5001")
    notes = book.create_sheet("Instructions")
    for line in INSTRUCTIONS:
        notes.append([line])
    notes["A1"].font = Font(bold=True, size=14)
    notes.column_dimensions["A"].width = 110
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def failed_rows_xlsx(frame: pd.DataFrame) -> bytes:
    """First sheet: the template's header plus Status, and the failed rows in file order."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Failed rows"
    _header(sheet, list(frame.columns))
    for row in frame.itertuples(index=False, name=None):
        sheet.append([str(v) for v in row])
    # Typed text stays text: a value such as "=1+1" must never become a formula.
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
