"""Server-side sessions and locks (SPEC §8): a copied login cookie dies with its session;
a malformed, unsigned, foreign or expired cookie is ignored and logged; a lock says until
when, in the same words whether or not the name has an account."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from cetracker.accounts import sessions, users
from cetracker.demo import DEMO_PASSWORDS
from cetracker.errors import CetrackerError
from cetracker.ui import session as ui_session

APP = str(Path(__file__).parents[1] / "app.py")


def refusal(db, token: str) -> str:
    with pytest.raises(sessions.CookieRefused) as refused:
        sessions.username_for(db, token)
    return refused.value.reason


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- the session store -------------------------------------------------------------------


def test_a_session_signs_in_until_logout(demo_db):
    session = sessions.start(demo_db, "member")
    assert sessions.username_for(demo_db, session.token) == "member"
    sessions.end(demo_db, session.token, "logout")
    assert refusal(demo_db, session.token) == "the session ended (logout)"
    actions = demo_db.rows("SELECT actor, action FROM audit_log ORDER BY id DESC LIMIT 1")
    assert actions == [("member", "logout")]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda db: users.reset_password(db, "director", "a-new-password", actor="admin"), "reset"),
        (lambda db: users.set_disabled(db, "director", True, actor="admin"), "disabled"),
        (
            lambda db: users.change_password(
                db, "director", DEMO_PASSWORDS["director"], "a-new-password"
            ),
            "changed",
        ),
    ],
    ids=["reset", "disable", "change"],
)
def test_reset_disable_and_change_end_every_session_of_that_user_only(demo_db, change, why):
    mine = [sessions.start(demo_db, "director") for _ in range(3)]
    other = sessions.start(demo_db, "member")
    change(demo_db)
    for session in mine:
        assert why in refusal(demo_db, session.token)
    assert sessions.live_count(demo_db, "director") == 0
    assert sessions.username_for(demo_db, other.token) == "member"


def test_a_password_change_needs_the_current_password(demo_db):
    session = sessions.start(demo_db, "member")
    with pytest.raises(CetrackerError, match="current password is not right"):
        users.change_password(demo_db, "member", "a-wrong-password", "a-new-password")
    assert sessions.is_live(demo_db, session.token)
    assert users.verify_password(demo_db, "member", DEMO_PASSWORDS["member"])


def test_an_expired_session_signs_nobody_in(demo_db):
    old = sessions.start(demo_db, "member", now=datetime.now() - timedelta(days=2))
    assert refusal(demo_db, old.token) == "expired"


def test_hostile_cookies_are_refused_with_a_reason(demo_db):
    real = sessions.start(demo_db, "admin").token
    header, payload, signature = real.split(".")
    claims = jwt.decode(real, sessions._signing_key(), algorithms=["HS256"])
    none_alg = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    assert "'none' refused" in refusal(demo_db, none_alg)
    assert "'None' refused" in refusal(demo_db, f"{b64({'alg': 'None'})}.{payload}.{signature}")
    assert "'HS512' refused" in refusal(
        demo_db, jwt.encode(claims, sessions._signing_key() * 2, algorithm="HS512")
    )
    unsigned = f"{header}.{payload}."
    assert "signature" in refusal(demo_db, unsigned)
    foreign = jwt.encode(
        claims, "another server's key, as long as a real one is", algorithm="HS256"
    )
    assert "signature" in refusal(demo_db, foreign)
    # Another user's name on a real session: the signature no longer matches.
    altered = f"{header}.{b64({**claims, 'sub': 'member'})}.{signature}"
    assert "signature" in refusal(demo_db, altered)
    # Signed with our key but naming no session (an old-style cookie of the library).
    old_style = jwt.encode(
        {"username": "admin", "exp_date": 9e9}, sessions._signing_key(), algorithm="HS256"
    )
    assert refusal(demo_db, old_style) == "not a login token of CE Tracker"
    made_up = jwt.encode(
        {"sid": "guessed", "sub": "admin", "exp": 9_999_999_999},
        sessions._signing_key(),
        algorithm="HS256",
    )
    assert refusal(demo_db, made_up) == "no such session"
    for junk in ["", "x", "a.b.c", "..", "ä.ö.ü", real + "x" * 5000, "eyJ" * 3]:
        assert refusal(demo_db, junk) == "not a login token"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=300),
        st.builds(
            lambda h, p, s: f"{h}.{p}.{s}",
            st.one_of(
                st.text(max_size=40),
                st.builds(b64, st.dictionaries(st.text(max_size=5), st.text(max_size=5))),
            ),
            st.one_of(st.text(max_size=60), st.builds(b64, st.binary(max_size=60))),
            st.text(max_size=60),
        ),
    )
)
def test_no_cookie_text_raises_anything_but_a_refusal(demo_db, token):
    with pytest.raises(sessions.CookieRefused):
        sessions.username_for(demo_db, token)


# -- locks --------------------------------------------------------------------------------


def test_a_lock_says_until_when_in_the_same_words_for_any_name(demo_db):
    now = datetime(2026, 3, 2, 10, 27)
    for name in ("director", "nobody-has-this-name"):
        for _ in range(users.MAX_FAILED_LOGINS - 1):
            assert users.record_login(demo_db, name, False, now=now) is None
        until = users.record_login(demo_db, name, False, now=now)
        assert until == datetime(2026, 3, 2, 10, 42)
    assert users.locked_message(until, now=now) == (
        "This account is locked until 10:42 after 5 failed logins. Try again then, or ask "
        "an administrator to reset the password."
    )


def test_failures_far_apart_do_not_lock(demo_db):
    start = datetime.now() - timedelta(hours=3)
    for i in range(2 * users.MAX_FAILED_LOGINS):
        users.record_login(demo_db, "member", False, now=start + timedelta(minutes=20 * i))
    assert users.locked_until(demo_db, "member") is None


def login(username: str, password: str, at: AppTest | None = None) -> AppTest:
    at = at or AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    at.run()
    # In a browser the login cookie's component answers and the app runs once more;
    # only then do the signed-in widgets keep their identity (the first run after the
    # login still ran under the login page).
    return at.run() if signed_in(at) else at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_locked_login_is_told_until_when_whether_or_not_the_name_exists(demo_db_path, demo_db):
    told = {}
    for name in ("director", "no-such-user"):
        for _ in range(users.MAX_FAILED_LOGINS - 1):
            login(name, "not-the-password")
        told[name] = errors(login(name, "not-the-password"))
        # Even the right password is refused while the lock lasts.
        right = login(name, DEMO_PASSWORDS.get(name, "whatever-it-is"))
        assert not right.exception and "Dashboard" not in [t.value for t in right.title]
        told[name + " after"] = errors(right)
    # The same words; only the time may differ (the two locks began seconds apart).
    same = {name: [re.sub(r"\d\d:\d\d", "HH:MM", e) for e in shown] for name, shown in told.items()}
    assert same["director"] == same["no-such-user"]
    assert same["director after"] == same["no-such-user after"]
    for name in ("director", "no-such-user"):
        until = users.locked_until(demo_db, name)
        assert told[name][0].startswith(f"This account is locked until {until:%H:%M} ")
        assert told[name + " after"] == told[name]


# -- the app: cookies replayed --------------------------------------------------------------


def open_with_cookie(monkeypatch: pytest.MonkeyPatch, token: str | None) -> AppTest:
    """A new browser tab whose first request carried ``token`` as the login cookie."""
    monkeypatch.setattr(ui_session, "browser_cookie", lambda: token)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    return at


def signed_in(at: AppTest) -> bool:
    """No login form, and the app holds someone signed in."""
    return bool(at.session_state["authentication_status"]) and not any(
        t.label == "Username" for t in at.text_input
    )


def shows_login_form(at: AppTest) -> bool:
    return not at.exception and any(t.label == "Username" for t in at.text_input)


def test_a_copied_cookie_works_until_logout(demo_db_path, demo_db, monkeypatch):
    at = login("member", DEMO_PASSWORDS["member"])
    assert signed_in(at)
    cookie = at.session_state["_login_session"]
    copy = open_with_cookie(monkeypatch, cookie)
    assert signed_in(copy) and "My CE" in [t.value for t in copy.title]
    at.sidebar.button(key="logout_button").click().run()
    # The browser's answer to the cookie's removal runs the app again (here by hand).
    assert not signed_in(at.run()) and shows_login_form(at)
    replay = open_with_cookie(monkeypatch, cookie)
    assert not signed_in(replay) and shows_login_form(replay)
    # The tab that still held the copy is signed out at its next run, and told why.
    copy.run()
    assert not signed_in(copy) and shows_login_form(copy)
    assert any("session has ended" in i.value for i in copy.info)
    logged = demo_db.rows(
        "SELECT detail FROM audit_log WHERE action = 'login cookie refused' ORDER BY id"
    )
    assert logged and "the session ended (logout)" in logged[-1][0]


def test_a_copied_cookie_dies_with_a_password_change(demo_db_path, demo_db, monkeypatch):
    at = login("provider", DEMO_PASSWORDS["provider"])
    old = at.session_state["_login_session"]
    at.switch_page("pages/account.py").run()
    at.text_input(key="account_current").input(DEMO_PASSWORDS["provider"])
    at.text_input(key="account_new").input("a-brand-new-password")
    at.text_input(key="account_again").input("a-brand-new-password")
    at.button[-1].click().run()
    assert any("password is changed" in s.value for s in at.success), errors(at)
    assert not open_with_cookie(monkeypatch, old).exception
    assert not signed_in(open_with_cookie(monkeypatch, old))
    # This tab stays signed in, on a new session whose cookie works.
    new = at.session_state["_login_session"]
    assert new != old and signed_in(at.run())
    assert signed_in(open_with_cookie(monkeypatch, new))


def test_a_disabled_account_is_signed_out_of_an_open_tab(demo_db_path, demo_db):
    at = login("director", DEMO_PASSWORDS["director"])
    assert signed_in(at)
    users.set_disabled(demo_db, "director", True, actor="admin")
    at.run()
    # Under AppTest the page's own guard answers (it runs without the router here); in a
    # browser the router shows the login form. Either way nothing of the Dashboard shows.
    assert not at.exception and not at.session_state["authentication_status"]
    assert not at.metric and (shows_login_form(at) or "Not allowed" in errors(at)[0])


@pytest.mark.parametrize(
    "cookie",
    [
        "not-a-token",
        b64({"alg": "none", "typ": "JWT"})
        + "."
        + b64({"username": "admin", "exp_date": 9e9})
        + ".",
        b64({"alg": "none"}) + "." + b64({"sid": "x", "sub": "admin", "exp": 9_999_999_999}) + ".",
        jwt.encode(
            {"username": "admin", "exp_date": 9e9},
            "someone else's key, as long as a real one is",
            algorithm="HS256",
        ),
        "e30." * 3000,
    ],
    ids=["malformed", "alg-none-library", "alg-none-ours", "foreign", "huge"],
)
def test_a_hostile_cookie_shows_the_login_form_and_is_logged(
    demo_db_path, demo_db, monkeypatch, cookie
):
    at = open_with_cookie(monkeypatch, cookie)
    assert not at.exception and not signed_in(at) and shows_login_form(at)
    at.run()  # once per tab in the log, not once per run
    refused = demo_db.rows(
        "SELECT actor, detail FROM audit_log WHERE action = 'login cookie refused'"
    )
    assert len(refused) == 1 and refused[0][0] == "(anonymous)"
    assert cookie[:40] not in refused[0][1]
    # The login form still works beside the bad cookie.
    assert signed_in(login("admin", DEMO_PASSWORDS["admin"], at))


def test_an_administrators_reset_on_the_users_page_signs_the_account_out(demo_db_path, demo_db):
    theirs = sessions.start(demo_db, "director")
    at = AppTest.from_file(str(Path(APP).parent / "pages" / "users.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "admin"
    at.run()
    at.selectbox(key="users_pick").select("director").run()
    next(t for t in at.text_input if t.label == "New password").input("director-new-2026")
    next(b for b in at.button if b.label == "Reset password").click().run()
    assert any("signed out of every browser" in s.value for s in at.success), errors(at)
    assert "password reset" in refusal(demo_db, theirs.token)
