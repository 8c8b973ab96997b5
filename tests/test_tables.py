"""Each table's checks in one place (issue 17): the office's forms and ``cetracker load``
refuse the same values with the same words; a refused workbook writes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cetracker import courses, dues, members, providers
from cetracker.entities import Invalid
from cetracker.errors import CetrackerError
from cetracker.files import workbook
from cetracker.mail import EMAIL
from cetracker.store.db import Database
from tests.workbooks import OFFICE, write_workbook

# Keys, unique indexes and search SQL are storage: both backends.
pytestmark = pytest.mark.both_backends

COURSE_HEADER = OFFICE["Courses"][0]
MEMBER_HEADER = OFFICE["Members"][0]
DUES_HEADER = OFFICE["Dues"][0]


@pytest.fixture
def office(workbook_database) -> Database:
    return workbook_database("office", OFFICE)


def refused(db: Database, tmp_path: Path, sheets: dict[str, list[list[object]]]) -> str:
    """Load a workbook that must be refused whole; its one-line message."""
    before = db.rows("SELECT * FROM members ORDER BY id") + db.rows(
        "SELECT course_number, hours FROM courses ORDER BY id"
    )
    with pytest.raises(CetrackerError) as caught:
        workbook.load(db, write_workbook(tmp_path / "bad.xlsx", sheets).read_bytes(), "bad.xlsx")
    after = db.rows("SELECT * FROM members ORDER BY id") + db.rows(
        "SELECT course_number, hours FROM courses ORDER BY id"
    )
    assert after == before
    return caught.value.message


# (sheet row for the workbook, the same values for the form, the form's words)
CASES = [
    (
        "Courses",
        ["C9", "Zero", "P-1", "General", 0, "2024-05-01", "2024-05-01", "", "workshop"],
        "Approved hours must be more than 0.",
    ),
    (
        "Courses",
        ["C9", "Long", "P-1", "General", 1001, "", "", "", "workshop"],
        "Approved hours 1001 is more than 1,000; check the figure.",
    ),
    (
        "Courses",
        ["C9", "Party", "P-1", "General", 3, "", "", "", "party"],
        "Kind must be one of: conference, workshop, webinar, online course.",
    ),
    (
        "Members",
        ["7777", "Ed", "Eve", "ed at example.org", "", "", "", "", "", "active", ""],
        "Email “ed at example.org” is not an email address.",
    ),
    (
        "Members",
        ["7777", "Ed", "Eve", "ed<x>@example.org", "", "", "", "", "", "active", ""],
        "Email “ed<x>@example.org” is not an email address.",
    ),
    (
        "Members",
        ["7777", "Ed", "Eve", "", "", "", "", "", "", "retired", ""],
        "Status must be one of: active, inactive.",
    ),
    (
        "Members",
        ["7777", "Ed", "Eve", "", "", "", "", "", "", "active", "2999-01-01"],
        "Joined 01/01/2999 is in the future.",
    ),
]


@pytest.mark.parametrize(("sheet", "row", "words"), CASES)
def test_form_and_workbook_refuse_alike(office, tmp_path, sheet, row, words):
    header = COURSE_HEADER if sheet == "Courses" else MEMBER_HEADER
    message = refused(office, tmp_path, {sheet: [header, row]})
    assert f"sheet {sheet}, row 2: {words.rstrip('.')}" in message
    values = dict(zip(header, row, strict=True))
    with pytest.raises(Invalid) as caught:
        if sheet == "Courses":
            courses.save_course(
                office,
                {
                    "course_number": values["Course Number"],
                    "title": values["Title"],
                    "provider_id": providers.provider_by_license(office, "P-1"),
                    "category": values["Category"],
                    "hours": values["Hours"],
                    "start_date": values["Start Date"] or None,
                    "end_date": values["End Date"] or None,
                    "kind": values["Kind"],
                },
                actor="admin",
            )
        else:
            members.save_member(
                office,
                {
                    "license_number": values["License Number"],
                    "first_name": values["First Name"],
                    "last_name": values["Last Name"],
                    "email": values["Email"],
                    "status": values["Status"],
                    "joined": values["Joined"] or None,
                },
                actor="admin",
            )
    assert words in caught.value.problems


def test_one_email_pattern():
    # The address the mail module would refuse to send to is the one the forms refuse.
    assert EMAIL.match("ann@example.org")
    for bad in ("ed<x>@example.org", 'a"b@example.org', "ann@example", "ann example.org"):
        assert not EMAIL.match(bad)
        with pytest.raises(Invalid):
            members.check_row(
                {"license_number": "1", "first_name": "A", "last_name": "B", "email": bad}
            )


def test_every_problem_of_a_row_is_named(office, tmp_path):
    message = refused(
        office,
        tmp_path,
        {"Members": [MEMBER_HEADER, ["", "Ed", "", "nope", "", "", "", "", "", "", ""]]},
    )
    assert (
        "sheet Members, row 2: License number is required. Last name is required. "
        "Email “nope” is not an email address"
    ) in message


def test_dues_rows_follow_the_entry_page_rules(office, tmp_path):
    message = refused(office, tmp_path, {"Dues": [DUES_HEADER, ["1001", 2025, 50, 20, "", "paid"]]})
    assert (
        "sheet Dues, row 2: Status is paid but only 20.00 of 50.00 was paid; choose partial. "
        "Enter the date the dues were paid"
    ) in message
    with pytest.raises(Invalid) as caught:
        dues.save_dues(
            office,
            1,
            2025,
            {"amount_due": 50, "amount_paid": 20, "status": "paid"},
            actor="admin",
        )
    assert caught.value.problems == [
        "Status is paid but only 20.00 of 50.00 was paid; choose partial.",
        "Enter the date the dues were paid.",
    ]
    # A blank status is what the amounts say.
    workbook.load(
        office,
        write_workbook(
            tmp_path / "dues.xlsx",
            {"Dues": [DUES_HEADER, ["1002", 2025, 50, 20, "2025-02-01", ""]]},
        ).read_bytes(),
        "dues.xlsx",
    )
    assert office.rows(
        "SELECT status FROM dues WHERE year = 2025 AND member_id = "
        "(SELECT id FROM members WHERE license_key = '1002')"
    ) == [("partial",)]


def test_a_course_keeps_holding_its_records_whichever_way_it_changes(office, tmp_path):
    # C3 (16 hours, May 1-2 2024) has records of up to 16 hours on May 1.
    row = ["C3", "Records Day", "P-1", "General", 8, "2024-05-01", "2024-05-02", "Waco", "workshop"]
    message = refused(office, tmp_path, {"Courses": [COURSE_HEADER, row]})
    assert (
        "sheet Courses, row 2: A member already has 16 hours of this course (all dates "
        "together); approved hours cannot go below that"
    ) in message
    course_id = office.scalar("SELECT id FROM courses WHERE course_number = 'C3'")
    with pytest.raises(Invalid) as caught:
        courses.save_course(
            office,
            {
                "course_number": "C3",
                "title": "Records Day",
                "provider_id": providers.provider_by_license(office, "P-1"),
                "category": "General",
                "hours": 8,
                "start_date": date(2024, 5, 1),
                "end_date": date(2024, 5, 2),
                "kind": "workshop",
            },
            actor="admin",
            course_id=course_id,
        )
    assert (
        "A member already has 16 hours of this course (all dates together); approved hours "
        "cannot go below that."
    ) in caught.value.problems
    # Within what the records need, a workbook changes the course (any case of its number).
    ok = ["c3", "Records Day (2 days)", "P-1", "General", 16, "2024-05-01", "2024-05-03", "", ""]
    workbook.load(
        office,
        write_workbook(tmp_path / "ok.xlsx", {"Courses": [COURSE_HEADER, ok]}).read_bytes(),
        "ok.xlsx",
    )
    assert office.rows("SELECT title, end_date FROM courses WHERE id = ?", [course_id]) == [
        ("Records Day (2 days)", date(2024, 5, 3))
    ]


@pytest.mark.both_backends
def test_a_courses_hours_cannot_go_below_what_a_member_holds_over_several_dates(db):
    """Approved hours bound what a member holds of a course on all dates together (as
    every new record is checked): 4 + 4 hours on two days keep an 8-hour course from
    going down to 5, though no single record is over 5."""
    from cetracker import members, records

    provider = providers.save_provider(db, {"license_number": "P-1", "name": "P"}, actor="t")
    course = {
        "course_number": "C-8",
        "title": "Two days",
        "provider_id": provider,
        "category": "General",
        "hours": 8,
        "start_date": date(2026, 3, 1),
        "end_date": date(2026, 3, 2),
        "kind": "workshop",
    }
    course_id = courses.save_course(db, course, actor="t")
    member_id = members.save_member(
        db,
        {"license_number": "TX-1", "first_name": "A", "last_name": "B", "status": "active"},
        actor="t",
    )
    for day in (date(2026, 3, 1), date(2026, 3, 2)):
        records.save_record(
            db,
            member_id,
            {"course_id": course_id, "course_date": day, "hours": 4, "status": "approved"}
            | {"category": "General"},
            actor="t",
        )
    with pytest.raises(Invalid) as caught:
        courses.save_course(db, {**course, "hours": 5}, actor="t", course_id=course_id)
    assert (
        "A member already has 8 hours of this course (all dates together); approved hours "
        "cannot go below that."
    ) in caught.value.problems
    courses.save_course(
        db, {**course, "hours": 8, "title": "Two days, again"}, actor="t", course_id=course_id
    )
    assert db.scalar("SELECT title FROM courses WHERE id = ?", [course_id]) == "Two days, again"
