"""Accounts: sign-up, activation, disabling, resets, roles and the audit trail (SPEC §1, §8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cetracker.accounts import users
from cetracker.errors import CetrackerError

PAGES = Path(__file__).parents[1] / "pages"
GOOD = "a-long-password"


def audit_actions(db) -> list[str]:
    return [a for (a,) in db.rows("SELECT action FROM audit_log ORDER BY id")]


@pytest.mark.both_backends
def test_provider_signs_up_once(demo_db):
    users.sign_up_provider(demo_db, "p-1001", "educ", GOOD, "ce@example.org")
    user = users.load_user(demo_db, "educ")
    assert user.role == "provider" and user.provider_id is not None
    with pytest.raises(CetrackerError) as taken:
        users.sign_up_provider(demo_db, "P1001", "educ2", GOOD, "ce@example.org")
    with pytest.raises(CetrackerError) as unknown:
        users.sign_up_provider(demo_db, "P9999", "educ3", GOOD, "ce@example.org")
    # The same words either way: nothing says which numbers exist or have accounts.
    assert taken.value.message == unknown.value.message == users.SIGNUP_REFUSED
    assert "provider sign-up refused" in audit_actions(demo_db)


def test_provider_sign_up_checks_password_rules(demo_db):
    with pytest.raises(CetrackerError, match="at least 10 characters"):
        users.sign_up_provider(demo_db, "P1002", "short", "123", "a@b.org")
    with pytest.raises(CetrackerError, match="not be the same as the username"):
        users.sign_up_provider(demo_db, "P1002", "samesame12", "SameSame12", "a@b.org")
    assert users.load_user(demo_db, "short") is None


def test_member_activation_needs_the_email_on_file(demo_db):
    lic, email = demo_db.one(
        "SELECT license_number, email FROM members WHERE status = 'active' AND id NOT IN "
        "(SELECT member_id FROM users WHERE member_id IS NOT NULL) LIMIT 1"
    )
    with pytest.raises(CetrackerError, match="could not create an account"):
        users.activate_member(demo_db, lic, "someone.else@example.org", "me1", GOOD)
    users.activate_member(demo_db, lic, email.upper(), "me1", GOOD)
    assert users.load_user(demo_db, "me1").role == "member"
    with pytest.raises(CetrackerError, match="could not create an account"):
        users.activate_member(demo_db, lic, email, "me2", GOOD)


def test_disabled_account_cannot_log_in(demo_db):
    users.set_disabled(demo_db, "member", True, actor="admin")
    assert users.account(demo_db, "member") is None
    assert users.load_user(demo_db, "member") is None
    users.set_disabled(demo_db, "member", False, actor="admin")
    assert users.account(demo_db, "member")["roles"] == ["member"]
    with pytest.raises(CetrackerError, match="your own account"):
        users.set_disabled(demo_db, "admin", True, actor="admin")
    assert audit_actions(demo_db)[-2:] == ["user disabled", "user enabled"]


@pytest.mark.both_backends
def test_reset_password_lifts_a_lock(demo_db):
    for _ in range(users.MAX_FAILED_LOGINS):
        users.record_login(demo_db, "director", False)
    assert users.locked_until(demo_db, "director") is not None
    users.reset_password(demo_db, "director", "brand-new-password", actor="admin")
    assert users.locked_until(demo_db, "director") is None
    assert users.verify_password(demo_db, "director", "brand-new-password")
    assert audit_actions(demo_db).count("login failed") == users.MAX_FAILED_LOGINS


@pytest.mark.both_backends
def test_change_role_and_scope(demo_db):
    users.change_role(
        demo_db,
        "director",
        "director",
        actor="admin",
        scope_areas=("Area 1",),
        scope_counties=("Travis",),
    )
    scope = users.load_user(demo_db, "director").scope
    assert scope.areas == ("Area 1",) and scope.counties == ("Travis",)
    with pytest.raises(CetrackerError, match="keep their role"):
        users.change_role(demo_db, "member", "admin", actor="admin")
    with pytest.raises(CetrackerError, match="own admin role"):
        users.change_role(demo_db, "admin", "director", actor="admin")


def test_sign_up_page_creates_a_provider_account(demo_db_path, demo_db):
    at = AppTest.from_file(str(PAGES / "sign_up.py"), default_timeout=30)
    at.run()
    at.text_input[0].input("P1003")
    at.text_input[1].input("ce3@example.org")
    at.text_input[2].input("records-academy")
    at.text_input[3].input(GOOD)
    at.button[0].click().run()
    assert any("account is ready" in s.value for s in at.success)
    assert users.load_user(demo_db, "records-academy").role == "provider"


def test_names_cannot_inject_markdown(demo_db_path, demo_db):
    demo_db.execute(
        "UPDATE members SET first_name = '**Bold** [click](http://evil.example)',"
        " last_name = '<img src=x onerror=alert(1)>' WHERE license_number = '100000'"
    )
    at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=30)
    at.run()
    at.text_input[0].input("member")
    at.text_input[1].input("member-demo-2026")
    at.button[0].click().run()
    sidebar = " ".join(m.value for m in at.sidebar.markdown)
    assert "\\*\\*Bold\\*\\*" in sidebar and "\\[click\\]" in sidebar and "\\<img" in sidebar


def test_a_disabled_account_is_told_so_with_its_right_password_only(demo_db_path, demo_db):
    users.set_disabled(demo_db, "member", True, actor="admin")

    def sign_in(password: str) -> list[str]:
        at = AppTest.from_file(str(Path(__file__).parents[1] / "app.py"), default_timeout=30)
        at.run()
        at.text_input[0].input("Member")
        at.text_input[1].input(password)
        at.button[0].click().run()
        return [e.value for e in at.error]

    assert sign_in("member-demo-2026") == [users.DISABLED_MESSAGE]
    # A wrong password learns nothing of the account.
    assert "not right" in sign_in("not-the-password")[0]


def test_users_page_adds_an_account(demo_db_path, demo_db):
    at = AppTest.from_file(str(PAGES / "users.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "admin"
    at.run()
    at.text_input(key="new_username_0").input("newstaff")
    at.text_input(key="new_email_0").input("new@example.org")
    at.text_input(key="new_password_0").input(GOOD)
    # No role is chosen for the admin (a new account was an administrator unless changed).
    at.button[0].click().run()
    assert any("Choose the account's role" in e.value for e in at.error)
    assert users.load_user(demo_db, "newstaff") is None
    at.selectbox(key="new_role_0").select("director")
    at.button[0].click().run()
    assert any("Added director newstaff" in s.value for s in at.success)
    assert users.load_user(demo_db, "newstaff").role == "director"
    # The page ran again: the list holds the account, and the form is empty (the password
    # typed is not left in it for a second click).
    assert "newstaff" in at.dataframe[0].value["Username"].tolist()
    assert at.text_input(key="new_username_1").value == ""
    assert at.text_input(key="new_password_1").value == ""


def test_a_member_has_one_account(demo_db):
    """A second login for a member who has one would read and report the same record: the
    office is told which account to reset or enable instead."""
    license_number = demo_db.scalar(
        "SELECT m.license_number FROM users u JOIN members m ON m.id = u.member_id"
        " WHERE u.username = 'member'"
    )
    with pytest.raises(CetrackerError, match=r"has an account already \(member\)"):
        users.add_user(
            demo_db, "member2", GOOD, role="member", member_license=license_number, actor="admin"
        )
    assert users.load_user(demo_db, "member2") is None


HOSTILE = ["' OR 1=1 --", '"; DROP TABLE members; --', "%", "_", "\\", "<script>x</script>"]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.both_backends
def test_every_text_filter_treats_input_as_plain_text(demo_db, text):
    from cetracker import audit, messages, providers, reports
    from cetracker.filters import Filters
    from cetracker.rules.cells import search_words

    # A name search reads only the words of its text ("' OR 1=1 --" is "or 11"): the
    # hostile text finds exactly what its plain words find, and nothing more.
    words = " ".join(search_words(text))
    for name in reports.REPORTS:
        options = {"course_number": "C2025-001"} if name == "conference" else {}
        found = reports.run_report(demo_db, name, Filters(2025, name=text), **options)
        if words:
            plain = reports.run_report(demo_db, name, Filters(2025, name=words), **options)
            assert found.equals(plain), name
        else:
            assert found.empty, name
        assert reports.run_report(
            demo_db,
            name,
            Filters(2025, counties=(text,), areas=(text,), positions=(text,)),
            **options,
        ).empty
    provider = users.load_user(demo_db, "provider")
    attendees = providers.attendees(demo_db, provider.provider_id, name=text)
    if words:
        assert attendees.equals(providers.attendees(demo_db, provider.provider_id, name=words))
    else:
        assert attendees.empty
    assert providers.attendees(demo_db, provider.provider_id, course_number=text).empty
    admin = users.load_user(demo_db, "admin")
    for audience, plain in (
        (messages.Audience(first_name=text), messages.Audience(first_name=words)),
        (messages.Audience(last_name=text), messages.Audience(last_name=words)),
    ):
        found = messages.recipients(demo_db, admin, audience)
        if words:
            assert found.equals(messages.recipients(demo_db, admin, plain))
        else:
            assert found.empty
    assert audit.recent(demo_db, actor=text).empty
    assert demo_db.scalar("SELECT count(*) FROM members") == 600


def test_licenses_page_adds_and_shows_a_cycle(demo_db_path, demo_db):
    at = AppTest.from_file(str(PAGES / "my_licenses.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "member"
    at.run()
    at.text_input[0].input("Board of Notaries")
    at.button[0].click().run()
    assert not at.exception
    assert any("Board of Notaries" in m.value for m in at.markdown)
    assert any("hours" in p.text for p in at.get("progress"))


def test_hour_summary_opens_the_composer_with_exactly_those_members(demo_db_path, demo_db):
    at = AppTest.from_file(str(PAGES / "hour_summary.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "admin"
    at.run()
    at.multiselect(key="hs_area").select("Area 4").run()
    at.toggle(key="hs_short").set_value(True).run()
    shown = set(at.dataframe[0].value["License number"])
    # Inactive members shown are left out only when the page says so: here, included.
    assert "hs_leave_out_inactive" in [box.key for box in at.checkbox]  # the demo has some
    at.checkbox(key="hs_leave_out_inactive").uncheck().run()
    at.button(key="hs_message").click().run()
    chosen = at.session_state["compose_member_ids"]
    licenses = {
        lic
        for (lic,) in demo_db.rows(
            "SELECT license_number FROM members WHERE id IN (SELECT unnest(?))", [chosen]
        )
    }
    assert licenses == shown and len(shown) > 0


@pytest.mark.both_backends
def test_an_account_is_shown_by_its_members_or_providers_name(demo_db):
    """A member's account shows the member's name, a provider's the provider's, an office
    account its username: at login (``account``) and on every page (``load_user``)."""
    member_name = demo_db.scalar(
        "SELECT m.first_name || ' ' || m.last_name FROM users u"
        " JOIN members m ON m.id = u.member_id WHERE u.username = 'member'"
    )
    provider_name = demo_db.scalar(
        "SELECT p.name FROM users u JOIN providers p ON p.id = u.provider_id"
        " WHERE u.username = 'provider'"
    )
    expected = {"member": member_name, "provider": provider_name, "admin": "admin"}
    assert member_name and provider_name
    for username, name in expected.items():
        assert users.load_user(demo_db, username).display_name == name
        assert users.account(demo_db, username)["name"] == name
