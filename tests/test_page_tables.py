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
    assert widgets._long_text_columns(frame)["Course"]["width"] == "medium"


def test_times_of_day_are_written_with_the_date_first():
    frame = pd.DataFrame(
        {"Uploaded": pd.to_datetime(["2024-03-01 14:05:09", "2024-03-02 00:00:00"])}
    )
    settings = widgets._dates_for_display(frame)[1]
    assert settings["Uploaded"]["type_config"]["format"] == "MM/DD/YYYY HH:mm"


def test_a_column_of_text_with_no_value_is_not_long():
    frame = pd.DataFrame({"Note": pd.Series([None, None], dtype="string"), "N": [1, 2]})
    assert widgets._long_text_columns(frame) == {}


def _long_title_table() -> None:
    import pandas as pd
    import streamlit as st

    from cetracker.ui import widgets

    frame = pd.DataFrame(
        {"Course": ["A" * 300, "B"], "Email": ["bounced: " + "x" * 80, "sent"], "File": ["f", None]}
    )
    widgets.show_table(
        frame, column_config={"Email": st.column_config.TextColumn("Email", help="Why")}
    )


def test_a_table_keeps_a_long_column_to_a_set_width_beside_the_callers_settings():
    import json

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_long_title_table).run()
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["Course"]["width"] == "medium"
    assert columns["Email"]["width"] == "medium" and columns["Email"]["help"] == "Why"
    # A text cell with nothing in it is blank, not a grey "None" that reads as data.
    assert at.dataframe[0].value["File"].tolist() == ["f", ""]
