"""Sent Messages: each message sent, who it reached, who read it when, and email outcomes."""

import streamlit as st

from cetracker import messages
from cetracker.plurals import plural
from cetracker.ui import session, widgets

user = session.require("admin", "director")
db = session.database()

st.title("Sent Messages")
sent = messages.sent_list(db, user)
if sent.empty:
    st.info("No messages sent yet.")
    st.stop()
st.caption(f"{plural(len(sent), 'message')} sent" + ("." if user.role == "admin" else " by you."))
widgets.show_table(
    sent.drop(columns=["Message"]),
    column_config={
        "Sent": st.column_config.DatetimeColumn("Sent", format="MM/DD/YYYY HH:mm"),
        "Subject": st.column_config.TextColumn("Subject", width="large"),
    },
)

st.header("Open a message")
chosen = st.selectbox(
    "Message",
    sent["Message"].tolist(),
    key="sent_pick",
    format_func=widgets.distinct_labels(
        sent["Message"].tolist(),
        lambda i: "{} — {:%m/%d/%Y %H:%M}".format(
            *sent.loc[sent["Message"] == i, ["Subject", "Sent"]].iloc[0]
        ),
    ),
)
message = messages.sent_message(db, user, int(chosen))
cols = st.columns(3)
cols[0].metric("Sent to", plural(message.recipients, "member"))
cols[1].metric("Read by", plural(message.read, "member"))
cols[2].metric("Not read yet", plural(message.recipients - message.read, "member"))
with st.container(border=True):
    st.markdown(f"**{widgets.plain(message.subject)}**")
    st.caption(
        f"Sent {message.sent_at:%m/%d/%Y %H:%M} by {widgets.plain(message.sender)}"
        + (f" · replies to {widgets.plain(message.reply_to)}" if message.reply_to else "")
    )
    st.markdown(widgets.message_markdown(message.body))  # raw HTML: shown as text, never run
if message.personalised:
    st.caption("The merge fields ({first_name}, {short_by}, …) were filled in for each recipient.")

unread_only = st.toggle("Only those who have not read it yet", key="sent_unread_only")
recipients = messages.message_recipients(db, user, int(chosen), unread_only=unread_only)
widgets.show_table(
    recipients,
    empty="Everyone has read it." if unread_only else "Nobody received this message.",
    column_config={
        "Email": st.column_config.TextColumn("Email", help="What became of the email copy."),
    },
)
smtp = messages.SmtpSettings.from_config()
failed = int(sent.loc[sent["Message"] == chosen, "Emails failed"].iloc[0])
if smtp and failed and st.button(f"Retry the {plural(failed, 'failed email')}", key="sent_retry"):
    result = messages.email_message(db, int(chosen), smtp, only_failed=True)
    st.success(f"Emailed {result.sent:,}; {plural(result.failed, 'email')} still failed.")
