"""Numbered schema migrations, applied in order at start-up (SPEC §2).

Append new migrations; never edit one that has shipped. An existing database is
upgraded in place, never dropped. A migration is SQL, or a function of an ``Upgrade``
when the new columns' values need this project's own rules (migration 8's keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cetracker.rules.cells import license_key, search_key
from cetracker.store import packed


@dataclass(frozen=True)
class Upgrade:
    """What a migration function works with: a cursor inside the migration's transaction,
    and ``ddl`` to run schema statements there (on a server, as the server's own SQL)."""

    cur: Any  # a duckdb cursor
    server: bool
    ddl: Callable[[str], None]


def _unique_keys(rows: list[tuple[Any, ...]]) -> list[str]:
    """Each (id, license number, ...) row's license key, in id order; a key taken by an
    earlier row becomes "KEY #id". Spaces never survive ``license_key``, so no typed number
    reaches such a row: the office sees both numbers as written, and saving the later
    member with its old number is refused naming the holder, until one of them changes."""
    taken: set[str] = set()
    keys = []
    for row in rows:
        key = license_key(row[1])
        if key in taken:
            key = f"{key} #{row[0]}"
        taken.add(key)
        keys.append(key)
    return keys


def _awaiting_review_index(up: Upgrade) -> None:
    """Migration 11: on a server, the few records awaiting review are found through a
    partial index instead of a read of the whole table (a million members' 20 million
    records: 1.2-1.8 s after every write that can change them). DuckDB has no partial
    index; its scan of the status column is fast, so the embedded file keeps its way."""
    if up.server:
        up.ddl(
            "CREATE INDEX ce_records_awaiting_review ON ce_records (member_id)"
            " WHERE status = 'pending'"
        )


def _records_by_course_index(up: Upgrade) -> None:
    """Migration 12: on a server, a course's records are found through an index by course
    (``records.of_courses``: the Conference Report, a provider's CE details); without it
    the server reads the whole table for a course (0.7 s at a million members). The
    embedded file scans its course column (under 0.1 s at a million), as it did."""
    if up.server:
        up.ddl("CREATE INDEX ce_records_by_course ON ce_records (course_id)")


def _records_by_year_index(up: Upgrade) -> None:
    """Migration 15: on a server, a CE year's records are found by the block ranges that
    hold them (a BRIN index: a few kilobytes, kept up to date by the server's autovacuum).
    Records go in as the office enters them, year after year, so a year's lie together;
    reading one (every report's first step) then reads a tenth of the table instead of
    all of it (0.4 → 0.15 s a year at 200,000 members, 2.4 → 1.9 s at a million). The
    embedded file skips row groups by their own ranges of years, as it did."""
    if up.server:
        up.ddl(
            "CREATE INDEX ce_records_by_year ON ce_records USING brin (ce_year)"
            " WITH (autosummarize = on)"
        )


def _identity_keys(up: Upgrade) -> None:
    """Migration 8: license numbers stay as written; each gets a unique comparison key.

    Until now a workbook load stored the key in place of the number ("TX10001" for
    "TX-10001") and forms stored the number as typed, each unique only as text. The key
    is computed here by ``license_key`` itself, so a stored key always equals what a
    look-up computes. A member also gets the key that name searches look in.
    """
    import pandas as pd  # an old database's one-time upgrade: not every command's start

    members = up.cur.execute(
        "SELECT id, license_number, first_name, last_name FROM members ORDER BY id"
    ).fetchall()
    providers = up.cur.execute("SELECT id, license_number FROM providers ORDER BY id").fetchall()
    member_keys = pd.DataFrame(
        {
            "id": pd.Series([r[0] for r in members], dtype="int64"),
            "license_key": pd.Series(_unique_keys(members), dtype=object),
            "search_key": pd.Series([search_key(r[2], r[3], r[1]) for r in members], dtype=object),
        }
    )
    provider_keys = pd.DataFrame(
        {
            "id": pd.Series([r[0] for r in providers], dtype="int64"),
            "license_key": pd.Series(_unique_keys(providers), dtype=object),
        }
    )
    up.cur.register("member_keys", member_keys)
    up.cur.register("provider_keys", provider_keys)
    if up.server:
        up.ddl(
            """
            ALTER TABLE members ADD COLUMN license_key VARCHAR,
                                ADD COLUMN search_key VARCHAR NOT NULL DEFAULT '';
            ALTER TABLE providers ADD COLUMN license_key VARCHAR;
            """
        )
        up.cur.execute(
            """UPDATE members SET license_key = k.license_key, search_key = k.search_key
               FROM member_keys k WHERE members.id = k.id"""
        )
        up.cur.execute(
            "UPDATE providers SET license_key = k.license_key FROM provider_keys k"
            " WHERE providers.id = k.id"
        )
        # The key is unique now; the number as written needs no index of its own.
        up.ddl(
            """
            ALTER TABLE members ALTER COLUMN license_key SET NOT NULL;
            CREATE UNIQUE INDEX members_license_key ON members (license_key);
            ALTER TABLE members DROP CONSTRAINT IF EXISTS members_license_number_key;
            ALTER TABLE providers ALTER COLUMN license_key SET NOT NULL;
            CREATE UNIQUE INDEX providers_license_key ON providers (license_key);
            ALTER TABLE providers DROP CONSTRAINT IF EXISTS providers_license_number_key;
            """
        )
    else:
        # DuckDB creates no index in a transaction that has updated rows ("outstanding
        # updates"), nor alters a column once an index covers it: the tables are rebuilt
        # with the new columns, their rows copied with the keys, in this one transaction.
        up.ddl(
            """
            CREATE TABLE members_v8 (
                id INTEGER PRIMARY KEY DEFAULT nextval('member_ids'),
                license_number VARCHAR NOT NULL,
                first_name VARCHAR NOT NULL,
                last_name VARCHAR NOT NULL,
                email VARCHAR,
                phone VARCHAR,
                address VARCHAR,
                county VARCHAR,
                area VARCHAR,
                position VARCHAR,
                status VARCHAR NOT NULL DEFAULT 'active',
                joined DATE,
                license_key VARCHAR NOT NULL UNIQUE,
                search_key VARCHAR NOT NULL DEFAULT ''
            );
            INSERT INTO members_v8
                SELECT m.id, m.license_number, m.first_name, m.last_name, m.email, m.phone,
                       m.address, m.county, m.area, m.position, m.status, m.joined,
                       k.license_key, k.search_key
                FROM members m JOIN member_keys k ON k.id = m.id;
            DROP TABLE members;
            ALTER TABLE members_v8 RENAME TO members;
            CREATE TABLE providers_v8 (
                id INTEGER PRIMARY KEY DEFAULT nextval('provider_ids'),
                license_number VARCHAR NOT NULL,
                name VARCHAR NOT NULL,
                contact VARCHAR,
                email VARCHAR,
                phone VARCHAR,
                license_key VARCHAR NOT NULL UNIQUE
            );
            INSERT INTO providers_v8
                SELECT p.id, p.license_number, p.name, p.contact, p.email, p.phone, k.license_key
                FROM providers p JOIN provider_keys k ON k.id = p.id;
            DROP TABLE providers;
            ALTER TABLE providers_v8 RENAME TO providers;
            """
        )
    up.cur.unregister("member_keys")
    up.cur.unregister("provider_keys")


def _name_order_keys(up: Upgrade) -> None:
    """Migration 14: each member's search key leads with the last name (``search_key``), so
    that lists of members sorted by it read as a person looks for a name: Álvarez among
    the A's, de la Cruz among the D's (sorted as written they came after Z)."""
    import pyarrow as pa  # an old database's one-time upgrade: not every command's start

    members = up.cur.execute(
        "SELECT id, first_name, last_name, license_number FROM members"
    ).fetchall()
    keys = pa.table(
        {
            "id": pa.array([r[0] for r in members], pa.int32()),
            "search_key": pa.array([search_key(r[1], r[2], r[3]) for r in members], pa.string()),
        }
    )
    up.cur.register("member_keys", keys)
    up.cur.execute(
        "UPDATE members SET search_key = k.search_key FROM member_keys k WHERE members.id = k.id"
    )
    up.cur.unregister("member_keys")


_PACK_BATCH_ROWS = 100_000


def _import_rows_packed(up: Upgrade) -> None:
    """Migration 13: each upload's rows, kept for Import History, become one packed value
    (``store.packed``) instead of a table row each: a 100,000-row roster's rows were a
    sixth of its import's time, most of it the commit's log.

    The old table is read once, in upload order, ``_PACK_BATCH_ROWS`` rows at a time, and
    only the packed values are held until they are written. A query per upload took 10.7 s
    for 2,000 uploads of 500 rows; one pass takes 2.5 s."""
    import numpy as np
    import pyarrow as pa

    up.ddl("CREATE TABLE import_row_sets (import_id INTEGER PRIMARY KEY, rows BLOB NOT NULL)")
    reader = up.cur.execute(
        """SELECT import_id, row_number, first_name, last_name, license_number,
                  course_number, ce_year, course_date, ce_hours,
                  CASE WHEN outcome = 'processed' THEN NULL
                       ELSE coalesce(reasons, 'Failed') END AS reasons
           FROM import_rows ORDER BY import_id, row_number"""
    ).to_arrow_reader(_PACK_BATCH_ROWS)

    def first_id(batch: Any) -> int:
        return int(batch.column("import_id")[0].as_py())

    def pack(batches: list[Any]) -> tuple[int, bytes]:
        table = pa.Table.from_batches(batches).drop_columns(["import_id"])
        return first_id(batches[0]), packed.pack(table)

    # The reader holds the cursor: the packed values are written once it is done.
    ready: list[tuple[int, bytes]] = []
    upload: list[Any] = []  # the pieces of the upload being read
    for batch in reader:
        if not len(batch):
            continue
        ids = batch.column("import_id").to_numpy()
        cuts = [0, *(np.flatnonzero(ids[1:] != ids[:-1]) + 1).tolist(), len(ids)]
        for start, end in zip(cuts, cuts[1:], strict=False):
            piece = batch.slice(start, end - start)
            if upload and first_id(upload[0]) != first_id(piece):
                ready.append(pack(upload))
                upload = []
            upload.append(piece)
    if upload:
        ready.append(pack(upload))
    for import_id, blob in ready:
        up.cur.execute("INSERT INTO import_row_sets VALUES (?, ?)", [import_id, blob])
    up.ddl("DROP TABLE import_rows")


MIGRATIONS: list[tuple[int, str, str | Callable[[Upgrade], None]]] = [
    (
        1,
        "core tables",
        """
        CREATE SEQUENCE member_ids;
        CREATE TABLE members (
            id INTEGER PRIMARY KEY DEFAULT nextval('member_ids'),
            license_number VARCHAR NOT NULL UNIQUE,
            first_name VARCHAR NOT NULL,
            last_name VARCHAR NOT NULL,
            email VARCHAR,
            phone VARCHAR,
            address VARCHAR,
            county VARCHAR,
            area VARCHAR,
            position VARCHAR,
            status VARCHAR NOT NULL DEFAULT 'active',
            joined DATE
        );
        CREATE SEQUENCE provider_ids;
        CREATE TABLE providers (
            id INTEGER PRIMARY KEY DEFAULT nextval('provider_ids'),
            license_number VARCHAR NOT NULL UNIQUE,
            name VARCHAR NOT NULL,
            contact VARCHAR,
            email VARCHAR,
            phone VARCHAR
        );
        CREATE SEQUENCE course_ids;
        CREATE TABLE courses (
            id INTEGER PRIMARY KEY DEFAULT nextval('course_ids'),
            course_number VARCHAR NOT NULL UNIQUE,
            title VARCHAR NOT NULL,
            provider_id INTEGER NOT NULL,
            category VARCHAR NOT NULL DEFAULT 'General',
            hours DECIMAL(8, 2) NOT NULL,
            start_date DATE,
            end_date DATE,
            location VARCHAR,
            kind VARCHAR
        );
        CREATE SEQUENCE import_ids;
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY DEFAULT nextval('import_ids'),
            provider_id INTEGER NOT NULL,
            uploaded_by VARCHAR NOT NULL,
            file_name VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL,
            uploaded_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            processed INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            total INTEGER NOT NULL
        );
        CREATE TABLE import_rows (
            import_id INTEGER NOT NULL,
            row_number INTEGER NOT NULL,
            first_name VARCHAR,
            last_name VARCHAR,
            license_number VARCHAR,
            course_number VARCHAR,
            ce_year VARCHAR,
            course_date VARCHAR,
            ce_hours VARCHAR,
            outcome VARCHAR NOT NULL,
            reasons VARCHAR,
            PRIMARY KEY (import_id, row_number)
        );
        CREATE SEQUENCE record_ids;
        CREATE TABLE ce_records (
            id BIGINT PRIMARY KEY DEFAULT nextval('record_ids'),
            member_id INTEGER NOT NULL,
            course_id INTEGER,
            title VARCHAR,
            provider_name VARCHAR,
            ce_year INTEGER NOT NULL,
            course_date DATE NOT NULL,
            hours DECIMAL(8, 2) NOT NULL,
            category VARCHAR NOT NULL DEFAULT 'General',
            source VARCHAR NOT NULL,
            import_id INTEGER,
            status VARCHAR NOT NULL DEFAULT 'approved',
            status_reason VARCHAR,
            certificate BLOB,
            certificate_name VARCHAR,
            certificate_type VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            created_by VARCHAR
        );
        CREATE TABLE dues (
            member_id INTEGER NOT NULL,
            year INTEGER NOT NULL,
            amount_due DECIMAL(10, 2) NOT NULL DEFAULT 0,
            amount_paid DECIMAL(10, 2) NOT NULL DEFAULT 0,
            paid_date DATE,
            status VARCHAR NOT NULL DEFAULT 'unpaid',
            PRIMARY KEY (member_id, year)
        );
        CREATE TABLE policy (
            effective_year INTEGER PRIMARY KEY,
            required_hours DECIMAL(8, 2) NOT NULL DEFAULT 20,
            carryover_cap DECIMAL(8, 2) NOT NULL DEFAULT 10,
            ce_year_start_month INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE category_minimum_sets (
            effective_year INTEGER PRIMARY KEY
        );
        CREATE TABLE category_minimums (
            effective_year INTEGER NOT NULL,
            category VARCHAR NOT NULL,
            minimum_hours DECIMAL(8, 2) NOT NULL,
            PRIMARY KEY (effective_year, category)
        );
        CREATE SEQUENCE message_ids;
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY DEFAULT nextval('message_ids'),
            subject VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            reply_to VARCHAR,
            sender VARCHAR NOT NULL,
            sent_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE TABLE message_recipients (
            message_id INTEGER NOT NULL,
            member_id INTEGER NOT NULL,
            read_at TIMESTAMP,
            email_status VARCHAR,
            email_error VARCHAR,
            PRIMARY KEY (message_id, member_id)
        );
        CREATE TABLE users (
            username VARCHAR PRIMARY KEY,
            password_hash VARCHAR NOT NULL,
            email VARCHAR,
            role VARCHAR NOT NULL,
            member_id INTEGER,
            provider_id INTEGER,
            scope_areas VARCHAR NOT NULL DEFAULT '',
            scope_counties VARCHAR NOT NULL DEFAULT '',
            disabled BOOLEAN NOT NULL DEFAULT false,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
        );
        CREATE SEQUENCE audit_ids;
        CREATE TABLE audit_log (
            id BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
            logged_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            entity VARCHAR,
            entity_id VARCHAR,
            detail VARCHAR
        );
        """,
    ),
    (
        2,
        "duplicate rule as a constraint, login throttling",
        """
        CREATE UNIQUE INDEX ce_records_member_course_date
            ON ce_records (member_id, course_id, course_date);
        ALTER TABLE users ADD COLUMN failed_logins INTEGER DEFAULT 0;
        ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;
        """,
    ),
    (
        3,
        "members' own license renewal cycles",
        """
        CREATE SEQUENCE license_ids;
        CREATE TABLE member_licenses (
            id INTEGER PRIMARY KEY DEFAULT nextval('license_ids'),
            member_id INTEGER NOT NULL,
            board VARCHAR NOT NULL,
            license_number VARCHAR,
            cycle_start DATE NOT NULL,
            cycle_end DATE NOT NULL,
            required_hours DECIMAL(8, 2) NOT NULL,
            minimums VARCHAR NOT NULL DEFAULT '{}'
        );
        """,
    ),
    (
        4,
        "a recipient's own merged copy of a message",
        """
        ALTER TABLE message_recipients ADD COLUMN personal_body VARCHAR;
        """,
    ),
    (
        5,
        "closed CE years and their frozen hour summaries",
        """
        CREATE TABLE closed_years (
            ce_year INTEGER PRIMARY KEY,
            closed_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            closed_by VARCHAR NOT NULL,
            certificates_issued DATE NOT NULL
        );
        CREATE TABLE year_snapshots (
            ce_year INTEGER NOT NULL,
            member_id INTEGER NOT NULL,
            status VARCHAR NOT NULL,
            earned DECIMAL(10, 2) NOT NULL,
            carried_in DECIMAL(10, 2) NOT NULL,
            required DECIMAL(10, 2) NOT NULL,
            categories_short INTEGER NOT NULL,
            eligible BOOLEAN NOT NULL,
            PRIMARY KEY (ce_year, member_id)
        );
        """,
    ),
    (
        6,
        "write counters that app processes sharing a server read",
        """
        CREATE SEQUENCE write_versions;
        CREATE SEQUENCE data_versions;
        """,
    ),
    (
        7,
        "the duplicate rule's index keyed by course first",
        # A roster brings many members for one course (or a few). Keyed by member first,
        # its 100,000 entries went in all over an index of millions; keyed by course
        # first they go in side by side. DuckDB reads no query through this index (it
        # only enforces the rule), so the order costs nothing elsewhere. The server's
        # B-tree keeps member first: it serves a member's own records there.
        """
        DROP INDEX ce_records_member_course_date;
        CREATE UNIQUE INDEX ce_records_course_member_date
            ON ce_records (course_id, member_id, course_date);
        """,
    ),
    (
        8,
        "license numbers as written, with a unique comparison key; name search keys",
        _identity_keys,
    ),
    (
        9,
        "server-side login sessions; failed logins counted by the name typed",
        # A login cookie names a row here (by the SHA-256 of its random id, so a copy of
        # the database holds no live cookie); logout, a password change or reset and
        # disabling the account end rows, and an ended row signs nobody in.
        # Failed logins move out of users: a name that has no account must lock
        # exactly as one that has, or the lock message would tell which names exist.
        # (users.failed_logins and users.locked_until stay, unused, for older code.)
        """
        CREATE TABLE login_sessions (
            id VARCHAR PRIMARY KEY,
            username VARCHAR NOT NULL,
            started_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            expires_at TIMESTAMP NOT NULL,
            ended_at TIMESTAMP,
            ended_why VARCHAR
        );
        CREATE INDEX login_sessions_username ON login_sessions (username);
        CREATE TABLE login_failures (
            name VARCHAR PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failed_at TIMESTAMP NOT NULL,
            locked_until TIMESTAMP
        );
        INSERT INTO login_failures (name, failures, last_failed_at, locked_until)
            SELECT lower(username), coalesce(failed_logins, 0), current_timestamp, locked_until
            FROM users
            WHERE coalesce(failed_logins, 0) > 0 OR locked_until > current_timestamp;
        """,
    ),
    (
        10,
        "reminders that send themselves; the nightly backup's record",
        # A send is claimed by its (schedule, CE year) key in the transaction that stores
        # the messages, so two app processes on one server cannot both send it; a day's
        # nightly backup is claimed by its date the same way.
        """
        CREATE SEQUENCE reminder_ids;
        CREATE TABLE reminder_schedules (
            id INTEGER PRIMARY KEY DEFAULT nextval('reminder_ids'),
            days_before INTEGER NOT NULL,
            subject VARCHAR NOT NULL,
            body VARCHAR NOT NULL,
            active BOOLEAN NOT NULL DEFAULT true,
            created_by VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_by VARCHAR,
            updated_at TIMESTAMP
        );
        CREATE TABLE reminder_sends (
            schedule_id INTEGER NOT NULL,
            ce_year INTEGER NOT NULL,
            sent_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            sent_by VARCHAR NOT NULL,
            members INTEGER NOT NULL,
            message_id INTEGER,
            PRIMARY KEY (schedule_id, ce_year)
        );
        CREATE TABLE nightly_backups (
            day DATE PRIMARY KEY,
            started_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            finished_at TIMESTAMP,
            made_by VARCHAR NOT NULL,
            file VARCHAR,
            error VARCHAR
        );
        """,
    ),
    (11, "records awaiting review found by an index on a server", _awaiting_review_index),
    (12, "a course's records found by an index on a server", _records_by_course_index),
    (13, "an upload's rows kept as one packed value", _import_rows_packed),
    (14, "members listed by name as people look for it", _name_order_keys),
    (15, "a year's records found by their block ranges on a server", _records_by_year_index),
]

# Migrations that change only how the embedded database stores things; a server
# database records them as applied and keeps its own way.
EMBEDDED_ONLY = {7}
