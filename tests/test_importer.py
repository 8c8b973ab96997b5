"""Roster import (SPEC §5): a table of hostile and broken inputs, each with its exact outcome."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from cetracker import importer, providers, records
from cetracker.errors import CetrackerError, RejectedFile
from cetracker.store.db import Database
from tests.pgserver import sent_queries, whole_reads
from tests.rosters import HEADER, csv_bytes, with_cached_formula, xlsx_bytes

TODAY = date(2024, 12, 31)
OK = "Processed"

SETUP = {
    "Members": [
        ["License Number", "First Name", "Last Name", "County", "Area", "Position"],
        ["1001", "Ana", "Núñez", "Travis", "Area 3", "County Clerk"],
        ["1002", "Zoë", "Ødegård", "Harris", "Area 6", "Deputy Clerk"],
        ["1003", "Robert", "O'Brien", "Travis", "Area 3", "Deputy Clerk"],
        ["1004", "Łukasz", "Łukasiewicz", "Travis", "Area 3", "Deputy Clerk"],
        ["AB-77", "Thi", "Nguyễn", "Travis", "Area 3", "Deputy Clerk"],
    ],
    "Providers": [
        ["License Number", "Name"],
        ["P-1", "Clerks' Education Foundation"],
        ["P-2", "Another Provider"],
    ],
    "Courses": [
        [
            "Course Number",
            "Title",
            "Provider License",
            "Category",
            "Hours",
            "Start Date",
            "End Date",
        ],
        ["C2", "Ethics for Clerks", "P-1", "Ethics", 3, "2024-03-01", "2024-03-01"],
        ["C3", "Records Day", "P-1", "General", 16, "2024-05-01", "2024-05-02"],
        ["X9", "Someone else's course", "P-2", "General", 4, "2024-01-10", "2024-01-10"],
    ],
}


@pytest.fixture
def office(workbook_database) -> tuple[Database, int]:
    db = workbook_database("importer-setup", SETUP)
    return db, providers.provider_by_license(db, "P-1")


def good(**change: object) -> list[object]:
    row = {
        "First Name": "Ana",
        "Last Name": "Núñez",
        "License Number": "1001",
        "Course Number": "C3",
        "CE Year": 2024,
        "Course Date": "2024-05-01",
        "CE Hours": 8,
    }
    row.update({k.replace("_", " "): v for k, v in change.items()})
    return [row[h] for h in HEADER]


def statuses(db, provider_id, data: bytes, name: str) -> list[tuple[int, str]]:
    result = importer.import_roster(
        db, data, name, provider_id=provider_id, uploaded_by="test", today=TODAY
    )
    return [(o.row_number, o.status) for o in result.outcomes]


ROW_CASES = [
    # (id, rows, expected statuses by row; a string is a part of the Status)
    ("valid", [good()], [OK]),
    ("missing first name", [good(First_Name="")], ["First Name is missing"]),
    (
        "several missing",
        [good(First_Name="", Course_Number="", CE_Hours="")],
        ["First Name is missing; Course Number is missing; CE Hours is missing"],
    ),
    ("unknown license", [good(License_Number="9999")], ["No member holds license number 9999"]),
    (
        "wrong last name",
        [good(Last_Name="Smith")],
        ["The last name does not match the member who holds this license number"],
    ),
    ("accents ignored", [good(Last_Name="NUNEZ")], [OK]),
    ("apostrophe ignored", [good(Last_Name="OBrien", License_Number="1003")], [OK]),
    ("Ø transliterated", [good(Last_Name="Odegard", License_Number="1002")], [OK]),
    ("Ł transliterated", [good(Last_Name="Lukasiewicz", License_Number="1004")], [OK]),
    ("Vietnamese", [good(Last_Name="Nguyen", License_Number="ab 77")], [OK]),
    ("nickname", [good(First_Name="Bobby", Last_Name="O'Brien", License_Number="1003")], [OK]),
    ("license dashes and spaces", [good(License_Number=" 10-01 ")], [OK]),
    ("unknown course", [good(Course_Number="NOPE")], ["No course has course number NOPE"]),
    (
        "another provider's course",
        [good(Course_Number="X9", Course_Date="2024-01-10")],
        ["Course X9 is not one of this provider's courses"],
    ),
    ("course number case", [good(Course_Number=" c3 ")], [OK]),
    ("hours text", [good(CE_Hours="abc")], ["CE Hours “abc” is not a number"]),
    ("hours with unit", [good(CE_Hours="2 hrs")], ["CE Hours “2 hrs” is not a number"]),
    ("hours zero", [good(CE_Hours=0)], ["CE Hours must be more than 0"]),
    ("hours negative", [good(CE_Hours=-2)], ["CE Hours must be more than 0"]),
    (
        "hours over approved",
        [good(Course_Number="C2", Course_Date="2024-03-01", CE_Hours=4)],
        ["CE Hours 4 is more than the 3 hours approved for course C2"],
    ),
    ("hours numeric text", [good(CE_Hours=" 2.5 ")], [OK]),
    (
        "date not a date",
        [good(Course_Date="yesterday")],
        ["Course Date “yesterday” is not a date (use MM/DD/YYYY or YYYY-MM-DD)"],
    ),
    (
        "impossible date",
        [good(Course_Date="02/30/2024")],
        ["Course Date “02/30/2024” is not a date"],
    ),
    (
        "date in the future",
        [good(Course_Date="2025-01-05", CE_Year=2025)],
        ["Course Date 01/05/2025 is in the future"],
    ),
    (
        "date outside course",
        [good(Course_Date="2024-05-09")],
        ["Course Date 05/09/2024 is outside the course's dates (05/01/2024 to 05/02/2024)"],
    ),
    ("US date", [good(Course_Date="05/02/2024")], [OK]),
    ("serial date as text", [good(Course_Date="45413")], [OK]),
    (
        "year mismatch",
        [good(CE_Year=2023)],
        ["CE Year 2023 does not match the course date 05/01/2024 (CE year 2024)"],
    ),
    ("year not a year", [good(CE_Year="twenty")], ["CE Year “twenty” is not a year"]),
    (
        "duplicate in file",
        [good(), good(CE_Hours=4)],
        [OK, "The same member, course and date appears earlier in this file (row 2)"],
    ),
    (
        "duplicate three times, hours differ",
        [good(), good(CE_Hours=4), good(CE_Hours="8")],
        [
            OK,
            "The same member, course and date appears earlier in this file (row 2)",
            "The same member, course and date appears earlier in this file (row 2)",
        ],
    ),
    (
        # TRUE equals 1 in Python: each must still be read for what it is.
        "TRUE next to 1",
        [good(CE_Hours=True), good(License_Number="1003", Last_Name="O'Brien", CE_Hours=1)],
        ["is not a number", OK],
    ),
    ("license with an en dash and a no-break space", [good(License_Number="10–0\u00a01")], [OK]),
    ("hours to three decimals", [good(CE_Hours="2.125")], [OK]),
    (
        "same member, another course on the same day",
        [good(), good(Course_Number="C2", Course_Date="2024-05-01", CE_Hours=1)],
        [OK, "Course Date 05/01/2024 is outside the course's dates"],
    ),
    (
        "blank rows skipped",
        [
            good(),
            [None] * 7,
            ["", " ", "", "", "", "", ""],
            good(License_Number="1003", Last_Name="O'Brien"),
        ],
        [OK, OK],
    ),
    (
        "formula-looking text",
        [good(Last_Name='=HYPERLINK("http://x","y")')],
        ["The last name does not match"],
    ),
    ("at sign nickname", [good(First_Name="@SUM(A1)")], [OK]),
    ("very long name", [good(Last_Name="N" * 1000)], ["The last name does not match"]),
    ("emoji", [good(First_Name="Ana 🎓")], [OK]),
    (
        "every problem at once",
        [["", "X", "9999", "NOPE", "abc", "later", "lots"]],
        [
            "First Name is missing; No member holds license number 9999; No course has course number "
            "NOPE; CE Hours “lots” is not a number; Course Date “later” is not a date (use MM/DD/YYYY "
            "or YYYY-MM-DD); CE Year “abc” is not a year"
        ],
    ),
]


def _check(got: list[tuple[int, str]], expected: list[str]) -> None:
    assert len(got) == len(expected), got
    for (_, status), want in zip(got, expected, strict=True):
        assert (status == OK) if want == OK else (want in status), (status, want)


# The cases that what the database holds decides (the license's holder and name, the course,
# its hours and dates, the provider's courses) run on PostgreSQL too. The others are settled
# by the cells alone, which this process's DuckDB reads and checks on either backend.
DECIDED_BY_THE_DATABASE = {
    "valid",
    "unknown license",
    "wrong last name",
    "Vietnamese",
    "license dashes and spaces",
    "unknown course",
    "another provider's course",
    "course number case",
    "hours over approved",
    "date outside course",
    "same member, another course on the same day",
    "every problem at once",
}
assert DECIDED_BY_THE_DATABASE <= {c[0] for c in ROW_CASES}


@pytest.mark.parametrize(
    ("rows", "expected", "kind"),
    [
        pytest.param(
            *case[1:],
            kind,
            id=f"{kind}-{case[0]}",
            marks=[pytest.mark.both_backends]
            if kind == "csv" and case[0] in DECIDED_BY_THE_DATABASE
            else [],
        )
        for case in ROW_CASES
        for kind in ("csv", "xlsx")
    ],
)
def test_row_outcomes(office, rows, expected, kind):
    db, pid = office
    data = csv_bytes(rows) if kind == "csv" else xlsx_bytes(rows)
    _check(statuses(db, pid, data, f"roster.{kind}"), expected)


def test_blank_rows_keep_file_row_numbers(office):
    db, pid = office
    rows = [good(), [None] * 7, good(License_Number="9999")]
    assert statuses(db, pid, xlsx_bytes(rows), "r.xlsx") == [
        (2, OK),
        (4, "No member holds license number 9999"),
    ]


@pytest.mark.both_backends
def test_wrong_name_never_reveals_the_holder(office):
    db, pid = office
    ((_, status),) = statuses(db, pid, csv_bytes([good(Last_Name="Smith")]), "r.csv")
    assert "Núñez" not in status and "Ana" not in status


@pytest.mark.both_backends
def test_reupload_adds_nothing_twice(office):
    db, pid = office
    data = csv_bytes([good(), good(License_Number="1002", Last_Name="Ødegård")])
    assert [s for _, s in statuses(db, pid, data, "r.csv")] == [OK, OK]
    again = importer.import_roster(db, data, "r.csv", provider_id=pid, uploaded_by="t", today=TODAY)
    assert again.counts() == {"processed": 0, "failed": 2, "total": 2}
    assert all("Already recorded" in o.status for o in again.outcomes)
    assert again.earlier_upload is not None
    assert db.scalar("SELECT count(*) FROM ce_records") == 2
    # An overlapping file adds only its new row.
    overlap = csv_bytes([good(), good(License_Number="1003", Last_Name="O'Brien")])
    third = importer.import_roster(
        db, overlap, "o.csv", provider_id=pid, uploaded_by="t", today=TODAY
    )
    assert third.counts() == {"processed": 1, "failed": 1, "total": 2}
    assert db.scalar("SELECT count(*) FROM ce_records") == 3


@pytest.mark.both_backends
def test_a_failed_row_is_no_earlier_copy_of_the_correct_row_after_it(office):
    """A row with a wrong last name records nothing, so the corrected row below it (same
    member, course and date) is recorded, not refused as a repeat of it."""
    db, pid = office
    result = importer.import_roster(
        db,
        csv_bytes([good(Last_Name="Nunez-Wrong"), good()]),
        "r.csv",
        provider_id=pid,
        uploaded_by="t",
        today=TODAY,
    )
    assert [o.status for o in result.outcomes] == [importer.NAME_MISMATCH, OK]
    assert db.scalar("SELECT count(*) FROM ce_records") == 1
    # Two correct rows alike: the second is the repeat.
    again = importer.import_roster(
        db,
        csv_bytes([good(Course_Date="2024-05-02")] * 2),
        "s.csv",
        provider_id=pid,
        uploaded_by="t",
        today=TODAY,
    )
    assert [o.status for o in again.outcomes][0] == OK
    assert "appears earlier in this file (row 2)" in again.outcomes[1].status


@pytest.mark.both_backends
@pytest.mark.parametrize("number", ["Straße-101", "ᾳ-7"])
def test_a_course_number_beyond_ascii_is_found_by_a_roster_and_the_reports(office, number):
    """Python's str.upper makes "ß" "SS" where SQL's upper() makes it "ẞ": a course
    "Straße-101" was "No course has course number Straße-101" on a roster, and the
    Conference Report said it did not exist."""
    from cetracker import courses, reports
    from cetracker.filters import Filters

    db, pid = office
    course = {
        "course_number": number,
        "title": "Unicode",
        "provider_id": pid,
        "category": "General",
        "hours": 8,
        "start_date": date(2024, 1, 1),
        "end_date": date(2024, 12, 31),
        "kind": "workshop",
    }
    courses.save_course(db, course, actor="t")
    result = importer.import_roster(
        db,
        csv_bytes([good(Course_Number=number.lower())]),
        "r.csv",
        provider_id=pid,
        uploaded_by="t",
        today=TODAY,
    )
    assert [o.status for o in result.outcomes] == [OK]
    assert len(reports.conference(db, Filters(2024), number)) == 1


@pytest.mark.both_backends
def test_roster_confirms_a_pending_self_report(office):
    db, pid = office
    course = db.scalar("SELECT id FROM courses WHERE course_number = 'C3'")
    db.execute(
        "INSERT INTO ce_records (member_id, course_id, ce_year, course_date, hours, source,"
        " status) VALUES (1, ?, 2024, '2024-05-01', 8, 'self report', 'pending')",
        [course],
    )
    result = importer.import_roster(
        db, csv_bytes([good()]), "r.csv", provider_id=pid, uploaded_by="t", today=TODAY
    )
    assert result.counts()["processed"] == 1 and result.confirmed == 1
    assert db.rows("SELECT status, source FROM ce_records") == [("approved", "self report")]


@pytest.mark.both_backends
def test_import_history_keeps_every_row(office):
    db, pid = office
    result = importer.import_roster(
        db,
        csv_bytes([good(), good(CE_Hours="x")]),
        "r.csv",
        provider_id=pid,
        uploaded_by="alice",
        today=TODAY,
    )
    assert db.one(
        "SELECT uploaded_by, file_name, processed, failed, total FROM imports WHERE id = ?",
        [result.import_id],
    ) == ("alice", "r.csv", 1, 1, 2)
    rows = importer.import_rows(db, result.import_id, pid)
    assert rows[["Row", "CE Hours", "Status"]].values.tolist() == [
        [2, "8", "Processed"],
        [3, "x", "CE Hours “x” is not a number"],
    ]
    assert rows.columns.tolist() == ["Row", *importer.TEMPLATE_COLUMNS, "Status"]
    assert importer.import_rows(db, result.import_id, pid + 1).empty  # another provider's


# -- file-level cases --------------------------------------------------------------------------


def test_excel_serial_dates_numbers_and_formulas(office):
    db, pid = office
    rows = [good(License_Number=1001.0, Course_Date=45413, CE_Year=2024.0, CE_Hours=8.0)]
    assert statuses(db, pid, xlsx_bytes(rows), "r.xlsx") == [(2, OK)]
    real_date = [good(License_Number=1002, Last_Name="Ødegård", Course_Date=date(2024, 5, 2))]
    assert statuses(db, pid, xlsx_bytes(real_date), "d.xlsx") == [(2, OK)]
    formula = with_cached_formula(
        xlsx_bytes([good(License_Number="1003", Last_Name="O'Brien")]), "G2", "4+4", "8"
    )
    assert statuses(db, pid, formula, "f.xlsx") == [(2, OK)]
    assert (
        db.scalar(
            "SELECT hours FROM ce_records r JOIN members m ON m.id = r.member_id"
            " WHERE m.license_number = '1003'"
        )
        == 8
    )


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"bom": True}, "bom.csv"),
        ({"sep": ";"}, "semi.csv"),
        ({"newline": "\r\n"}, "crlf.csv"),
        ({"encoding": "latin-1"}, "latin1.csv"),
        ({"sep": "\t"}, "tabs.csv"),
    ],
)
def test_csv_dialects(office, options, name):
    db, pid = office
    assert statuses(db, pid, csv_bytes([good()], **options), name) == [(2, OK)]


def test_header_match_ignores_case_spaces_punctuation_and_extra_columns(office):
    db, pid = office
    header = [
        "first-name",
        "LAST NAME",
        "License #Number",
        "course_number",
        "ce year",
        "Course Date:",
        "CE Hours",
        *[""] * 60,
    ]
    assert statuses(db, pid, xlsx_bytes([good() + [""] * 60], header=header), "h.xlsx") == [(2, OK)]


def test_duplicate_header_uses_the_first(office):
    db, pid = office
    header = [*HEADER, "CE Hours"]
    assert statuses(db, pid, xlsx_bytes([good() + ["junk"]], header=header), "d.xlsx") == [(2, OK)]


def test_hidden_sheet_is_skipped(office):
    db, pid = office
    assert statuses(db, pid, xlsx_bytes([good()], hidden_first=True), "h.xlsx") == [(2, OK)]


def test_merged_cells_elsewhere(office):
    db, pid = office
    assert statuses(db, pid, xlsx_bytes([good()], merge="J2:L3"), "m.xlsx") == [(2, OK)]


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


REJECTIONS = [
    ("empty file", b"", "r.xlsx", "is empty (0 bytes)"),
    ("corrupt zip", b"PK\x03\x04" + b"\x00garbage" * 50, "r.xlsx", "could not be read"),
    (
        "damaged Excel 97-2003 container",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
        "r.xls",
        "could not be read: the file is damaged",
    ),
    ("pdf renamed", _pdf(), "r.xlsx", "is not an Excel workbook, although its name ends in .xlsx"),
    ("pdf as csv", b"%PDF\x00\x01", "r.csv", "is not a CSV text file"),
    ("wrong type", b"hello", "r.txt", "is not a file type CE Tracker reads"),
    ("header only", csv_bytes([]), "r.csv", "holds the header row but no roster rows"),
    ("header only xlsx", xlsx_bytes([]), "r.xlsx", "holds the header row but no roster rows"),
    ("blank csv", b"\n\n , ,\n", "r.csv", "has no rows at all"),
    (
        "column missing",
        csv_bytes([good()[:6]], header=HEADER[:6]),
        "r.csv",
        "has no CE Hours column",
    ),
    (
        "two columns missing",
        csv_bytes([["a", "b"]], header=["First Name", "Last Name"]),
        "r.csv",
        "has no License Number, Course Number, CE Year, Course Date, CE Hours columns",
    ),
]


@pytest.mark.parametrize(
    ("data", "name", "message"), [c[1:] for c in REJECTIONS], ids=[c[0] for c in REJECTIONS]
)
def test_unreadable_files_are_rejected_whole(office, data, name, message):
    db, pid = office
    with pytest.raises(RejectedFile, match=message.replace("(", r"\(").replace(")", r"\)")):
        importer.import_roster(db, data, name, provider_id=pid, uploaded_by="t", today=TODAY)
    assert db.scalar("SELECT count(*) FROM imports") == 0
    assert db.scalar("SELECT count(*) FROM ce_records") == 0


def test_file_over_the_size_limit(office, monkeypatch):
    db, pid = office
    monkeypatch.setenv("CETRACKER_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(RejectedFile, match="more than the"):
        importer.import_roster(
            db, csv_bytes([good()] * 50), "big.csv", provider_id=pid, uploaded_by="t", today=TODAY
        )


@pytest.mark.both_backends
def test_killed_import_leaves_nothing(office, tmp_path):
    """A real process is killed after its rows were written but before the commit."""
    db, _ = office
    path = db.path
    db.close()
    roster = tmp_path / "r.csv"
    roster.write_bytes(csv_bytes([good(), good(License_Number="1002", Last_Name="Ødegård")]))
    driver = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "kill_import_driver.py"), path, str(roster)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert driver.stdout.readline().strip() == "records written, not committed"
        driver.send_signal(signal.SIGKILL)
    finally:
        driver.wait(timeout=30)
        driver.stdout.close()
    reopened = Database(path)
    assert reopened.scalar("SELECT count(*) FROM imports") == 0
    assert reopened.scalar("SELECT count(*) FROM import_row_sets") == 0
    assert reopened.scalar("SELECT count(*) FROM ce_records") == 0
    # And the same roster then imports normally.
    pid = providers.provider_by_license(reopened, "P-1")
    result = importer.import_roster(
        reopened, roster.read_bytes(), "r.csv", provider_id=pid, uploaded_by="t", today=TODAY
    )
    assert result.counts() == {"processed": 2, "failed": 0, "total": 2}


# -- a course's approved hours cap a member's total for it (SPEC §5) ---------------------------


def test_course_hours_cap_the_member_across_dates_and_uploads(office):
    db, pid = office  # C3: "Records Day", 16 hours, 05/01–05/02/2024
    db.execute("UPDATE courses SET hours = 8, end_date = '2024-05-03' WHERE course_number = 'C3'")
    first = importer.import_roster(
        db,
        csv_bytes([good(CE_Hours=4)]),
        "day1.csv",
        provider_id=pid,
        uploaded_by="t",
        today=TODAY,
    )
    assert first.counts()["processed"] == 1
    # Days two and three come in a later file: day two fills the 8 hours, day three fails.
    later = csv_bytes(
        [
            good(Course_Date="2024-05-02", CE_Hours=4),
            good(Course_Date="2024-05-03", CE_Hours=4),
            good(License_Number="1003", Last_Name="O'Brien", Course_Date="2024-05-03", CE_Hours=8),
        ]
    )
    assert statuses(db, pid, later, "days23.csv") == [
        (2, OK),
        (
            3,
            "8 of 8 approved hours for course C3 are already recorded for this member "
            "(counting rows above in this file); no more can be added",
        ),
        (4, OK),
    ]
    assert db.scalar("SELECT sum(hours) FROM ce_records WHERE member_id = 1") == 8


def test_course_hours_cap_counts_earlier_uploads_and_lets_a_smaller_row_fit(office):
    db, pid = office
    db.execute("UPDATE courses SET hours = 8, end_date = '2024-05-03' WHERE course_number = 'C3'")
    statuses(db, pid, csv_bytes([good(CE_Hours=6)]), "day1.csv")
    assert statuses(
        db,
        pid,
        csv_bytes(
            [good(Course_Date="2024-05-02", CE_Hours=3), good(Course_Date="05/03/2024", CE_Hours=2)]
        ),
        "day2.csv",
    ) == [
        (
            2,
            "6 of 8 approved hours for course C3 are already recorded for this member; "
            "at most 2 more can be added",
        ),
        (3, OK),  # the row above failed, so it adds nothing
    ]
    assert db.scalar("SELECT sum(hours) FROM ce_records") == 8


def test_admin_entry_is_capped_by_the_course_hours_too(office):
    from cetracker import records

    db, pid = office
    db.execute("UPDATE courses SET hours = 8, end_date = '2024-05-03' WHERE course_number = 'C3'")
    days = [good(CE_Hours=4), good(Course_Date="2024-05-02", CE_Hours=4)]
    statuses(db, pid, csv_bytes(days), "days.csv")
    course_id = db.scalar("SELECT id FROM courses WHERE course_number = 'C3'")
    third = {
        "course_id": course_id,
        "course_date": date(2024, 5, 3),
        "hours": 4,
        "category": "General",
        "status": "approved",
    }
    with pytest.raises(CetrackerError, match="8 of 8 approved hours for course C3 are already"):
        records.save_record(db, 1, third, actor="admin", today=TODAY)
    # Correcting one of the days is no second helping: its own hours are not counted twice.
    day_one = db.scalar("SELECT id FROM ce_records WHERE course_date = '2024-05-01'")
    records.save_record(
        db,
        1,
        {**third, "course_date": date(2024, 5, 1), "hours": 3},
        actor="admin",
        record_id=day_one,
        today=TODAY,
    )
    records.save_record(db, 1, {**third, "hours": 1}, actor="admin", today=TODAY)
    assert db.scalar("SELECT sum(hours) FROM ce_records WHERE member_id = 1") == 8


@pytest.mark.both_backends
def test_a_server_looks_up_only_the_rosters_members_records(office, capfd, monkeypatch):
    """On PostgreSQL an import's checks (the duplicate rule, the course's hours, a pending
    report to confirm) ask the server for the roster's members' records of its courses:
    DuckDB's scanner, given a join, would read every record of the table (seconds at a
    million members). What the scanner still reads of ce_records is named by id, a
    thousand at a time (here one, to see two batches)."""
    db, pid = office
    if not db.server:
        pytest.skip("the embedded file joins its own table: there is no server to ask")
    monkeypatch.setattr(records, "LITERAL_IDS", 1)
    course = db.scalar("SELECT id FROM courses WHERE course_number = 'C3'")
    db.execute(
        "INSERT INTO ce_records (member_id, course_id, ce_year, course_date, hours, source,"
        " status) VALUES (1, $c, 2024, '2024-05-01', 8, 'self report', 'pending'),"
        " (2, $c, 2024, '2024-05-01', 8, 'self report', 'pending')",
        {"c": course},
    )
    result, queries = sent_queries(
        db,
        capfd,
        lambda: importer.import_roster(
            db,
            csv_bytes([good(), good(License_Number="1002", Last_Name="Ødegård")]),
            "r.csv",
            provider_id=pid,
            uploaded_by="t",
            today=TODAY,
        ),
    )
    assert result.confirmed == 2
    assert db.rows("SELECT DISTINCT status, import_id FROM ce_records") == [
        ("approved", result.import_id)
    ]
    asked = [q for q in queries if "CROSS JOIN LATERAL" in q and "ce_records" in q]
    assert len(asked) == 1, queries
    # The confirmed reports are read by id for their UPDATEs; nothing reads the whole table.
    by_id = [q for q in queries if q.startswith("COPY (SELECT") and '"ce_records"' in q]
    assert len(by_id) == 2, by_id
    assert not whole_reads(queries, "ce_records"), whole_reads(queries, "ce_records")
