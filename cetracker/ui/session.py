"""The signed-in session: database handle, login, and the guard every page calls.

streamlit-authenticator draws the logout button, keeps the signed-in state and owns the
cookie component; the cookie itself names a server-side session
(``cetracker.accounts.sessions``): ``LoginCookie`` takes the place of the library's
cookie controller, so that a cookie is only good while its session is, and a
malformed, unsigned, foreign or ended one is ignored and logged.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import extra_streamlit_components as stx
import streamlit as st
import streamlit_authenticator as stauth
from extra_streamlit_components.CookieManager import _component_func as _cookie_component
from streamlit_authenticator.models import cookie_model

from cetracker import config, rate_limit, scheduler, warmup
from cetracker.accounts import sessions, users
from cetracker.accounts.users import User
from cetracker.errors import CetrackerError
from cetracker.store.db import Database, open_database

COOKIE_NAME = "cetracker_login"


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    db = open_database(path)
    warmup.start(db)  # the Dashboard's figures, ready before the first login
    scheduler.start(db)  # reminders when due, the nightly backup
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

    def get(self, username: str, default: Any = None) -> Any:
        return self[username] if username in self else default


def start_run(db: Database) -> stauth.Authenticate:
    """Build this run's authenticator (it draws nothing: see ``_CookieWriter``)."""
    authn = stauth.Authenticate(
        {"usernames": {}},
        COOKIE_NAME,
        config.secret_key(),
        1.0,
        auto_hash=False,
        login_sleep_time=config.get_login_sleep(),
    )
    authn.authentication_controller.authentication_model.credentials["usernames"] = _Accounts(db)
    # The library reads and writes the cookie through this attribute (login, logout).
    authn.cookie_controller = LoginCookie(db, authn.cookie_controller.cookie_model.cookie_manager)
    st.session_state["_authenticator"] = authn
    return authn


class _CookieWriter(stx.CookieManager):  # type: ignore[misc]
    """extra-streamlit-components' cookie manager, used to write the login cookie only.

    Its own start reads every cookie through its browser component ("getAll"), and the
    component's answer started a second run of every page opened. On a busy server that
    answer could come before the first run had chosen its page: the second run then
    carried no page and opened the home page instead of the address typed or
    bookmarked; and one arriving just after a click on "Log in" swallowed the click. The
    login cookie is read from the tab's first request instead (``browser_cookie``).
    """

    def __init__(self, key: str = "init") -> None:
        self.cookie_manager = _cookie_component
        self.cookies: dict[str, Any] = {}


# The library makes its cookie manager when the authenticator is built; it gets this one.
cookie_model.stx = SimpleNamespace(CookieManager=_CookieWriter)


# Where this Streamlit session keeps its login session's cookie value (server memory).
_SESSION_KEY = "_login_session"


def client_address() -> str | None:
    """The browser's address as the server sees it (None: this machine, or no browser);
    behind a reverse proxy on this machine, the address the proxy saw."""
    try:
        direct = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # outside a script run: no address
        return None
    # (Under AppTest the context is a stand-in whose values are not text: no address.)
    return rate_limit.client_address(
        direct if isinstance(direct, str) else None,
        forwarded if isinstance(forwarded, str) else None,
    )


def browser_cookie() -> str | None:
    """The login cookie the browser sent with this tab's first request, if any."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # a Cookie header Streamlit could not parse is no cookie
        return None
    return value if isinstance(value, str) else None


class LoginCookie:
    """The login cookie as the library's cookie controller, backed by a session row.

    The library calls ``get_cookie`` before drawing its login form, ``set_cookie`` after
    a login and ``delete_cookie`` on logout.
    """

    def __init__(self, db: Database, manager: Any) -> None:
        self._db = db
        self._manager = manager

    def get_cookie(self) -> dict[str, Any] | None:
        """The browser's cookie as the library's token ({"username": …}) when its session
        is live; otherwise None, with the refusal in the Audit Log (once per browser tab)."""
        if st.session_state.get("logout"):
            # The browser's cookies are those of the tab's first request: after a logout
            # they still hold the cookie just ended.
            return None
        token = browser_cookie()
        if not token:
            return None
        try:
            username = sessions.username_for(self._db, token)
        except sessions.CookieRefused as refused:
            if st.session_state.get("_refused_cookie") != token:
                st.session_state["_refused_cookie"] = token
                sessions.record_refusal(self._db, refused, client_address())
            return None
        st.session_state[_SESSION_KEY] = token
        return {"username": username}

    def set_cookie(self) -> None:
        """Start a session for the user just signed in (once) and send its cookie."""
        username = st.session_state.get("username")
        if not username:
            return
        token = st.session_state.get(_SESSION_KEY)
        if token is None:
            session = sessions.start(self._db, username)
            token = st.session_state[_SESSION_KEY] = session.token
        self._manager.set(
            COOKIE_NAME,
            token,
            expires_at=datetime.now() + timedelta(hours=sessions.SESSION_HOURS),
        )

    def delete_cookie(self) -> None:
        """End the session on the server, then remove the browser's copy of the cookie."""
        token = st.session_state.pop(_SESSION_KEY, None)
        if token is not None:
            sessions.end(self._db, token, "logout")
        with contextlib.suppress(KeyError):  # the browser had not reported the cookie yet
            self._manager.delete(COOKIE_NAME)


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
        try:
            authn.authentication_controller.login(token=token)
        except stauth.LoginError:  # the account was disabled meanwhile: no longer known
            st.session_state.pop(_SESSION_KEY, None)


def authenticator() -> stauth.Authenticate:
    return st.session_state["_authenticator"]


def login_form(db: Database) -> None:
    """The login form; audits every success and failure and locks a name after 5 failures.

    Drawn here rather than by the library, to check the lock before the password and
    to count failures for any name typed: a name with no account locks the same way,
    and is told the same words.
    """
    authn = authenticator()
    with st.form("login_form"):
        st.header("Log in to CE Tracker")
        typed = st.text_input("Username", max_chars=200, key="login_username")
        password = st.text_input("Password", type="password", max_chars=200, key="login_password")
        submitted = st.form_submit_button("Log in")
    if st.session_state.pop("_session_ended", False):
        st.info("Your session has ended (signed out, or the password was changed). Log in again.")
    if not submitted:
        return
    if not typed.strip() or not password:
        st.error("Enter your username and password.")
        return
    until = users.locked_until(db, typed)
    if until is not None:
        users.record_login(db, typed, False)
        st.error(users.locked_message(until))
        return
    known = (
        typed.strip().lower()
        in authn.authentication_controller.authentication_model.credentials["usernames"]
    )
    try:
        ok = bool(authn.authentication_controller.login(typed, password))
    except stauth.LoginError:
        ok = False
    if not known and users.disabled_with_password(db, typed, password):
        users.record_login(db, typed, False)
        st.error(users.DISABLED_MESSAGE)
        return
    if ok:
        username = users.canonical_username(db, st.session_state["username"])
        st.session_state["username"] = username
        st.session_state["logout"] = None
        users.record_login(db, typed, True)
        authn.cookie_controller.set_cookie()
        # The cookie sent now is dropped by the rerun below; the first page of the
        # signed-in session sends it again (see ``keep_login_cookie``).
        st.session_state["_send_login_cookie"] = True
        st.rerun()
    st.session_state["authentication_status"] = None
    locked = users.record_login(db, typed, False)
    if locked is not None:
        st.error(users.locked_message(locked))
    else:
        st.error(
            "The username or password is not right. After 5 failed attempts an account "
            "is locked for 15 minutes; an administrator can reset a forgotten password."
        )


def forgot_password(db: Database) -> None:
    """Reset by email when SMTP is set up; otherwise say who can reset it."""
    from cetracker import mail

    smtp = mail.SmtpSettings.from_config()
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
    """Who is signed in, while their session lives on the server.

    A session ended elsewhere (a password change or reset, the account disabled) signs
    this browser tab out at its next run. (A tab signed in without a session row is a
    page run on its own under test: every login here starts one.)
    """
    if not st.session_state.get("authentication_status"):
        return None
    username = st.session_state.get("username")
    token = st.session_state.get(_SESSION_KEY)
    if token is not None and not sessions.is_live(db, token):
        _sign_out_here()
        return None
    return users.load_user(db, username) if username else None


def _sign_out_here() -> None:
    """Forget the signed-in state of this tab (its session is over on the server)."""
    st.session_state.pop(_SESSION_KEY, None)
    authenticator().authentication_controller.logout()
    st.session_state["_session_ended"] = True


def change_own_password(db: Database, user: User, current: str, new: str) -> None:
    """Change the signed-in user's password: every session of theirs ends, this tab gets a
    new one (and a new cookie), so a copy of the old cookie signs nobody in."""
    users.change_password(db, user.username, current, new)
    st.session_state.pop(_SESSION_KEY, None)
    st.session_state["username"] = user.username
    authenticator().cookie_controller.set_cookie()


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
    st.session_state[RUNS] = page_run() + 1
    return user


RUNS = "_page_runs"


def page_run() -> int:
    """How many page runs this session has had (``require`` counts them): what a note
    left for the next run (a save's notice) is dated by."""
    runs: int = st.session_state.get(RUNS, 0)
    return runs


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
