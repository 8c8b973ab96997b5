"""Shared fixtures: every test uses its own temporary database, never data/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cetracker import db as dbmod
from cetracker import demo
from cetracker.db import Database

ROOT = Path(__file__).resolve().parents[1]

# Tests never touch the developer's data/ folder or secrets.
os.environ.setdefault("CETRACKER_SECRET_KEY", "test-secret-key-not-for-production")
os.environ["CETRACKER_LOGIN_SLEEP"] = "0"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "test.duckdb")
    yield database
    database.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database built once per test run; tests get copies of it."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    database = Database(path)
    demo.build(database)
    database.close()
    return path


@pytest.fixture
def demo_db_path(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh copy of the demo database, which the app under AppTest opens too."""
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_template, path)
    monkeypatch.setenv("CETRACKER_DB", str(path))
    yield path
    dbmod.close_all()


@pytest.fixture
def demo_db(demo_db_path: Path) -> Database:
    return dbmod.open_database(demo_db_path)
