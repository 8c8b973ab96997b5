"""The command line exactly as SPEC §7 documents it, run as a real subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import chdir, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cetracker.cli import main
from cetracker.store.db import close_all
from tests.workbooks import OFFICE, write_workbook

# Golden output: Ana earned 26.5 in 2023 (6.5 over, carried), 13 in 2024 incl. 3 Ethics.
# Zoë earned 16 with no Ethics. Bob has 19 incl. Ethics but is inactive.
GOLDEN_2024 = """\
license_number,first_name,last_name,county,area,position,year,earned,carried_in,credited,required,short_by,eligible
1003,Bob,'=cmd|' /C calc'!A0,Travis,Area 3,Deputy Clerk,2024,19,0,19,20,1,false
1001,Ana,Núñez,Travis,Area 3,County Clerk,2024,13,6.5,19.5,20,0.5,false
1002,Zoë,Ødegård,Harris,Area 6,Deputy Clerk,2024,16,0,16,20,4,false
"""


# Each test's database: a file in its folder, or a PostgreSQL database (the backend fixture).
LOCATIONS: dict[Path, str] = {}


@pytest.fixture(autouse=True)
def cli_database(database_location: str, tmp_path: Path) -> Iterator[str]:
    LOCATIONS[tmp_path] = database_location
    yield database_location
    LOCATIONS.pop(tmp_path, None)


def location(tmp_path: Path) -> str:
    return LOCATIONS.get(tmp_path, str(tmp_path / "ce.duckdb"))


def run(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the command line in-process (fast) with its own stdout and stderr."""
    out, err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    argv = ["--db", location(tmp_path), *args]
    with redirect_stdout(out), redirect_stderr(err), chdir(tmp_path):
        code = main(argv)
    out.flush()
    result = subprocess.CompletedProcess(argv, code, out.buffer.getvalue().decode(), err.getvalue())
    close_all()  # the next command opens the file afresh, as a new process would
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_process(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line as a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "cetracker.cli", "--db", location(tmp_path), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )


@pytest.fixture
def office(tmp_path: Path, database_like: Callable[[str, Callable[[str], object]], str]) -> Path:
    """The office workbook loaded by the command line (once per backend, then copied)."""

    def build(location: str) -> None:
        folder = tmp_path / "template"
        folder.mkdir()
        LOCATIONS[folder] = location
        run(folder, "init")
        run(folder, "load", str(write_workbook(folder / "office.xlsx", OFFICE)))
        del LOCATIONS[folder]

    LOCATIONS[tmp_path] = database_like("cli-office", build)
    return tmp_path


@pytest.mark.both_backends
def test_load_then_hour_summary_csv_matches_golden(office):
    out = run(office, "report", "hour-summary", "--year", "2024").stdout
    assert out == GOLDEN_2024


def test_real_process_prints_the_golden_csv_and_one_line_errors(office):
    assert run_process(office, "report", "hour-summary", "--year", "2024").stdout == GOLDEN_2024
    bad = run_process(office, "load", "missing.xlsx")
    assert bad.returncode == 1
    assert bad.stderr.startswith("cetracker: Cannot read") and bad.stderr.count("\n") == 1


def test_a_command_started_with_its_output_closed_still_ends_as_it_should(office):
    # A script may start it with standard output closed (`cetracker … >&-`): Python then has
    # no sys.stdout to flush at the end, and the command's own way out must not trip on it.
    ran = subprocess.run(
        [sys.executable, "-m", "cetracker.cli", "--db", location(office), "users", "list"],
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        cwd=office,
        timeout=120,
        preexec_fn=lambda: os.close(1),  # noqa: PLW1509 - closes the child's fd 1 only
    )
    assert (ran.returncode, ran.stderr) == (0, "")


def test_hour_summary_filters_and_short_only(office):
    out = run(office, "report", "hour-summary", "--year", "2023", "--area", "Area 3").stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["license_number"], r["earned"], r["eligible"]) for r in rows] == [
        ("1003", "0", "false"),
        ("1001", "26.5", "true"),
    ]
    out = run(office, "report", "hour-summary", "--year", "2023", "--short-only").stdout
    assert "1001" not in out and "1002" in out


def test_hour_summary_xlsx_and_pdf(office):
    run(office, "report", "hour-summary", "--year", "2024", "--format", "xlsx", "-o", "hs.xlsx")
    sheet = load_workbook(office / "hs.xlsx").active
    assert [c.value for c in sheet[1]][:3] == ["license_number", "first_name", "last_name"]
    assert sheet.freeze_panes == "A2"
    # The hostile last name is a text cell, never a formula.
    assert sheet["C2"].value == "=cmd|' /C calc'!A0" and sheet["C2"].data_type == "s"
    run(office, "report", "hour-summary", "--year", "2024", "--format", "pdf", "-o", "hs.pdf")
    assert (office / "hs.pdf").read_bytes().startswith(b"%PDF")


def test_a_report_takes_its_format_from_the_file_name(office):
    # `-o list.pdf` alone wrote CSV text under a .pdf name, a file no PDF reader opens.
    run(office, "report", "member-list", "--year", "2024", "-o", "list.pdf")
    assert (office / "list.pdf").read_bytes().startswith(b"%PDF")
    run(office, "report", "dues", "--year", "2024", "-o", "dues.XLSX")
    assert load_workbook(office / "dues.XLSX").active["A1"].value == "license_number"
    assert run(office, "report", "dues", "--year", "2024").stdout.startswith("license_number,")
    clash = run(
        office, "report", "dues", "--year", "2024", "--format", "csv", "-o", "d.pdf", check=False
    )
    assert clash.returncode == 1
    assert one_line_error(clash) == (
        "cetracker: --format csv does not match the file name d.pdf (a .pdf file). "
        "Name the file .csv, or leave out --format."
    )
    assert not (office / "d.pdf").exists()


@pytest.mark.both_backends
def test_load_is_an_upsert(office):
    changed = {
        "Members": [
            OFFICE["Members"][0],
            [
                "1001",
                "Ana",
                "Núñez-Ruiz",
                "",
                "",
                "",
                "Travis",
                "Area 3",
                "District Clerk",
                "active",
                "",
            ],
        ],
        "CE Records": [
            OFFICE["CE Records"][0],
            ["1001", "C2", 2024, "2024-03-01", 2.5, "", "", ""],
        ],
    }
    run(office, "load", str(write_workbook(office / "again.xlsx", changed)))
    out = run(office, "report", "hour-summary", "--year", "2024", "--name", "1001").stdout
    row = next(csv.DictReader(io.StringIO(out)))
    assert (row["last_name"], row["position"], row["earned"]) == (
        "Núñez-Ruiz",
        "District Clerk",
        "12.5",
    )


def server(sheets: dict[str, list[list[object]]], message: str) -> object:
    """A case that reads what the database holds: run on PostgreSQL as well. (The checks
    of one cell are the same code on both, and each case runs the command three times.)"""
    return pytest.param(sheets, message, marks=pytest.mark.both_backends)


@pytest.mark.parametrize(
    ("sheets", "message"),
    [
        (
            {"Members": [OFFICE["Members"][0], ["", "A", "B"]]},
            "sheet Members, row 2: License number is required",
        ),
        (
            {"Courses": [OFFICE["Courses"][0], ["C9", "T", "P-1", "", -3]]},
            "sheet Courses, row 2: Approved hours cannot be negative",
        ),
        (
            {
                "Courses": [
                    OFFICE["Courses"][0],
                    ["C9", "T", "P-1", "", 3, "2024-05-02", "2024-05-01"],
                ]
            },
            "End date 05/01/2024 is before start date 05/02/2024",
        ),
        (
            {"Policy": [OFFICE["Policy"][0], [2024, 20, 10, 13]]},
            "Year Start Month '13' must be a whole number from 1 to 12",
        ),
        (
            # The same limits as the CE Rules form (policy.range_problems).
            {"Policy": [OFFICE["Policy"][0], [2024, 0, 10, 1]]},
            "sheet Policy, row 2: Required hours must be more than 0 and at most 1,000.",
        ),
        server(
            # The CE Rules page's checks (policy.check_proposal): 2024 has records already.
            {"Policy": [OFFICE["Policy"][0], [2024, 20, 10, 7]]},
            "sheet Policy, row 2: 5 records are already filed in CE years from 2024 on",
        ),
        server(
            # Minimums beyond the hours required: a new set, or a policy under the set in force.
            {
                "Category Minimums": [
                    OFFICE["Category Minimums"][0],
                    [2024, "Ethics", 3],
                    [2024, "Law", 18],
                ]
            },
            "sheet Category Minimums, row 2: The category minimums add up to 21 hours, more "
            "than the 20 hours required; lower the minimums or raise the required hours. "
            "Nothing was written.",
        ),
        (
            {"Policy": [OFFICE["Policy"][0], [2024, 2, 0, 1]]},
            "sheet Policy, row 2: The category minimums add up to 3 hours, more than the 2 hours",
        ),
        (
            {"Category Minimums": [OFFICE["Category Minimums"][0], [2025, "Ethics", 0]]},
            "sheet Category Minimums, row 2: the minimum for Ethics must be more than 0",
        ),
        (
            {"CE Records": [OFFICE["CE Records"][0], ["1001", "C2", 2023, "2024-03-01", 3]]},
            "CE Year 2023 does not match the course date",
        ),
        (
            # The same limit as an admin's entry of a record (records.RECORD).
            {"CE Records": [OFFICE["CE Records"][0], ["1001", "C2", 2024, "2024-03-01", 5000]]},
            "sheet CE Records, row 2: Hours 5000 is more than 1,000; check the figure",
        ),
        server(
            {"CE Records": [OFFICE["CE Records"][0], ["9999", "C2", 2024, "2024-03-01", 3]]},
            "no member holds license number 9999",
        ),
        server(
            # A listed course's records are in its category, as a roster's rows are.
            {
                "CE Records": [
                    OFFICE["CE Records"][0],
                    ["1001", "C1", 2023, "2023-02-02", 2, "", "", "Ethics"],
                ]
            },
            "category Ethics is not course C1's category (General)",
        ),
        server(
            {"Dues": [OFFICE["Dues"][0], ["1001", "twenty", 50]]},
            "sheet Dues, row 2: Year “twenty” is not a year from 1900 to 2200",
        ),
    ],
)
def test_bad_workbook_is_rejected_whole(office, sheets, message):
    before = run(office, "report", "hour-summary", "--year", "2024").stdout
    # A good Members sheet rides along: it must not be written either.
    sheets = (
        {"Members": [OFFICE["Members"][0], ["5555", "New", "Person"]], **sheets}
        if "Members" not in sheets
        else sheets
    )
    result = run(office, "load", str(write_workbook(office / "bad.xlsx", sheets)), check=False)
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert run(office, "report", "hour-summary", "--year", "2024").stdout == before


@pytest.mark.parametrize("content", [b"", b"not a workbook", b"PK\x03\x04broken zip"])
def test_unreadable_workbook_is_one_line(tmp_path, content):
    run(tmp_path, "init")
    (tmp_path / "w.xlsx").write_bytes(content)
    result = run(tmp_path, "load", "w.xlsx", check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_file_and_unknown_report(tmp_path):
    run(tmp_path, "init")
    result = run(tmp_path, "load", "nope.xlsx", check=False)
    assert result.returncode == 1 and "Cannot read" in result.stderr
    result = run(tmp_path, "report", "nope", "--year", "2024", check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "invalid choice: 'nope' (choose from 'hour-summary', " in result.stderr


def test_the_help_names_every_report_and_role(tmp_path):
    from cetracker import reports
    from cetracker.accounts import users

    shown = " ".join(run(tmp_path, "report", "--help").stdout.split())
    assert all(name in shown for name in reports.REPORTS)
    shown = " ".join(run(tmp_path, "users", "add", "--help").stdout.split())
    assert ", ".join(users.ROLES) in shown


@pytest.mark.both_backends  # ./ce start's command, and a server's first demo
def test_init_demo_prints_a_login_per_role(tmp_path):
    out = run(tmp_path, "init", "--demo", "--members", "120").stdout
    for role in ("admin", "director", "provider", "member"):
        assert f"username: {role}" in out
    again = run(tmp_path, "init", "--demo", "--if-missing").stdout
    assert "username: admin" in again
    rows = list(
        csv.DictReader(
            io.StringIO(run(tmp_path, "report", "hour-summary", "--year", "2025").stdout)
        )
    )
    assert len(rows) == 120
    assert {r["eligible"] for r in rows} == {"true", "false"}
    assert any(float(r["carried_in"]) > 0 for r in rows)


def test_users_add_and_list(office):
    result = run(
        office,
        "users",
        "add",
        "dana",
        "--role",
        "director",
        "--scope-area",
        "Area 3",
        "--password",
        "long-enough-pw",
    )
    assert "Added director dana" in result.stdout
    assert "dana\tdirector" in run(office, "users", "list").stdout
    bad = run(
        office,
        "users",
        "add",
        "m1",
        "--role",
        "member",
        "--member",
        "0000",
        "--password",
        "long-enough-pw",
        check=False,
    )
    assert bad.returncode == 1 and "No member holds license number 0000" in bad.stderr
    short = run(office, "users", "add", "x", "--role", "admin", "--password", "short", check=False)
    assert "at least 10 characters" in short.stderr


@pytest.mark.both_backends
def test_backup_restores_to_the_same_figures(office, tmp_path):
    folder = tmp_path / "backups"
    backup_file = Path(run(office, "backup", str(folder)).stdout.strip())
    assert backup_file.exists()
    before = run(office, "report", "hour-summary", "--year", "2024").stdout
    other = tmp_path / "other"
    other.mkdir()
    run(other, "restore", str(backup_file))
    assert run(other, "report", "hour-summary", "--year", "2024").stdout == before
    # Replacing an existing database needs --yes; the replaced file is kept.
    again = run(other, "restore", str(backup_file), check=False)
    assert again.returncode == 1 and "--yes" in again.stderr
    assert "kept as" in run(other, "restore", str(backup_file), "--yes").stdout


def test_counts_json_of_load(tmp_path):
    run(tmp_path, "init")
    out = run(tmp_path, "load", str(write_workbook(tmp_path / "o.xlsx", OFFICE))).stdout
    assert json.loads(out)["Members"] == 3


def test_template_is_a_real_workbook_with_a_course_dropdown(office):
    run(office, "template", "--provider", "P-1", "-o", "t.xlsx")
    book = load_workbook(office / "t.xlsx")
    roster = book.worksheets[0]
    assert [c.value for c in roster[1]] == [
        "First Name",
        "Last Name",
        "License Number",
        "Course Number",
        "CE Year",
        "Course Date",
        "CE Hours",
    ]
    assert roster["A2"].value == "Jane"
    assert roster["F2"].number_format == "mm/dd/yyyy"
    lists = [v for v in roster.data_validations.dataValidation if v.type == "list"]
    assert lists and "D2:D5001" in str(lists[0].sqref)
    assert {c.value for c in book["Courses"]["A"]} >= {"C1", "C2", "C3"}
    assert "Instructions" in book.sheetnames


@pytest.mark.both_backends
def test_import_prints_counts_and_writes_failed_rows(office):
    roster = office / "r.csv"
    roster.write_text(
        "First Name,Last Name,License Number,Course Number,CE Year,Course Date,CE Hours\n"
        "Zoe,Odegard,1002,C2,2024,03/01/2024,3\n"
        "Ann,Nobody,9999,C2,2024,03/01/2024,3\n"
        "Ana,Nunez,1001,C3,2024,2024-05-02,2 hrs\n",
        encoding="utf-8",
    )
    out = run(office, "import", "r.csv", "--provider", "P-1", "--failed-out", "failed.xlsx")
    assert json.loads(out.stdout) == {"processed": 1, "failed": 2, "total": 3}
    sheet = load_workbook(office / "failed.xlsx").worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][-1] == "Status" and len(rows) == 3
    assert rows[1][2] == "9999" and "No member holds license number 9999" in rows[1][-1]
    assert rows[2][-1] == "CE Hours “2 hrs” is not a number"
    again = run(office, "import", "r.csv", "--provider", "P-1")
    assert json.loads(again.stdout) == {"processed": 0, "failed": 3, "total": 3}


def test_import_rejected_file_exits_non_zero(office):
    (office / "bad.xlsx").write_bytes(b"not a workbook")
    result = run(office, "import", "bad.xlsx", "--provider", "P-1", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert "is not an Excel workbook" in result.stderr
    unknown = run(office, "import", "bad.xlsx", "--provider", "NOPE", check=False)
    assert "No provider holds license number NOPE" in unknown.stderr


def test_certificates_command(office):
    out = run(office, "certificates", "--year", "2023", "-o", "c.pdf").stdout
    assert "Wrote 1 certificates" in out and (office / "c.pdf").read_bytes().startswith(b"%PDF")
    none = run(office, "certificates", "--year", "2024", "-o", "none.pdf")
    assert none.returncode == 0 and "Nobody earned a certificate" in none.stdout
    assert not (office / "none.pdf").exists()


@pytest.mark.parametrize(
    "name", ["conference-detail", "member-list", "dues", "carryover", "certificates"]
)
def test_every_report_by_name(office, name):
    out = run(office, "report", name, "--year", "2024", "--area", "Area 3").stdout
    assert out.splitlines()[0].startswith("license_number")
    assert "Ødegård" not in out  # Area 6


def test_conference_report_needs_a_course(office):
    assert (
        "needs --course"
        in run(office, "report", "conference", "--year", "2024", check=False).stderr
    )
    out = run(office, "report", "conference", "--year", "2024", "--course", "C3").stdout
    assert out.count("\n") == 4


def test_users_disable_enable_and_reset_password(office):
    run(office, "users", "add", "dana", "--role", "director", "--password", "long-enough-pw")
    assert "dana is disabled" in run(office, "users", "disable", "dana").stdout
    assert "dana\tdirector" in run(office, "users", "list").stdout
    assert run(office, "users", "list").stdout.splitlines()[-1].endswith("True")
    run(office, "users", "enable", "dana")
    out = run(office, "users", "reset-password", "dana", "--password", "another-long-pw").stdout
    assert "Password of dana reset" in out
    missing = run(office, "users", "disable", "nobody", check=False)
    assert missing.returncode == 1 and "no account named 'nobody'" in missing.stderr


def test_db_option_after_the_command(office):
    with chdir(office):
        out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
        with redirect_stdout(out):
            code = main(["report", "hour-summary", "--year", "2024", "--db", location(office)])
        out.flush()
    close_all()
    assert code == 0 and out.buffer.getvalue().decode() == GOLDEN_2024


# -- the contract of SPEC §7: one clear line, nothing committed, nothing created -------------


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cetracker: "), result.stderr
    assert "Traceback" not in result.stderr and "unexpected error" not in result.stderr
    return lines[0]


def roster_file(folder: Path) -> Path:
    roster = folder / "r.csv"
    roster.write_text(
        "First Name,Last Name,License Number,Course Number,CE Year,Course Date,CE Hours\n"
        "Zoe,Odegard,1002,C2,2024,03/01/2024,3\n"
        "Ann,Nobody,9999,C2,2024,03/01/2024,3\n",
        encoding="utf-8",
    )
    return roster


def test_an_unwritable_failed_rows_file_fails_before_importing(office):
    roster = roster_file(office)
    for target in ("missing/dir/f.xlsx", ".", "-"):
        result = run(
            office, "import", str(roster), "--provider", "P-1", "--failed-out", target, check=False
        )
        line = one_line_error(result)
        assert "Nothing was done" in line and result.stdout == ""
    assert "Cannot write missing/dir/f.xlsx: No such file or directory" in one_line_error(
        run(
            office,
            "import",
            str(roster),
            "--provider",
            "P-1",
            "--failed-out",
            "missing/dir/f.xlsx",
            check=False,
        )
    )
    # Nothing was imported: the retry that follows the fix records the row once.
    out = run(office, "import", str(roster), "--provider", "P-1", "--failed-out", "f.xlsx")
    assert json.loads(out.stdout) == {"processed": 1, "failed": 1, "total": 2}
    assert (office / "f.xlsx").exists() and not list(office.glob(".*.partial"))


@pytest.mark.embedded_only
def test_commands_but_init_refuse_a_database_that_is_not_there(tmp_path):
    missing = tmp_path / "typo.duckdb"
    roster = roster_file(tmp_path)
    commands = [
        ["report", "hour-summary", "--year", "2024"],
        ["load", "w.xlsx"],
        ["import", str(roster), "--provider", "P-1"],
        ["certificates", "--year", "2024", "-o", "c.pdf"],
        ["template", "-o", "t.xlsx"],
        ["users", "list"],
        ["users", "add", "dana", "--role", "director", "--password", "long-enough-pw"],
        ["backup", str(tmp_path / "backups")],
        ["migrate-to", str(tmp_path / "copy.duckdb")],
    ]
    for command in commands:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err), chdir(tmp_path):
            code = main(["--db", str(missing), *command])
        close_all()
        line = one_line_error(
            subprocess.CompletedProcess(command, code, out.getvalue(), err.getvalue())
        )
        assert f"There is no database file at {missing}" in line, command
        assert not missing.exists(), command
    # init creates it; then the same command works.
    assert main(["--db", str(missing), "init"]) == 0
    close_all()
    assert main(["--db", str(missing), "users", "list"]) == 0
    close_all()


def test_a_server_database_without_the_schema_is_refused(backend, new_database, tmp_path):
    if backend != "postgresql":
        pytest.skip("about a PostgreSQL database that exists but was never initialised")
    empty = new_database(tmp_path, "never_initialised")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--db", empty, "report", "hour-summary", "--year", "2024"])
    close_all()
    line = one_line_error(subprocess.CompletedProcess([], code, out.getvalue(), err.getvalue()))
    assert "There is no CE Tracker database at" in line
    from cetracker.store.db import holds_database

    assert not holds_database(empty)  # and nothing was created in it


@pytest.mark.parametrize(
    ("year", "words"),
    [
        ("-5", "CE year -5 is outside 1900–2200"),
        ("0", "CE year 0 is outside 1900–2200"),
        ("99999", "CE year 99999 is outside 1900–2200"),
        ("2024.5", "the CE year must be a whole number such as 2024, not '2024.5'"),
        ("abc", "the CE year must be a whole number such as 2024, not 'abc'"),
        ("1" * 5000, "the CE year must be a whole number such as 2024"),
    ],
)
def test_a_year_out_of_range_or_not_whole_is_one_line(office, year, words):
    for command in (
        ["report", "hour-summary", "--year", year],
        ["report", "certificates", "--year", year, "--format", "pdf", "-o", "c.pdf"],
        ["certificates", "--year", year, "-o", "c.pdf"],
    ):
        line = one_line_error(run(office, *command, check=False))
        assert words in line and "argument --year" in line
    assert not (office / "c.pdf").exists()


def test_every_argument_mistake_is_one_line(office):
    for command in (
        ["report"],
        ["report", "hour-summary"],
        ["import", "r.csv"],
        ["users", "add", "x", "--role", "king"],
        ["nonsense"],
    ):
        line = one_line_error(run(office, *command, check=False))
        assert "see cetracker" in line and "--help" in line


def test_years_never_reach_a_table_name(db):
    """A year is only a parameter and a cache key; the in-memory tables are named by counters."""
    from cetracker.standing import year_records, year_standing

    names = {year_standing(db, 2024), year_records(db, 2024), year_standing(db, -5)}
    assert all(name.startswith("cetracker_scratch.d") and "2024" not in name for name in names)
    assert all(db.scalar(f"SELECT count(*) FROM {name}") == 0 for name in names)  # noqa: S608


def test_the_command_imports_no_library_it_may_not_use():
    """`cetracker import` starts reading a roster before anything heavy is imported: the
    command's modules leave pandas, the PDF, spreadsheet and chart libraries and the UI to
    the commands that use them (pandas alone takes 0.7 s to import here)."""
    heavy = ("pandas", "fpdf", "openpyxl", "plotly", "streamlit")
    code = (
        "import sys, cetracker.cli, cetracker.importer; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == ""


def test_the_command_line_loads_no_database_before_a_roster_is_being_read(tmp_path):
    """`cetracker import` starts its roster's reading with the standard library and the
    roster's reader alone loaded: the child reads while DuckDB and the checks load."""
    roster = tmp_path / "r.csv"
    roster.write_bytes(b"x")
    code = (
        "import sys, cetracker.cli, cetracker.files.roster_columns as columns\n"
        "def started(data, name):\n"
        "    print(sorted(m for m in sys.modules if m.split('.')[0] in ('duckdb', 'jwt',"
        " 'pyarrow') or m in ('cetracker.store.db', 'cetracker.importer', 'cetracker.reports')))\n"
        "    raise SystemExit(0)\n"
        "columns.start_reading = started\n"
        f"cetracker.cli.main(['--db', 'x.duckdb', 'import', {str(roster)!r}, '--provider', 'P'])\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.strip()
    assert found == "[]"
