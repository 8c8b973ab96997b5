"""Users: the administrator's account management (list, add, disable, role and scope, reset)."""

import pandas as pd
import streamlit as st

from cetracker import audit
from cetracker import policy as policies
from cetracker.accounts import users
from cetracker.errors import CetrackerError
from cetracker.members import filter_choices
from cetracker.ui import editing, session, widgets

user = session.require("admin")
db = session.database()

st.title("Users")
accounts = pd.DataFrame(
    users.list_users(db),
    columns=[
        "Username",
        "Role",
        "Email",
        "Linked license",
        "Scope areas",
        "Scope counties",
        "Disabled",
    ],
)
widgets.show_table(accounts, empty="No accounts yet.")
choices = filter_choices(db, user.scope, policies.current_ce_year(db))


FORMS = "users"  # every form of the page, fresh after a change
generation = editing.generation(FORMS)
editing.show_notice(FORMS)
add_tab, change_tab, log_tab = st.tabs(["Add an account", "Change an account", "Logins"])
with add_tab, st.form(f"add_user_{generation}"):
    cols = st.columns(2)
    username = cols[0].text_input("Username", max_chars=60, key=f"new_username_{generation}")
    # No role is chosen for the admin: a new account was an administrator unless changed.
    role = cols[1].selectbox(
        "Role", users.ROLES, index=None, placeholder="Choose a role", key=f"new_role_{generation}"
    )
    email = cols[0].text_input("Email", max_chars=200, key=f"new_email_{generation}")
    password = cols[1].text_input(
        "Password",
        key=f"new_password_{generation}",
        type="password",
        max_chars=200,
        help=f"At least {users.MIN_PASSWORD_LENGTH} characters.",
    )
    link = cols[0].text_input(
        "Member or provider license number", max_chars=40, help="For a member or provider account."
    )
    areas = cols[1].multiselect(
        "Director's areas",
        choices.areas,
        help="Empty areas and counties: the director sees everyone.",
    )
    counties = cols[1].multiselect("Director's counties", choices.counties)
    if st.form_submit_button("Add account", type="primary"):
        try:
            users.add_user(
                db,
                username,
                password,
                role=role,
                email=email or None,
                member_license=link or None if role == "member" else None,
                provider_license=link or None if role == "provider" else None,
                scope_areas=tuple(areas) if role == "director" else (),
                scope_counties=tuple(counties) if role == "director" else (),
                actor=user.username,
            )
        except CetrackerError as exc:
            st.error(exc.message)
        else:
            editing.after_save(FORMS, f"Added {role} {username}.")

with change_tab:
    if accounts.empty:
        st.info("No accounts yet.")
    else:
        chosen = st.selectbox("Account", accounts["Username"].tolist(), key="users_pick")
        cols = st.columns(3)
        with cols[0].form(f"disable_form_{generation}"):
            disabled = bool(accounts.loc[accounts["Username"] == chosen, "Disabled"].iloc[0])
            label = "Enable this account" if disabled else "Disable this account"
            if st.form_submit_button(label):
                try:
                    users.set_disabled(db, chosen, not disabled, actor=user.username)
                except CetrackerError as exc:
                    st.error(exc.message)
                else:
                    editing.after_save(
                        FORMS,
                        f"{chosen} is enabled."
                        if disabled
                        else f"{chosen} is disabled and signed out of every browser.",
                    )
        with cols[1].form(f"reset_form_{generation}"):
            new_password = st.text_input("New password", type="password", max_chars=200)
            if st.form_submit_button("Reset password"):
                try:
                    users.reset_password(db, chosen, new_password, actor=user.username)
                except CetrackerError as exc:
                    st.error(exc.message)
                else:
                    editing.after_save(
                        FORMS,
                        f"The password of {chosen} was reset and they are signed out of "
                        "every browser; tell them the new one in person.",
                    )
        with cols[2].form(f"role_form_{generation}"):
            new_role = st.selectbox("Staff role", ["director", "admin"])
            new_areas = st.multiselect("Areas", choices.areas)
            new_counties = st.multiselect("Counties", choices.counties)
            if st.form_submit_button("Change role and scope"):
                try:
                    users.change_role(
                        db,
                        chosen,
                        new_role,
                        actor=user.username,
                        scope_areas=tuple(new_areas),
                        scope_counties=tuple(new_counties),
                    )
                except CetrackerError as exc:
                    st.error(exc.message)
                else:
                    editing.after_save(FORMS, f"{chosen} is now {new_role}.")

with log_tab:
    st.caption(
        "Logins, failed logins (a name is locked for 15 minutes after 5 failures) and "
        "refused login cookies (forged, foreign, expired or ended sessions)."
    )
    widgets.show_table(audit.recent(db, action="login", limit=200), empty="No logins recorded yet.")
