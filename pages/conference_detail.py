"""Conference Detail Report: each member's courses for the year, carryover, and total."""

import streamlit as st

from cetracker import reports
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Conference Detail Report")
st.caption(
    "Every course or conference each member attended in the CE year, the hours carried "
    "over from the year before, and the total credited."
)
filters = widgets.filter_bar(db, user, "cd")
members, records = reports.conference_detail_counts(db, filters)
frame = reports.conference_detail(db, filters, limit=widgets.MAX_ROWS_SHOWN)
cols = st.columns(2)
cols[0].metric("Members", f"{members:,}")
cols[1].metric("Course records", f"{records:,}")
if len(frame) >= widgets.MAX_ROWS_SHOWN:
    st.caption(
        f"Showing the first {widgets.MAX_ROWS_SHOWN:,} lines; narrow the filters to see the "
        "rest here. The downloads below hold every line."
    )
widgets.show_table(
    widgets.labelled(frame),
    # Course and hours first: the carried-over and total lines read at 1400 px.
    column_order=[
        "License number",
        "Last name",
        "First name",
        "Course",
        "Hours",
        "Date",
        "Kind",
        "Course number",
        "Area",
        "County",
    ],
    column_config={
        "Course": st.column_config.TextColumn("Course", width="medium"),
        "Hours": widgets.hours_column("Hours"),
    },
)
widgets.export_buttons(
    lambda: reports.conference_detail(db, filters),
    "Conference Detail Report",
    filters,
    f"conference-detail-{filters.year}",
    "cd_export",
)
