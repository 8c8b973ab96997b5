"""Server mode: a real PostgreSQL 15 shared by several processes, and moving between backends.

The suite's storage tests (marked ``both_backends``) run on PostgreSQL too; these are
the ones about the server itself: two processes writing at once, ``migrate-to`` both
ways, and what a wrong URL says.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from cetracker import demo, importer
from cetracker.errors import CetrackerError
from cetracker.store.db import Database
from tests.pgserver import PostgresServer
from tests.rosters import csv_bytes

ROOT = Path(__file__).resolve().parents[1]


def cli(location: str, *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cetracker.cli", "--db", location, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def server_demo(pg_server: PostgresServer, demo_templates: Callable[[str], str]) -> str:
    """A copy of the session's demo database on the server (600 members)."""
    return pg_server.copy_database(demo_templates("postgresql"), "shared_demo")


def test_two_processes_importing_overlapping_rosters_record_each_row_once(server_demo, tmp_path):
    db = Database(server_demo)
    provider_id, provider_license = db.one(
        "SELECT id, license_number FROM providers ORDER BY id LIMIT 1"
    )
    db.execute(
        """INSERT INTO courses (course_number, title, provider_id, category, hours, start_date,
                                end_date)
           VALUES ('RACE-1', 'Two uploads at once', ?, 'General', 8, DATE '2025-01-01',
                   DATE '2025-12-31')""",
        [provider_id],
    )
    members = db.rows(
        "SELECT first_name, last_name, license_number FROM members ORDER BY id LIMIT 600"
    )
    db.close()

    def row(i: int) -> list[object]:
        first, last, license_number = members[i]
        day = date(2025, 1, 1) + timedelta(days=i % 300)
        return [first, last, license_number, "RACE-1", 2025, day.isoformat(), 4]

    # A: members 0-399; B: members 200-599. Rows 200-399 are in both files.
    (tmp_path / "a.csv").write_bytes(csv_bytes([row(i) for i in range(0, 400)]))
    (tmp_path / "b.csv").write_bytes(csv_bytes([row(i) for i in range(200, 600)]))
    runs = [
        cli(server_demo, "import", name, "--provider", provider_license, cwd=tmp_path)
        for name in ("a.csv", "b.csv")
    ]
    results = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        results.append(json.loads(out))
    assert sum(r["processed"] for r in results) == 600
    assert sum(r["failed"] for r in results) == 200
    assert [r["total"] for r in results] == [400, 400]

    db = Database(server_demo)
    try:
        assert (
            db.scalar(
                "SELECT count(*) FROM ce_records WHERE course_id = "
                "(SELECT id FROM courses WHERE course_number = 'RACE-1')"
            )
            == 600
        )
        reasons = {
            status
            for (import_id,) in db.rows("SELECT id FROM imports")
            for status in importer.import_rows(db, import_id, None)["Status"]
            if status != "Processed"
        }
        assert reasons == {importer.ALREADY_RECORDED}
        assert db.scalar("SELECT count(*) FROM imports") == 2
    finally:
        db.close()


def migrate(source: str, target: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``cetracker --db SOURCE migrate-to TARGET`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "cetracker.cli", "--db", source, "migrate-to", target],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_migrate_to_postgresql_and_back_keeps_every_row_and_figure(pg_server, tmp_path):
    office = str(tmp_path / "office.duckdb")
    embedded = Database(office)
    demo.build(embedded, members=300, years=3)
    embedded.close()
    url = pg_server.create_database("moved")

    to_server = migrate(office, url, tmp_path)
    assert to_server.returncode == 0, to_server.stderr
    there = json.loads(to_server.stdout)
    assert there["rows"]["members"] == 300
    assert there["rows"]["ce_records"] > 1000

    back = migrate(url, str(tmp_path / "back.duckdb"), tmp_path)
    assert back.returncode == 0, back.stderr
    home = json.loads(back.stdout)
    assert home["rows"] == there["rows"]
    assert home["checksum"] == there["checksum"]

    # The copies take new rows with fresh ids, on both sides.
    for location in (url, str(tmp_path / "back.duckdb")):
        db = Database(location)
        try:
            before = db.scalar("SELECT max(id) FROM members")
            db.execute(
                "INSERT INTO members (license_number, license_key, first_name, last_name) "
                "VALUES ('NEW-1', 'NEW1', 'New', 'Member')"
            )
            assert db.scalar("SELECT id FROM members WHERE license_number = 'NEW-1'") > before
        finally:
            db.close()

    again = migrate(office, url, tmp_path)
    assert again.returncode == 1
    assert "already holds data" in again.stderr
    assert "Traceback" not in again.stderr

    wrong = migrate(office, str(tmp_path / "notes.txt"), tmp_path)
    assert wrong.returncode == 1
    assert "neither a postgresql:// URL nor a .duckdb file" in wrong.stderr


def test_a_server_holds_its_records_by_year_and_is_asked_for_a_year_in_one_query(
    pg_server, tmp_path, capfd
):
    """``migrate-to`` writes a server's records year after year, as a server that grew with
    the office holds them, and summarises them for the index by year (migration 15); a
    year's records are then read by one query the server plans with that index, not in
    page ranges of the whole table. (That the server's plan then uses the index is
    measured, not tested: a table this small is read whole by any plan.)"""
    from cetracker import transfer
    from cetracker.standing import year_records
    from tests.pgserver import sent_queries, whole_reads

    office = Database(str(tmp_path / "office.duckdb"))
    demo.build(office, members=200, years=3)
    url = pg_server.create_database("by_year")
    transfer.copy_database(office, url)
    years_held = [y for (y,) in office.rows("SELECT DISTINCT ce_year FROM ce_records ORDER BY 1")]
    office.close()
    db = Database(url)
    try:
        stored = [y for (y,) in db.server_rows("SELECT ce_year FROM ce_records ORDER BY ctid")]
        assert len(set(stored)) == len(years_held) > 1 and stored == sorted(stored)
        assert db.records_in_year_order()
        # The copied block ranges are summarised already: none is left for the server to do.
        assert db.server_rows("SELECT brin_summarize_new_values('ce_records_by_year')") == [(0,)]
        year = years_held[-1]
        table, queries = sent_queries(db, capfd, lambda: year_records(db, year))
        sent = " ".join(" ".join(queries).split())
        assert sent.count(f"FROM ce_records WHERE ce_year = {year} AND status = 'approved'") == 1
        assert not whole_reads(queries, "ce_records") and "ctid" not in sent
        assert db.scalar(f"SELECT count(*) FROM {table}") == db.scalar(  # noqa: S608
            "SELECT count(*) FROM ce_records WHERE ce_year = ? AND status = 'approved'", [year]
        )
    finally:
        db.close()


def test_a_wrong_server_url_is_one_clear_sentence(pg_server):
    with pytest.raises(CetrackerError) as caught:
        Database(pg_server.url("no_such_database"))
    message = caught.value.message
    assert message.startswith("Cannot open the PostgreSQL database")
    assert "database exists" in message

    with pytest.raises(CetrackerError, match="Cannot open the PostgreSQL database"):
        Database("postgresql://clerk:secret-password@127.0.0.1:1/x")


def test_a_password_in_the_url_is_never_shown(pg_server):
    with pytest.raises(CetrackerError) as caught:
        Database("postgresql://clerk:secret-password@127.0.0.1:1/x")
    assert "secret-password" not in caught.value.message
    assert "clerk:***@" in caught.value.message


def test_a_second_app_process_sees_a_write_at_once(pg_server):
    """Each app process caches reports; a write in one must reach the others' caches."""
    from cetracker.filters import Filters
    from cetracker.standing import hour_summary

    url = pg_server.create_database("two_apps")
    first = Database(url)
    demo.build(first, members=50, years=1)
    second = Database(url)  # another DuckDB engine on the same server, as another process
    second.shared_check_seconds = 0
    try:
        year = int(second.scalar("SELECT max(ce_year) FROM ce_records"))
        before = hour_summary(second, Filters(year))
        assert "Nowhere County" not in set(before["county"])
        logins_before = second.version
        first.execute(
            "UPDATE members SET county = 'Nowhere County' WHERE id = (SELECT min(id) FROM members)"
        )
        after = hour_summary(second, Filters(year))
        assert "Nowhere County" in set(after["county"])
        first.execute("UPDATE users SET failed_logins = 0", reports=False)
        assert second.version > logins_before
    finally:
        first.close()
        second.close()


def test_a_server_with_records_out_of_year_order_reads_a_year_in_page_ranges(pg_server, capfd):
    """Records written member by member (a server filled by an older ``migrate-to``) get
    no help from the index by year: the planner's statistics say so, and a year is read
    in page ranges, as before the index, not by one query that reads every page."""
    from cetracker.standing import year_records
    from tests.pgserver import sent_queries

    db = Database(pg_server.create_database("member_order"))
    try:
        demo.build(db, members=150, years=3)  # each member's years, one member after another
        db.settle_after_copy()  # the statistics
        assert not db.records_in_year_order()
        year = int(db.scalar("SELECT max(ce_year) FROM ce_records"))
        table, queries = sent_queries(db, capfd, lambda: year_records(db, year))
        sent = " ".join(" ".join(queries).split())
        assert "ctid BETWEEN" in sent and "FROM ce_records WHERE ce_year" not in sent
        assert db.scalar(f"SELECT count(*) FROM {table}") == db.scalar(  # noqa: S608
            "SELECT count(*) FROM ce_records WHERE ce_year = ? AND status = 'approved'", [year]
        )
    finally:
        db.close()
