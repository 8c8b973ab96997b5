"""Clerk Dues Report: dues status for the year, with totals paid and outstanding (SPEC §3.6)."""

import streamlit as st

from cetracker import reports
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Clerk Dues Report")
filters = widgets.filter_bar(db, user, "dues")
frame = reports.dues(db, filters)
paid = frame["amount_paid"].sum() if len(frame) else 0.0
due = frame["amount_due"].sum() if len(frame) else 0.0
waived = frame.loc[frame["status"] == "waived", "amount_due"].sum() if len(frame) else 0.0
cols = st.columns(4)
cols[0].metric("Members", f"{len(frame):,}")
cols[1].metric("Paid", f"${paid:,.2f}")
cols[2].metric("Outstanding", f"${max(0.0, due - paid - waived):,.2f}")
cols[3].metric("Paid in full", f"{int((frame['status'] == 'paid').sum()):,}" if len(frame) else "0")
widgets.show_table(widgets.labelled(frame))
widgets.export_buttons(
    lambda: reports.dues(db, filters),
    "Clerk Dues Report",
    filters,
    f"dues-{filters.year}",
    "dues_export",
)
