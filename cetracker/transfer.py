"""Moving a whole CE Tracker database between the two backends (``cetracker migrate-to``).

The target is created with the same migrations, must be empty, and receives every
table in one transaction; id sequences continue after the copied ids. The copy is
verified by each table's row count and by a checksum of every CE year's hour summary
computed on both sides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cetracker.config import is_server_url
from cetracker.errors import CetrackerError
from cetracker.store.db import SEQUENCES, Database, redacted

TARGET = "cetracker_target"


@dataclass
class Transfer:
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    checksum: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"target": redacted(self.target), "rows": self.rows, "checksum": self.checksum}


def row_counts(db: Database) -> dict[str, int]:
    return {t: int(db.scalar(f'SELECT count(*) FROM "{t}"')) for t in db.tables()}  # noqa: S608 - names from the catalog


def summary_checksum(db: Database) -> str:
    """SHA-256 over every CE year's hour summary (all members, in a fixed order)."""
    from cetracker.filters import Filters
    from cetracker.standing import hour_summary

    digest = hashlib.sha256()
    for (year,) in db.rows("SELECT DISTINCT ce_year FROM ce_records ORDER BY ce_year"):
        frame = hour_summary(db, Filters(int(year)))
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        digest.update(f"{year}\n".encode())
        digest.update(frame.to_csv(index=False).encode())
    return digest.hexdigest()


# A server's records are written year after year, as a server that grew with the office
# holds them (entered as the courses happen): a year's records then lie together, and a
# year's read finds their block ranges (migration 15) instead of reading every page.
_SERVER_ORDER = {"ce_records": "ORDER BY ce_year, course_date, id"}


def copy_database(source: Database, target_location: str) -> Transfer:
    """Copy everything in ``source`` into a new or empty database at ``target_location``."""
    if target_location == source.path:
        raise CetrackerError("The target is the database in use; name another one.")
    if not is_server_url(target_location) and not target_location.endswith(".duckdb"):
        raise CetrackerError(
            f"{target_location} is neither a postgresql:// URL nor a .duckdb file name."
        )
    target = Database(target_location)  # creates the schema with the same migrations
    try:
        if target.schema_version() != source.schema_version():
            raise CetrackerError(
                f"{redacted(target_location)} is at schema version {target.schema_version()}, "
                f"this database at {source.schema_version()}: upgrade the older one first."
            )
        busy = {t: n for t, n in row_counts(target).items() if n}
        if busy:
            raise CetrackerError(
                f"{redacted(target_location)} already holds data ({', '.join(sorted(busy))}); "
                "migrate into a new, empty database."
            )
        columns = {t: target.columns(t) for t in target.tables()}
    finally:
        target.close()
    missing = set(source.tables()) - set(columns)
    if missing:
        raise CetrackerError(f"The target has no table {', '.join(sorted(missing))}.")
    with source.exclusive() as cur:
        source.attach(cur, target_location, TARGET)
        try:
            cur.begin()
            for table, names in columns.items():
                listed = ", ".join(f'"{c}"' for c in names)
                order = _SERVER_ORDER.get(table, "") if is_server_url(target_location) else ""
                cur.execute(
                    f'INSERT INTO {TARGET}."{table}" ({listed}) SELECT {listed} FROM "{table}" {order}'  # noqa: S608 - names from the catalog
                )
            cur.commit()
        except BaseException:
            cur.rollback()
            raise
        finally:
            cur.execute(f"DETACH {TARGET}")
    copied = Database(target_location)
    try:
        for sequence, table in SEQUENCES.items():
            highest = copied.scalar(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 - our names
            copied.advance_sequence(sequence, int(highest))
        copied.settle_after_copy()  # after the ids: the copy is whole without it
        result = Transfer(target_location, row_counts(copied), summary_checksum(copied))
    finally:
        copied.close()
    expected = row_counts(source)
    if result.rows != expected:
        raise CetrackerError(
            f"The copy in {redacted(target_location)} does not match: rows {result.rows} "
            f"against {expected}. Drop it and try again."
        )
    if result.checksum != summary_checksum(source):
        raise CetrackerError(
            f"The hour summaries in {redacted(target_location)} differ from this database's. "
            "Drop the copy and try again."
        )
    return result
