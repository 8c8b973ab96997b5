"""My Account: who is signed in, and a change of one's own password (every role)."""

import streamlit as st

from cetracker.accounts import users
from cetracker.errors import CetrackerError
from cetracker.ui import session, widgets

user = session.require("admin", "director", "provider", "member")
db = session.database()

st.title("My Account")
st.markdown(f"Signed in as **{widgets.plain(user.username)}** ({user.role}).")

st.header("Change my password")
st.caption(
    "Changing it signs you out everywhere else: other browsers and devices must log in "
    "with the new password."
)
with st.form("change_password", clear_on_submit=True):
    current = st.text_input(
        "Current password", type="password", max_chars=200, key="account_current"
    )
    new = st.text_input(
        "New password",
        type="password",
        max_chars=200,
        key="account_new",
        help=f"At least {users.MIN_PASSWORD_LENGTH} characters.",
    )
    again = st.text_input("New password again", type="password", max_chars=200, key="account_again")
    if st.form_submit_button("Change password", type="primary"):
        if new != again:
            st.error("The two new passwords differ; type the same one twice.")
        else:
            try:
                session.change_own_password(db, user, current, new)
            except CetrackerError as exc:
                st.error(exc.message)
            else:
                st.success(
                    "Your password is changed. You stay signed in here; everywhere else "
                    "you are signed out."
                )
