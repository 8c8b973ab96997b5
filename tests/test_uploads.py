"""Every upload read safely (SPEC §5, §8): real .xls/.ods/.csv files read like .xlsx, and hostile
files each rejected whole with one clear message, quickly, in bounded memory, nothing written."""

from __future__ import annotations

import io
import os
import pickle
import re
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from cetracker import importer, providers
from cetracker.errors import RejectedFile
from cetracker.files import bounded, uploads
from cetracker.files.spreadsheets import Sheet
from cetracker.files.workbook import load
from cetracker.store.db import Database
from tests import hostile
from tests.rosters import HEADER, csv_bytes, xlsx_bytes
from tests.test_importer import SETUP, TODAY, good
from tests.workbooks import OFFICE, write_workbook

OK = "Processed"


@pytest.fixture
def office(tmp_path, database_location) -> tuple[Database, int]:
    db = Database(database_location)
    load(db, write_workbook(tmp_path / "setup.xlsx", SETUP).read_bytes(), "setup.xlsx")
    return db, providers.provider_by_license(db, "P-1")


def outcomes(db: Database, pid: int, data: bytes, name: str) -> list[tuple[int, str]]:
    result = importer.import_roster(db, data, name, provider_id=pid, uploaded_by="t", today=TODAY)
    return [(o.row_number, o.status) for o in result.outcomes]


# One roster, saved the ways providers save it: every format gives the same outcomes.
ROWS = [
    good(Course_Date=date(2024, 5, 1)),
    good(
        First_Name="Zoë",
        Last_Name="Ødegård",
        License_Number="1002",
        Course_Date="05/02/2024",
        CE_Hours="1,5",
    ),
    [None] * 7,  # a blank row: skipped, not counted, row numbers kept
    good(First_Name="Robert", Last_Name="O'Brien", License_Number="1003", CE_Hours="#REF!"),
]
EXPECTED = [
    (2, OK),
    (3, "CE Hours “1,5” is ambiguous: write 1.5 (a point for decimals, no thousands separators)"),
    (
        5,
        "CE Hours: the cell holds the Excel error #REF! (its formula failed); type the value "
        "itself or fix the formula",
    ),
]
FORMATS = {
    "r.xlsx": lambda: xlsx_bytes(ROWS),
    "r.xls": lambda: hostile.xls_bytes(ROWS),
    "r.ods": lambda: hostile.ods_bytes(ROWS),
    "plain.ods": lambda: hostile.ods_bytes(ROWS, tail=False),
    "utf8.csv": lambda: csv_bytes(ROWS),
    "bom.csv": lambda: csv_bytes(ROWS, bom=True),
    "cp1252.csv": lambda: csv_bytes(ROWS, encoding="cp1252", newline="\r\n"),
    "utf16.csv": lambda: csv_bytes(ROWS, encoding="utf-16", sep="\t"),
    "semicolon.csv": lambda: csv_bytes(ROWS, sep=";"),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_reads_the_same_rows(office, name):
    db, pid = office
    assert outcomes(db, pid, FORMATS[name](), name) == EXPECTED


def test_an_xlsx_error_cell_is_named_not_missing(office):
    db, pid = office
    data = hostile.rewrite_member(
        xlsx_bytes([good(), good(Course_Date="2024-05-02")]),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(
            rb'<c r="G3"[^>]*?(/>|>.*?</c>)',
            b'<c r="G3" t="e"><f>1/0</f><v>#DIV/0!</v></c>',
            re.sub(rb'<c r="C2"[^>]*?(/>|>.*?</c>)', b'<c r="C2" t="e"><v>#N/A</v></c>', xml),
        ),
    )
    assert outcomes(db, pid, data, "errors.xlsx") == [
        (
            2,
            "License Number: the cell holds the Excel error #N/A (its formula failed); type "
            "the value itself or fix the formula",
        ),
        (
            3,
            "CE Hours: the cell holds the Excel error #DIV/0! (its formula failed); type the "
            "value itself or fix the formula",
        ),
    ]


def test_long_cells_are_cut_in_reasons_and_rows(office):
    db, pid = office
    huge = "9" * 100_000
    result = importer.import_roster(
        db,
        csv_bytes([good(License_Number=huge, CE_Hours=huge + "x")]),
        "long.csv",
        provider_id=pid,
        uploaded_by="t",
        today=TODAY,
    )
    (row,) = result.failed_outcomes()
    assert all(len(reason) <= 200 for reason in row.reasons)
    assert "…" in row.status
    assert len(row.raw["license_number"]) == 32_767  # what an Excel cell holds at most
    assert row.raw["license_number"].endswith("…")


def test_xls_and_ods_workbooks_load_like_xlsx(tmp_path, database_location):
    members = OFFICE["Members"]
    for name, data in [
        ("office.xls", hostile.xls_bytes(members[1:], header=members[0], sheet="Members")),
        ("office.ods", hostile.ods_bytes(members[1:], header=members[0], sheet="Members")),
    ]:
        db = Database(database_location if name.endswith(".xls") else str(tmp_path / "o.duckdb"))
        counts = load(db, data, name)
        assert counts["Members"] == len(members) - 1, name
        db.close()


# -- hostile files ---------------------------------------------------------------------------

HOSTILE = [
    # (file name, bytes, part of the one message)
    ("far.xlsx", hostile.far_cell_xlsx, "reaches out to cell XFD1048576"),
    (
        "far-hidden.xlsx",  # its declared dimension lies: found after the reader died
        lambda: hostile.far_cell_xlsx(dimension="A1:G2"),
        "reaches out to cell XFD1048576",
    ),
    ("bomb.xlsx", hostile.zip_bomb_xlsx, "would unpack to 3.6 GB"),
    ("bomb-1g.xlsx", lambda: hostile.zip_bomb_xlsx(1_000_000_000), "would unpack to 0.9 GB"),
    ("bomb-hidden.xlsx", lambda: hostile.zip_bomb_xlsx(declared=30_000), "damaged"),
    ("corrupt.xlsx", hostile.truncated_xlsx, "damaged"),
    ("locked.xlsx", hostile.encrypted_xlsx, "is password-protected. Open it, remove the password"),
    ("nul.csv", hostile.csv_with_nul, "it holds NUL bytes"),
    ("far.xls", hostile.far_cell_xls, "needs more than 1,024 MB of memory to open"),
    ("repeated.ods", hostile.repeated_cell_ods, "could not be read"),
    ("lines.csv", hostile.many_lines_csv, "has 5,000,001 lines"),
    ("page.xls", lambda: b"<html><table><tr><td>1</td></tr></table></html>", "is a web page"),
]


@pytest.mark.parametrize(("name", "make", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_roster_is_rejected_whole_quickly_in_bounded_memory(office, name, make, message):
    db, pid = office
    started = time.perf_counter()
    with pytest.raises(RejectedFile) as rejected:
        importer.import_roster(db, make(), name, provider_id=pid, uploaded_by="t", today=TODAY)
    assert time.perf_counter() - started < 60
    assert bounded.last_usage().peak_bytes < 2**30
    assert message in rejected.value.message
    assert rejected.value.message.count(". ") >= 1  # what is wrong, then what to do
    assert "Traceback" not in rejected.value.message
    assert db.scalar("SELECT count(*) FROM imports") == 0
    assert db.scalar("SELECT count(*) FROM ce_records") == 0
    # This process, the app's in real life, is alive and reads the next file.
    assert outcomes(db, pid, xlsx_bytes([good()]), "next.xlsx") == [(2, OK)]


def test_far_cell_workbook_loads_nothing(database_location):
    db = Database(database_location)
    before = db.scalar("SELECT count(*) FROM members")
    data = hostile.rewrite_member(
        hostile.far_cell_xlsx(dimension="A1:G2"),
        "xl/workbook.xml",
        lambda xml: xml.replace(b'name="Sheet"', b'name="Members"'),
    )
    with pytest.raises(RejectedFile, match="reaches out to cell XFD1048576"):
        load(db, data, "office.xlsx")
    assert db.scalar("SELECT count(*) FROM members") == before


def test_cli_import_of_a_zip_bomb_is_one_line_and_writes_nothing(tmp_path):
    from tests.test_cli import OFFICE as CLI_OFFICE
    from tests.test_cli import run

    run(tmp_path, "init")
    run(tmp_path, "load", str(write_workbook(tmp_path / "office.xlsx", CLI_OFFICE)))
    (tmp_path / "bomb.xlsx").write_bytes(hostile.zip_bomb_xlsx())
    (tmp_path / "far.xlsx").write_bytes(hostile.far_cell_xlsx(dimension="A1:G2"))
    for name in ("bomb.xlsx", "far.xlsx"):
        result = run(tmp_path, "import", name, "--provider", "P-1", check=False)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and name in result.stderr
    listed = run(tmp_path, "report", "hour-summary", "--year", "2024").stdout
    assert listed == run(tmp_path, "report", "hour-summary", "--year", "2024").stdout


def test_cli_reads_xls_and_ods_rosters(tmp_path):
    from tests.test_cli import OFFICE as CLI_OFFICE
    from tests.test_cli import run

    run(tmp_path, "init")
    run(tmp_path, "load", str(write_workbook(tmp_path / "office.xlsx", CLI_OFFICE)))
    courses = CLI_OFFICE["Courses"]
    members = CLI_OFFICE["Members"]
    course, provider = courses[1][0], courses[1][2]
    start = courses[1][5]
    row = [members[1][1], members[1][2], members[1][0], course, None, start, 1]
    row[4] = int(str(start)[:4])
    for name, data in [
        ("r.xls", hostile.xls_bytes([row])),
        ("r.ods", hostile.ods_bytes([row])),
    ]:
        (tmp_path / name).write_bytes(data)
        result = run(tmp_path, "import", name, "--provider", str(provider), check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith('"total": 1}'), result.stdout


# -- certificate files -------------------------------------------------------------------------


def _pdf(pages: int = 1) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for n in range(pages):
        pdf.add_page()
        pdf.text(20, 20, f"Certificate page {n + 1}")
    return bytes(pdf.output())


def _jpeg(size: tuple[int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, format="JPEG")
    return out.getvalue()


def test_certificate_files_are_checked_within_bounds():
    assert uploads.check_certificate_file(_pdf(), "c.pdf") == "application/pdf"
    assert uploads.check_certificate_file(hostile.small_png(), "c.png") == "image/png"
    assert uploads.check_certificate_file(_jpeg((4000, 3000)), "photo.jpg") == "image/jpeg"
    for data, name, message in [
        (hostile.bomb_png(), "bomb.png", "far larger than any photo (60,000 × 60,000 pixels)"),
        (hostile.huge_page_pdf(), "huge.pdf", "larger than any paper"),
        (_pdf(30), "book.pdf", "has 30 pages"),
        (b"%PDF-1.4 nonsense", "bad.pdf", "is not a PDF that can be opened"),
        (b"GIF89a", "c.gif", "is not a PDF, PNG or JPEG file"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "bad.png", "is not a picture that can be opened"),
    ]:
        started = time.perf_counter()
        with pytest.raises(RejectedFile) as rejected:
            uploads.check_certificate_file(data, name)
        assert message in rejected.value.message, name
        assert time.perf_counter() - started < 60
        assert bounded.last_usage().peak_bytes < 2**30


def test_certificate_previews_are_bounded_pictures():
    from PIL import Image

    pages = uploads.preview_certificate(_pdf(5), "application/pdf", limit=3)
    assert len(pages) == 3
    photo = uploads.preview_certificate(_jpeg((6000, 4000)), "image/jpeg")
    for picture in [*pages, *photo]:
        with Image.open(io.BytesIO(picture)) as shown:
            assert max(shown.size) <= 1600
    assert uploads.preview_certificate(hostile.bomb_png(), "image/png") == []


# -- the child process ---------------------------------------------------------------------------


def test_columns_cross_to_the_parent_unchanged():
    columns = {
        "text": ["a", " b ", "", "ç" * 5],
        "numbers": [1.5, 2.0, float("inf"), -0.0],
        "mixed": [1, 1.0, True, None, "1", datetime(2024, 1, 1, 9), date(2024, 1, 1)],
        "empty": [],
    }
    sheet = Sheet("s", ["Text"], columns, 2, 4)
    back = pickle.loads(pickle.dumps(sheet))
    assert back.columns == columns
    assert [list(map(type, c)) for c in back.columns.values()] == [
        list(map(type, c)) for c in columns.values()
    ]


def test_a_child_that_hangs_is_killed_at_the_time_limit(monkeypatch):
    # A task that never ends stands for a decoder spinning on a crafted file.
    monkeypatch.setitem(bounded.TASKS, "diagnose", ("tests.hostile", "spin"))
    started = time.perf_counter()
    with pytest.raises(RejectedFile, match="took more than 2 seconds to read"):
        bounded.run("diagnose", b"x", "slow.xlsx", seconds=2)
    assert time.perf_counter() - started < 15


def test_the_child_runs_in_its_own_process():
    script = (
        "from cetracker.files import bounded; import os;"
        "print(bounded.run('diagnose', b'PK\\x03\\x04?', 'x.xlsx'), os.getpid())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert "damaged" in done.stdout


def test_a_started_read_lets_the_caller_go_on_and_hands_back_what_run_would(monkeypatch):
    # The command line opens its database while the child reads: starting returns at once,
    # and waiting gives the result or the error that run gives.
    damaged = bounded.Started("diagnose", b"PK\x03\x04?", "x.xlsx")
    assert damaged.result() == bounded.run("diagnose", b"PK\x03\x04?", "x.xlsx")
    assert "damaged" in damaged.result()
    monkeypatch.setitem(bounded.TASKS, "diagnose", ("tests.hostile", "spin"))
    began = time.perf_counter()
    spinning = bounded.Started("diagnose", b"x", "slow.xlsx", seconds=2)
    assert time.perf_counter() - began < 1.5  # not waited for here
    with pytest.raises(RejectedFile, match="took more than 2 seconds to read"):
        spinning.result()
    assert bounded.last_usage().outcome == "time"  # the child's usage, seen by the waiter


_CHILDREN = (
    "import os, sys, time\n"
    "def children():\n"
    "    found = []\n"
    "    for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "        try:\n"
    "            stat = open(f'/proc/{pid}/stat').read()\n"
    "        except OSError:\n"
    "            continue\n"
    "        if int(stat.rsplit(')', 1)[1].split()[1]) == os.getpid():\n"
    "            found.append(int(pid))\n"
    "    return found\n"
)


def _script(body: str) -> subprocess.CompletedProcess[str]:
    # Its output buffered, as a command's is into a pipe (whatever this shell says).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", _CHILDREN + body],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
    )


def test_a_command_keeps_no_spare_child_and_leaves_none_reading_at_exit():
    # A long-running app keeps one child started ahead; a command (no_spares) does not.
    for setup, spares in (("", "1"), ("bounded.no_spares()\n", "0")):
        done = _script(
            "from cetracker.files import bounded\n"
            + setup
            + "bounded.run('diagnose', b'PK\\x03\\x04?', 'x.xlsx'); time.sleep(0.5)\n"
            "print(len(children()))\n"
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [spares], setup
    # A command that stops on another error while its file is still being read: the
    # reading child goes with it, not a minute later; so too when the ``cetracker`` command
    # ends its process itself (``cli._end``, which must also flush what it printed).
    for ending in ("sys.exit(1)", "from cetracker.cli import _end\n_end(1)"):
        left = _script(
            "from cetracker.files import bounded\n"
            "bounded.no_spares()\n"
            "bounded.TASKS['diagnose'] = ('tests.hostile', 'spin')\n"
            "bounded.Started('diagnose', b'x', 'x.xlsx', seconds=60); time.sleep(1)\n"
            "print(*children())\n" + ending + "\n"
        )
        assert left.returncode == 1, left.stderr
        (reader,) = map(int, left.stdout.split())
        deadline = time.monotonic() + 10
        while Path(f"/proc/{reader}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not Path(f"/proc/{reader}").exists(), ending


def test_upload_names_and_sizes_are_checked_before_reading(monkeypatch):
    with pytest.raises(RejectedFile, match=r"Save the roster as \.xlsx, \.xlsm, \.xls"):
        uploads.start_roster_sheet(b"x", "roster.numbers", HEADER)
    monkeypatch.setenv("CETRACKER_MAX_UPLOAD_MB", "1")
    with pytest.raises(RejectedFile, match="more than the 1 MB limit"):
        uploads.start_roster_sheet(b"x" * 2_000_000, "roster.csv", HEADER)
    assert uploads.uploader_limit_mb() == 1


@pytest.mark.parametrize("kind", ["xlsx", "xls", "ods"])
def test_rows_below_blank_rows_keep_their_sheet_row_numbers(office, kind):
    # Found by the fuzzer: with two empty rows above the header and column A empty, the
    # first roster row is row 4 of the sheet (it was reported as row 6).
    from tests.fuzzing import RosterCase, file_bytes

    db, pid = office
    case = RosterCase(kind, "utf-8", ",", [None, *HEADER], [[None, *good()]], 2)
    data, _ = file_bytes(case)
    assert outcomes(db, pid, data, f"r.{kind}") == [(4, OK)]


def test_every_uploader_states_the_one_size_limit():
    # Streamlit's uploader prints its own limit ("200MB per file" unless told): each one is
    # given the app's, so the page never shows two different limits.
    import ast
    from pathlib import Path

    pages = Path(__file__).resolve().parents[1] / "pages"
    uploaders = [
        (page.name, call)
        for page in sorted(pages.glob("*.py"))
        for call in ast.walk(ast.parse(page.read_text(encoding="utf-8")))
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "file_uploader"
    ]
    assert len(uploaders) >= 3
    for name, call in uploaders:
        assert "max_upload_size" in {k.arg for k in call.keywords}, name
