"""Clerk Dues Report: dues status for the year, with totals paid and outstanding (SPEC §3.6)."""

import streamlit as st

from cetracker import charts, dues, reports
from cetracker.plurals import plural
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Clerk Dues Report")
filters = widgets.filter_bar(db, user, "dues")
totals = dues.totals(db, filters)
frame = reports.dues(db, filters, limit=widgets.MAX_ROWS_SHOWN)
cols = st.columns(4)
cols[0].metric("Members", f"{totals.members:,}")
cols[1].metric("Paid", f"${totals.paid:,.2f}")
cols[2].metric("Outstanding", f"${totals.outstanding:,.2f}")
cols[3].metric(
    "Paid in full",
    f"{totals.paid_in_full:,}",
    help="Members whose dues for the year are paid or waived: they owe nothing.",
)
missing = totals.no_record
if missing:
    st.caption(
        f"{plural(missing, 'member')} with no dues record for {filters.year}: "
        "nothing is recorded as owed (add their dues on Dues Entry)."
    )
left, right = st.columns(2)
with left:
    widgets.chart(charts.dues_status(totals.statuses), "Members by dues status", "dues_chart")
with right:
    widgets.chart(
        charts.dues_by_area(reports.dues_by_area(db, filters)),
        "Paid and outstanding, by area",
        "dues_chart_areas",
    )
widgets.show_table(
    widgets.labelled(frame),
    total=totals.members,
    column_order=[
        "License number",
        "Last name",
        "First name",
        "Status",
        "Amount due",
        "Amount paid",
        "Outstanding",
        "Paid date",
        "Area",
        "County",
    ],
    column_config={
        n: widgets.money_column(n) for n in ("Amount due", "Amount paid", "Outstanding")
    },
)
widgets.export_buttons(
    lambda: reports.dues(db, filters),
    "Clerk Dues Report",
    filters,
    f"dues-{filters.year}",
    "dues_export",
)
