"""A long fuzzing run over the roster reader and the workbook loader (SPEC §5).

    .venv/bin/python bench/fuzz.py [--cases 2000] [--workbooks 300] [--seed N]

Prints cases / rejected / rows / crashes / rows both counted-and-failed / rows uncounted;
every figure but cases, rejected and rows must be 0 (exit 1 otherwise). The cases are those
of the test suite's bounded run (tests/fuzzing.py), only many more of them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from cetracker import providers  # noqa: E402
from cetracker.errors import CetrackerError  # noqa: E402
from cetracker.files.workbook import load  # noqa: E402
from cetracker.store.db import Database  # noqa: E402
from tests.fuzzing import (  # noqa: E402
    Tally,
    check_roster,
    roster_cases,
    workbook_bytes,
    workbook_cases,
)
from tests.test_importer import SETUP  # noqa: E402
from tests.workbooks import write_workbook  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="roster files to try")
    parser.add_argument("--workbooks", type=int, default=300, help="office workbooks to try")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cetracker-fuzz-"))
    db = Database(str(folder / "fuzz.duckdb"))
    load(db, write_workbook(folder / "setup.xlsx", SETUP).read_bytes(), "setup.xlsx")
    provider_id = providers.provider_by_license(db, "P-1")
    # Every case is generated and checked, none replayed or shrunk: a crash is counted, not
    # raised, and the first few are printed in full.
    run = settings(
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    tally = Tally()
    started = time.perf_counter()

    @seed(args.seed)
    @settings(run, max_examples=args.cases)
    @given(case=roster_cases())
    def roster(case):  # type: ignore[no-untyped-def]
        check_roster(db, provider_id, case, tally)

    roster()
    workbooks = {"loaded": 0, "refused": 0, "crashes": 0}

    @seed(args.seed)
    @settings(run, max_examples=args.workbooks)
    @given(case=workbook_cases())
    def workbook(case):  # type: ignore[no-untyped-def]
        kind, sheets = case
        try:
            load(db, workbook_bytes(kind, sheets), f"office.{kind}")
            workbooks["loaded"] += 1
        except CetrackerError:
            workbooks["refused"] += 1
        except Exception as exc:  # anything else is a crash of the loader
            workbooks["crashes"] += 1
            tally.note(f"workbook {kind} {sheets!r:.1500} raised {exc!r}")

    workbook()
    seconds = time.perf_counter() - started
    print(f"seed {args.seed} · {seconds:.0f} s")
    print(f"roster cases            {tally.cases:>8,}")
    print(f"  rejected whole        {tally.rejected:>8,}")
    print(f"  rows read             {tally.rows:>8,}")
    print(f"  crashes               {tally.crashes:>8,}")
    print(f"  rows counted+failed   {tally.rows_both:>8,}")
    print(f"  rows uncounted        {tally.rows_uncounted:>8,}")
    print(
        f"workbook cases          {workbooks['loaded'] + workbooks['refused'] + workbooks['crashes']:>8,}"
    )
    print(f"  loaded / refused      {workbooks['loaded']:>8,} / {workbooks['refused']:,}")
    print(f"  crashes               {workbooks['crashes']:>8,}")
    for example in tally.examples:
        print("\n" + example)
    bad = tally.crashes + tally.rows_both + tally.rows_uncounted + workbooks["crashes"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
