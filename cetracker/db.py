"""The database: one connection per process, a cursor per call, serialised writes.

All SQL runs through ``Database``. Values always travel as parameters. Writes
take a process-wide lock because DuckDB raises a conflict, instead of waiting,
when two transactions write the same row.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from cetracker.errors import CetrackerError
from cetracker.migrations import MIGRATIONS

if TYPE_CHECKING:
    import pandas as pd

Params = Sequence[Any] | dict[str, Any] | None


SCRATCH = "cetracker_scratch"
_OBJECTS = itertools.count()


class Database:
    """A DuckDB database file (or ``:memory:``) with its migrations applied."""

    def __init__(self, path: str | Path, *, migrate_to: int | None = None) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            raise CetrackerError(
                f"Cannot open the database {self.path}: {exc}. "
                "Is another CE Tracker process using it? Stop it and try again."
            ) from exc
        self._write_lock = threading.RLock()
        # Bumped by every committed write; cached results are only good for one version.
        self.version = 0
        # Bumped only by writes that reports read; the report caches key on it.
        self.data_version = 0
        self._cache: dict[str, tuple[int, pd.DataFrame]] = {}
        self._cache_lock = threading.Lock()
        self.migrate(migrate_to)
        # Derived tables (a year's standing) live in memory beside the file, never in it.
        # DuckDB checkpoints when the write-ahead log passes this size; at the default
        # 16 MB one 100,000-row import rewrites the big table and its index while the
        # provider waits. The log is folded in at the next threshold or when the app stops.
        self._con.execute("SET checkpoint_threshold = '256MB'")
        # (Two Database objects on one file share DuckDB's instance, hence IF NOT EXISTS and
        # a prefix of this object's own.)
        self._con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH}")
        self._scratch_prefix = f"d{next(_OBJECTS)}"
        self._scratch_tables: dict[str, list[str]] = {}
        self._scratch_serial = itertools.count()

    def scratch_table(self, family: str, build_sql: str, params: Params = None) -> str:
        """A derived in-memory table of ``family``, rebuilt once per data version.

        Returns its qualified name; the family's table before the previous one is dropped.
        """

        def build() -> str:
            name = (
                f"{SCRATCH}.{self._scratch_prefix}_{family}_v{self.data_version}"
                f"_{next(self._scratch_serial)}"
            )
            cur = self.cursor()
            try:
                cur.execute(f"CREATE TABLE {name} AS {build_sql}", params)
                with self._cache_lock:
                    older = self._scratch_tables.setdefault(family, [])
                    older.append(name)
                    stale, older[:] = older[:-2], older[-2:]
                for old in stale:
                    cur.execute(f"DROP TABLE IF EXISTS {old}")
            finally:
                cur.close()
            return name

        table: str = self.cached(f"scratch:{family}", build)
        return table

    # -- reading -------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self._con.cursor()

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        cur = self.cursor()
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def one(self, sql: str, params: Params = None) -> tuple[Any, ...] | None:
        cur = self.cursor()
        try:
            return cur.execute(sql, params).fetchone()
        finally:
            cur.close()

    def scalar(self, sql: str, params: Params = None) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def frame(self, sql: str, params: Params = None) -> pd.DataFrame:
        cur = self.cursor()
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
                return hit[1]
        result = build()
        with self._cache_lock:
            if len(self._cache) >= 64:
                self._cache.clear()
            self._cache[key] = (version, result)
        return result

    def forget_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    # -- writing -------------------------------------------------------------
    @contextmanager
    def transaction(self, *, reports: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing write: commit on success, roll back on any error.

        ``reports=False`` for writes no report reads (logins, messages, the audit log
        alone): they leave the reports' cached results in place.
        """
        with self._write_lock:
            cur = self.cursor()
            cur.begin()
            try:
                yield cur
            except BaseException:
                cur.rollback()
                cur.close()
                raise
            cur.commit()
            cur.close()
            self.version += 1
            if reports:
                self.data_version += 1

    @contextmanager
    def exclusive(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor outside any transaction while no other write can run (ATTACH, COPY)."""
        with self._write_lock:
            cur = self.cursor()
            try:
                yield cur
            finally:
                cur.close()

    def execute(self, sql: str, params: Params = None, *, reports: bool = True) -> None:
        with self.transaction(reports=reports) as cur:
            cur.execute(sql, params)

    def close(self) -> None:
        self._con.close()

    # -- schema --------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        )
        if not exists:
            return 0
        return int(self.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"))

    def migrate(self, upto: int | None = None) -> list[int]:
        """Apply the migrations newer than the database, up to ``upto``; return those applied."""
        applied: list[int] = []
        with self._write_lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
            )
            current = self.schema_version()
            for version, name, sql in MIGRATIONS:
                if version <= current or (upto is not None and version > upto):
                    continue
                with self.transaction() as cur:
                    cur.execute(sql)
                    cur.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        [version, name],
                    )
                applied.append(version)
        return applied


_open: dict[str, Database] = {}
_open_lock = threading.Lock()


def open_database(path: str | Path) -> Database:
    """The process's one ``Database`` for ``path`` (opened and migrated on first use)."""
    key = str(Path(path).resolve()) if str(path) != ":memory:" else ":memory:"
    with _open_lock:
        if key not in _open:
            _open[key] = Database(path)
        return _open[key]


def close_all() -> None:
    with _open_lock:
        for db in _open.values():
            db.close()
        _open.clear()
