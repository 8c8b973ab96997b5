"""Audit Log: who changed what, and when (admins only)."""

import streamlit as st

from cetracker import audit
from cetracker.ui import session, widgets

session.require("admin")
db = session.database()

st.title("Audit Log")
cols = st.columns(2)
actor = cols[0].text_input("Who (username)", key="audit_actor", max_chars=60)
action = cols[1].text_input(
    "What (contains)",
    key="audit_action",
    max_chars=60,
    help="For example: login, roster, password, user.",
)
widgets.show_table(
    audit.recent(db, actor=actor.strip(), action=action.strip()), empty="Nothing recorded matches."
)
