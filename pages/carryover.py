"""Carryover Report: members with hours carried from the year before (SPEC §3.7)."""

import streamlit as st

from cetracker import charts, reports
from cetracker.rules import compute
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Carryover Report")
st.caption("Hours earned beyond the requirement in the year before roll over, up to the cap.")
filters = widgets.filter_bar(db, user, "co")
members, hours = reports.carryover_totals(db, filters)
frame = reports.carryover(db, filters, limit=widgets.MAX_ROWS_SHOWN)
cols = st.columns(2)
cols[0].metric("Members with carryover", f"{members:,}")
cols[1].metric("Hours carried", compute.format_hours(hours, grouped=True))
if members:
    widgets.chart(
        charts.carried_hours(reports.carried_buckets(db, filters)),
        "Members by hours carried over",
        "co_chart",
    )
widgets.show_table(
    widgets.labelled(frame),
    empty="No member matching these filters carried hours.",
    total=members,
    column_order=[
        "License number",
        "Last name",
        "First name",
        "Carried in",
        "Earned",
        "Credited",
        "Area",
        "County",
        "Position",
    ],
    column_config={n: widgets.hours_column(n) for n in ("Carried in", "Earned", "Credited")},
)
widgets.export_buttons(
    lambda: reports.carryover(db, filters),
    "Carryover Report",
    filters,
    f"carryover-{filters.year}",
    "co_export",
)
