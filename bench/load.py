"""Load test on the scale database: 20 concurrent sessions (pages, imports, messages).

    .venv/bin/python bench/load.py [--db data/bench-scale.duckdb] [--sessions 20]

Prints page-time median and p95, imports, messages and errors. Build the scale
database first with ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cetracker.store.db import open_database  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "bench-scale.duckdb"))
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("CETRACKER_SECRET_KEY", "benchmark-secret")
    os.environ["CETRACKER_DB"] = args.db
    db = open_database(args.db)
    from tests.load import run_load

    result = run_load(db, args.sessions, rows=200, admin_name="bench-admin", director_name=None)
    print(f"{os.cpu_count()} cores · {args.sessions} sessions · {result.summary()}")
    for error in result.errors:
        print("ERROR", error)
    # Undo what the load wrote, so that later benchmarks see the same data.
    with db.transaction() as cur:
        cur.execute(
            "DELETE FROM ce_records WHERE import_id IN (SELECT id FROM imports WHERE file_name LIKE 'load-%')"
        )
        cur.execute(
            "DELETE FROM import_row_sets WHERE import_id IN (SELECT id FROM imports WHERE file_name LIKE 'load-%')"
        )
        cur.execute("DELETE FROM imports WHERE file_name LIKE 'load-%'")
        cur.execute(
            "DELETE FROM message_recipients WHERE message_id IN (SELECT id FROM messages WHERE subject LIKE 'Load %')"
        )
        cur.execute("DELETE FROM messages WHERE subject LIKE 'Load %'")
    db.close()
    return 1 if result.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
