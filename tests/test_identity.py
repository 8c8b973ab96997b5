"""Identity (SPEC §2, §5): a license number stays as written; its key is unique and the
one thing every look-up compares. Runs on both backends, including the upgrade."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from cetracker import entities, importer, members, providers, reports
from cetracker.accounts import users
from cetracker.entities import Invalid
from cetracker.errors import CetrackerError
from cetracker.files import workbook
from cetracker.files.exports import to_csv
from cetracker.filters import Filters
from cetracker.rules.cells import license_key
from cetracker.store.db import Database
from tests.rosters import csv_bytes
from tests.workbooks import write_workbook

# Keys, unique indexes and search SQL are storage: both backends.
pytestmark = pytest.mark.both_backends

MEMBER_COLUMNS = ["License Number", "First Name", "Last Name", "Email", "County", "Area"]
SETUP = {
    "Members": [
        MEMBER_COLUMNS,
        ["AB77", "Ann", "Berg", "ann@example.org", "Travis", "Area 3"],
        ["TX-10001", "José", "Núñez", "jose@example.org", "Travis", "Area 3"],
    ],
    "Providers": [["License Number", "Name"], ["P-1", "Clerks' Education Foundation"]],
    "Courses": [
        ["Course Number", "Title", "Provider License", "Category", "Hours", "Start Date"],
        ["C1", "Records Day", "p 1", "General", 6, "2024-05-01"],
    ],
}


def roster(*licenses: str) -> bytes:
    return csv_bytes([["Ann", "Berg", lic, "C1", 2024, "2024-05-01", 2] for lic in licenses])


@pytest.fixture
def office(workbook_database) -> Database:
    return workbook_database("identity-setup", SETUP)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("TX-10001", "TX10001"),
        ("tx 10001", "TX10001"),
        (" ab-77 ", "AB77"),
        ("AB\u00a077", "AB77"),  # a no-break space pasted from a web page
        ("AB\u201377", "AB77"),  # an en dash, as word processors write one
        ("AB\u200b77", "AB77"),  # a zero-width space
        (12345.0, "12345"),  # a number cell
        ("P.O-1", "P.O1"),  # only spaces and dashes go; other punctuation stays
    ],
)
def test_license_key_rule(written, key):
    assert license_key(written) == key


def test_numbers_stay_as_written_everywhere(office):
    stored = office.rows("SELECT license_number, license_key FROM members ORDER BY id")
    assert stored == [("AB77", "AB77"), ("TX-10001", "TX10001")]
    assert office.rows("SELECT license_number FROM providers") == [("P-1",)]
    summary = reports.run_report(office, "hour-summary", Filters(2024))
    assert sorted(summary["license_number"]) == ["AB77", "TX-10001"]
    exported = to_csv(summary).decode("utf-8-sig")
    assert "TX-10001" in exported and "TX10001" not in exported
    member_list = to_csv(reports.run_report(office, "member-list", Filters(2024))).decode()
    assert "TX-10001" in member_list and "TX10001" not in member_list


def test_the_form_refuses_a_second_ab77_naming_its_holder(office):
    with pytest.raises(Invalid) as caught:
        members.save_member(
            office,
            {"license_number": "AB 77", "first_name": "Al", "last_name": "Stone"},
            actor="admin",
        )
    assert caught.value.message == "License number AB 77 already belongs to Ann Berg."
    # Changing another member's number to it is refused the same way.
    jose = members.member_by_license(office, "tx10001")
    assert jose is not None and jose[1] == "José Núñez"
    values = entities.current(office, members.MEMBER, {"id": jose[0]})
    assert values is not None
    with pytest.raises(Invalid, match="License number ab-77 already belongs to Ann Berg."):
        members.save_member(
            office, {**values, "license_number": "ab-77"}, actor="admin", member_id=jose[0]
        )
    # Its own number written another way is no clash: the key is its own.
    members.save_member(
        office, {**values, "license_number": "TX 10001"}, actor="admin", member_id=jose[0]
    )
    assert office.scalar("SELECT license_number FROM members WHERE id = ?", [jose[0]]) == (
        "TX 10001"
    )
    with pytest.raises(Invalid, match="already belongs to Clerks' Education Foundation"):
        providers.save_provider(office, {"license_number": "P1", "name": "Copy"}, actor="admin")


def test_a_roster_naming_ab77_still_imports(office):
    with pytest.raises(Invalid):
        members.save_member(
            office,
            {"license_number": "AB 77", "first_name": "Al", "last_name": "Stone"},
            actor="admin",
        )
    pid = providers.provider_by_license(office, "P1")
    result = importer.import_roster(
        office,
        roster("AB77", "ab-77", "AB 77"),
        "r.csv",
        provider_id=pid,
        uploaded_by="p",
        today=date(2024, 12, 31),
    )
    statuses = [o.status for o in result.outcomes]
    # One record for Ann; the same member, course and date twice more is a duplicate.
    assert statuses[0] == "Processed"
    assert all("appears earlier in this file" in s for s in statuses[1:])


def test_the_workbook_refuses_a_second_ab77_and_writes_nothing(office, tmp_path):
    book = write_workbook(
        tmp_path / "more.xlsx",
        {
            "Members": [
                MEMBER_COLUMNS,
                ["9000", "New", "Person", "", "Travis", "Area 3"],
                ["AB 77", "Bob", "Stone", "", "Travis", "Area 3"],
            ]
        },
    )
    with pytest.raises(CetrackerError) as caught:
        workbook.load(office, book.read_bytes(), "more.xlsx")
    assert "sheet Members, row 3: License number AB 77 already belongs to Ann Berg" in str(
        caught.value
    )
    assert office.scalar("SELECT count(*) FROM members") == 2
    # The same person's number written another way updates the number as written.
    again = write_workbook(
        tmp_path / "again.xlsx",
        {"Members": [MEMBER_COLUMNS, ["AB 77", "Ann", "Berg", "", "Travis", "Area 3"]]},
    )
    workbook.load(office, again.read_bytes(), "again.xlsx")
    assert office.rows("SELECT license_number, license_key FROM members WHERE id = 1") == [
        ("AB 77", "AB77")
    ]
    # Two rows of one workbook with one key: the second is named.
    twice = write_workbook(
        tmp_path / "twice.xlsx",
        {
            "Members": [
                MEMBER_COLUMNS,
                ["CD-1", "Cy", "Dunn", "", "", ""],
                ["cd 1", "Cy", "Dunn", "", "", ""],
            ]
        },
    )
    with pytest.raises(CetrackerError, match="row 3: License number cd 1 is the same as CD-1"):
        workbook.load(office, twice.read_bytes(), "twice.xlsx")


def test_sign_up_activation_and_accounts_find_numbers_by_key(office):
    users.activate_member(office, "ab-77", "ann@example.org", "annb", "Ann-Berg-2026!")
    assert users.load_user(office, "annb").member_id == 1
    users.sign_up_provider(office, "p 1", "clerksed", "Clerks-Ed-2026!", "ce@example.org")
    assert users.load_user(office, "clerksed").provider_id == providers.provider_by_license(
        office, "P-1"
    )
    users.add_user(office, "jose", "Jose-Nunez-2026!", role="member", member_license="tx 10001")
    assert users.load_user(office, "jose").member_id == 2
    listed = {row[0]: row[3] for row in users.list_users(office)}
    assert listed["jose"] == "TX-10001"  # shown as written


def test_upgrade_fills_keys_keeps_numbers_and_sets_duplicates_aside(database_location):
    """An existing database (migration 7) with what the old rules let in: a workbook's
    keys stored as numbers, forms' numbers as typed, and one license twice."""
    old = Database(database_location, migrate_to=7)
    with old.transaction() as cur:
        cur.execute(
            """INSERT INTO members (license_number, first_name, last_name, email)
               VALUES ('AB77', 'Ann', 'Berg', 'ann@example.org'), ('AB 77', 'Al', 'Stone', NULL),
                      ('TX10001', 'José', 'Núñez', NULL)"""
        )
        cur.execute(
            """INSERT INTO providers (license_number, name)
               VALUES ('P-1', 'Clerks'' Education Foundation')"""
        )
        cur.execute(
            """INSERT INTO courses (course_number, title, provider_id, category, hours,
                                    start_date, end_date)
               VALUES ('C1', 'Records Day', 1, 'General', 6, '2024-05-01', '2024-05-01')"""
        )
    old.close()
    db = Database(database_location)
    try:
        assert 8 in {v for (v,) in db.rows("SELECT version FROM schema_migrations")}
        assert db.rows(
            "SELECT id, license_number, license_key, search_key FROM members ORDER BY id"
        ) == [
            (1, "AB77", "AB77", "berg ann ab77"),
            (2, "AB 77", "AB77 #2", "stone al ab77"),
            (3, "TX10001", "TX10001", "nunez jose tx10001"),
        ]
        assert db.rows("SELECT license_number, license_key FROM providers") == [("P-1", "P1")]
        # The unique key holds in the database itself.
        with pytest.raises(Exception) as refused:
            db.execute(
                "INSERT INTO members (license_number, license_key, first_name, last_name)"
                " VALUES ('ab77', 'AB77', 'X', 'Y')"
            )
        assert db.is_duplicate_key(refused.value)
        # New members get the next id.
        new = members.save_member(
            db, {"license_number": "ZZ-9", "first_name": "Zed", "last_name": "Zee"}, actor="t"
        )
        assert new > 3  # past the copied rows (the refused insert drew one id)
        # The pair the old rules let in: rosters naming AB77 import (Ann holds it) instead
        # of failing the whole upload.
        result = importer.import_roster(
            db,
            roster("AB77", "AB 77"),
            "r.csv",
            provider_id=1,
            uploaded_by="p",
            today=date(2024, 12, 31),
        )
        assert result.outcomes[0].status == "Processed"
        assert db.rows("SELECT member_id FROM ce_records") == [(1,)]
        # The office sees both numbers as written; saving the second with its number is
        # refused naming the holder, until one of them changes.
        with pytest.raises(Invalid, match="License number AB 77 already belongs to Ann Berg."):
            members.save_member(
                db,
                {"license_number": "AB 77", "first_name": "Al", "last_name": "Stone"},
                actor="admin",
                member_id=2,
            )
        members.save_member(
            db,
            {"license_number": "AB 78", "first_name": "Al", "last_name": "Stone"},
            actor="admin",
            member_id=2,
        )
        assert members.member_by_license(db, "ab-78") == (2, "Al Stone")
        # Name search finds the upgraded members by their filled search keys.
        found, _ = members.search_members(db, "nunez")
        assert list(found["License number"]) == ["TX10001"]
    finally:
        db.close()


def test_reloading_an_upgraded_database_restores_the_numbers_as_written(
    database_location, tmp_path
):
    """Before migration 8 a workbook load stored "TX10001" for "TX-10001"; loading the
    office's workbook again puts back the number as written (the same person)."""
    old = Database(database_location, migrate_to=7)
    old.execute(
        "INSERT INTO members (license_number, first_name, last_name) VALUES ('TX10001', 'José', 'Núñez')"
    )
    old.close()
    db = Database(database_location)
    try:
        book = write_workbook(
            tmp_path / "office.xlsx",
            {"Members": [MEMBER_COLUMNS, ["TX-10001", "José", "Núñez", "", "Travis", "Area 3"]]},
        )
        workbook.load(db, book.read_bytes(), "office.xlsx")
        assert db.rows("SELECT license_number, county FROM members") == [("TX-10001", "Travis")]
        out = io.StringIO(
            to_csv(reports.run_report(db, "hour-summary", Filters(2024))).decode("utf-8-sig")
        )
        assert [r["license_number"] for r in csv.DictReader(out)] == ["TX-10001"]
    finally:
        db.close()
