"""Backups: a consistent copy of the whole database as one DuckDB file, and its restore.

A PostgreSQL database is backed up the same way (its tables copied into a DuckDB
file), besides the server's own pg_dump.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from cetracker import audit
from cetracker.errors import CetrackerError
from cetracker.store.db import Database

log = logging.getLogger(__name__)

# The nightly backups kept: two weeks of them. An older nightly file is deleted once a
# newer one is made; a backup made with "Make a backup now" or the command is never.
NIGHTLY_KEPT = 14


def backup(db: Database, folder: Path, name: str | None = None) -> Path:
    """Write ``name`` (by default ``cetracker-YYYYMMDD-HHMMSS.duckdb``) into ``folder`` and
    return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or f"cetracker-{datetime.now():%Y%m%d-%H%M%S}.duckdb")
    if target.exists():
        raise CetrackerError(f"{target} already exists; wait a second and try again.")
    if db.server:
        # The server's tables copied into a DuckDB file: the same kind of backup as the
        # embedded database's, restorable anywhere (or migrated back to a server).
        from cetracker import transfer

        partial = target.with_name(target.stem + "-partial.duckdb")
        partial.unlink(missing_ok=True)
        try:
            transfer.copy_database(db, str(partial))
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.rename(target)
        return target
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    # Under the write lock nothing changes while the copy is made.
    with db.exclusive() as cur:
        # ATTACH takes no parameters; the path is ours, quoted as an SQL string literal.
        cur.execute("ATTACH '{}' AS backup_target".format(str(partial).replace("'", "''")))
        try:
            cur.execute(f"COPY FROM DATABASE {_catalog(cur)} TO backup_target")
        except Exception:
            cur.execute("DETACH backup_target")
            partial.unlink(missing_ok=True)
            raise
        cur.execute("DETACH backup_target")
    partial.rename(target)
    return target


def nightly(db: Database, folder: Path, *, day: date, actor: str = "scheduler") -> Path | None:
    """The nightly backup of ``day``, once across every app process on this database.

    The day is claimed first (its row's key); None when another run had claimed it. A
    backup that fails is recorded with its reason and tried again the next day. Once it
    is made, the nightly backups older than the newest ``NIGHTLY_KEPT`` are deleted.
    """
    try:
        with db.transaction(reports=False) as cur:
            cur.execute("INSERT INTO nightly_backups (day, made_by) VALUES (?, ?)", [day, actor])
    except Exception:
        if db.scalar("SELECT count(*) FROM nightly_backups WHERE day = ?", [day]):
            return None
        raise
    try:
        made = backup(db, folder, f"cetracker-nightly-{day:%Y%m%d}.duckdb")
    except Exception as exc:
        with db.transaction(reports=False) as cur:
            cur.execute(
                "UPDATE nightly_backups SET finished_at = current_timestamp, error = ?"
                " WHERE day = ?",
                [str(exc)[:500], day],
            )
            audit.record(cur, actor, "nightly backup failed", "backup", day, {"error": exc})
        raise
    with db.transaction(reports=False) as cur:
        cur.execute(
            "UPDATE nightly_backups SET finished_at = current_timestamp, file = ? WHERE day = ?",
            [str(made), day],
        )
        audit.record(cur, actor, "nightly backup made", "backup", made.name, {"folder": folder})
    _delete_old_nightlies(db, actor)
    return made


def _delete_old_nightlies(db: Database, actor: str) -> None:
    """Delete the nightly backup files older than the newest ``NIGHTLY_KEPT`` (their rows
    stay: the history of what was made). A file another server's instance made is not on
    this machine, and is left to that instance."""
    made = db.rows(
        "SELECT file FROM nightly_backups WHERE file IS NOT NULL ORDER BY day DESC OFFSET ?",
        [NIGHTLY_KEPT],
    )
    deleted = []
    for (file,) in made:
        path = Path(file)
        try:
            if path.is_file():
                path.unlink()
                deleted.append(path.name)
        except OSError:  # tried again after the next nightly backup
            log.warning("Could not delete the old nightly backup %s", path, exc_info=True)
    if deleted:
        with db.transaction(reports=False) as cur:
            audit.record(
                cur, actor, "old nightly backups deleted", "backup", deleted[0], {"files": deleted}
            )


@dataclass(frozen=True)
class NightlyBackup:
    day: date
    file: str | None
    error: str | None
    finished: bool


def last_nightly(db: Database) -> NightlyBackup | None:
    """The latest nightly backup: its file, or why it failed (None: none has run yet)."""
    row = db.one(
        "SELECT day, file, error, finished_at IS NOT NULL FROM nightly_backups"
        " ORDER BY day DESC LIMIT 1"
    )
    return None if row is None else NightlyBackup(row[0], row[1], row[2], bool(row[3]))


def _catalog(cur: duckdb.DuckDBPyConnection) -> str:
    name = cur.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    return '"' + str(name).replace('"', '""') + '"'


def restore(backup_file: Path, db_path: Path, *, force: bool = False) -> Path | None:
    """Put a backup in place of the database; the replaced file is kept beside it."""
    try:
        check = duckdb.connect(str(backup_file), read_only=True)
        check.execute("SELECT count(*) FROM members").fetchone()
        check.close()
    except duckdb.Error as exc:
        raise CetrackerError(f"{backup_file} is not a CE Tracker backup: {exc}") from exc
    kept = None
    if db_path.exists():
        if not force:
            raise CetrackerError(
                f"{db_path} exists. Stop the app, then run restore again with --yes to replace it "
                "(the current file is kept beside it)."
            )
        kept = db_path.with_name(f"{db_path.name}.replaced-{datetime.now():%Y%m%d-%H%M%S}")
        db_path.rename(kept)
        wal = db_path.with_name(db_path.name + ".wal")
        if wal.exists():
            wal.rename(kept.with_name(kept.name + ".wal"))
    db_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backup_file, db_path)
    return kept
