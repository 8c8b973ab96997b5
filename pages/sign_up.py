"""Sign Up: a provider creates its account with its provider license number; a member
activates theirs with their license number and the email on file (public)."""

from collections.abc import Callable

import streamlit as st

from cetracker.accounts import users
from cetracker.errors import CetrackerError
from cetracker.ui import session

db = session.database()


def account_form(
    key: str,
    license_label: str,
    email_label: str,
    button: str,
    create: Callable[[str, str, str, str], None],
) -> None:
    """License number, email, username and password; ``create`` makes the account."""
    with st.form(key):
        license_number = st.text_input(license_label, max_chars=40)
        email = st.text_input(email_label, max_chars=200)
        username = st.text_input("Choose a username", max_chars=60)
        password = st.text_input(
            "Choose a password",
            type="password",
            max_chars=200,
            help=f"At least {users.MIN_PASSWORD_LENGTH} characters, not your username.",
        )
        if st.form_submit_button(button, type="primary"):
            try:
                create(license_number, email, username, password)
            except CetrackerError as exc:
                st.error(exc.message)
            else:
                st.success("Your account is ready. Log in with your new username and password.")


st.title("Sign Up")
provider_tab, member_tab = st.tabs(["Course provider", "Member"])
with provider_tab:
    st.caption("Course providers: enter the provider license number the association gave you.")
    account_form(
        "provider_signup",
        "Provider license number",
        "Email",
        "Create provider account",
        lambda lic, email, user, pw: users.sign_up_provider(db, lic, user, pw, email),
    )
with member_tab:
    st.caption(
        "Members: activate your account with your license number and the email "
        "address the association has on file for you."
    )
    account_form(
        "member_activation",
        "License number",
        "Email on file",
        "Activate my account",
        lambda lic, email, user, pw: users.activate_member(db, lic, email, user, pw),
    )
