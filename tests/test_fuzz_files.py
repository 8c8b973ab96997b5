"""The fuzzer, bounded: a few hundred random rosters and workbooks in every format (SPEC §5).

Invariant: a file is rejected whole with ``RejectedFile``, or every non-blank row is counted
once, processed xor failed, under its own row number; nothing else is ever raised.
``bench/fuzz.py`` runs the same cases for as long as one likes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from cetracker import providers
from cetracker.errors import CetrackerError
from cetracker.files.workbook import load
from cetracker.store.db import Database
from tests.fuzzing import Tally, check_roster, roster_cases, workbook_bytes, workbook_cases
from tests.test_importer import SETUP
from tests.workbooks import write_workbook

pytestmark = pytest.mark.timeout(600)
# Each case is a file read in a child process (files.bounded): 80 cases take a minute of
# CI; bench/fuzz.py runs the same generator for as long as one likes.
ROSTER_CASES = 80
BOUNDED = settings(
    deadline=None,
    derandomize=True,  # the same cases on every run: CI stays predictable
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def fuzz_office(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, int]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    db = Database(str(folder / "fuzz.duckdb"))
    load(db, write_workbook(folder / "setup.xlsx", SETUP).read_bytes(), "setup.xlsx")
    return db, providers.provider_by_license(db, "P-1")


def test_roster_reader_keeps_its_invariant(fuzz_office):
    db, provider_id = fuzz_office
    tally = Tally()

    @settings(BOUNDED, max_examples=ROSTER_CASES)
    @given(case=roster_cases())
    def one(case):
        found = Tally()
        check_roster(db, provider_id, case, found)
        # Checked case by case, so that Hypothesis shrinks a failure to its smallest file.
        assert (found.crashes, found.rows_both, found.rows_uncounted) == (0, 0, 0), found.examples
        for name in ("cases", "rejected", "rows"):
            setattr(tally, name, getattr(tally, name) + getattr(found, name))

    one()
    assert tally.cases >= ROSTER_CASES
    assert tally.rows > 0 and tally.rejected < tally.cases  # the cases reach the rows


def test_workbook_loader_raises_nothing_but_its_own_errors(fuzz_office):
    db, _ = fuzz_office
    outcomes = {"loaded": 0, "refused": 0}

    @settings(BOUNDED, max_examples=50)
    @given(case=workbook_cases())
    def one(case):
        kind, sheets = case
        try:
            load(db, workbook_bytes(kind, sheets), f"office.{kind}")
            outcomes["loaded"] += 1
        except CetrackerError as exc:
            assert exc.message and "Traceback" not in exc.message
            outcomes["refused"] += 1

    one()
    assert outcomes["loaded"] + outcomes["refused"] >= 50
