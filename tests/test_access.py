"""Who may open which page: every role against every page, past the router (SPEC §8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cetracker import importer, providers
from tests.rosters import csv_bytes

PAGES_DIR = Path(__file__).parents[1] / "pages"
ROLES = [None, "member", "provider", "director", "admin"]
# Written out here, independently of app.py, so that a page that forgets its guard fails.
ALLOWED = {
    "dashboard.py": {"admin", "director"},
    "hour_summary.py": {"admin", "director"},
    "conference_detail.py": {"admin", "director"},
    "certificates.py": {"admin", "director"},
    "conference_report.py": {"admin", "director"},
    "member_list.py": {"admin", "director"},
    "dues.py": {"admin", "director"},
    "carryover.py": {"admin", "director"},
    "my_ce.py": {"member"},
    "report_course.py": {"member"},
    "my_licenses.py": {"member"},
    "approvals.py": {"admin"},
    "inbox.py": {"member"},
    "messages_compose.py": {"admin", "director"},
    "messages_sent.py": {"admin", "director"},
    "reminders.py": {"admin"},
    "provider_home.py": {"provider"},
    "upload_roster.py": {"admin", "provider"},
    "import_history.py": {"admin", "provider"},
    "ce_details.py": {"provider"},
    "users.py": {"admin"},
    "manage_members.py": {"admin"},
    "manage_providers.py": {"admin"},
    "manage_courses.py": {"admin"},
    "manage_dues.py": {"admin"},
    "manage_policy.py": {"admin"},
    "ce_years.py": {"admin"},
    "backup.py": {"admin"},
    "audit.py": {"admin"},
    "account.py": {"member", "provider", "director", "admin"},
    "verify.py": {None, "member", "provider", "director", "admin"},
    "sign_up.py": {None, "member", "provider", "director", "admin"},
}


def run_as(page: str, username: str | None) -> AppTest:
    at = AppTest.from_file(str(PAGES_DIR / page), default_timeout=30)
    if username:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
    at.run()
    return at


def test_every_page_is_in_the_matrix():
    assert {p.name for p in PAGES_DIR.glob("*.py")} == set(ALLOWED)


@pytest.mark.parametrize("page", sorted(ALLOWED))
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_page_access(readonly_demo_db_path, page, role):
    at = run_as(page, role)
    assert not at.exception, at.exception
    refused = any("Not allowed" in e.value for e in at.error)
    assert refused == (role not in ALLOWED[page])
    if refused:
        assert not at.dataframe and not at.metric


@pytest.mark.both_backends
def test_provider_sees_only_its_own_attendees_and_uploads(demo_db_path, demo_db):
    own = providers.provider_by_license(demo_db, "P1000")
    other = providers.provider_by_license(demo_db, "P1001")
    other_course = demo_db.scalar(
        "SELECT course_number FROM courses WHERE provider_id = ?", [other]
    )
    importer.import_roster(
        demo_db,
        csv_bytes([["A", "B", "1", "X", "2024", "2024-01-01", "1"]]),
        "other.csv",
        provider_id=other,
        uploaded_by="admin",
    )
    at = run_as("ce_details.py", "provider")
    frame = at.dataframe[0].value
    own_courses = {
        n for (n,) in demo_db.rows("SELECT course_number FROM courses WHERE provider_id = ?", [own])
    }
    assert len(frame) > 0 and set(frame["Course number"]) <= own_courses
    assert other_course not in set(frame["Course number"])
    history = run_as("import_history.py", "provider")
    assert any("No rosters have been uploaded yet" in i.value for i in history.info)
    admin = run_as("import_history.py", "admin")
    assert "other.csv" in set(admin.dataframe[0].value["File"])
    rows = admin.dataframe[1].value  # the newest upload's rows, as written, with their outcome
    assert rows[["Row", "First Name", "Course Number"]].values.tolist() == [[2, "A", "X"]]
    assert rows["Status"].iloc[0] != "Processed"
    assert re.fullmatch(
        r"other\.csv · \d\d/\d\d/\d{4} \d\d:\d\d", admin.selectbox(key="history_pick").options[0]
    )


# Name searches read words (test_accounts: "' OR 1=1 --" is the words "or 11"); these
# hostile texts' words are in nobody's name.
@pytest.mark.parametrize(
    "hostile", ["x' UNION SELECT password_hash FROM users --", '"; DROP TABLE members; --']
)
@pytest.mark.both_backends
def test_injection_in_text_filters_finds_nothing(demo_db_path, demo_db, hostile):
    at = run_as("ce_details.py", "provider")
    at.text_input(key="ced_name").input(hostile).run()
    assert any(m.value == "0" for m in at.metric)
    at = run_as("hour_summary.py", "admin")
    at.text_input(key="hs_name").input(hostile).run()
    assert any("No members match" in i.value for i in at.info)
    assert demo_db.scalar("SELECT count(*) FROM members") == 600


def test_verify_page_for_anyone(demo_db_path, demo_db):
    from cetracker.files import certificates
    from cetracker.filters import Filters

    cert = certificates.earned_certificates(demo_db, Filters(2025))[0]
    at = run_as("verify.py", None)
    at.text_input(key="verify_code").input(cert.code).run()
    assert any("valid certificate" in s.value for s in at.success)
    shown = "\n".join(m.value for m in at.markdown)
    assert cert.name in shown and "2025" in shown
    at.text_input(key="verify_code").input(cert.code[:-1] + "Q").run()
    assert any("Not a valid certificate" in e.value for e in at.error)


def test_ce_details_year_choice_lists_the_providers_years_and_filters(demo_db_path, demo_db):
    at = run_as("ce_details.py", "provider")
    choice = at.selectbox(key="ced_year")
    assert choice.options[0] == "All years"
    years = [int(y) for y in choice.options[1:]]
    assert years == sorted(years, reverse=True) and len(years) > 1
    everyone = len(at.dataframe[0].value)
    choice.select(years[-1]).run()
    one_year = at.dataframe[0].value
    assert 0 < len(one_year) < everyone and set(one_year["CE year"]) == {years[-1]}
