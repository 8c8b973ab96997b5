"""Sign Up: a provider creates its account with its provider license number; a member
activates theirs with their license number and the email on file (public)."""

import streamlit as st

from cetracker import auth
from cetracker.errors import CetrackerError
from cetracker.ui import session

db = session.database()

st.title("Sign Up")
provider_tab, member_tab = st.tabs(["Course provider", "Member"])

with provider_tab:
    st.caption("Course providers: enter the provider license number the association gave you.")
    with st.form("provider_signup", clear_on_submit=False):
        license_number = st.text_input("Provider license number", max_chars=40)
        email = st.text_input("Email", max_chars=200)
        username = st.text_input("Choose a username", max_chars=60)
        password = st.text_input(
            "Choose a password",
            type="password",
            max_chars=200,
            help=f"At least {auth.MIN_PASSWORD_LENGTH} characters, not your username.",
        )
        if st.form_submit_button("Create provider account", type="primary"):
            try:
                auth.sign_up_provider(db, license_number, username, password, email)
            except CetrackerError as exc:
                st.error(exc.message)
            else:
                st.success("Your account is ready. Log in with your new username and password.")

with member_tab:
    st.caption(
        "Members: activate your account with your license number and the email "
        "address the association has on file for you."
    )
    with st.form("member_activation", clear_on_submit=False):
        license_number = st.text_input("License number", max_chars=40)
        email = st.text_input("Email on file", max_chars=200)
        username = st.text_input("Choose a username", max_chars=60)
        password = st.text_input(
            "Choose a password",
            type="password",
            max_chars=200,
            help=f"At least {auth.MIN_PASSWORD_LENGTH} characters, not your username.",
        )
        if st.form_submit_button("Activate my account", type="primary"):
            try:
                auth.activate_member(db, license_number, email, username, password)
            except CetrackerError as exc:
                st.error(exc.message)
            else:
                st.success("Your account is ready. Log in with your new username and password.")
