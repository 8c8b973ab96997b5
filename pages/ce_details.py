"""CE Details: everyone who took the provider's courses, filterable and exportable."""

import streamlit as st

from cetracker import providers
from cetracker.files import exports
from cetracker.ui import session, widgets

user = session.require("provider")
db = session.database()

st.title("CE Details")
st.caption("Everyone recorded for your courses.")
courses = providers.provider_courses(db, user.provider_id)
cols = st.columns([1, 2, 2])
year = cols[0].selectbox(
    "CE year",
    [None, *providers.attendee_years(db, user.provider_id)],
    key="ced_year",
    format_func=lambda y: "All years" if y is None else str(y),
)
course = cols[1].selectbox(
    "Course",
    [""] + courses["Course number"].tolist(),
    key="ced_course",
    format_func=lambda c: c or "All courses",
)
name = cols[2].text_input(
    "Name search", key="ced_name", max_chars=100, help="Part of a name or a license number."
)
frame = providers.attendees(
    db, user.provider_id, year=int(year) if year else None, course_number=course, name=name
)
st.metric("Records", f"{len(frame):,}")
widgets.show_table(frame, empty="Nobody matches these filters.")
st.download_button(
    "Download CSV",
    lambda: exports.to_csv(frame),
    file_name="ce-details.csv",
    mime="text/csv",
    on_click="ignore",
    key="ced_csv",
    icon=":material/download:",
)
