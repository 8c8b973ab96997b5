"""Messages: what the association sent me; opening one marks it read."""

import streamlit as st

from cetracker import messages
from cetracker.plurals import plural
from cetracker.ui import session, widgets

user = session.require("member")
db = session.database()

st.title("Messages")
box = messages.inbox(db, user)
if box.empty:
    st.info("No messages yet.")
    st.stop()
unread = int((~box["Read"]).sum())
st.caption(f"{plural(len(box), 'message')}, {unread:,} unread.")
if "_inbox_opened" in st.session_state:
    # Chosen again under its new label (no "●"): the box keeps the label it was chosen by.
    st.session_state["inbox_pick"] = st.session_state.pop("_inbox_opened")
chosen = st.selectbox(
    "Open a message",
    box["id"].tolist(),
    index=None,
    key="inbox_pick",
    placeholder="Choose a message to read",
    format_func=widgets.distinct_labels(
        box["id"].tolist(),
        lambda i: (
            ("● " if not box.loc[box["id"] == i, "Read"].iloc[0] else "")
            # The date first: a phone's narrow box cuts the end of a long subject off.
            + "{1:%m/%d/%Y} — {0}".format(*box.loc[box["id"] == i, ["Subject", "Sent"]].iloc[0])
        ),
    ),
)
if chosen is not None:
    was_unread = not bool(box.loc[box["id"] == chosen, "Read"].iloc[0])
    subject, body, reply_to = messages.open_message(db, user, int(chosen))
    if was_unread:
        # The menu's "(1 unread)", the count above and the message's "●" were drawn
        # before this opening marked it read: run the page again so that they say so.
        st.session_state["_inbox_opened"] = chosen
        st.rerun()
    with st.container(border=True):
        st.header(widgets.plain(subject), anchor=False)  # h2: under the h1, no level skipped
        st.markdown(widgets.message_markdown(body))  # raw HTML is shown as text, never run
        if reply_to:
            st.caption(f"To reply, write to {widgets.plain(reply_to)}")
