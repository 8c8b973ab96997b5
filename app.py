"""CE Tracker: the login gate and the router. Pages are listed by role; nothing else lives here."""

import streamlit as st

from cetracker import config
from cetracker.ui import session

st.set_page_config(page_title="CE Tracker", page_icon=":material/school:", layout="wide")

db = session.database()
session.start_run(db)
user = session.current_user(db)

PUBLIC = [
    st.Page(
        "pages/verify.py",
        title="Verify a certificate",
        icon=":material/verified:",
        url_path="verify",
    )
]

if user is None:

    def login() -> None:
        st.title("CE Tracker")
        st.caption(config.association_name())
        session.login_form(db)

    st.navigation([st.Page(login, title="Log in", icon=":material/login:"), *PUBLIC]).run()
    st.stop()

REPORTS = [
    st.Page(
        "pages/hour_summary.py",
        title="Hour Summary",
        icon=":material/schedule:",
        url_path="hour-summary",
    ),
]
MEMBER = [
    st.Page("pages/my_ce.py", title="My CE", icon=":material/person:", url_path="my-ce"),
]
pages: dict[str, list[st.Page]] = {}
if user.role in ("admin", "director"):
    pages["Reports"] = REPORTS
elif user.role == "member":
    pages["My CE"] = MEMBER
elif user.role == "provider":
    pages["Provider"] = [
        st.Page(
            "pages/provider_home.py",
            title="CE Profile",
            icon=":material/badge:",
            url_path="provider",
        )
    ]
pages["Public"] = PUBLIC

with st.sidebar:
    st.markdown(f"**{user.display_name}**  \n{user.role.title()} · {config.association_name()}")
    session.logout_button()
session.keep_login_cookie()

st.navigation(pages).run()
