"""Shared fixtures: every test uses its own temporary database, never data/.

Every test that takes a database from these fixtures runs twice: on an embedded
DuckDB file and on a PostgreSQL 15 server started for the session on 127.0.0.1
(``backend`` is a parametrized fixture). A test about the database file itself is
marked ``embedded_only`` and runs on DuckDB alone.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cetracker import demo
from cetracker.store import db as dbmod
from cetracker.store.db import Database
from tests.pgserver import PostgresServer

ROOT = Path(__file__).resolve().parents[1]

# Tests never touch the developer's data/ folder or secrets.
os.environ.setdefault("CETRACKER_SECRET_KEY", "test-secret-key-not-for-production")
os.environ["CETRACKER_LOGIN_SLEEP"] = "0"


BACKENDS = ["duckdb", "postgresql"]
_database_names = itertools.count(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "embedded_only: about the DuckDB file itself; not run on PostgreSQL"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests about the database file run on the embedded backend only (deselected, not skipped)."""
    keep, drop = [], []
    for item in items:
        on_server = getattr(item, "callspec", None) and item.callspec.params.get("backend") == (
            "postgresql"
        )
        (drop if on_server and item.get_closest_marker("embedded_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session, stopped and deleted at the end."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _new_location(backend: str, folder: Path, request: pytest.FixtureRequest, stem: str) -> str:
    if backend == "duckdb":
        return str(folder / f"{stem}.duckdb")
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"{stem}_{next(_database_names)}")


@pytest.fixture(scope="session")
def new_database(backend: str, request: pytest.FixtureRequest) -> Callable[[Path, str], str]:
    """Make an empty database of the session's backend: (folder, name) -> its location."""
    return lambda folder, stem: _new_location(backend, folder, request, stem)


@pytest.fixture
def database_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a fresh, empty database for this test lives: a file, or a PostgreSQL URL."""
    return _new_location(backend, tmp_path, request, "test")


@pytest.fixture
def db(database_location: str) -> Iterator[Database]:
    database = Database(database_location)
    yield database
    database.close()


@pytest.fixture(scope="session")
def demo_template(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """A demo database built once per test run and backend; tests get copies of it."""
    location = _new_location(backend, tmp_path_factory.mktemp("demo"), request, "demo")
    database = Database(location)
    demo.build(database)
    database.close()
    return location


@pytest.fixture
def demo_db_path(
    backend: str,
    demo_template: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[str]:
    """A fresh copy of the demo database, which the app under AppTest opens too."""
    if backend == "duckdb":
        location = str(tmp_path / "demo.duckdb")
        shutil.copyfile(demo_template, location)
    else:
        server: PostgresServer = request.getfixturevalue("pg_server")
        location = server.copy_database(demo_template, f"demo_{next(_database_names)}")
    monkeypatch.setenv("CETRACKER_DB", location)
    monkeypatch.setenv("CETRACKER_BACKUP_DIR", str(tmp_path / "backups"))
    yield location
    dbmod.close_all()


@pytest.fixture
def demo_db(demo_db_path: Path) -> Database:
    return dbmod.open_database(demo_db_path)
