"""The cell parsers (SPEC §5): values read as people type them, and reasons that say how to fix."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cetracker.rules import cells
from cetracker.rules.cells import (
    date_problem,
    excel_error,
    license_key,
    name_key,
    number_problem,
    parse_date,
    parse_int,
    parse_number,
    shorten,
    text,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 3, 1), date(2024, 3, 1)),
        (datetime(2024, 3, 1, 0, 0), date(2024, 3, 1)),
        (45352.0, date(2024, 3, 1)),  # an Excel serial number
        (45352, date(2024, 3, 1)),  # .xls gives whole numbers as int
        ("45352", date(2024, 3, 1)),
        ("2024-03-01", date(2024, 3, 1)),
        ("2024-3-1", date(2024, 3, 1)),
        ("2024-03-01 00:00:00", date(2024, 3, 1)),
        ("03/01/2024", date(2024, 3, 1)),
        (" 3/1/2024 ", date(2024, 3, 1)),
        ("02/30/2024", None),  # no such day
        ("31/01/2024", None),  # day first is not read as a date: month 31
        ("yesterday", None),
        (45352.5, None),  # a serial with a time of day is not a course date
        (0.0, None),
        (3_000_000.0, None),  # past 9999-12-31
        (True, None),
        ("", None),
        (None, None),
        ("#REF!", None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.5", Decimal("1.5")),
        (" 2 ", Decimal("2")),
        (1.5, Decimal("1.5")),
        (3, Decimal("3")),
        (".5", Decimal("0.5")),
        ("+4", Decimal("4")),
        ("-1", Decimal("-1")),
        ("1,234.5", Decimal("1234.5")),  # grouped thousands AND a decimal point: one reading
        ("1,5", None),  # 1.5 to some, 15 to others: never guessed
        ("1.000,5", None),
        ("1,000", None),
        ("12,500", None),
        ("1 000", None),
        ("2 hrs", None),
        ("1½", None),
        ("nan", None),
        ("inf", None),
        (float("nan"), None),
        (float("inf"), None),
        (True, None),
        ("#DIV/0!", None),
        ("", None),
    ],
)
def test_parse_number(value, expected):
    assert parse_number(value) == expected


def test_parse_int_takes_whole_numbers_only():
    assert parse_int(2025.0) == 2025
    assert parse_int("2025") == 2025
    assert parse_int("2025.5") is None
    assert parse_int("twenty") is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1,5", "CE Hours “1,5” is ambiguous: write 1.5 (a point for decimals"),
        ("-2,25", "CE Hours “-2,25” is ambiguous: write -2.25"),
        ("1.000,5", "CE Hours “1.000,5” is ambiguous: write 1000.5"),
        ("1,000", "CE Hours “1,000” is ambiguous: write 1000, or 1 if the comma marks decimals"),
        ("12,500", "CE Hours “12,500” is ambiguous: write 12500, or 12.5 if the comma"),
        ("lots", "CE Hours “lots” is not a number"),
        ("#REF!", "CE Hours: the cell holds the Excel error #REF! (its formula failed)"),
        (" #N/A ", "CE Hours: the cell holds the Excel error #N/A"),
        ("Err:502", "CE Hours: the cell holds the Excel error Err:502"),
    ],
)
def test_number_problem_says_how_to_write_it(value, reason):
    assert parse_number(value) is None
    assert number_problem(value, "CE Hours").startswith(reason)


def test_date_problem_names_error_cells_and_the_formats():
    assert date_problem("#VALUE!", "Course Date").startswith(
        "Course Date: the cell holds the Excel error #VALUE!"
    )
    assert (
        date_problem("someday", "Course Date")
        == "Course Date “someday” is not a date (use MM/DD/YYYY or YYYY-MM-DD)"
    )


@pytest.mark.parametrize(
    "error", ["#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!"]
)
def test_every_excel_error_is_named(error):
    assert excel_error(error) == error
    assert excel_error(f" {error}") == error
    assert excel_error(error.lower()) is None  # typed text, not what Excel shows
    assert excel_error(f"{error} x") is None


def test_long_values_are_cut_in_reasons():
    long = "9" * 100_000
    reason = number_problem(long + "x", "CE Hours")
    assert len(reason) < cells.REASON_LIMIT
    assert "…" in reason
    assert shorten("abc", 3) == "abc"
    assert shorten("abcd", 3) == "ab…"
    assert len(shorten(long, cells.CELL_LIMIT)) == cells.CELL_LIMIT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Ana ", "Ana"),
        (12345.0, "12345"),
        (12345, "12345"),
        (1.5, "1.5"),
        (True, "TRUE"),
        (None, ""),
        (float("nan"), ""),
        (date(2024, 3, 1), "2024-03-01"),
        (datetime(2024, 3, 1, 9, 30), "2024-03-01 09:30:00"),
    ],
)
def test_text_is_what_a_person_typed(value, expected):
    assert text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ab-12 34", "AB1234"),
        (" 12345 ", "12345"),
        (12345.0, "12345"),
        ("12‐34", "1234"),  # a Unicode hyphen from a word processor
        ("12—34", "1234"),  # an em dash
        ("12\u00a034", "1234"),  # a no-break space
    ],
)
def test_license_key(value, expected):
    assert license_key(value) == expected


@pytest.mark.parametrize(
    ("typed", "held"),
    [
        ("Nunez", "Núñez"),
        ("OBrien", "O'Brien"),
        ("o brien", "O'Brien"),
        ("Odegard", "Ødegård"),
        ("Lukasz", "Łukasz"),
        ("Strasse", "Straße"),
        ("Nguyen", "Nguyễn"),
        ("Smith-Jones", "Smith Jones"),
    ],
)
def test_name_key_matches_what_people_type(typed, held):
    assert name_key(typed) == name_key(held)


def test_name_key_keeps_different_names_apart():
    assert name_key("Smith") != name_key("Smyth")
    assert name_key("") == ""


@given(st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False))
@example(Decimal("1000.5"))
def test_any_plain_number_reads_back(number):
    assert parse_number(str(number)) == number
    assert parse_number(float(number)) == Decimal(repr(float(number)))


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=99))
def test_a_decimal_comma_is_never_read_as_a_bigger_number(whole, decimals):
    typed = f"{whole},{decimals}"
    assert parse_number(typed) is None
    assert f"write {whole}.{decimals}" in number_problem(typed, "CE Hours")


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
def test_every_date_reads_back_in_each_form(day):
    serial = (day - cells.EXCEL_EPOCH).days
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day:%m/%d/%Y}") == day
    assert parse_date(float(serial)) == day
    assert parse_date(str(serial)) == day


def test_letters_are_lowered_and_raised_as_sql_does_for_every_code_point():
    """Category and course-number keys are made in Python and in SQL: for every code point
    they must come out the same (Python's own lower and upper differ on "İ", "Σ", "ß")."""
    import duckdb
    import pyarrow as pa

    letters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    con = duckdb.connect()
    con.register("letters", pa.table({"c": letters}))
    rows = con.execute("SELECT c, lower(c), upper(c) FROM letters").fetchall()
    assert [c for c, low, _ in rows if cells.lower_as_sql(c) != low] == []
    assert [c for c, _, up in rows if cells.upper_as_sql(c) != up] == []
    # Whole words too: a word's last "Σ" stays "σ", "İ" is one letter.
    for word in ("ΟΔΟΣ", "ETHİCS", "Straße", "ᾳδ"):
        assert (cells.lower_as_sql(word), cells.upper_as_sql(word)) == con.execute(
            "SELECT lower(?), upper(?)", [word, word]
        ).fetchone()
