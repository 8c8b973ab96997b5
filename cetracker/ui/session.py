"""The signed-in session: database handle, login, and the guard every page calls."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth

from cetracker import config, warmup
from cetracker.accounts import users
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError
from cetracker.store.db import Database, open_database

COOKIE_NAME = "cetracker_login"


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    db = open_database(path)
    warmup.start(db)  # the Dashboard's figures, ready before the first login
    return db


def database() -> Database:
    """The process's one database connection."""
    return _database(config.db_path())


class _Accounts(dict[str, Any]):
    """The accounts the login library sees, each read from the database when it asks.

    The library wants every account up front and changes what it is given; a board's
    200,000 member accounts would be loaded and copied on every page run (~1.3 s).
    """

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    def __missing__(self, username: str) -> dict[str, Any]:
        found = users.account(self._db, username)
        if found is None:
            raise KeyError(username)
        self[username] = found
        return found

    def __contains__(self, username: object) -> bool:
        if dict.__contains__(self, username):
            return True
        if not isinstance(username, str):
            return False
        try:
            self[username]
        except KeyError:
            return False
        return True

    def get(self, username: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[username] if username in self else default


def start_run(db: Database) -> stauth.Authenticate:
    """Build this run's authenticator (it renders the cookie component, so once per run)."""
    with _main_script_identity():
        authn = stauth.Authenticate(
            {"usernames": {}},
            COOKIE_NAME,
            config.secret_key(),
            1.0,
            auto_hash=False,
            login_sleep_time=config.get_login_sleep(),
        )
    authn.authentication_controller.authentication_model.credentials["usernames"] = _Accounts(db)
    st.session_state["_authenticator"] = authn
    return authn


@contextlib.contextmanager
def _main_script_identity() -> Iterator[None]:
    """Give the library's cookie component the same identity in every run of a session.

    Streamlit runs a session's first script run under another page hash than the later
    ones, and the hash is part of an element's identity. The cookie component then
    looks new in the second run, and its answer starts a third run, which could land
    just after a click on "Log in" and swallow it (the login then silently did nothing).
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        yield
        return
    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):
        yield


def restore_login() -> None:
    """Sign a returning browser in from its login cookie before the router runs.

    Done first so that a page opened by its address (or reloaded) is found: the
    router only lists a signed-in user's pages once it knows who that is.
    """
    if st.session_state.get("authentication_status"):
        return
    authn = authenticator()
    # What the library's own login does with a cookie, without drawing its form.
    token = authn.cookie_controller.get_cookie()
    if token:
        authn.authentication_controller.login(token=token)


def authenticator() -> stauth.Authenticate:
    return st.session_state["_authenticator"]


def _failed_attempts(authn: stauth.Authenticate) -> dict[str, int]:
    users = authn.authentication_controller.authentication_model.credentials["usernames"]
    return {name: int(u.get("failed_login_attempts", 0) or 0) for name, u in users.items()}


def login_form(db: Database) -> None:
    """The login form; audits every success and failure and locks an account after 5 failures."""
    authn = authenticator()
    before = _failed_attempts(authn)
    try:
        authn.login(
            location="main",
            fields={
                "Form name": "Log in to CE Tracker",
                "Username": "Username",
                "Password": "Password",
                "Login": "Log in",
            },
            key="login_form",
        )
    except Exception:  # the library raises for its own limits; the message below is enough
        st.session_state["authentication_status"] = False
    status = st.session_state.get("authentication_status")
    if status:
        users.record_login(db, st.session_state["username"], True)
        # The cookie the library sends now is dropped by the rerun below; the first page
        # of the signed-in session sends it again (see ``keep_login_cookie``).
        st.session_state["_send_login_cookie"] = True
        st.rerun()
    elif status is False:
        after = _failed_attempts(authn)
        for name, count in after.items():
            if count > before.get(name, 0):
                users.record_login(db, name, False)
        st.error(
            "The username or password is not right. After 5 failed attempts an account "
            "is locked for 15 minutes; an administrator can reset a forgotten password."
        )


def forgot_password(db: Database) -> None:
    """Reset by email when SMTP is set up; otherwise say who can reset it."""
    from cetracker import messages

    smtp = messages.SmtpSettings.from_config()
    with st.expander("Forgot your password?"):
        if smtp is None:
            st.write("Ask the association office: an administrator can reset it for you.")
            return
        with st.form("reset_request"):
            who = st.text_input("Your username or email", max_chars=200, key="reset_who")
            if st.form_submit_button("Email me a reset code"):
                try:
                    users.request_reset(db, who, smtp)
                    st.success(users.RESET_SENT)
                except CetrackerError as exc:
                    st.error(exc.message)
        with st.form("reset_confirm"):
            username = st.text_input("Username", max_chars=60, key="reset_username")
            code = st.text_input("Reset code from the email", max_chars=40, key="reset_code")
            password = st.text_input(
                "New password", type="password", max_chars=200, key="reset_password"
            )
            if st.form_submit_button("Set my new password"):
                try:
                    users.reset_with_code(db, username.strip(), code, password)
                    st.success("Your password is changed. Log in with it now.")
                except CetrackerError as exc:
                    st.error(exc.message)


def current_user(db: Database) -> User | None:
    if not st.session_state.get("authentication_status"):
        return None
    username = st.session_state.get("username")
    return users.load_user(db, username) if username else None


def keep_login_cookie() -> None:
    """Store the login cookie, so that a page reload keeps the user signed in."""
    if st.session_state.pop("_send_login_cookie", False):
        with st.sidebar:
            authenticator().cookie_controller.set_cookie()


def logout_button() -> None:
    authenticator().logout("Log out", location="sidebar", key="logout_button")


def require(*roles: str) -> User:
    """The server-side guard: call first on every page. Stops the page for anyone else."""
    db = database()
    user = current_user(db)
    if user is None or user.role not in roles:
        st.error("Not allowed: your account cannot open this page.")
        st.stop()
    return user


def show_error(exc: CetrackerError) -> None:
    st.error(exc.message)


def state_default(key: str, value: Any) -> Any:
    if key not in st.session_state:
        st.session_state[key] = value
    return st.session_state[key]


def browsing_base_url() -> str:
    """The address this app is being browsed at (scheme, host, port and base path): what a
    certificate's QR code leads to while no public address is configured."""
    from urllib.parse import urlsplit

    base_path = str(st.get_option("server.baseUrlPath") or "").strip("/")
    suffix = f"/{base_path}" if base_path else ""
    parts = urlsplit(st.context.url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}{suffix}"
    host = st.context.headers.get("Host", "")
    if host and "/" not in host:
        scheme = st.context.headers.get("X-Forwarded-Proto", "http").split(",")[0].strip()
        return f"{scheme if scheme in ('http', 'https') else 'http'}://{host}{suffix}"
    return ""
