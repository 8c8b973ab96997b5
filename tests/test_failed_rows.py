"""The failed-rows file and the template's example row (SPEC §5): what a provider fixes and
uploads again, opened as the provider opens it (openpyxl, a real .xlsx)."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from cetracker import importer, providers
from cetracker.errors import RejectedFile
from cetracker.files import rosters
from cetracker.store.db import Database
from tests.rosters import HEADER, with_cached_formula, xlsx_bytes
from tests.test_importer import SETUP, TODAY, good


@pytest.fixture
def office(workbook_database) -> tuple[Database, int]:
    """The importer tests' members, providers and courses."""
    db = workbook_database("importer-setup", SETUP)
    return db, providers.provider_by_license(db, "P-1")


def _import(db, pid, data: bytes, name: str = "r.xlsx") -> importer.ImportResult:
    return importer.import_roster(
        db, data, name, provider_id=pid, uploaded_by="provider", today=TODAY
    )


def _failed_file(db, pid, result: importer.ImportResult) -> bytes:
    return rosters.failed_rows_xlsx(db, pid, importer.failed_rows_frame(result.failed_outcomes()))


def test_failed_rows_come_back_typed_like_the_template_and_reupload_as_they_are(office):
    db, pid = office
    roster = xlsx_bytes(
        [
            good(),  # processed
            # An Excel serial date and a number license, failing for its unknown license.
            good(License_Number=9999.0, Course_Date=45413, CE_Year=2024.0, CE_Hours=8.0),
            good(License_Number="1003", Last_Name="O'Brien", CE_Hours="2 hrs"),
            good(License_Number="1002", Last_Name="Ødegård", Course_Date="2025-03-01"),
            good(License_Number="1004", Last_Name="Smith", Course_Date=date(2024, 5, 2)),
        ]
    )
    # Row 6's hours are a formula, saved with its value as Excel saves it.
    roster = with_cached_formula(roster, "G6", "2*3", "6")
    first = _import(db, pid, roster)
    assert first.counts() == {"processed": 1, "failed": 4, "total": 5}

    book = load_workbook(io.BytesIO(_failed_file(db, pid, first)))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == [*HEADER, "Status"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert len(rows) == 4
    serial, hours_text, future, wrong_name = rows
    # The serial date comes back as the date, numbers as numbers, the license as text.
    assert serial[:7] == ["Ana", "Núñez", "9999", "C3", 2024, datetime(2024, 5, 1), 8]
    assert serial[7] == "No member holds license number 9999"
    assert hours_text[6] == "2 hrs" and "is not a number" in hours_text[7]
    assert future[5] == datetime(2025, 3, 1) and "in the future" in future[7]
    assert wrong_name[5] == datetime(2024, 5, 2) and wrong_name[6] == 6  # the formula's value
    # The template's formats and course drop-down.
    assert sheet["F2"].number_format == "mm/dd/yyyy"
    assert sheet["G2"].number_format == "0.00"
    assert sheet["C2"].number_format == "@"
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert lists and "D2:D" in str(lists[0].sqref)
    assert {c.value for c in book["Courses"]["A"]} == {"Course Number", "C2", "C3"}

    # The provider fixes one cell and uploads the file as it is.
    sheet["B5"] = "Łukasiewicz"
    fixed = io.BytesIO()
    book.save(fixed)
    second = _import(db, pid, fixed.getvalue(), "failed-rows.xlsx")
    assert second.counts() == {"processed": 1, "failed": 3, "total": 4}
    assert [(o.row_number, o.status) for o in second.failed_outcomes()] == [
        (2, "No member holds license number 9999"),
        (3, "CE Hours “2 hrs” is not a number"),
        (4, "Course Date 03/01/2025 is in the future"),
    ]
    assert (
        db.scalar(
            "SELECT hours FROM ce_records r JOIN members m ON m.id = r.member_id"
            " WHERE m.license_number = '1004'"
        )
        == 6
    )


def test_failed_rows_keep_formula_looking_text_as_text(office):
    db, pid = office
    result = _import(db, pid, xlsx_bytes([good(Last_Name="=1+1")]))
    sheet = load_workbook(io.BytesIO(_failed_file(db, pid, result))).worksheets[0]
    assert sheet["B2"].value == "=1+1" and sheet["B2"].data_type == "s"


def _template_with(db, pid, rows: list[list[object]]) -> bytes:
    book = load_workbook(io.BytesIO(rosters.template_xlsx(db, pid)))
    for r, row in enumerate(rows, start=3):  # typed under the example, as a person would
        for c, value in enumerate(row, start=1):
            book["Roster"].cell(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_example_row_is_marked_and_never_imported(office):
    db, pid = office
    template = load_workbook(io.BytesIO(rosters.template_xlsx(db, pid)))["Roster"]
    assert [c.value for c in template[2]][:3] == ["Jane", "Example", "EXAMPLE"]
    assert "Example" in template["A2"].comment.text
    # A provider types under the example instead of over it.
    result = _import(db, pid, _template_with(db, pid, [good(), good(License_Number="9999")]))
    assert result.counts() == {"processed": 1, "failed": 1, "total": 2}
    assert result.example_rows == [2]
    assert [o.row_number for o in result.outcomes] == [3, 4]
    assert importer.import_rows(db, result.import_id, pid)["Row"].tolist() == [3, 4]


def test_an_older_template_example_row_is_skipped_too(office):
    db, pid = office
    old = xlsx_bytes([["Jane", "Example", "123456", "C3", 2024, "2024-05-01", 8], good()])
    assert _import(db, pid, old).counts() == {"processed": 1, "failed": 0, "total": 1}


def test_a_template_with_only_the_example_is_rejected_saying_so(office):
    db, pid = office
    with pytest.raises(RejectedFile, match="only the template's example row"):
        _import(db, pid, _template_with(db, pid, []))
