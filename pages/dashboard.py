"""Dashboard: the landing page for admins and directors (SPEC §3.8)."""

import streamlit as st

from cetracker import dashboard
from cetracker import policy as policies
from cetracker.ui import session

user = session.require("admin", "director")
db = session.database()

st.title("Dashboard")
year = policies.current_ce_year(db)
figures = dashboard.figures(db, user.scope, year)
cols = st.columns(4)
cols[0].metric("Active members", f"{figures.members:,}")
cols[1].metric(f"Eligible for {year}", f"{figures.eligible_share:.0%}")
cols[2].metric(f"Dues paid for {year}", f"{figures.dues_paid_share:.0%}")
cols[3].metric("Self-reported courses awaiting review", f"{figures.pending:,}")
left, right = st.columns(2)
with left:
    st.subheader("Short of hours, by area")
    st.plotly_chart(dashboard.short_by_area_chart(figures), width="stretch")
with right:
    st.subheader("Hours earned, by month")
    st.plotly_chart(dashboard.hours_by_month_chart(figures), width="stretch")
st.subheader("Members eligible, year by year")
st.plotly_chart(dashboard.trend_chart(figures), width="stretch")
