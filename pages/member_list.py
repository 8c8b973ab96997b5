"""Clerk List: members' contact details (SPEC §3.5)."""

import streamlit as st

from cetracker import reports
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Clerk List")
filters = widgets.filter_bar(db, user, "ml")
frame = reports.member_list(db, filters)
st.metric("Members", f"{len(frame):,}")
widgets.show_table(widgets.labelled(frame))
widgets.export_buttons(
    lambda: reports.member_list(db, filters), "Clerk List", filters, "clerk-list", "ml_export"
)
