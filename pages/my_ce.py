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
cols[0].metric("Earned", f"{standing.earned:g}")
cols[1].metric("Carried in", f"{standing.carried_in:g}")
cols[2].metric("Credited", f"{standing.credited:g}")
cols[3].metric("Required", f"{standing.required:g}")
cols[4].metric("Short by", f"{standing.short_by:g}")
if standing.eligible:
    st.success(f"You have met the CE requirement for {standing.year}.")
else:
    st.warning(compute.INELIGIBLE_NOTE)
