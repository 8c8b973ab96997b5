"""The roster template a provider fills in, and the failed-rows file it gets back (SPEC §5).

Both are the same workbook: the template's header, number and date formats, the
course-number drop-down and the Courses and Instructions sheets. The failed-rows file adds
a Status column and holds the failed rows typed as the template would hold them, so that a
provider fixes the cells the Status names and uploads the file as it is.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cetracker import config
from cetracker import policy as policies
from cetracker.files.roster_columns import EXAMPLE_ROW, TEMPLATE_COLUMNS
from cetracker.rules.cells import parse_date, parse_int
from cetracker.store.db import Database

if TYPE_CHECKING:
    import pandas as pd

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
EXAMPLE_FONT = Font(italic=True, color="808080")
WIDTHS = [16, 18, 17, 16, 9, 13, 10, 70]
# How each template column is written: its number format, and how a typed value is read.
DATE_FORMAT, HOURS_FORMAT, TEXT_FORMAT = "mm/dd/yyyy", "0.00", "@"
FORMATS = {"License Number": TEXT_FORMAT, "Course Date": DATE_FORMAT, "CE Hours": HOURS_FORMAT}
# Hours are written as a number only when the provider typed a plain one: "1,5" stays text
# (is it 1.5 or 15?) and so does "2 hrs", for the provider to correct.
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
EXAMPLE_NOTE = (
    "Example — delete this row or type over it. CE Tracker skips a row with the license "
    "number EXAMPLE, so leaving it in is harmless."
)
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
    "CE Hours: hours earned, more than 0 and no more than the course's approved hours (for a "
    "course over several days, all the member's days together).",
    "",
    "Keep the header row as it is. Row 2 (license number EXAMPLE) is an example: type over it "
    "or delete it; it is never imported.",
    "Save as .xlsx (or .csv) and upload it on the Upload Roster page.",
    "Rows that fail come back in a file with a Status column: fix them there and upload that file.",
]
FAILED_INSTRUCTIONS = [
    "How to fix these rows",
    "",
    "Each row here failed for the reasons in its Status column; every other row of your "
    "upload was processed and must not be uploaded again.",
    "Correct the cells the Status names, then upload this file as it is on the Upload Roster "
    "page: the Status column is ignored, and a row that still has a problem comes back again.",
    "A row that cannot be fixed (a member who did not attend, say) can simply be deleted.",
]


def _courses(db: Database, provider_id: int | None) -> list[tuple[Any, ...]]:
    return db.rows(
        """SELECT course_number, title, hours, start_date FROM courses
           WHERE $p IS NULL OR provider_id = $p ORDER BY start_date DESC NULLS LAST, course_number""",
        {"p": provider_id},
    )


def _roster_book(
    courses: list[tuple[Any, ...]], columns: list[str], rows: int, instructions: list[str]
) -> tuple[Workbook, Worksheet]:
    """The template's workbook: header, formats, drop-down and validation for ``rows`` rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Roster"
    for i, name in enumerate(columns, start=1):
        cell = sheet.cell(1, i, name)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(horizontal="center")
        sheet.column_dimensions[cell.column_letter].width = WIDTHS[i - 1]
    sheet.freeze_panes = "A2"
    last = rows + 1
    for column, number_format in FORMATS.items():
        index = TEMPLATE_COLUMNS.index(column) + 1
        for row in range(2, last + 1):
            sheet.cell(row, index).number_format = number_format
    listing = book.create_sheet("Courses")
    listing.append(["Course Number", "Title", "Approved Hours", "Start Date"])
    for number, title, hours, day in courses:
        listing.append([number, title or "", float(hours), day])
        # A title stays text ("=Tricky Title" is no formula), and dates read as the Roster's.
        listing.cell(listing.max_row, 2).data_type = "s"
        listing.cell(listing.max_row, 4).number_format = DATE_FORMAT
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
        sheet.add_data_validation(check)
        check.add(f"D2:D{last}")
    hours_check = DataValidation(
        type="decimal",
        operator="greaterThan",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        error="CE Hours must be a number more than 0.",
    )
    sheet.add_data_validation(hours_check)
    hours_check.add(f"G2:G{last}")
    notes = book.create_sheet("Instructions")
    for line in instructions:
        notes.append([line])
    notes["A1"].font = Font(bold=True, size=14)
    notes.column_dimensions["A"].width = 110
    return book, sheet


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_xlsx(db: Database, provider_id: int | None) -> bytes:
    """A real roster template: header, one example row, formats, course drop-down, instructions."""
    courses = _courses(db, provider_id)
    book, roster = _roster_book(courses, TEMPLATE_COLUMNS, 5000, INSTRUCTIONS)
    example_course = courses[0] if courses else ("C-0001", "", 1, config.today())
    example_day = example_course[3] or config.today()
    values = [
        *EXAMPLE_ROW,
        example_course[0],
        policies.ce_year_of(db, example_day),
        example_day,
        float(example_course[2]),
    ]
    for i, value in enumerate(values, start=1):
        roster.cell(2, i, value).font = EXAMPLE_FONT
    roster["A2"].comment = Comment(EXAMPLE_NOTE, "CE Tracker", width=300, height=90)
    return _saved(book)


def typed_cell(column: str, raw: str) -> object:
    """A cell as the template holds it, from the text the provider gave: a date as a date
    (an Excel serial 46329 too), a year and hours as numbers; anything that does not read
    as such stays the provider's text, to be corrected."""
    if not raw:
        return None
    if column == "Course Date":
        return parse_date(raw) or raw
    if column == "CE Year":
        year = parse_int(raw) if _PLAIN_NUMBER.match(raw) else None
        return year if year is not None else raw
    if column == "CE Hours" and _PLAIN_NUMBER.match(raw):
        hours = float(raw)
        return int(hours) if hours.is_integer() else hours
    return raw


def failed_rows_xlsx(db: Database, provider_id: int | None, frame: pd.DataFrame) -> bytes:
    """First sheet: the template's header plus Status and the failed rows in file order, typed
    as in the template (``frame`` holds the provider's text, as ``failed_rows_frame`` gives it),
    with the template's formats and course drop-down: ready to fix and upload as it is."""
    columns = list(frame.columns)
    book, sheet = _roster_book(
        _courses(db, provider_id), columns, max(len(frame), 1), FAILED_INSTRUCTIONS
    )
    wrap = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        for c, (column, raw) in enumerate(zip(columns, row, strict=True), start=1):
            value = typed_cell(column, str(raw)) if column in TEMPLATE_COLUMNS else str(raw)
            cell = sheet.cell(r, c, value)
            if isinstance(value, str):
                # The provider's text stays text: "=1+1" must never become a formula.
                cell.data_type = "s"
            if column == "Status":
                cell.alignment = wrap
    return _saved(book)
