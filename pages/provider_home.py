"""CE Profile: the provider's name, license, contact and courses (seed: "CE Profile")."""

import streamlit as st

from cetracker import providers
from cetracker.ui import session, widgets

user = session.require("provider")
db = session.database()
profile = providers.provider_profile(db, user)

st.title("CE Profile")
st.header(widgets.plain(profile["name"]))
cols = st.columns(3)
cols[0].markdown(f"**Provider license number**  \n{profile['license_number']}")
cols[1].markdown(f"**Contact**  \n{widgets.plain(profile['contact'] or '—')}")
cols[2].markdown(
    f"**Email / phone**  \n{widgets.plain(profile['email'] or '—')} · "
    f"{widgets.plain(profile['phone'] or '—')}"
)
st.header("Courses")
widgets.show_table(
    providers.provider_courses(db, user.provider_id),
    empty="No courses are listed for you yet; the association adds them.",
)
