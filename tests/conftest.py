"""Shared fixtures: every test uses its own temporary database, never data/.

Backends. A test runs on an embedded DuckDB file. A test about storage (imports,
migrations, transfers, reports' SQL, unique indexes, concurrency, server mode) is
marked ``both_backends`` and runs a second time on a PostgreSQL 15 server started
for the session on 127.0.0.1; the mark may sit on a test, a class, a module
(``pytestmark``) or one ``pytest.param``. ``--all-backends`` runs every test that
takes a database on both. A test about the database file itself is marked
``embedded_only``.

Demo data. One demo database is built per backend and test session and never
written: ``readonly_demo_db_path``/``readonly_demo_db`` read it in place (a test that
writes there fails); ``demo_db_path``/``demo_db`` hand a test its own copy (a file
copy, or ``CREATE DATABASE ... TEMPLATE`` on the server).

The clock. ``CETRACKER_TODAY`` pins today's date to ``TODAY`` for the product, the
demo data and the app processes the browser tests start, so that the tests'
years (2026 is the current CE year) hold whatever the calendar says.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cetracker import demo
from cetracker.store import db as dbmod
from cetracker.store.db import Database
from tests.pgserver import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 15)

# Tests never touch the developer's data/ folder or secrets.
os.environ.setdefault("CETRACKER_SECRET_KEY", "test-secret-key-not-for-production")
os.environ["CETRACKER_LOGIN_SLEEP"] = "0"
os.environ["CETRACKER_TODAY"] = TODAY.isoformat()
# No scheduler thread in the app processes tests start (pages under AppTest, the browser
# tests' servers): it would back up every test's database. tests/test_reminders.py drives it.
os.environ["CETRACKER_SCHEDULER_MINUTES"] = "0"
# Nor a warm-up of the Dashboard's figures after every test's writes in the pages under
# AppTest (a tenth of their CPU): tests/test_warmup.py drives it, and the browser tests'
# servers run it as shipped (tests/e2e/conftest.py).
os.environ["CETRACKER_WARMUP"] = "off"


def _scan_installed_components_once() -> None:
    """Each new AppTest scans every installed package's metadata for Streamlit components
    (streamlit 1.67: ``BidiComponentManager.discover_and_register_components``): nine
    tenths of a page's run under AppTest. The installed packages do not change while the
    tests run, so the first scan's answer serves every AppTest of the process."""
    import functools

    from streamlit.components.v2 import manifest_scanner

    manifest_scanner.scan_component_manifests = functools.cache(  # type: ignore[assignment]
        manifest_scanner.scan_component_manifests
    )


_scan_installed_components_once()


BACKENDS = ["duckdb", "postgresql"]
_database_names = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all-backends",
        action="store_true",
        help="run every test that takes a database on PostgreSQL too, not only both_backends ones",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "both_backends: exercises storage; runs on DuckDB and on PostgreSQL (server mode)",
    )
    config.addinivalue_line(
        "markers", "embedded_only: about the DuckDB file itself; not run on PostgreSQL"
    )


def _has_mark_on_a_param(metafunc: pytest.Metafunc, name: str) -> bool:
    for mark in metafunc.definition.iter_markers("parametrize"):
        values = mark.kwargs.get("argvalues", mark.args[1] if len(mark.args) > 1 else [])
        for value in values:
            if any(m.name == name for m in getattr(value, "marks", ())):
                return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``backend``: DuckDB, and PostgreSQL as well for a test marked ``both_backends``."""
    if "backend" not in metafunc.fixturenames:
        return
    both = (
        metafunc.config.getoption("all_backends")
        or metafunc.definition.get_closest_marker("both_backends") is not None
        or _has_mark_on_a_param(metafunc, "both_backends")
    )
    metafunc.parametrize(
        "backend", BACKENDS if both else BACKENDS[:1], indirect=True, scope="session"
    )


# The browser tests' files in two groups of about equal time (the rest: browser-journeys).
BROWSER_GROUPS = {
    "test_accessibility.py": "browser-pages",
    "test_hostile_uploads.py": "browser-pages",
    "test_fresh_server.py": "browser-pages",
    "test_sessions_journey.py": "browser-pages",
}


# Files with tests of 10 s and more (the property and fuzz tests, two processes, load).
LONG = {"test_standing_upkeep.py", "test_fuzz_files.py", "test_server.py", "test_load.py"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A PostgreSQL case that its parameters do not mark, or that is ``embedded_only``, is
    deselected (not skipped): the server run covers exactly what is marked.

    The browser tests are two groups (``BROWSER_GROUPS``), each on one worker: the worker
    mostly waits while its app server and Chromium work, so two of them and a third worker
    with the rest keep two cores busy (``./ce test`` starts three; the machine was 98-100 %
    busy through a whole run: the run's length is its CPU time, halved)."""
    every = config.getoption("all_backends")
    browser_tests = Path(__file__).parent / "e2e"
    keep, drop = [], []
    for item in items:
        if browser_tests in item.path.parents:
            group = BROWSER_GROUPS.get(item.path.name, "browser-journeys")
            item.add_marker(pytest.mark.xdist_group(group))
        callspec = getattr(item, "callspec", None)
        on_server = callspec is not None and callspec.params.get("backend") == "postgresql"
        unwanted = item.get_closest_marker("embedded_only") or not (
            every or item.get_closest_marker("both_backends")
        )
        (drop if on_server and unwanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")  # after pytest
def pytest_long_tests_first(items: list[pytest.Item]) -> None:  # has grouped them by backend
    """The browser groups are handed out first, then the files whose tests take longest,
    so that no worker is left running one of those while the others have finished."""
    browser_tests = Path(__file__).parent / "e2e"
    items.sort(
        key=lambda i: 0 if browser_tests in i.path.parents else 1 if i.path.name in LONG else 2
    )


@pytest.hookimpl(trylast=True)  # after pytest-xdist has read the groups
def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse to run when the browser groups did not take: their tests would run on every
    worker at once (as they did under pytest 9.2, whose ids pytest-xdist 3.8 cannot mark)."""
    if getattr(session.config.option, "loadgroup", False):
        loose = [i.nodeid for i in session.items if i.get_closest_marker("xdist_group")]
        loose = [nodeid for nodeid in loose if "@browser-" not in nodeid]
        if loose:
            raise pytest.UsageError(
                f"pytest-xdist did not group {len(loose)} browser tests ({loose[0]}): "
                "check the pytest and pytest-xdist versions in pyproject.toml"
            )


def pytest_unconfigure(config: pytest.Config) -> None:
    """A failed test's own short notes ("in short: ..." properties: what a browser test's page
    showed, where the app's threads were) again after pytest's last line, where a CI log
    cut down to its first and last lines still shows them (pytest prints its short summary
    after every terminal-summary hook, so they come here)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    for report in reporter.stats.get("failed", []):
        notes = [(n, v) for n, v in report.user_properties if str(n).startswith("in short: ")]
        if notes:
            reporter.write_sep("-", f"in short: {report.nodeid}")
            for name, value in notes:
                reporter.write_line(f"{name.removeprefix('in short: ')}:")
                reporter.write_line(str(value)[:1500])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session (per xdist worker), deleted at the end."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """``duckdb`` or ``postgresql`` (see ``pytest_generate_tests``)."""
    return str(getattr(request, "param", "duckdb"))


def _new_location(backend: str, folder: Path, request: pytest.FixtureRequest, stem: str) -> str:
    if backend == "duckdb":
        return str(folder / f"{stem}.duckdb")
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"{stem}_{next(_database_names)}")


def _copy(backend: str, template: str, folder: Path, request: pytest.FixtureRequest) -> str:
    """A new database with the template's contents (nobody may be connected to the template)."""
    if backend == "duckdb":
        location = str(folder / f"copy_{next(_database_names)}.duckdb")
        shutil.copyfile(template, location)
        return location
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.copy_database(template, f"copy_{next(_database_names)}")


@pytest.fixture(scope="session")
def new_database(backend: str, request: pytest.FixtureRequest) -> Callable[[Path, str], str]:
    """Make an empty database of the session's backend: (folder, name) -> its location."""
    return lambda folder, stem: _new_location(backend, folder, request, stem)


_templates: dict[tuple[str, str], str] = {}  # (backend, name) -> a built database


@pytest.fixture
def database_like(
    backend: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Callable[[str, Callable[[str], object]], str]:
    """``database_like(name, build)``: a fresh copy of the database ``build(location)``
    fills, built once per test session and backend (``name`` says which). For the many
    tests that start from the same few rows: the rows are loaded once, and copied."""

    def copy_of(name: str, build: Callable[[str], object]) -> str:
        if (backend, name) not in _templates:
            location = _new_location(backend, tmp_path_factory.mktemp(name), request, name)
            build(location)
            dbmod.close_all()  # a template is copied closed (and on a server, unconnected)
            _templates[backend, name] = location
        return _copy(backend, _templates[backend, name], tmp_path, request)

    return copy_of


@pytest.fixture
def workbook_database(
    database_like: Callable[[str, Callable[[str], object]], str], tmp_path: Path
) -> Iterator[Callable[[str, dict[str, list[list[object]]]], Database]]:
    """``workbook_database(name, sheets)``: a database holding the workbook ``sheets`` as an
    office loads it; loaded once per backend under ``name``, then copied for each test."""
    from cetracker.files import workbook
    from tests.workbooks import write_workbook

    opened: list[Database] = []

    def make(name: str, sheets: dict[str, list[list[object]]]) -> Database:
        def build(location: str) -> None:
            db = Database(location)
            data = write_workbook(tmp_path / f"{name}.xlsx", sheets).read_bytes()
            workbook.load(db, data, f"{name}.xlsx")
            db.close()

        # The sheets are part of the name: two tests that call different rows by one
        # name get two templates, never each other's.
        digest = hashlib.sha1(repr(sheets).encode()).hexdigest()[:10]
        opened.append(Database(database_like(f"{name}_{digest}", build)))
        return opened[-1]

    yield make
    for db in opened:
        db.close()


@pytest.fixture
def database_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a fresh, empty database for this test lives: a file, or a PostgreSQL URL."""
    return _new_location(backend, tmp_path, request, "test")


@pytest.fixture
def db(
    database_like: Callable[[str, Callable[[str], object]], str],
) -> Iterator[Database]:
    """A fresh, empty database: a copy of one the migrations built once per session (on a
    server, building the tables took 0.45 s a test and copying them takes 0.12 s)."""
    database = Database(database_like("empty", lambda location: Database(location).close()))
    yield database
    database.close()


@pytest.fixture(scope="session")
def demo_templates(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Callable[[str], str]:
    """The demo database of a backend, built once per test session on first use and never
    opened again: backend -> its location. Tests get copies (``demo_db_path``,
    ``demo_copy``) or read one copy shared by all (``readonly_demo_db_path``)."""
    built: dict[str, str] = {}

    def template(backend: str) -> str:
        if backend not in built:
            location = _new_location(backend, tmp_path_factory.mktemp("demo"), request, "demo")
            database = Database(location)
            demo.build(database)
            database.close()
            built[backend] = location
        return built[backend]

    return template


@pytest.fixture(scope="session")
def demo_template(backend: str, demo_templates: Callable[[str], str]) -> str:
    """The session backend's demo database (never to be opened: copy it)."""
    return demo_templates(backend)


@pytest.fixture(scope="session")
def demo_copy(
    backend: str,
    demo_template: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Callable[[], str]:
    """Make a copy of the demo database: () -> its location."""
    return lambda: _copy(backend, demo_template, tmp_path_factory.mktemp("demo-copy"), request)


@pytest.fixture
def demo_db_path(
    demo_copy: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh copy of the demo database, which the app under AppTest opens too."""
    location = demo_copy()
    monkeypatch.setenv("CETRACKER_DB", location)
    monkeypatch.setenv("CETRACKER_BACKUP_DIR", str(tmp_path / "backups"))
    yield location
    dbmod.close_all()


@pytest.fixture
def demo_db(demo_db_path: str) -> Database:
    return dbmod.open_database(demo_db_path)


_shared: dict[str, str] = {}  # backend -> the shared read-only copy of the demo


@pytest.fixture
def readonly_demo_db_path(
    backend: str,
    demo_copy: Callable[[], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """The session's shared demo database, for a test (or a page under AppTest) that only
    reads: no copy, and the process keeps it open with its caches from test to test.

    A test that writes to it fails, and the next one gets a new copy.
    """
    if backend not in _shared:
        _shared[backend] = demo_copy()
    location = _shared[backend]
    monkeypatch.setenv("CETRACKER_DB", location)
    monkeypatch.setenv("CETRACKER_BACKUP_DIR", str(tmp_path / "backups"))
    before = dbmod.open_database(location).version
    yield location
    database = dbmod.open_database(location)
    if database.version != before:
        del _shared[backend]
        dbmod.close_all()
        pytest.fail(
            "this test wrote to the shared read-only demo database: "
            "give it demo_db_path or demo_db (a copy of its own)"
        )


@pytest.fixture
def readonly_demo_db(readonly_demo_db_path: str) -> Database:
    return dbmod.open_database(readonly_demo_db_path)


@pytest.fixture
def tables_built(monkeypatch: pytest.MonkeyPatch) -> Callable[[Database], list[str]]:
    """``tables_built(db)``: the list, filled from then on, of the standing tables ``db``
    builds from scratch (one entry per build, by family: "standing_2025", ...)."""

    def watch(db: Database) -> list[str]:
        built: list[str] = []
        real = db._new_scratch

        def counting(family: str, sql: str, params: Any) -> str:
            built.append(family)
            return real(family, sql, params)

        monkeypatch.setattr(db, "_new_scratch", counting)
        return built

    return watch
