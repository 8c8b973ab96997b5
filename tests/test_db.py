"""Migrations upgrade in place; writes are serialised; transactions are all-or-nothing."""

from __future__ import annotations

import threading

import pytest

from cetracker.store.db import Database
from cetracker.store.migrations import MIGRATIONS

pytestmark = pytest.mark.both_backends  # storage: migrations, transactions, unique indexes


def test_upgrade_keeps_existing_data(database_location):
    path = database_location
    old = Database(path, migrate_to=1)
    assert old.schema_version() == 1
    old.execute(
        "INSERT INTO members (license_number, first_name, last_name) VALUES ('7', 'Ana', 'Núñez')"
    )
    old.execute("INSERT INTO users (username, password_hash, role) VALUES ('ana', 'x', 'member')")
    old.close()

    upgraded = Database(path)
    assert upgraded.schema_version() == MIGRATIONS[-1][0]
    assert upgraded.rows("SELECT license_number, last_name FROM members") == [("7", "Núñez")]
    assert upgraded.rows("SELECT username, failed_logins FROM users") == [("ana", 0)]
    applied = upgraded.rows("SELECT version FROM schema_migrations ORDER BY version")
    assert [v for (v,) in applied] == [n for n, _, _ in MIGRATIONS]
    upgraded.close()


def test_migrations_are_numbered_in_order():
    # Numbers are handed out to changes made side by side, so one may be missing for a
    # while; they only have to rise.
    numbers = [n for n, _, _ in MIGRATIONS]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1


def test_a_migration_numbered_below_an_applied_one_still_runs(database_location, monkeypatch):
    from cetracker.store import db as dbmod

    first, *rest = MIGRATIONS
    late = (first[0] + 1000, "late", "CREATE TABLE late_one (x INTEGER)")
    monkeypatch.setattr(dbmod, "MIGRATIONS", [first, late])
    Database(database_location).close()
    # A lower number shipped afterwards (as 8 after 9) is applied on the next start.
    early = (first[0] + 500, "early", "CREATE TABLE early_one (x INTEGER)")
    monkeypatch.setattr(dbmod, "MIGRATIONS", [first, early, late])
    again = Database(database_location)
    assert again.rows("SELECT count(*) FROM early_one") == [(0,)]
    assert again.migrate() == []
    again.close()


def test_reopening_applies_nothing_twice(database_location):
    Database(database_location).close()
    again = Database(database_location)
    assert again.migrate() == []
    again.close()


def test_failed_transaction_writes_nothing(db):
    with pytest.raises(RuntimeError), db.transaction() as cur:
        cur.execute(
            "INSERT INTO members (license_number, license_key, first_name, last_name)"
            " VALUES ('1', '1', 'a', 'b')"
        )
        raise RuntimeError("crash mid-way")
    assert db.scalar("SELECT count(*) FROM members") == 0


def test_concurrent_writes_to_one_row_are_serialised(db):
    db.execute("INSERT INTO dues (member_id, year, amount_paid) VALUES (1, 2024, 0)")

    def pay() -> None:
        for _ in range(25):
            with db.transaction() as cur:
                cur.execute("UPDATE dues SET amount_paid = amount_paid + 1 WHERE member_id = 1")

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.scalar("SELECT amount_paid FROM dues") == 100


def test_duplicate_course_record_is_refused_by_the_database(db):
    db.execute(
        "INSERT INTO ce_records (member_id, course_id, ce_year, course_date, hours, source)"
        " VALUES (1, 1, 2024, '2024-03-01', 2, 'roster import')"
    )
    with pytest.raises(Exception, match="(?i)constraint"):
        db.execute(
            "INSERT INTO ce_records (member_id, course_id, ce_year, course_date, hours, source)"
            " VALUES (1, 1, 2024, '2024-03-01', 2, 'roster import')"
        )


def test_the_duplicate_rule_holds_across_the_upgrade_that_rekeys_its_index(database_location):
    old = Database(database_location, migrate_to=6)
    old.execute(
        "INSERT INTO ce_records (member_id, course_id, ce_year, course_date, hours, source)"
        " VALUES (1, 1, 2024, '2024-03-01', 2, 'roster import')"
    )
    old.close()
    upgraded = Database(database_location)
    assert upgraded.schema_version() >= 7
    if not upgraded.server:  # embedded: keyed course first; the server keeps its own
        assert upgraded.rows(
            "SELECT expressions FROM duckdb_indexes() WHERE table_name = 'ce_records'"
        ) == [("[course_id, member_id, course_date]",)]
    with pytest.raises(Exception, match="(?i)constraint"):
        upgraded.execute(
            "INSERT INTO ce_records (member_id, course_id, ce_year, course_date, hours, source)"
            " VALUES (1, 1, 2024, '2024-03-01', 5, 'roster import')"
        )
    upgraded.close()


@pytest.mark.embedded_only
def test_two_database_objects_on_one_file_keep_their_derived_tables_apart(demo_db_path):
    from cetracker.filters import Filters
    from cetracker.standing import hour_summary, year_standing

    first = Database(demo_db_path)
    second = Database(demo_db_path)  # DuckDB hands both the same instance
    try:
        assert year_standing(first, 2025) != year_standing(second, 2025)
        assert hour_summary(first, Filters(2025)).equals(hour_summary(second, Filters(2025)))
    finally:
        first.close()
        second.close()


def test_ids_written_as_constants_name_exactly_those_rows(tmp_path):
    # What a PostgreSQL server is asked for (DuckDB passes constants on to it): the ids as
    # integers, none for an empty list, and too many left to a relation (None).
    from cetracker.store.db import LITERAL_IDS, in_ids

    assert in_ids([3, 1, 3]) == "IN (1, 3)"
    assert in_ids(range(LITERAL_IDS + 1)) is None
    db = Database(tmp_path / "ids.duckdb")
    try:
        found = db.rows(f"SELECT i FROM range(10) t(i) WHERE i {in_ids([2, 7])} ORDER BY i")  # noqa: S608
        assert found == [(2,), (7,)]
        # None given: no row is among them, every row is not (NOT IN (NULL) would drop all).
        assert db.rows(f"SELECT i FROM range(10) t(i) WHERE i {in_ids([])}") == []  # noqa: S608
        none_of = f"SELECT count(*) FROM range(10) t(i) WHERE i NOT {in_ids([])}"  # noqa: S608
        assert db.scalar(none_of) == 10
    finally:
        db.close()


def test_a_process_that_dies_after_creating_the_database_leaves_one_that_opens(tmp_path):
    # DuckDB 1.5.5 cannot replay a write-ahead log that creates a table with a nextval()
    # default: the new schema must be in the file before the process can die (a `cetracker
    # init` killed, a server stopped hard). The child ends without closing anything.
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "new.duckdb"
    script = (
        "import os, sys; from cetracker.store.db import Database\n"
        "db = Database(sys.argv[1])\n"
        "with db.transaction() as cur:\n"
        '    cur.execute("INSERT INTO providers (license_number, license_key, name)'
        " VALUES ('P1', 'P1', 'Kept')\")\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "CETRACKER_SCHEDULER_MINUTES": "0"},
    )
    assert done.returncode == 0, done.stderr
    db = Database(path)
    assert db.scalar("SELECT name FROM providers") == "Kept"
    db.close()


def test_a_result_in_use_stays_remembered_while_others_come_and_go(db):
    """Beyond ``CACHED_RESULTS`` the least recently used result is forgotten: the filter
    bar's choices, asked on every page, are not computed again because many filters
    were tried (forgetting everything at once did that)."""
    from cetracker.store.db import CACHED_RESULTS

    built = []
    for i in range(3 * CACHED_RESULTS):
        db.cached("filter choices", lambda: built.append("choices") or "choices")
        db.cached(f"a report with filters {i}", lambda i=i: i)
    assert built == ["choices"]
    assert len(db._cache) == CACHED_RESULTS
    assert db.cached("a report with filters 0", lambda: "again") == "again"  # the oldest went


def test_a_server_cursor_looks_up_and_a_bulk_one_reads_page_ranges(db):
    """On PostgreSQL a cursor's reads are single queries the server plans with its
    indexes (a member's records at a million members: 1-2 ms, against 30-100 ms as a read
    of every page range); a ``bulk`` cursor reads whole tables in page ranges, in
    parallel (the kept tables' builds). DuckDB's scanner takes its setting per cursor."""
    if not db.server:
        pytest.skip("DuckDB reads its own file: no scanner, no page ranges")
    cursors = [db.cursor(), db.cursor(bulk=True), db.cursor()]  # each its own setting
    try:
        setting = "SELECT current_setting('pg_use_ctid_scan')"
        assert [c.execute(setting).fetchone() for c in cursors] == [(False,), (True,), (False,)]
    finally:
        for cur in cursors:
            cur.close()


def test_every_cursor_takes_its_results_without_a_buffer_that_can_fill(db):
    """DuckDB 1.5.5 hands a query's rows over through a buffer; when the rows keep their
    order and it fills, the query can stop for good (a roster's check spinning at 100 % of
    a core: once in 477 checks at the default 1 MB, within 40 at 16 kB). Every cursor, of
    either kind, is set so that a result never fills it. (The stop itself is too rare to
    reproduce in a test at the default size.)"""
    cursors = [db.cursor(), db.cursor(bulk=True)]
    try:
        size = "SELECT current_setting('streaming_buffer_size')"
        assert [c.execute(size).fetchone() for c in cursors] == [("3.7 GiB",)] * 2
    finally:
        for cur in cursors:
            cur.close()


def test_an_uploads_rows_survive_the_upgrade_that_packs_them(database_location, monkeypatch):
    from cetracker import importer
    from cetracker.store import migrations

    # Read two rows at a time: uploads start and end inside the reader's batches and across them.
    monkeypatch.setattr(migrations, "_PACK_BATCH_ROWS", 2)
    old = Database(database_location, migrate_to=12)
    with old.transaction() as cur:
        cur.execute(
            "INSERT INTO providers (license_number, license_key, name) VALUES ('P', 'P', 'P')"
        )
        for i, total in ((1, 2), (2, 1), (3, 3)):
            cur.execute(
                "INSERT INTO imports (id, provider_id, uploaded_by, file_name, sha256, size_bytes,"
                " processed, failed, total) VALUES (?, 1, 'ann', 'r.csv', ?, 10, 1, 1, ?)",
                [i, f"x{i}", total],
            )
        cur.execute(
            """INSERT INTO import_rows VALUES
               (3, 4, 'Cy', 'Do', '9', 'C-2', '2024', '03/02/2024', '1', 'processed', NULL),
               (1, 3, 'Ana', 'Núñez', '7', 'C-1', '2024', '03/01/2024', 'x', 'failed',
                'CE Hours “x” is not a number'),
               (2, 2, 'Ed', 'Fu', '6', 'C-1', '2024', '03/01/2024', '2', 'processed', NULL),
               (3, 2, 'Gi', 'Ho', '5', 'C-2', '2024', '03/02/2024', '1', 'processed', NULL),
               (1, 2, 'Bo', 'Li', '8', 'C-1', '2024', '03/01/2024', '2', 'processed', NULL),
               (3, 3, 'Ik', 'Jo', '4', 'C-9', '2024', '03/02/2024', '1', 'failed',
                'No course C-9')"""
        )
    old.close()
    upgraded = Database(database_location)
    try:
        assert importer.import_rows(upgraded, 1, None).values.tolist() == [
            [2, "Bo", "Li", "8", "C-1", "2024", "03/01/2024", "2", "Processed"],
            [
                3,
                "Ana",
                "Núñez",
                "7",
                "C-1",
                "2024",
                "03/01/2024",
                "x",
                "CE Hours “x” is not a number",
            ],
        ]
        assert importer.import_rows(upgraded, 2, None)["First Name"].tolist() == ["Ed"]
        third = importer.import_rows(upgraded, 3, None)
        assert third[["Row", "First Name", "Status"]].values.tolist() == [
            [2, "Gi", "Processed"],
            [3, "Ik", "No course C-9"],
            [4, "Cy", "Processed"],
        ]
        assert "import_rows" not in upgraded.tables()
    finally:
        upgraded.close()
