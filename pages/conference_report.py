"""Conference Report: who attended a chosen course or conference (SPEC §3.4)."""

import streamlit as st

from cetracker import charts, reports
from cetracker.rules import compute
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Conference Report")
filters = widgets.filter_bar(db, user, "conf")
choices = reports.course_choices(db, filters.year)
if not choices:
    st.info(f"No courses or conferences are listed for {filters.year}.")
    st.stop()
course = st.selectbox(
    "Course or conference",
    choices,
    key="conf_course",
    format_func=lambda c: f"{c[0]} — {c[1]}",
    help="The courses and conferences held in the chosen CE year.",
)
frame = reports.conference(db, filters, course[0])
attendees, hours = reports.conference_figures(frame)
cols = st.columns(2)
cols[0].metric("Attendees", f"{attendees:,}", help="Members, however many days each came.")
cols[1].metric(
    "Approved hours",
    compute.format_hours(hours, grouped=True),
    help="Pending records are listed below with their status; their hours count once approved.",
)
if len(frame):
    widgets.chart(charts.attendance_by_area(frame), "Attendees by area", "conf_chart")
widgets.show_table(
    widgets.labelled(frame),
    empty="Nobody matching these filters attended.",
    column_order=[
        "License number",
        "Last name",
        "First name",
        "Hours",
        "Date",
        "Status",
        "Area",
        "County",
    ],
    column_config={"Hours": widgets.hours_column("Hours")},
)
widgets.export_buttons(
    lambda: reports.conference(db, filters, course[0]),
    "Conference Report",
    filters,
    f"conference-{course[0]}",
    "conf_export",
)
