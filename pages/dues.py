"""Clerk Dues Report: dues status for the year, with totals paid and outstanding (SPEC §3.6)."""

import streamlit as st

from cetracker import reports
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Clerk Dues Report")
filters = widgets.filter_bar(db, user, "dues")
totals = reports.dues_totals(db, filters)
frame = reports.dues(db, filters, limit=widgets.MAX_ROWS_SHOWN)
cols = st.columns(4)
cols[0].metric("Members", f"{totals.members:,}")
cols[1].metric("Paid", f"${totals.paid:,.2f}")
cols[2].metric("Outstanding", f"${totals.outstanding:,.2f}")
cols[3].metric("Paid in full", f"{totals.paid_in_full:,}")
widgets.show_table(widgets.labelled(frame), total=totals.members)
widgets.export_buttons(
    lambda: reports.dues(db, filters),
    "Clerk Dues Report",
    filters,
    f"dues-{filters.year}",
    "dues_export",
)
