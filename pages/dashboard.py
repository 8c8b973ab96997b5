"""Dashboard: the landing page for admins and directors (SPEC §3.8)."""

import streamlit as st

from cetracker import charts, dashboard
from cetracker import policy as policies
from cetracker.members import filter_choices
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Dashboard")
current = policies.current_ce_year(db)
choices = filter_choices(db, user.scope, current)
cols = st.columns([1, 3])
year = int(
    cols[0].selectbox(
        "CE year",
        choices.years,
        index=list(choices.years).index(current) if current in choices.years else 0,
        key="dash_year",
        help="The CE year the figures are for; the trend shows it and the four before.",
    )
)
areas = cols[1].multiselect(
    "Area", choices.areas, key="dash_area", help="Leave empty for every area you may see."
)
# The headline first: the trend's earlier years may still be worked out below it.
figures = dashboard.headline(db, user.scope, year, tuple(areas))
cols = st.columns(4)
# Labels short enough for a quarter of the page (a longer one was cut off with "…").
cols[0].metric(
    "Active members",
    f"{figures.members:,}",
    help="Members with status active: this count and the eligible share leave inactive "
    "members out.",
)
cols[1].metric(
    f"Eligible for {year}",
    f"{figures.eligible_share:.0%}",
    help="The share of active members who have met the year's requirement. The Hour "
    "Summary lists inactive members too, and counts them as not eligible.",
)
cols[2].metric(f"Dues paid for {year}", f"{figures.dues_paid_share:.0%}")
cols[3].metric(
    "Awaiting review",
    f"{figures.pending:,}",
    help="Courses members reported themselves that wait for an admin's approval.",
)
left, right = st.columns(2)
with left:
    widgets.chart(
        charts.not_eligible_by_area(figures.not_eligible_by_area),
        "Not eligible, by area",
        "dash_not_eligible",
    )
with right:
    widgets.chart(
        charts.hours_by_month(figures.hours_by_month), "Hours earned, by month", "dash_months"
    )
widgets.chart(
    charts.eligible_trend(dashboard.trend(db, user.scope, year, tuple(areas))),
    "Members eligible, year by year",
    "dash_trend",
)
