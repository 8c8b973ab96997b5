"""One name-search rule for every search box and recipient filter (issue 17): part of a
name or a license number, ignoring case, accents, spaces and punctuation."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cetracker import members, messages, providers, reports
from cetracker.accounts import users
from cetracker.filters import LAST_NAME, name_search
from cetracker.rules.cells import (
    SEARCH_KEY_SEPARATOR,
    name_key,
    search_key,
    search_terms,
    search_words,
)

# Keys, unique indexes and search SQL are storage: both backends.
pytestmark = pytest.mark.both_backends

PAGES = Path(__file__).resolve().parents[1] / "pages"
# The demo's member 3 is José Núñez, his license written "100-003".
JOSE = "100-003"
FINDS_JOSE = ["nunez", "NÚÑEZ", "Núñez", "100003", "100-003", "100 003", "jose nun", "Núñez José"]


def test_search_words_fold_like_names():
    assert search_words("  Núñez  O'Brien 100-003 ") == ["nunez", "obrien", "100003"]
    assert search_words("Ødegård Łukasz") == ["odegard", "lukasz"]
    assert search_words("- ' %") == []
    assert search_key("José", "Núñez", "100-003") == "nunez jose 100003"
    assert search_key("Nguyễn Thị", "Ánh", "AB 7") == "anh nguyenthi ab7"


def test_name_search_condition():
    assert name_search("", "k") == ("true", {})
    assert name_search("  ", "k") == ("true", {})
    # Text of punctuation only names nobody (it is not "everyone").
    assert name_search("%_'", "k") == ("false", {})
    clause, params = name_search("Ana NÚÑEZ", "m.search_key", prefix="w")
    assert clause == "(contains(m.search_key, $w0) AND contains(m.search_key, $w1))"
    assert params == {"w0": "ana", "w1": "nunez"}
    clause, _ = name_search("ana", "m.search_key", part=2)
    # The whole key is tested first: only keys holding the word are split.
    assert clause == (
        "(contains(m.search_key, $q0) AND contains(split_part(m.search_key, ' ', 2), $q0))"
    )
    # Words with digits are one license number written in groups.
    assert search_terms("Núñez 100 003") == (["nunez"], "100003")
    clause, params = name_search("Núñez 100 003", "k")
    assert clause == (
        "(contains(k, $q0) AND contains(k, $q_number) AND contains(split_part(k, ' ', 3), $q_number))"
    )
    assert params == {"q0": "nunez", "q_number": "100003"}


def _all_match(first: list[str], last: list[str], licenses: list[str], query: str) -> bool:
    """Every row shown matches the rule, written out plainly."""
    words, number = search_terms(query)
    keys = [search_key(f, la, n) for f, la, n in zip(first, last, licenses, strict=True)]
    return bool(keys) and all(
        all(w in k for w in words) and number in k.split(SEARCH_KEY_SEPARATOR)[2] for k in keys
    )


@pytest.mark.parametrize("query", FINDS_JOSE)
def test_report_search(demo_db, query):
    from cetracker.filters import Filters

    for name in ("hour-summary", "member-list", "dues"):
        found = reports.run_report(demo_db, name, Filters(2025, name=query))
        numbers = found.iloc[:, 0].tolist()
        assert JOSE in numbers, name
    summary = reports.run_report(demo_db, "hour-summary", Filters(2025, name=query))
    assert _all_match(
        summary["first_name"].tolist(),
        summary["last_name"].tolist(),
        summary["license_number"].tolist(),
        query,
    )


def test_report_search_is_parts_of_names_not_across_them(demo_db):
    from cetracker.filters import Filters

    every = reports.run_report(demo_db, "hour-summary", Filters(2025))
    # "jose" + "nunez" run together is no word of anybody's name.
    assert reports.run_report(demo_db, "hour-summary", Filters(2025, name="senu")).empty
    assert len(reports.run_report(demo_db, "hour-summary", Filters(2025, name="o'brien"))) == len(
        every[every["last_name"].map(name_key) == "obrien"]
    )


@pytest.mark.parametrize("query", ["nunez", "100003", "100 003", "Núñez"])
def test_manage_members_search(demo_db, query):
    found, total = members.search_members(demo_db, query)
    assert JOSE in set(found["License number"])
    if any(ch.isdigit() for ch in query):
        assert total == 1  # a license number, however written, is one member's
    assert _all_match(
        found["First name"].tolist(),
        found["Last name"].tolist(),
        found["License number"].tolist(),
        query,
    )
    # An email is found by any part of it too.
    email = demo_db.scalar("SELECT email FROM members WHERE license_key = '100003'")
    by_email, one = members.search_members(demo_db, email.split("@")[0] + "@exa")
    assert one == 1 and by_email["License number"].iloc[0] == JOSE


def test_manage_members_page_search(demo_db_path, demo_db):
    at = AppTest.from_file(str(PAGES / "manage_members.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "admin"
    at.run()
    at.text_input(key="mm_search").input("nunez 100-003").run()
    shown = at.dataframe[0].value
    assert list(shown["License number"]) == [JOSE]
    assert any("1 member matches" in c.value for c in at.caption)


def _jose_provider(demo_db) -> tuple[int, int]:
    """A provider whose courses José took, and how many records he has there."""
    row = demo_db.one(
        """SELECT c.provider_id, count(*) FROM ce_records r
           JOIN courses c ON c.id = r.course_id JOIN members m ON m.id = r.member_id
           WHERE m.license_key = '100003' GROUP BY 1 ORDER BY 1"""
    )
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.parametrize("query", ["nunez", "100-003", "100003", "jose"])
def test_ce_details_search(demo_db, query):
    provider_id, records = _jose_provider(demo_db)
    found = providers.attendees(demo_db, provider_id, name=query)
    assert len(found[found["License number"] == JOSE]) == records
    assert _all_match(
        found["First name"].tolist(),
        found["Last name"].tolist(),
        found["License number"].tolist(),
        query,
    )


def test_ce_details_page_finds_nunez_without_accents(demo_db_path, demo_db):
    provider_id, records = _jose_provider(demo_db)
    assert provider_id == users.load_user(demo_db, "provider").provider_id
    at = AppTest.from_file(str(PAGES / "ce_details.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "provider"
    at.run()
    at.text_input(key="ced_name").input("nunez").run()
    assert any(m.value == str(records) for m in at.metric)
    at.text_input(key="ced_name").input("100-003").run()
    assert any(m.value == str(records) for m in at.metric)


def test_recipient_filters_match_parts_of_names(demo_db):
    admin = users.load_user(demo_db, "admin")
    found = messages.recipients(demo_db, admin, messages.Audience(first_name="jos"))
    assert JOSE in set(found["license_number"])
    assert all("jos" in name_key(f) for f in found["first_name"])
    found = messages.recipients(demo_db, admin, messages.Audience(last_name="NUNEZ"))
    assert list(found["license_number"]) == [JOSE]
    # The first-name filter looks in first names only: nobody's first name is Núñez.
    assert messages.recipients(demo_db, admin, messages.Audience(first_name="nunez")).empty
    found = messages.recipients(
        demo_db, admin, messages.Audience(first_name="Siob", last_name="o'brien")
    )
    assert list(found["last_name"]) == ["O'Brien"]


def test_compose_page_recipients_by_part_of_a_name(demo_db_path, demo_db):
    at = AppTest.from_file(str(PAGES / "messages_compose.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "admin"
    at.run()
    at.text_input(key="msg_last").input("obri").run()
    last = f"split_part(search_key, '{SEARCH_KEY_SEPARATOR}', {LAST_NAME})"
    expected = demo_db.scalar(
        f"SELECT count(*) FROM members WHERE status = 'active' AND contains({last}, 'obri')"  # noqa: S608 - constants
    )
    assert expected > 1
    assert any(m.value == str(expected) for m in at.metric)


def test_the_upgrade_puts_every_members_key_in_name_order(database_location):
    # Keys stored before migration 14 led with the first name ("ann|berg|ab77"): each is
    # written again, so that lists sorted by it read by last name.
    from cetracker.store.db import Database

    old = Database(database_location, migrate_to=13)
    old.execute(
        """INSERT INTO members (license_number, first_name, last_name, license_key, search_key)
           VALUES ('AB-77', 'Ann', 'Berg', 'AB77', 'ann|berg|ab77'),
                  ('10', 'Luz', 'Álvarez', '10', 'luz|alvarez|10')"""
    )
    old.close()
    upgraded = Database(database_location)
    try:
        assert upgraded.rows("SELECT search_key FROM members ORDER BY search_key") == [
            ("alvarez luz 10",),
            ("berg ann ab77",),
        ]
    finally:
        upgraded.close()
