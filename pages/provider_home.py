"""CE Profile: the provider's own details (its courses and rosters come with their issue)."""

import streamlit as st

from cetracker.providers import provider_profile
from cetracker.ui import session

user = session.require("provider")
db = session.database()
profile = provider_profile(db, user)
st.title("CE Profile")
st.subheader(profile["name"])
st.write(f"Provider license number: **{profile['license_number']}**")
