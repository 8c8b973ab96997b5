"""Exports of awkward tables: no rows, one row, empty columns, Unicode, formula-like text.

Each case goes through all three formats, the way a download button does, and reads
the file back with the library a person's program would use.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from cetracker import config
from cetracker.files import exports


def frame(sql: str) -> pd.DataFrame:
    """A frame as the reports get it: from DuckDB, with its nullable and string types."""
    con = duckdb.connect()
    try:
        return con.execute(sql).df()
    finally:
        con.close()


AWKWARD = frame(
    """SELECT * FROM (VALUES
        ('1001', 'Ana', 'Núñez', NULL::VARCHAR, NULL::DATE, NULL::DOUBLE, 20.5::DOUBLE,
         DATE '2024-03-01', 125.0::DOUBLE, true),
        ('1002', 'Łukasz', 'Ødegård', NULL, NULL, NULL, 0.0, DATE '2024-12-31', 0.0, false),
        ('=1+1', '+SUM(A1)', '-x', '@cmd', NULL, NULL, 3.25, NULL, NULL, NULL)
    ) t(license_number, first_name, last_name, email, paid_date, hours_missing, hours,
        course_date, amount_due, eligible)"""
)


def sheet_of(data: bytes):
    return load_workbook(io.BytesIO(data)).active


@pytest.mark.parametrize("rows", [0, 1, 2, 3], ids=["no rows", "one row", "two", "three"])
def test_every_format_exports_empty_columns_unicode_and_formulas(rows):
    df = AWKWARD.head(rows)
    # The Excel export once failed on a column empty in every row ("cannot convert float
    # NaN to integer" in the width code): here email, paid_date and hours_missing are.
    sheet = sheet_of(exports.to_xlsx(df, "Clerk Dues Report", "CE year 2024"))
    assert [c.value for c in sheet[1]] == list(df.columns)
    assert sheet.max_row == rows + 1
    for letter in "DEF":  # the empty columns are as wide as their headers, not missing
        assert sheet.column_dimensions[letter].width >= 8
    csv_text = exports.to_csv(df).decode()
    assert csv_text.splitlines()[0] == ",".join(df.columns)
    assert len(csv_text.splitlines()) == rows + 1
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(exports.to_pdf(df, "T"))).pages)
    assert ("No rows match" in text) == (rows == 0)
    if rows >= 2:
        assert "Łukasz" in text and "Ødegård" in text and "Núñez" in text


def test_excel_cells_are_typed_and_formula_text_stays_text():
    sheet = sheet_of(exports.to_xlsx(AWKWARD, "Report"))
    first = {sheet.cell(1, c).value: sheet.cell(2, c) for c in range(1, sheet.max_column + 1)}
    assert first["hours"].value == 20.5 and first["hours"].data_type == "n"
    assert first["amount_due"].value == 125 and first["amount_due"].number_format == "#,##0.00"
    assert first["course_date"].value == datetime(2024, 3, 1)
    assert first["course_date"].is_date and first["course_date"].number_format == "yyyy-mm-dd"
    assert first["eligible"].value is True and first["eligible"].data_type == "b"
    assert first["email"].value is None and first["hours_missing"].value is None
    third = [sheet.cell(4, c) for c in range(1, 5)]
    assert [c.value for c in third] == ["=1+1", "+SUM(A1)", "-x", "@cmd"]
    assert {c.data_type for c in third} == {"s"}  # text, never a formula
    # A missing value is an empty cell, never the words "None", "nan" or "<NA>".
    values = {str(c.value) for row in sheet.iter_rows(min_row=2) for c in row}
    assert not values & {"nan", "NaT", "<NA>"}


def test_excel_widths_follow_the_longest_value_up_to_a_limit():
    df = pd.DataFrame({"a": ["x" * 30], "b": ["y" * 500], "c": [date(2024, 1, 1)]})
    dims = sheet_of(exports.to_xlsx(df)).column_dimensions
    assert 30 < dims["A"].width < 40
    assert dims["B"].width <= exports.MAX_WIDTH + 1
    assert dims["C"].width >= 10


def test_csv_writes_formula_like_text_as_text():
    lines = exports.to_csv(AWKWARD).decode().splitlines()
    assert lines[3].startswith("'=1+1,'+SUM(A1),'-x,'@cmd,")


def test_pdf_prints_text_as_given():
    pages = PdfReader(io.BytesIO(exports.to_pdf(AWKWARD, "T"))).pages
    assert "=1+1" in pages[0].extract_text() and "'=1+1" not in pages[0].extract_text()


def test_pdf_writes_dates_as_the_pages_do_and_the_csv_keeps_iso():
    frame = pd.DataFrame(
        {
            "Course Date": [date(2024, 3, 1)],
            "Paid": [pd.Timestamp("2024-02-01")],
            "At": [pd.Timestamp("2024-02-01 14:05:09")],
        }
    )
    text = PdfReader(io.BytesIO(exports.to_pdf(frame, "Dates"))).pages[0].extract_text()
    assert "03/01/2024" in text and "02/01/2024 14:05" in text, text
    assert "2024-03-01" not in text and "2024-02-01" not in text
    assert "produced " + f"{config.today():%m/%d/%Y}" in text
    csv = exports.to_csv(frame).decode()
    assert "2024-02-01,2024-02-01T14:05:09" in csv, csv


def _failing_download_page() -> None:
    import streamlit as st

    from cetracker.filters import Filters
    from cetracker.ui import widgets

    def broken() -> object:
        raise ValueError("cannot convert float NaN to integer")

    st.title("Dues")
    widgets.export_buttons(broken, "Dues", Filters(2024), "dues", "t")


def test_a_failed_download_says_so_on_the_page(monkeypatch):
    from cetracker.ui import widgets

    made: list = []
    real = widgets._guarded

    def remember(make, kind, key):
        guarded = real(make, kind, key)
        made.append((kind, guarded))
        return guarded

    monkeypatch.setattr(widgets, "_guarded", remember)
    at = AppTest.from_function(_failing_download_page).run()
    assert not at.error
    excel = next(g for kind, g in made if kind == "Excel")
    with pytest.raises(ValueError):
        excel()  # the download thread: fails, and the failure is kept for the page
    at.run()
    assert len(at.error) == 1
    assert "The Excel file could not be made" in at.error[0].value
    assert "Try the other formats" in at.error[0].value
    at.run()
    assert not at.error  # said once, not on every later run
