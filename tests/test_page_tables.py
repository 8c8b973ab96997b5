"""How the pages' tables show their cells: dates as the app writes them everywhere else,
and a long text kept from pushing the key numbers off screen."""

from __future__ import annotations

from datetime import date

import pandas as pd

from cetracker.ui import widgets


def test_tables_on_the_pages_write_dates_as_the_pdf_does():
    frame = pd.DataFrame(
        {
            "Course Date": pd.to_datetime(["2024-03-01", "2024-05-02"]),
            "Paid": [date(2024, 2, 1), None],  # a total line has no date
        }
    )
    shown, settings = widgets._dates_for_display(frame)
    assert settings["Course Date"]["type_config"]["format"] == "MM/DD/YYYY"
    assert shown["Paid"].tolist() == ["02/01/2024", ""]


def test_a_long_title_keeps_its_column_to_a_set_width():
    frame = pd.DataFrame(
        {"Course": ["Ethics", "A" * 300], "Hours": [3.0, 2.0], "Status": ["approved", None]}
    )
    assert list(widgets._long_text_columns(frame)) == ["Course"]
    assert widgets._long_text_columns(frame)["Course"]["width"] == "large"
