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
frame = reports.conference_detail(db, filters)
members = frame["license_number"].nunique() if len(frame) else 0
cols = st.columns(2)
cols[0].metric("Members", f"{members:,}")
cols[1].metric(
    "Course records",
    f"{int((frame['kind'] != 'total').sum() - (frame['kind'] == 'carryover').sum()):,}",
)
widgets.show_table(widgets.labelled(frame))
widgets.export_buttons(
    lambda: reports.conference_detail(db, filters),
    "Conference Detail Report",
    filters,
    f"conference-detail-{filters.year}",
    "cd_export",
)
