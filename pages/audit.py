"""Audit Log: who changed what, and when (admins only)."""

from datetime import date, timedelta

import streamlit as st

from cetracker import audit
from cetracker.plurals import plural
from cetracker.ui import session, widgets

session.require("admin")
db = session.database()

st.title("Audit Log")
cols = st.columns(4)
actor = cols[0].text_input("Who (username)", key="audit_actor", max_chars=60)
action = cols[1].text_input(
    "What (contains)",
    key="audit_action",
    max_chars=60,
    help="For example: login, roster, password, member, policy, closed.",
)
entity = cols[2].selectbox(
    "Kind of record",
    ["", *audit.entities(db)],
    key="audit_entity",
    format_func=lambda e: e.replace("_", " ").capitalize() if e else "Any",
)
# The log is stamped by the clock (not CETRACKER_TODAY, the rules' date): so is its range.
period = cols[3].date_input(
    "Between",
    value=(date.today() - timedelta(days=90), date.today()),
    format="MM/DD/YYYY",
    key="audit_period",
)
since, until = (tuple(period) + (None, None))[:2] if isinstance(period, tuple) else (period, None)
entries = audit.recent(
    db, actor=actor.strip(), action=action.strip(), entity=entity, since=since, until=until
)
st.caption(f"{plural(len(entries), 'entry')} (newest first, at most 500)")
widgets.show_table(entries, empty="Nothing recorded matches.")
