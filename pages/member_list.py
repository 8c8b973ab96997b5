"""Clerk List: members' contact details (SPEC §3.5)."""

import streamlit as st

from cetracker import reports
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Clerk List")
filters = widgets.filter_bar(db, user, "ml")
count = reports.member_count(db, filters)
frame = reports.member_list(db, filters, limit=widgets.MAX_ROWS_SHOWN)
st.metric("Members", f"{count:,}")
widgets.show_table(widgets.labelled(frame), total=count)
widgets.export_buttons(
    lambda: reports.member_list(db, filters), "Clerk List", filters, "clerk-list", "ml_export"
)
