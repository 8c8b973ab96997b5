"""The database: one connection per process, a cursor per call, serialised writes.

All SQL runs through ``Database``. Values always travel as parameters. Writes
take a process-wide lock because DuckDB raises a conflict, instead of waiting,
when two transactions write the same row.

Two kinds of storage, one query engine: an embedded DuckDB file (the default), or
a PostgreSQL database (a ``postgresql://`` URL) that several app processes share,
reached through DuckDB's postgres extension. DuckDB runs every query either way;
what SQL must differ between the two lives here and nowhere else.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from cetracker.config import is_server_url
from cetracker.errors import CetrackerError
from cetracker.store.migrations import EMBEDDED_ONLY, MIGRATIONS, Upgrade

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any] | None


SCRATCH = "cetracker_scratch"
_SCRATCH_NAME = re.compile(rf"{SCRATCH}\.d\d+_t\d+")
SERVER = "cetracker_pg"
# Set on the connection and on every cursor: DuckDB hands a query's rows over without
# holding them back. DuckDB 1.5.5 passes rows to the caller through a buffer
# (``streaming_buffer_size``, 1 MB unless set); when the rows keep their order and that
# buffer fills, the query can stop for good, the caller's thread spinning at 100 % of a
# core (``BatchedBufferedData::UnblockSinks``). Checking a 100,000-row roster over and
# over, it stopped once in 477 checks at 1 MB, within 40 at 16 kB, never in 1,000 at
# 1 GB. Every caller takes its whole result (rows, an Arrow table, a frame), so the
# bound only says how far DuckDB may run ahead of the caller. (Migration 13 alone reads
# in batches: there DuckDB reads ahead of it, once, on an upgrade from before it.)
_RESULT_BUFFER = "SET streaming_buffer_size = '4GB'"
_OBJECTS = itertools.count()
# The schema's id sequences and the tables whose ids they give.
SEQUENCES = {
    "member_ids": "members",
    "provider_ids": "providers",
    "course_ids": "courses",
    "import_ids": "imports",
    "record_ids": "ce_records",
    "message_ids": "messages",
    "audit_ids": "audit_log",
    "license_ids": "member_licenses",
    "reminder_ids": "reminder_schedules",
}


@dataclass
class Touched:
    """What one committed write changed of what the standing is computed from.

    A write in a ``tracked`` transaction says so through ``note`` (``cetracker.records``
    for CE records, ``members``, ``policy`` and ``years`` for theirs); derived tables
    (a year's standing) then recompute only those members or years. A write in an
    untracked transaction counts as having changed everything.
    """

    # CE year -> members whose records in that year were added, changed or removed
    records: dict[int, set[int]] = field(default_factory=dict)
    # CE year -> the members of ``records`` whose records changed other than by an addition
    # below (a year's table of records reads theirs again; the added rows it just adds)
    rewritten: dict[int, set[int]] = field(default_factory=dict)
    # records added, as Arrow tables (member_id, ce_year, course_date, course_id, title,
    # source, hours, category, status), each row unique by member, course and date
    added: list[Any] = field(default_factory=list)
    # members whose own row changed (status, name, area, county, position; added, deleted)
    members: set[int] = field(default_factory=set)
    # CE years whose rules or closed state changed: everything in them
    years: set[int] = field(default_factory=set)
    # other tables the write changed that remembered values read ("dues", "courses")
    tables: set[str] = field(default_factory=set)
    # CE years a record may have left (removed, or moved to another year): only these can
    # end up with no records. Every year of ``rewritten`` unless the write said its records
    # stayed in their years (``note``'s ``in_place``: a change of status or hours)
    left: set[int] = field(default_factory=set)
    # records were added or removed, or one changed its member, course or CE year: the
    # counts of records by year or by course may change (``note``'s ``restated``: not)
    moved: bool = False

    def members_for(self, year: int) -> set[int]:
        """The members whose standing for ``year`` this write can change: their records
        in ``year`` or in the year before (carried hours), or their own row."""
        return self.members | self.records.get(year, set()) | self.records.get(year - 1, set())


# Up to this many ids are written into SQL as constants (``in_ids``).
LITERAL_IDS = 1_000


# Results remembered at most (``cached``, ``keep``; ``maintained_value``: four times as
# many): beyond, the least recently used is forgotten, not all of them at once.
CACHED_RESULTS = 64


def _remember(store: dict[str, Any], key: str, value: Any, most: int) -> None:
    """``store[key] = value`` as its most recently used entry; beyond ``most`` entries the
    least recently used goes. (Forgetting every result at once when full made the next
    page of every session compute its filter bar and figures again: on a server at a
    million members, 4-6 s for the filter bar's year span alone.)"""
    store.pop(key, None)
    store[key] = value
    while len(store) > most:
        del store[next(iter(store))]


def in_ids(ids: Iterable[int]) -> str | None:
    """``IN (…)`` of integer ids written as constants (each one an ``int``: SQL of code),
    or None for more than ``LITERAL_IDS``. DuckDB passes constants on to a PostgreSQL
    server, which then returns those rows only; a list parameter or a join with a
    relation is not passed on, and the whole table is read from the server."""
    if isinstance(ids, Collection) and len(ids) > LITERAL_IDS:
        return None  # (without sorting a hundred thousand ids to find out)
    listed = sorted({int(i) for i in ids})
    if len(listed) > LITERAL_IDS:
        return None
    if not listed:  # none: IN matches no row, and NOT IN every row (IN (NULL) would not)
        return "IN (SELECT 0 WHERE false)"
    return f"IN ({', '.join(map(str, listed))})"


_noting: ContextVar[Touched | None] = ContextVar("cetracker_noting", default=None)


def noting() -> bool:
    """Whether the running transaction is tracked (``note`` is then worth its query)."""
    return _noting.get() is not None


def note(
    *,
    records: Iterable[tuple[int, int]] = (),
    records_by_year: Mapping[int, Iterable[int]] | None = None,
    members: Iterable[int] = (),
    years: Iterable[int] = (),
    added: Any = None,
    tables: Iterable[str] = (),
    in_place: bool = False,
    restated: bool = False,
) -> None:
    """Say what the running tracked transaction changes: ``records`` as (CE year, member id)
    pairs (or ``records_by_year``, the same grouped: a roster's 100,000 members in one
    step), members' own rows, whole years. With ``added`` (the rows, see ``Touched``), the
    ``records`` are those rows' and nothing else of those members changed. ``in_place``:
    no record leaves its CE year (records added, or a change of status or hours); without
    it, a record may have left any of the years named. ``restated``: the records named
    changed in place only (status, hours, reason), none added, removed or moved to another
    member, course or year. Nothing to do in an untracked transaction."""
    touched = _noting.get()
    if touched is None:
        return
    grouped: dict[int, set[int]] = {}
    for year, member in records:
        grouped.setdefault(int(year), set()).add(int(member))
    for year, found in (records_by_year or {}).items():
        grouped.setdefault(int(year), set()).update(map(int, found))
    for year, found in grouped.items():
        touched.records.setdefault(year, set()).update(found)
        if added is None:
            touched.rewritten.setdefault(year, set()).update(found)
            if not (in_place or restated):
                touched.left.add(year)
    if grouped and not restated:  # (an addition of no rows moves nothing)
        touched.moved = True
    if added is not None:
        touched.added.append(added)
    touched.members.update(int(m) for m in members)
    touched.years.update(int(y) for y in years)
    touched.tables.update(tables)


# Rows of added records the journal holds at most (older additions are forgotten, and a
# table that has not caught up with them since is rebuilt).
JOURNAL_ROWS = 2_000_000


# A position in the stream of committed writes: (this process's report-write count, the
# server's shared counter or 0). Derived tables remember the mark they were computed at.
Mark = tuple[int, int]


def redacted(location: str | Path) -> str:
    """The location as safe to show: a URL without its password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", str(location))


def _postgres_extension() -> str:
    """The postgres extension's file from its PyPI wheel (nothing downloads at run time)."""
    from importlib import resources

    try:
        folder = resources.files("duckdb_extension_postgres")
    except ModuleNotFoundError as exc:
        raise CetrackerError(
            "PostgreSQL needs the package duckdb-extension-postgres; reinstall CE Tracker "
            "with its locked dependencies (uv sync)."
        ) from exc
    return str(folder / "extensions" / f"v{duckdb.__version__}" / "postgres.duckdb_extension")


# Set once this process has loaded the postgres extension with its signature checked.
_extension_checked = False


def _server_sql(sql: str) -> str:
    """A migration's DuckDB DDL as PostgreSQL runs it."""
    return re.sub(r"\bBLOB\b", "BYTEA", sql)


class Database:
    """A DuckDB database file (or ``:memory:``), or a PostgreSQL database reached through
    DuckDB (a ``postgresql://`` URL), with its migrations applied."""

    def __init__(self, path: str | Path, *, migrate_to: int | None = None) -> None:
        self.path = str(path)
        self.server = is_server_url(self.path)
        if self.server:
            self._con = self._connect_server(self.path)
        else:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._con = duckdb.connect(self.path)
            except duckdb.IOException as exc:
                raise CetrackerError(
                    f"Cannot open the database {self.path}: {exc}. "
                    "Is another CE Tracker process using it? Stop it and try again."
                ) from exc
        self._con.execute(_RESULT_BUFFER)
        self._write_lock = threading.RLock()
        # Bumped by every committed write; cached results are only good for one version.
        self._version = 0
        # Bumped only by writes that reports read; the report caches key on it.
        self._data_version = 0
        # Server mode: other app processes write too. Their writes bump two sequences in
        # the server, read at most once per ``shared_check_seconds``.
        self.shared_check_seconds = 1.0
        self._shared = (0, 0)
        self._shared_at = float("-inf")
        self.schema_ready = False  # the server's write counters exist (migration 6)
        self._cache: dict[str, tuple[int, pd.DataFrame]] = {}
        # What each report write of this process changed, by the local version it made
        # (None: unknown, so everything); derived tables catch up from here.
        self._journal: deque[tuple[int, Touched | None]] = deque(maxlen=2000)
        # Server mode: the shared counter's values this process's own writes drew; any
        # other value between two marks is another process's write.
        self._own_shared: deque[int] = deque(maxlen=2000)
        # family -> (table, the mark it is up to date with, whether it holds exactly the
        # writes up to that mark: see ``maintained_table``)
        self._maintained: dict[str, tuple[str, Mark, bool]] = {}
        # Commits begun and ended (ended once the journal and versions say so): when they
        # differ, a write is committed or committing that a mark may not count yet.
        self._commits_begun = 0
        self._commits_ended = 0
        # key -> (value, the mark it was computed at)
        self._values: dict[str, tuple[Any, Mark]] = {}
        self._kept: dict[str, Any] = {}
        self._cache_lock = threading.Lock()
        # One build per key at a time: a second session asking for the same result
        # waits for the first instead of computing it again beside it.
        self._building: dict[str, threading.Lock] = {}
        # Called (without arguments) after every committed write that reports read.
        self.after_report_write: list[Callable[[], None]] = []
        # The stops of the threads that query this database in the background (the
        # warm-up, the scheduler): ``close`` calls each and closes the connection only once
        # all have said their thread ended (see ``close``).
        self.before_close: list[Callable[[], bool]] = []
        self.closed = False
        self._schema_seen = 0  # the highest migration applied, as ``migrate`` last saw it
        self.migrate(migrate_to)
        self.schema_ready = self._schema_seen >= 6
        # Derived tables (a year's standing) live in memory beside the file, never in it.
        # DuckDB checkpoints when the write-ahead log passes this size; at the default
        # 16 MB one 100,000-row import rewrites the big table and its index while the
        # provider waits. The log is folded in at the next threshold or when the app stops.
        self._con.execute("SET checkpoint_threshold = '256MB'")
        # (Two Database objects on one file share DuckDB's instance, hence IF NOT EXISTS and
        # a prefix of this object's own.)
        self._con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH}")
        self._scratch_prefix = f"d{next(_OBJECTS)}"
        # family -> [(table, when it was superseded or None)]
        self._scratch_tables: dict[str, list[tuple[str, float | None]]] = {}
        self._scratch_serial = itertools.count()
        self._year_order: tuple[bool, float] | None = None  # records_in_year_order, when

    def _new_scratch(self, family: str, build_sql: str, params: Params) -> str:
        """Create a table of ``family`` from ``build_sql``; drop the family's long superseded."""
        # The name is made of this object's counters only: a family names a year
        # ("standing_2024"), and nothing a caller passes goes into an identifier.
        name = f"{SCRATCH}.{self._scratch_prefix}_t{next(self._scratch_serial)}"
        assert _SCRATCH_NAME.fullmatch(name), name
        cur = self.cursor(bulk=True)  # a whole table, or a year of it
        try:
            cur.execute(f"CREATE TABLE {name} AS {build_sql}", params)
            now = time.monotonic()
            with self._cache_lock:
                # A table is dropped once superseded for a while, not at once: another
                # session may be reading the name it was handed a moment ago.
                older = self._scratch_tables.setdefault(family, [])
                if older:
                    older[-1] = (older[-1][0], now)
                older.append((name, None))
                stale = [n for n, since in older[:-2] if since is not None and now - since > 10]
                older[:] = [entry for entry in older if entry[0] not in stale]
            for old in stale:
                cur.execute(f"DROP TABLE IF EXISTS {old}")
        finally:
            cur.close()
        return name

    def maintained_table(
        self,
        family: str,
        build: Callable[[Any], tuple[str, Params]],
        patch: Callable[[duckdb.DuckDBPyConnection, str, list[Touched], Any, bool], bool],
        sources: Callable[[], Any] = lambda: None,
    ) -> str:
        """A derived in-memory table of ``family`` kept up to date across writes.

        ``sources()`` brings up to date what the table is computed from (other maintained
        tables; its result is handed on). The table is built once from the SQL and
        parameters ``build(sources)`` gives; after writes, ``patch(cursor, table, changes,
        sources, exact)`` brings it up to date from what the writes noted (in one
        transaction, so a reader sees it before or after, never half-way) or returns False
        to have it rebuilt. Writes whose changes are unknown (untracked, or on a server
        another process's) rebuild it. Returns the table's qualified name.

        ``exact`` says that the table holds the writes up to its mark and no later one: no
        write was committing while it was built or last patched. Only then may a patch add
        a write's rows to what the table holds (a sum plus the new hours); otherwise a
        write that landed during the build may be in the table already, and the patch must
        recompute the members it touched from the sources instead.
        """

        def current() -> str:
            # Commits first, then the mark: a write landing meanwhile is patched again next
            # time (the sources may be newer than the mark, never older).
            begun = self._commits_begun
            settled = begun == self._commits_ended
            mark = self.mark()
            ready = sources()
            with self._cache_lock:
                held = self._maintained.get(family)
            if held is not None:
                table, since, was_exact = held
                changes = self.changes_since(since, mark)
                if changes is not None:
                    if changes and not self._patch(table, changes, patch, ready, was_exact):
                        changes = None
                    if changes is not None:
                        exact = settled and begun == self._commits_begun
                        with self._cache_lock:
                            self._maintained[family] = (
                                table,
                                mark,
                                exact and (was_exact or bool(changes)),
                            )
                        return table
            sql, params = build(ready)
            table = self._new_scratch(family, sql, params)
            with self._cache_lock:
                self._maintained[family] = (table, mark, settled and begun == self._commits_begun)
            return table

        table: str = self.cached(f"maintained:{family}", current)
        return table

    def maintained_if_current(self, family: str) -> str | None:
        """The table of ``family`` if it is kept and holds every write so far (no patch
        due), else None: a reader that such a table can serve as well as its own asks this
        first, rather than bring its own up to date."""
        mark = self.mark()
        with self._cache_lock:
            held = self._maintained.get(family)
        return held[0] if held is not None and held[1] == mark else None

    def maintained_value(
        self, key: str, build: Callable[[], Any], affected: Callable[[Touched], bool]
    ) -> Any:
        """``build()`` remembered under ``key`` until a write ``affected`` says changes it
        (or one of unknown reach). Read-only; the key must name all the value depends on
        besides the data."""

        def current() -> Any:
            mark = self.mark()  # before reading, as for a maintained table
            with self._cache_lock:
                held = self._values.get(key)
            if held is not None:
                changes = self.changes_since(held[1], mark)
                if changes is not None and not any(map(affected, changes)):
                    with self._cache_lock:
                        _remember(self._values, key, (held[0], mark), 4 * CACHED_RESULTS)
                    return held[0]
            value = build()
            with self._cache_lock:
                _remember(self._values, key, (value, mark), 4 * CACHED_RESULTS)
            return value

        return self.cached(f"value:{key}", current)

    def _patch(
        self,
        table: str,
        changes: list[Touched],
        patch: Callable[[duckdb.DuckDBPyConnection, str, list[Touched], Any, bool], bool],
        ready: Any,
        exact: bool,
    ) -> bool:
        cur = self.cursor()
        try:
            cur.begin()
            try:
                done = patch(cur, table, changes, ready, exact)
            except BaseException:
                cur.rollback()
                raise
            if done:
                cur.commit()
            else:
                cur.rollback()
            return done
        finally:
            cur.close()

    @staticmethod
    def _connect_server(url: str) -> duckdb.DuckDBPyConnection:
        global _extension_checked
        config: dict[str, str | bool | int | float | list[str]] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if _extension_checked:
            # This process checked the extension's signature when it first loaded it, and
            # holds that library: loading it again hands back the same library, so the
            # check (hashing 42 MB, 0.16 s a connection) is not made twice. The only
            # extension any connection loads is this one (autoloading is off).
            config["allow_unsigned_extensions"] = True
        con = duckdb.connect(":memory:", config=config)
        try:
            con.execute("INSTALL '{}'".format(_postgres_extension().replace("'", "''")))
            con.execute("LOAD postgres")
            _extension_checked = True
            # ATTACH takes no parameters; the URL is quoted as an SQL string literal.
            con.execute("ATTACH '{}' AS {} (TYPE postgres)".format(url.replace("'", "''"), SERVER))
            con.execute(f"USE {SERVER}")
            # Reads are lookups unless a cursor says otherwise (``cursor(bulk=True)``).
            con.execute("SET GLOBAL pg_use_ctid_scan = false")
        except duckdb.Error as exc:
            con.close()
            detail = redacted(str(exc).splitlines()[0])
            raise CetrackerError(
                f"Cannot open the PostgreSQL database {redacted(url)}: {detail}. Check that the "
                "server runs, that the URL (user, host, port, database name) is right and that "
                "the database exists."
            ) from exc
        return con

    def attach(self, cur: duckdb.DuckDBPyConnection, location: str, alias: str) -> None:
        """Attach another CE Tracker database (a file or a PostgreSQL URL) to this engine."""
        kind = " (TYPE postgres)" if is_server_url(location) else ""
        # ATTACH takes no parameters; the location is quoted as an SQL string literal.
        cur.execute("ATTACH '{}' AS {}{}".format(location.replace("'", "''"), alias, kind))

    def advance_sequence(self, sequence: str, past: int) -> None:
        """Make ``sequence`` hand out values after ``past`` (ids copied in from elsewhere)."""
        if sequence not in SEQUENCES:
            raise ValueError(sequence)
        if self.server:
            self._server_execute(f"SELECT setval('{sequence}', {max(int(past), 1)}, {past > 0})")
            return
        # DuckDB has no setval: draw the values already taken (in a transaction, or the
        # sequence's new position is not kept).
        with self.transaction(reports=False) as cur:
            current = int(cur.execute(f"SELECT nextval('{sequence}')").fetchone()[0])  # type: ignore[index]
            if past > current:
                cur.execute(
                    f"SELECT max(nextval('{sequence}')) FROM range(?)",  # noqa: S608 - a checked name
                    [past - current],
                )

    def tables(self) -> list[str]:
        """The schema's own tables (not the migrations' bookkeeping, not the server's catalog)."""
        return [
            str(name)
            for (name,) in self.rows(
                """SELECT table_name FROM information_schema.tables
                   WHERE table_catalog = current_database() AND table_schema = ?
                     AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'
                   ORDER BY table_name""",
                [self._schema],
            )
        ]

    def columns(self, table: str) -> list[str]:
        return [
            str(name)
            for (name,) in self.rows(
                """SELECT column_name FROM information_schema.columns
                   WHERE table_catalog = current_database() AND table_schema = ?
                     AND table_name = ?
                   ORDER BY ordinal_position""",
                [self._schema, table],
            )
        ]

    @property
    def _schema(self) -> str:
        return "public" if self.server else "main"

    @staticmethod
    def is_duplicate_key(exc: BaseException) -> bool:
        """A unique index refused a row (DuckDB's or the PostgreSQL server's words)."""
        text = str(exc)
        return "duplicate key" in text.lower() or "violates unique constraint" in text

    # -- versions ------------------------------------------------------------
    @property
    def version(self) -> int:
        """Changes with every committed write (of this process or, on a server, any other)."""
        return self._version + self._shared_versions()[0]

    @property
    def data_version(self) -> int:
        """Changes with every committed write a report reads."""
        return self._data_version + self._shared_versions()[1]

    def _shared_versions(self) -> tuple[int, int]:
        if not (self.server and self.schema_ready):
            return (0, 0)
        now = time.monotonic()
        if now - self._shared_at >= self.shared_check_seconds:
            row = self.one(
                f"SELECT * FROM postgres_query('{SERVER}', 'SELECT "  # noqa: S608 - constants
                "(SELECT last_value FROM write_versions) AS w, (SELECT last_value FROM data_versions) AS d')"
            )
            if row is not None:
                self._shared = (int(row[0]), int(row[1]))
            self._shared_at = now
        return self._shared

    def _announce(self, reports: bool) -> None:
        """Tell the other app processes that the data changed (sequences never conflict)."""
        counters = "nextval(''write_versions'') AS w" + (
            ", nextval(''data_versions'') AS d" if reports else ""
        )
        row = self.one(f"SELECT * FROM postgres_query('{SERVER}', 'SELECT {counters}')")  # noqa: S608 - constants
        if reports and row is not None:
            with self._cache_lock:
                self._own_shared.append(int(row[1]))
        self._shared_at = float("-inf")

    def _trim_journal(self) -> None:
        """Forget the oldest additions beyond ``JOURNAL_ROWS`` rows (their entries become
        unknown writes)."""
        held = 0
        for i in range(len(self._journal) - 1, -1, -1):
            version, touched = self._journal[i]
            if touched is None:
                continue
            held += sum(len(rows) for rows in touched.added)
            if held > JOURNAL_ROWS:
                self._journal[i] = (version, None)

    def mark(self) -> Mark:
        """Where the stream of report writes stands now (see ``changes_since``)."""
        return (self._data_version, self._shared_versions()[1])

    def changes_since(self, since: Mark, until: Mark | None = None) -> list[Touched] | None:
        """What the report writes between two marks changed, or None when that is not
        known: an untracked write, one too old to remember, or another process's."""
        local, shared = until if until is not None else self.mark()
        with self._cache_lock:
            if shared != since[1]:
                own = set(self._own_shared)
                if any(v not in own for v in range(since[1] + 1, shared + 1)):
                    return None
            entries = [(v, t) for v, t in self._journal if since[0] < v <= local]
        if len(entries) != local - since[0] or any(t is None for _, t in entries):
            return None
        return [t for _, t in entries if t is not None]

    # -- reading -------------------------------------------------------------
    def cursor(self, *, bulk: bool = False) -> duckdb.DuckDBPyConnection:
        """A cursor of the one connection. On a server, its reads are lookups: DuckDB's
        scanner sends PostgreSQL one query, which it plans with its indexes, not one query
        a page range (``ctid``) that each read their part of the table (a member's
        records: 30-100 ms at a million members that way, 1-2 ms by the index). A
        ``bulk`` cursor reads whole tables, in page ranges in parallel (a third faster for
        that: the kept tables' builds, the counts of every record). Its results come whole
        (``_RESULT_BUFFER``)."""
        cur = self._con.cursor()
        cur.execute(_RESULT_BUFFER)
        if self.server:
            cur.execute(f"USE {SERVER}")  # each cursor starts on the default catalog
            if bulk:  # (the connection's default is off: a SET costs 0.2 ms a cursor)
                cur.execute("SET SESSION pg_use_ctid_scan = true")
        return cur

    def new_id(self, sequence: str, cur: duckdb.DuckDBPyConnection | None = None) -> int:
        """The next value of one of the schema's id sequences (for an INSERT to use)."""
        if not re.fullmatch(r"[a-z_]+", sequence):
            raise ValueError(sequence)
        if self.server:
            # Sequences live in PostgreSQL; DuckDB cannot call them there directly.
            sql = f"SELECT * FROM postgres_query('{SERVER}', 'SELECT nextval(''{sequence}'')')"  # noqa: S608 - a checked name of ours
        else:
            sql = f"SELECT nextval('{sequence}')"
        if cur is None:
            return int(self.scalar(sql))
        return int(cur.execute(sql).fetchone()[0])  # type: ignore[index]  # always a row

    def rows(self, sql: str, params: Params = None, *, bulk: bool = False) -> list[tuple[Any, ...]]:
        cur = self.cursor(bulk=bulk)
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def server_rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of a query that the PostgreSQL server plans and runs itself, with its own
        SQL and indexes. (DuckDB's scanner reads a server table in page ranges and uses
        none of its indexes: a few rows of a big table cost a read of all of it.) It
        takes no parameters: ``sql`` is ours, with constants only."""
        if not self.server:
            raise ValueError("server_rows needs a PostgreSQL server")
        return self.rows(on_server(sql))

    def one(self, sql: str, params: Params = None, *, bulk: bool = False) -> tuple[Any, ...] | None:
        cur = self.cursor(bulk=bulk)
        try:
            return cur.execute(sql, params).fetchone()
        finally:
            cur.close()

    def scalar(self, sql: str, params: Params = None) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def frame(self, sql: str, params: Params = None, *, bulk: bool = False) -> pd.DataFrame:
        cur = self.cursor(bulk=bulk)
        try:
            return cur.execute(sql, params).df()
        finally:
            cur.close()

    def cached_frame(self, sql: str, params: Params = None) -> pd.DataFrame:
        """``frame`` remembered until the next write (read-only: do not modify the result).

        The key is the query and every parameter, so users with different filters or
        scopes never share a result.
        """
        key = repr((sql, sorted(params.items()) if isinstance(params, dict) else params))
        frame: pd.DataFrame = self.cached(key, lambda: self.frame(sql, params))
        return frame

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()`` remembered under ``key`` until the next write reports read (read-only)."""
        version = self.data_version
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                _remember(self._cache, key, hit, CACHED_RESULTS)  # recently used
                return hit[1]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._cache_lock:
                hit = self._cache.get(key)
                if hit is not None and hit[0] == version:
                    return hit[1]  # built by another session while this one waited
            result = build()
            with self._cache_lock:
                _remember(self._cache, key, (version, result), CACHED_RESULTS)
                if len(self._building) > 256:
                    self._building = {k: v for k, v in self._building.items() if v.locked()}
        return result

    def kept(self, key: str) -> Any:
        """What ``keep`` stored under ``key`` (None if nothing), whatever was written since."""
        with self._cache_lock:
            return self._kept.get(key)

    def keep(self, key: str, value: Any) -> None:
        """Remember ``value`` across writes (read-only). Its key must name everything it was
        computed from, such as a fingerprint of the rows it read: no write invalidates it."""
        with self._cache_lock:
            _remember(self._kept, key, value, CACHED_RESULTS)

    def forget_cache(self, *, tables: bool = True) -> None:
        """Forget every remembered result (what ``cached`` and ``keep`` hold) and, unless
        ``tables`` is False, the maintained tables (the next asks rebuild them)."""
        with self._cache_lock:
            self._cache.clear()
            self._kept.clear()
            if tables:
                self._maintained.clear()
                self._values.clear()

    # -- writing -------------------------------------------------------------
    @contextmanager
    def transaction(
        self, *, reports: bool = True, tracked: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing write: commit on success, roll back on any error.

        ``reports=False`` for writes no report reads (logins, messages, the audit log
        alone): they leave the reports' cached results in place. ``tracked=True`` promises
        that whatever the transaction changes of CE records, members, rules or closed
        years is said with ``note`` (derived tables then patch; see ``Touched``).
        """
        with self._write_lock:
            touched = Touched() if tracked else None
            token = _noting.set(touched)
            cur = self.cursor()
            cur.begin()
            try:
                yield cur
            except BaseException:
                _noting.reset(token)
                cur.rollback()
                cur.close()
                raise
            _noting.reset(token)
            self._commits_begun += 1
            try:
                cur.commit()
                cur.close()
                self._version += 1
                if reports:
                    with self._cache_lock:  # the entry first: a reader of the version finds it
                        self._journal.append((self._data_version + 1, touched))
                        self._trim_journal()
                    self._data_version += 1
            finally:
                self._commits_ended += 1
            if self.server and self.schema_ready:
                self._announce(reports)
        if reports:
            for call in list(self.after_report_write):
                call()

    @contextmanager
    def exclusive(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor outside any transaction while no other write can run (ATTACH, COPY)."""
        with self._write_lock:
            cur = self.cursor(bulk=True)  # copies of whole tables
            try:
                yield cur
            finally:
                cur.close()

    def execute(self, sql: str, params: Params = None, *, reports: bool = True) -> None:
        with self.transaction(reports=reports) as cur:
            cur.execute(sql, params)

    def tidy(self) -> bool:
        """Fold the changes of the in-memory tables in (a checkpoint of the scratch
        database; it also frees what patches deleted). DuckDB does it by itself once the
        changes pass the checkpoint threshold, inside whichever commit crosses it: a
        viewer's patch, 0.2–3 s at a million members. The warm-up calls this while nobody
        writes. False when a transaction was running (it is tried again next time)."""
        cur = self.cursor()
        try:
            cur.execute(f"CHECKPOINT {SCRATCH}")
            return True
        except duckdb.Error:
            return False
        finally:
            cur.close()

    def close(self) -> None:
        """Close the connection once no background thread can be inside a query: DuckDB
        ends the whole process (a segmentation fault) when a connection closes under a
        query that another thread is running. Each thread in ``before_close`` is stopped
        and waited for; one that does not end leaves the connection to the process's exit."""
        self.closed = True
        ended = [stop() for stop in list(self.before_close)]
        if all(ended):
            self._con.close()
        else:
            log.warning("A background thread is still querying %s: left open", redacted(self.path))

    # -- schema --------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
            " AND table_catalog = current_database() AND table_schema = ?",
            [self._schema],
        )
        if not exists:
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def _applied_migrations(self) -> set[int]:
        return {int(v) for (v,) in self.rows("SELECT version FROM schema_migrations")}

    def migrate(self, upto: int | None = None) -> list[int]:
        """Apply the migrations newer than the database, up to ``upto``; return those applied."""
        applied: list[int] = []
        table = (
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
            " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
        )
        with self._write_lock:
            # By the numbers applied, not the highest: migrations written side by side get
            # numbers in advance, and one may ship after a higher-numbered one has run.
            try:
                done = self._applied_migrations()
            except duckdb.CatalogException:  # a new database: its bookkeeping table first
                # (Only then: on a server, DDL makes DuckDB read the server's catalog again,
                # 20 ms of every process's start.)
                if self.server:
                    self._server_execute(table)
                else:
                    self._con.execute(table)
                done = self._applied_migrations()
            for version, name, sql in MIGRATIONS:
                if version in done or (upto is not None and version > upto):
                    continue
                if not isinstance(sql, str):
                    self._migrate_with(version, name, sql)
                elif self.server:
                    self._server_migrate(
                        version, name, "SELECT 1" if version in EMBEDDED_ONLY else sql
                    )
                else:
                    with self.transaction() as cur:
                        cur.execute(sql)
                        cur.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                            [version, name],
                        )
                applied.append(version)
            if applied and not self.server:
                # The new schema goes into the file now, not only the write-ahead log:
                # DuckDB 1.5.5 cannot replay a log that creates a table whose column
                # defaults to nextval() ("GetDefaultDatabase with no default database
                # set"), so a process that died before closing the file would leave a
                # database that no longer opens.
                self._con.execute("CHECKPOINT")
            self._schema_seen = max(done | set(applied), default=0)
        return applied

    def _migrate_with(self, version: int, name: str, step: Callable[[Upgrade], None]) -> None:
        """A migration that is a function: one transaction on either backend (on a server,
        DuckDB's statements and the server's own share the server transaction), once even
        when several processes start together."""
        with self.transaction() as cur:

            def ddl(sql: str) -> None:
                if self.server:
                    cur.execute(f"CALL postgres_execute('{SERVER}', ?)", [_server_sql(sql)])
                    cur.execute("CALL pg_clear_cache()")
                else:
                    cur.execute(sql)

            if self.server:
                ddl("SELECT pg_advisory_xact_lock(727274)")
                done = cur.execute(
                    f"SELECT * FROM postgres_query('{SERVER}', "  # noqa: S608 - our own number
                    f"'SELECT count(*) FROM schema_migrations WHERE version = {int(version)}')"
                ).fetchone()
                if done and done[0]:
                    return
            step(Upgrade(cur, self.server, ddl))
            cur.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )

    def records_in_year_order(self) -> bool:
        """On a server: whether its CE records lie in CE-year order, by the planner's own
        statistics (the correlation of ``ce_year`` with where the rows lie), so that a
        year is best read through the index by year (migration 15). Records entered as the
        office goes, or copied by ``migrate-to``, are; a server filled member by member
        (an older ``migrate-to``) is not, and a year is better read in page ranges there.
        Asked again every ten minutes; False without statistics yet."""
        if not self.server:
            return False
        now = time.monotonic()
        known = self._year_order
        if known is None or now - known[1] > 600:
            rows = self.server_rows(
                "SELECT abs(correlation) FROM pg_stats WHERE tablename = 'ce_records'"
                " AND attname = 'ce_year' AND schemaname = current_schema()"
            )
            ordered = bool(rows and rows[0][0] is not None and rows[0][0] >= 0.8)
            self._year_order = known = (ordered, now)
        return known[0]

    def settle_after_copy(self) -> None:
        """After whole tables were copied in (``transfer``), on a server: the copied
        records' block ranges summarised for the index by year (migration 15) and the
        planner's statistics of our tables gathered, now rather than when the server's
        autovacuum comes by: the first reports read through them. Neither is needed for
        the copy to be whole, so a server that refuses (a statement time limit, say) is
        logged and left to its autovacuum. The embedded file needs neither."""
        if not self.server:
            return
        try:
            self._server_execute("SELECT brin_summarize_new_values('ce_records_by_year')")
            self._server_execute(f"ANALYZE {', '.join(self.tables())}")
        except duckdb.Error as exc:
            log.warning(
                "The copy is whole, but the server did not gather its statistics now (%s);"
                " its autovacuum will.",
                redacted(str(exc).splitlines()[0]),
            )

    def _server_execute(self, sql: str) -> None:
        """PostgreSQL's own SQL, run by the server (DDL DuckDB cannot send, such as sequences)."""
        self._con.execute(f"CALL postgres_execute('{SERVER}', ?)", [sql])
        self._con.execute("CALL pg_clear_cache()")

    def _server_migrate(self, version: int, name: str, sql: str) -> None:
        """One migration in one server transaction, once even when several processes start
        together (an advisory lock, then the version check again)."""
        body = _server_sql(sql).replace("$cetracker$", "")
        self._server_execute(
            f"""DO $cetracker$
            BEGIN
                PERFORM pg_advisory_xact_lock(727274);
                IF NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = {int(version)}) THEN
                    EXECUTE $migration${body}$migration$;
                    INSERT INTO schema_migrations (version, name)
                    VALUES ({int(version)}, {_literal(name)});
                END IF;
            END
            $cetracker$"""  # noqa: S608 - our own migration text and numbers
        )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def on_server(sql: str) -> str:
    """DuckDB's query that has the PostgreSQL server plan and run ``sql`` itself (see
    ``Database.server_rows``). On a transaction's cursor it runs inside that transaction
    and sees its writes. ``sql`` is ours, with constants only."""
    return f"SELECT * FROM postgres_query('{SERVER}', {_literal(sql)})"  # noqa: S608 - our own SQL


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL ``int[]`` constant of integers (each one an ``int``: SQL of code), for
    ``on_server``: a hundred thousand ids cost the server one parse, not one query each."""
    return "'{" + ",".join(str(int(v)) for v in values) + "}'::int[]"


def holds_database(location: str | Path) -> bool:
    """A CE Tracker database is at ``location``; looks only, creates nothing.

    A file that exists, or a PostgreSQL database that holds CE Tracker's schema (one
    that does not exist cannot be reached: that is an error of its own).
    """
    if not is_server_url(location):
        return str(location) == ":memory:" or Path(location).is_file()
    con = Database._connect_server(str(location))
    try:
        found = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_catalog = ?"
            " AND table_schema = 'public' AND table_name = 'schema_migrations'",
            [SERVER],
        ).fetchone()
    finally:
        con.close()
    return bool(found and found[0])


_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def open_database(path: str | Path) -> Database:
    """The process's one ``Database`` for ``path`` (opened and migrated on first use)."""
    key = (
        str(Path(path).resolve())
        if str(path) != ":memory:" and not is_server_url(path)
        else str(path)
    )
    with _open_lock:
        if key not in _open:
            _open[key] = Database(path)
        return _open[key]


def close_all() -> None:
    with _open_lock:
        for db in _open.values():
            db.close()
        _open.clear()
