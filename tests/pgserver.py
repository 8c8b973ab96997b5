"""A throwaway PostgreSQL 15 server on 127.0.0.1 for the server-mode tests and benchmarks.

``initdb`` must not run as root, so the cluster belongs to the ``postgres`` user (when
the tests run as root) in a temporary folder that is deleted when the server stops.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql).")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """``with PostgresServer() as pg: pg.create_database("x") -> URL``."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cetracker-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.user = "postgres"
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str, as_owner: bool = True) -> None:
        """Run a PostgreSQL program; ``as_owner``: as the cluster's owner (a server program,
        which refuses root), else as this user (a client, which connects over TCP)."""
        command = list(args)
        if self._as_root and as_owner:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(_quote(a) for a in args)]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        if self._as_root:
            shutil.chown(self.folder, "postgres")
        self._run(
            _bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "-l",
            str(self.folder / "log"),
            "start",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def copy_database(self, url: str, name: str) -> str:
        """A new database copied from the one at ``url`` (nobody may be connected to it):
        its files copied, not written through the log (with fsync off, the faster way)."""
        template = url.rsplit("/", 1)[1]
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return self.url(name)

    def sql(self, statement: str, database: str = "postgres") -> None:
        self._run(
            _bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            statement,
            as_owner=False,
        )

    def stop(self) -> None:
        """Stop the server at once. Its folder holds every database a test session made
        (2.6 GB, ~96,000 files after a full run's worker): a process of its own deletes it,
        not waited for, as three workers' deletions at once held the run's end by 17-20 s."""
        try:
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            # The shell leaves ``rm`` running in the background and returns at once.
            subprocess.run(["sh", "-c", f"rm -rf {shlex.quote(str(self.folder))} &"], check=False)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def sent_queries(db: Any, capfd: Any, work: Callable[[], Any]) -> tuple[Any, list[str]]:
    """``work()``'s result and the queries DuckDB's PostgreSQL scanner sent the server
    meanwhile (its ``pg_debug_show_queries`` prints each; ``capfd`` is pytest's)."""
    capfd.readouterr()
    db.execute("SET pg_debug_show_queries = true", reports=False)
    try:
        result = work()
    finally:
        db.execute("SET pg_debug_show_queries = false", reports=False)
    out = capfd.readouterr()
    return result, (out.out + out.err).split("\n")


def whole_reads(queries: list[str], table: str) -> list[str]:
    """The reads of ``table`` among ``queries`` that name no row by id: each a read of the
    whole table (in page ranges), which DuckDB's scanner makes of a join or a filter it
    cannot pass on. (DuckDB passes on ``id IN (5, 6, 7)``, ids in a row, as the range
    ``"id" >= '5' AND "id" <= '7'``: a range of up to a thousand ids is a lookup too.)"""

    def by_id(query: str) -> bool:
        ranged = re.search(r"\(\"id\" >= '(\d+)' AND \"id\" <= '(\d+)'\)", query)
        return (
            ' "id" IN (' in query
            or ' "id" = ' in query
            or (ranged is not None and int(ranged[2]) - int(ranged[1]) < 1_000)
        )

    return [
        q for q in queries if q.startswith("COPY (SELECT") and f'"{table}"' in q and not by_id(q)
    ]


if __name__ == "__main__":
    with PostgresServer() as pg:
        print(pg.create_database("spike"))
        time.sleep(1)
