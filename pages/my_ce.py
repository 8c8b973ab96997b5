"""My CE: the member's own hours for the CE year (the full page comes with its issue)."""

import streamlit as st

from cetracker import compute
from cetracker.mine import my_standing
from cetracker.ui import session

user = session.require("member")
db = session.database()

st.title("My CE")
standing = my_standing(db, user)
cols = st.columns(5)
cols[0].metric("Earned", compute.format_hours(standing.earned))
cols[1].metric("Carried in", compute.format_hours(standing.carried_in))
cols[2].metric("Credited", compute.format_hours(standing.credited))
cols[3].metric("Required", compute.format_hours(standing.required))
cols[4].metric("Short by", compute.format_hours(standing.short_by))
if standing.eligible:
    st.success(f"You have met the CE requirement for {standing.year}.")
else:
    st.warning(compute.INELIGIBLE_NOTE)
