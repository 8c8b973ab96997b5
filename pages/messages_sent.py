"""Sent Messages: how many each message went to, how many read it, and email outcomes."""

import streamlit as st

from cetracker import messages
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Sent Messages")
sent = messages.sent_list(db, user)
if sent.empty:
    st.info("No messages sent yet.")
    st.stop()
widgets.show_table(sent.drop(columns=["Message"]))
chosen = st.selectbox(
    "Message",
    sent["Message"].tolist(),
    key="sent_pick",
    format_func=lambda i: sent.loc[sent["Message"] == i, "Subject"].iloc[0],
)
st.markdown("**Not read yet by**")
widgets.show_table(messages.not_read_by(db, user, int(chosen)), empty="Everyone has read it.")
smtp = messages.SmtpSettings.from_config()
failed = int(sent.loc[sent["Message"] == chosen, "Emails failed"].iloc[0])
if smtp and failed and st.button(f"Retry the {failed} failed emails", key="sent_retry"):
    result = messages.email_message(db, int(chosen), smtp, only_failed=True)
    st.success(f"Emailed {result.sent}; {result.failed} still failed.")
