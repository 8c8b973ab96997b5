"""CE Tracker benchmark at the scale of SPEC §8 (200,000 members, 10 CE years, ~4M records).

    .venv/bin/python bench/run.py [--db data/bench-scale.duckdb] [--repeat 15]
                                  [--compare bench/results/previous.json] [--quick]
                                  [--server]

--server copies the scale database into a throwaway PostgreSQL 15 on 127.0.0.1
(timed) and measures the same figures there; --db also takes a postgresql:// URL.

Builds the scale database once (or reuses it), then prints medians and p95s of
each operation with the machine's core count, next to plain-library baselines
(a raw DuckDB query, the fastest Excel reader). Figures go to
bench/results/<time>.json; --compare flags anything more than 20 % slower.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import python_calamine  # noqa: E402

from cetracker import (  # noqa: E402
    dashboard,
    demo,
    importer,
    reports,
)
from cetracker import standing as summary  # noqa: E402
from cetracker.files import certificates, exports  # noqa: E402
from cetracker.filters import Filters  # noqa: E402
from cetracker.rules.cells import license_key  # noqa: E402
from cetracker.standing import hour_summary  # noqa: E402
from cetracker.store.db import Database, is_server_url  # noqa: E402

TARGETS = {  # seconds (the p95 must meet it), from the issues (#21 for a million members)
    "hour summary, all members": 0.1,
    "hour summary, one area": 0.1,
    "hour summary, one county": 0.1,
    "hour summary, short only": 0.1,
    "hour summary, name search": 0.1,
    "carryover report": 0.1,
    "conference detail, one member": 0.05,
    "conference detail, one area": 0.1,
    "dashboard figures right after a write to the current year": 0.3,
    "hour summary right after one approval": 0.1,
    "dashboard figures right after one approval": 0.1,
    "hour summary right after a 100,000-row import": 0.3,
    "dashboard figures right after a 100,000-row import": 0.3,
    "CSV export, all members (streamed to a file; the year's standing kept)": 2.0,
    "10,000 certificates (one PDF)": 10.0,
    **{
        f"{p.replace('_', ' ')} page rerun after a filter change": 0.25
        for p in (
            "hour summary",
            "carryover",
            "conference detail",
            "dues",
            "member list",
            "certificates",
            "dashboard",
        )
    },
}


class Took(float):
    """Seconds on the clock of one run, with the CPU seconds it used (``cpu``: this
    process's threads and its child processes'). On a machine other work shares, the
    wall time waits for the cores, while the CPU time still measures the work."""

    cpu: float


def _cpu() -> float:
    own = os.times()
    return own.user + own.system + own.children_user + own.children_system


def clock() -> tuple[float, float]:
    return time.perf_counter(), _cpu()


def took(start: tuple[float, float]) -> Took:
    spent = Took(time.perf_counter() - start[0])
    spent.cpu = _cpu() - start[1]
    return spent


def timed(
    fn: Callable[[], object], repeat: int, prepare: Callable[[], object] | None = None
) -> list[float]:
    times = []
    for _ in range(repeat):
        if prepare is not None:
            prepare()  # untimed
        start = clock()
        fn()
        times.append(took(start))
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def build(path: Path | str) -> Database:
    if is_server_url(path):
        db = Database(str(path))
        _bench_admin(db)
        return db
    path = Path(path)
    if path.exists():
        db = Database(path)
        _bench_admin(db)
        return db
    print(f"Building the scale database at {path} (once)…", flush=True)
    start = time.perf_counter()
    db = Database(path)
    demo.build(db, members=200_000, years=10, providers=500, courses=2000, with_users=False)
    print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
    _bench_admin(db)
    return db


def _bench_admin(db: Database) -> None:
    """The benchmark's admin, and a login for every member (as a board's members have)."""
    from cetracker.accounts import users

    if users.load_user(db, "bench-admin") is None:
        users.add_user(db, "bench-admin", "bench-admin-password", role="admin", actor="bench")
    if not db.scalar("SELECT count(*) FROM users WHERE role = 'member'"):
        with db.transaction() as cur:  # one hash for all: hashing 200,000 would take hours
            cur.execute(
                """INSERT INTO users (username, password_hash, email, role, member_id)
                   SELECT 'm' || license_number, $hash, email, 'member', id FROM members""",
                {"hash": users.hash_password("bench-member-password")},
            )


def roster_people(
    db: Database, rows: int, *, seed: int, spread_days: int
) -> tuple[pd.DataFrame, np.random.Generator, list[date]]:
    """``rows`` members drawn at random, a seeded generator, and a course date per row
    within ``spread_days`` from January 1, 2025."""
    members = db.frame(
        f"SELECT license_number, first_name, last_name FROM members USING SAMPLE {int(rows)} ROWS"  # noqa: S608
    )
    rng = np.random.default_rng(seed)
    days = [date(2025, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, spread_days, rows)]
    return members, rng, days


def make_roster(db: Database, rows: int, path: Path) -> tuple[int, bytes]:
    """A 100,000-row roster for a bench course, ~2 % of rows messy in the usual ways."""
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO providers (license_number, license_key, name)
               SELECT 'BENCH', 'BENCH', 'Bench'
               WHERE NOT EXISTS (SELECT 1 FROM providers WHERE license_key = 'BENCH')"""
        )
        pid = cur.execute("SELECT id FROM providers WHERE license_number = 'BENCH'").fetchone()[0]
        cur.execute(
            """INSERT INTO courses (course_number, title, provider_id, category, hours,
                                   start_date, end_date)
               SELECT 'BENCH-1', 'Bench course', ?, 'General', 8, DATE '2025-01-01',
                      DATE '2025-12-31'
               WHERE NOT EXISTS (SELECT 1 FROM courses WHERE course_number = 'BENCH-1')""",
            [pid],
        )
    members, rng, days = roster_people(db, rows, seed=7, spread_days=300)
    frame = pd.DataFrame(
        {
            "First Name": members["first_name"],
            "Last Name": members["last_name"],
            "License Number": members["license_number"],
            "Course Number": "BENCH-1",
            "CE Year": 2025,
            "Course Date": [d.strftime("%m/%d/%Y") for d in days],
            "CE Hours": rng.choice([1, 2, 4, 8], rows).astype(object),
        }
    )
    messy = rng.random(rows) < 0.02
    frame.loc[messy & (rng.random(rows) < 0.3), "CE Hours"] = "2 hrs"
    frame.loc[messy & (rng.random(rows) < 0.5), "Last Name"] = "Wrongname"
    frame.loc[messy & (rng.random(rows) < 0.3), "License Number"] = "000000"
    frame.to_excel(path, index=False)
    return int(pid), path.read_bytes()


def make_variety_roster(db: Database, rows: int, path: Path) -> tuple[str, bytes]:
    """A provider's two years of online courses: 50 courses, 730 dates, 7 hour values
    (~80,000 distinct course, date and hours combinations), licenses written with a dash."""
    with db.transaction() as cur:
        cur.execute(
            """INSERT INTO providers (license_number, license_key, name)
               SELECT 'BENCH-V', ?, 'Bench online'
               WHERE NOT EXISTS (SELECT 1 FROM providers WHERE license_number = 'BENCH-V')""",
            [license_key("BENCH-V")],
        )
        pid = cur.execute("SELECT id FROM providers WHERE license_number = 'BENCH-V'").fetchone()[0]
        cur.execute(
            """INSERT INTO courses (course_number, title, provider_id, category, hours,
                                   start_date, end_date)
               SELECT 'BENCH-V-' || i, 'Online course ' || i, ?, 'General', 8,
                      DATE '2025-01-01', DATE '2026-11-30'
               FROM range(1, 51) t(i)
               WHERE NOT EXISTS (SELECT 1 FROM courses WHERE course_number = 'BENCH-V-1')""",
            [pid],
        )
    members, rng, days = roster_people(db, rows, seed=11, spread_days=730)
    licenses = members["license_number"].astype(str)
    frame = pd.DataFrame(
        {
            "First Name": members["first_name"],
            "Last Name": members["last_name"],
            "License Number": licenses.str[:3] + "-" + licenses.str[3:],
            "Course Number": [f"BENCH-V-{i}" for i in rng.integers(1, 51, rows)],
            "CE Year": [d.year for d in days],
            "Course Date": [d.strftime("%m/%d/%Y") for d in days],
            "CE Hours": rng.choice([0.5, 1, 1.5, 2, 3, 4, 6], rows).astype(object),
        }
    )
    frame.to_excel(path, index=False)
    return "BENCH-V", path.read_bytes()


def tracked(db: Database) -> Any:
    """A write that says what it changes, as the app's writes do (code before #21 has no
    such thing: a plain transaction there, so that the bench measures it too)."""
    try:
        return db.transaction(tracked=True)
    except TypeError:
        return db.transaction()


def note(**changes: Any) -> None:
    try:
        from cetracker.store.db import note as noted
    except ImportError:
        return
    noted(**changes)


def undo_import(db: Database, import_id: int) -> None:
    """Remove an import's records (saying which members and years, as the app's writes do,
    so that the maintained standing is patched rather than rebuilt)."""
    with tracked(db) as cur:
        note(
            records=cur.execute(
                "SELECT DISTINCT ce_year, member_id FROM ce_records WHERE import_id = ?",
                [import_id],
            ).fetchall()
        )
        cur.execute("DELETE FROM ce_records WHERE import_id = ?", [import_id])
        cur.execute("DELETE FROM import_row_sets WHERE import_id = ?", [import_id])
        cur.execute("DELETE FROM imports WHERE id = ?", [import_id])


def naive_import(db: Database, path: Path, limit: int) -> None:
    """The baseline: openpyxl cell by cell and one INSERT per row (rolled back)."""
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).active
    cur = db.cursor()
    cur.begin()
    for i, row in enumerate(sheet.iter_rows(min_row=2, values_only=True)):
        if i >= limit:
            break
        member = cur.execute(
            "SELECT id FROM members WHERE license_number = ?", [str(row[2])]
        ).fetchone()
        if member and isinstance(row[6], int | float):
            cur.execute(
                "INSERT INTO ce_records (member_id, ce_year, course_date, hours, source,"
                " title) VALUES (?, 2025, ?, ?, 'roster import', 'naive')",
                [member[0], datetime.strptime(row[5], "%m/%d/%Y").date(), row[6]],
            )
    cur.rollback()
    cur.close()


RERUN_PAGES = [  # page, its area filter's key (None: a rerun without a change)
    ("hour_summary.py", "hs_area"),
    ("carryover.py", "co_area"),
    ("conference_detail.py", "cd_area"),
    ("dues.py", "dues_area"),
    ("member_list.py", "ml_area"),
    ("certificates.py", "cert_area"),
    ("dashboard.py", None),
]


def page_rerun(db_path: Path | str, repeat: int, page: str, key: str | None) -> list[float]:
    from streamlit.testing.v1 import AppTest

    os.environ["CETRACKER_DB"] = str(db_path)
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "bench-admin"
    at.run()
    # The app's first run starts the warm-up of the Dashboard's figures in the background
    # (seconds at a million members): reruns are measured once it is done, as on a server
    # that has been up for a minute, not beside it.
    from cetracker import warmup
    from cetracker.store.db import open_database

    warmer = warmup.start(open_database(db_path))  # None where CETRACKER_WARMUP is off
    assert warmer is None or warmer.wait_for(1, timeout=900)
    areas = [f"Area {i}" for i in range(1, 9)]
    times = []
    for i in range(repeat):
        if key:
            at.multiselect(key=key).set_value([areas[i % len(areas)]])
        start = clock()
        at.run()
        times.append(took(start))
        assert not at.exception, at.exception
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "bench-scale.duckdb"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--compare", help="an earlier results file to compare with")
    parser.add_argument("--quick", action="store_true", help="skip the slow export figures")
    parser.add_argument("--only", help="run only the figures whose name contains this text")
    parser.add_argument("--skip", help="leave out the figures whose name contains this text")
    parser.add_argument(
        "--server",
        action="store_true",
        help="copy the database into a throwaway PostgreSQL server and measure there",
    )
    args = parser.parse_args()
    os.environ.setdefault("CETRACKER_SECRET_KEY", "benchmark-secret")
    # No scheduled work in the measured process (the page reruns open the app's session):
    # a nightly backup of the scale database would run beside the figures.
    os.environ["CETRACKER_SCHEDULER_MINUTES"] = "0"
    if args.server:
        return on_server(args)
    db_path: Path | str = args.db if is_server_url(args.db) else Path(args.db)
    load_at_start = os.getloadavg()[0]
    db = build(db_path)
    r = args.repeat
    year = 2025
    results: dict[str, list[float]] = {}

    def wanted(name: str) -> bool:
        if args.skip and args.skip.lower() in name.lower():
            return False
        return not args.only or args.only.lower() in name.lower()

    def measure(name: str, fn: Callable[[], object], repeat: int = r) -> None:
        if not wanted(name):
            return

        def cold() -> object:
            db.forget_cache()  # measure the work, not the result cache
            return fn()

        cold()  # warm up DuckDB's own buffers
        results[name] = timed(cold, repeat)
        print(f"  {name}: median {statistics.median(results[name]) * 1000:.0f} ms", flush=True)

    def measure_after_filter_change(name: str, fn: Callable[[], object]) -> None:
        """No cached result for these filters, but the year's standing already computed."""
        if not wanted(name):
            return

        def prepare() -> None:
            try:  # the results of other filters forgotten, the year's tables kept
                db.forget_cache(tables=False)
            except TypeError:  # code before #21 rebuilds its tables once per data version
                db.forget_cache()
            summary.year_standing(db, year)
            summary.year_records(db, year)

        prepare()
        fn()
        results[name] = timed(fn, r, prepare)
        print(f"  {name}: median {statistics.median(results[name]) * 1000:.0f} ms", flush=True)

    some_member = db.scalar("SELECT license_number FROM members LIMIT 1")
    some_county = db.scalar("SELECT county FROM members LIMIT 1")
    measure(
        "raw DuckDB: earned per member for a year (baseline)",
        lambda: db.rows(
            "SELECT member_id, sum(hours) FROM ce_records WHERE ce_year = 2025 GROUP BY ALL"
        ),
    )
    measure(
        "year standing built from scratch (every member; a process's first)",
        lambda: summary.year_standing(db, year),
        repeat=2,
    )
    measure(
        "year's approved records built from scratch (Conference Detail's table)",
        lambda: summary.year_records(db, year),
        repeat=2,
    )

    def page(filters: Filters) -> Callable[[], object]:
        # What the Hour Summary page asks for: the counts and the first 5,000 rows.
        return lambda: (
            summary.hour_summary_counts(db, filters),
            hour_summary(db, filters, limit=5000),
        )

    measure_after_filter_change("hour summary, all members", page(Filters(year)))
    measure_after_filter_change("hour summary, one area", page(Filters(year, areas=("Area 3",))))
    measure_after_filter_change(
        "hour summary, one county", page(Filters(year, counties=(some_county,)))
    )
    measure_after_filter_change("hour summary, short only", page(Filters(year, short_only=True)))
    measure_after_filter_change("hour summary, name search", page(Filters(year, name="son")))
    measure_after_filter_change(
        "hour summary, every row (200,000 to pandas)", lambda: hour_summary(db, Filters(year))
    )
    measure_after_filter_change(
        "carryover report",
        lambda: (
            reports.carryover_totals(db, Filters(year)),
            reports.carryover(db, Filters(year), limit=5000),
        ),
    )
    measure_after_filter_change(
        "conference detail, one member",
        lambda: (
            reports.conference_detail_counts(db, Filters(year, name=some_member)),
            reports.conference_detail(db, Filters(year, name=some_member), limit=5000),
        ),
    )
    measure_after_filter_change(
        "conference detail, one area",
        lambda: (
            reports.conference_detail_counts(db, Filters(year, areas=("Area 3",))),
            reports.conference_detail(db, Filters(year, areas=("Area 3",)), limit=5000),
        ),
    )
    from cetracker.filters import Scope

    measure(
        "dashboard figures, nothing remembered (a process's first)",
        lambda: dashboard.figures(db, Scope(), year),
        repeat=2,
    )
    if wanted("dashboard figures right after"):
        # What the Dashboard costs when someone opens it the moment a write lands: one
        # of the current year's records changes, then the figures are computed.
        from cetracker import policy

        now = policy.current_ce_year(db)
        record = db.scalar(
            "SELECT max(id) FROM ce_records WHERE ce_year = ? AND status = 'approved'", [now]
        )
        step = iter(range(1_000_000))

        def write_this_year() -> None:
            from cetracker import records

            change = 1 if next(step) % 2 == 0 else -1
            with tracked(db) as cur:
                hours = cur.execute(
                    "SELECT hours FROM ce_records WHERE id = ?", [record]
                ).fetchone()
                records.change_one(cur, record, {"hours": hours[0] + change})

        dashboard.figures(db, Scope(), now)
        name = "dashboard figures right after a write to the current year"
        results[name] = timed(lambda: dashboard.figures(db, Scope(), now), r, write_this_year)
        print(f"  {name}: median {statistics.median(results[name]) * 1000:.0f} ms", flush=True)
    if wanted("dashboard figures, warmed"):
        # What a viewer meets a moment after a write: the app's warm-up thread has
        # recomputed the current year's figures (cetracker.warmup) once writes paused.
        from cetracker import policy, warmup

        now = policy.current_ce_year(db)
        warmer = warmup.Warmer(db, quiet_seconds=0)

        def write_and_wait() -> None:
            db.execute("UPDATE members SET phone = phone WHERE id = (SELECT min(id) FROM members)")
            while warmer.warmed_version != db.data_version:
                time.sleep(0.005)

        for name, scope in (
            ("dashboard figures, warmed after a write: admin", Scope()),
            ("dashboard figures, warmed after a write: director of one area",
             Scope(areas=("Area 3",))),
        ):  # fmt: skip
            results[name] = timed(lambda s=scope: dashboard.figures(db, s, now), r, write_and_wait)
            print(f"  {name}: median {statistics.median(results[name]) * 1000:.0f} ms", flush=True)
        # Its thread (no pause after a write, unlike the app's 2 s) would otherwise run beside
        # every later figure: the reports right after an import measured it, not themselves.
        warmer.stop()
    if wanted("after one approval"):
        approval_figures(db, r, page, results)
    if wanted("CSV export"):
        import tempfile

        with tempfile.TemporaryDirectory() as folder:

            def stream_csv() -> None:
                target = Path(folder) / "hs.csv"
                if not hasattr(summary, "hour_summary_csv_query"):  # code before #21
                    target.write_bytes(exports.to_csv(hour_summary(db, Filters(year))))
                    return
                sql, params = summary.hour_summary_csv_query(db, Filters(year))
                cur = db.cursor()
                exports.query_to_csv(cur, sql, params, target)
                cur.close()

            # The export button sits under the report it exports: the year's standing is
            # there (a process's first build is its own figure above).
            measure_after_filter_change(
                "CSV export, all members (streamed to a file; the year's standing kept)", stream_csv
            )
    if not args.quick:
        area = hour_summary(db, Filters(year, areas=("Area 3",)))
        measure(
            f"Excel export, one area ({len(area):,} rows)",
            lambda: exports.to_xlsx(area, "t"),
            repeat=3,
        )
        measure(
            "PDF export, one county",
            lambda: exports.to_pdf(hour_summary(db, Filters(year, counties=(some_county,))), "t"),
            repeat=3,
        )
        earned = certificates.earned_certificates(db, Filters(year))[:10_000]
        measure(
            f"{len(earned):,} certificates (one PDF)",
            lambda: certificates.certificates_pdf(earned),
            repeat=1,
        )

    if wanted("roster import") and db.scalar("SELECT count(*) FROM members") >= 100_000:
        roster_path = ROOT / "data" / "bench-roster.xlsx"
        pid, data = make_roster(db, 100_000, roster_path)
        measure(
            "plain read of the roster with calamine (the floor)",
            lambda: (
                python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
                .get_sheet_by_index(0)
                .to_python()
            ),
            repeat=5,
        )
        times: list[float] = []
        after: dict[str, list[float]] = {
            "hour summary right after a 100,000-row import": [],
            "dashboard figures right after a 100,000-row import": [],
        }
        from cetracker import policy
        from cetracker.filters import Scope

        now = policy.current_ce_year(db)
        for _ in range(5):
            page(Filters(year))()  # what viewers had open before the import
            dashboard.figures(db, Scope(), now)
            # What the app's warm-up does once writes pause (cetracker.warmup): the kept
            # tables' changes folded in, not inside the next viewer's patch.
            getattr(db, "tidy", lambda: None)()
            start = clock()
            result = importer.import_roster(
                db, data, "bench.xlsx", provider_id=pid, uploaded_by="bench", today=date(2026, 1, 1)
            )
            times.append(took(start))
            # Like the upload page, keep the counts and failed rows, not every row's cells.
            kept = result.summary()
            del result
            for name, look in zip(
                after,
                (page(Filters(year)), lambda: dashboard.figures(db, Scope(), now)),
                strict=True,
            ):
                start = clock()
                look()
                after[name].append(took(start))
            undo_import(db, kept.import_id)
        results["roster import, 100,000 rows"] = times
        results.update(after)
        print(
            f"  roster import: {kept.processed:,} processed, {kept.failed:,} failed,"
            f" median {statistics.median(times):.2f} s"
        )
        if not db.server:  # one INSERT a row through the server would take minutes
            results["naive openpyxl + row INSERTs, 10,000 rows (baseline)"] = timed(
                lambda: naive_import(db, roster_path, 10_000), 1
            )
    db.close()
    for page, key in RERUN_PAGES:
        name = f"{page[:-3].replace('_', ' ')} page rerun after a filter change"
        if wanted(name) or wanted("page rerun"):
            results[name] = page_rerun(db_path, max(5, r // 2), page, key)
    # The pages' database (the app's, opened by its sessions) is closed before another
    # process opens the file: one process at a time holds an embedded database.
    from cetracker.store.db import close_all

    close_all()

    if wanted("roster import") and not is_server_url(db_path):
        variety_cli_figures(Path(db_path), results)
    import resource

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = []
    for name, values in results.items():
        median, high = statistics.median(values), p95(values)
        target = TARGETS.get(name)
        verdict = "" if target is None else ("ok" if high <= target else "MISSED")
        rows.append(
            {
                "name": name,
                "median_s": median,
                "p95_s": high,
                "runs": len(values),
                "cpu_s": (
                    statistics.median(v.cpu for v in values)
                    if all(isinstance(v, Took) for v in values)
                    else None
                ),
                "target_s": target,
                "verdict": verdict,
            }
        )
    print(f"\nCE Tracker benchmark · {os.cpu_count()} cores · {datetime.now():%Y-%m-%d %H:%M}")
    print(
        f"Load average at the start {load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f} (other work on the machine "
        "slows every figure alike)"
    )
    print(f"{'operation':<58} {'median':>10} {'p95':>10} {'CPU':>10} {'target':>9}")
    for row in rows:
        target = f"{row['target_s'] * 1000:.0f} ms" if row["target_s"] else ""
        cpu = f"{row['cpu_s'] * 1000:>8.0f}ms" if row["cpu_s"] is not None else ""
        print(
            f"{row['name']:<58} {row['median_s'] * 1000:>8.0f}ms {row['p95_s'] * 1000:>8.0f}ms "
            f"{cpu:>10} {target:>9} {row['verdict']}"
        )
    print(
        f"Peak resident memory of this process (the app's work and the page tours): {peak_mb:,.0f} MB"
    )
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    kind = "server-" if db.server else ""
    out = out_dir / f"{kind}{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"cores": os.cpu_count(), "rows": rows}, indent=1))
    print(f"\nFigures written to {out}")
    if args.compare:
        before = {row["name"]: row for row in json.loads(Path(args.compare).read_text())["rows"]}
        print("\nCompared with", args.compare)
        for row in rows:
            old = before.get(row["name"])
            if old:
                ratio = row["median_s"] / old["median_s"] if old["median_s"] else float("inf")
                flag = "  REGRESSION (> 20 % slower)" if ratio > 1.2 else ""
                print(f"  {row['name']:<58} ×{ratio:.2f}{flag}")
    return 0


def approval_figures(
    db: Database,
    repeat: int,
    page: Callable[[Filters], Callable[[], object]],
    results: dict[str, list[float]],
) -> None:
    """One member's self-report approved, then the Hour Summary and the Dashboard of the
    current year as the next viewer sees them (nothing else written meanwhile)."""
    from cetracker import policy, records, self_reports
    from cetracker.accounts.users import User
    from cetracker.filters import Scope

    now = policy.current_ce_year(db)
    admin = User("bench-admin", "admin")
    sample = [int(m) for (m,) in db.rows("SELECT id FROM members USING SAMPLE 100 ROWS")]
    names = (
        "one approval",
        "hour summary right after one approval",
        "dashboard figures right after one approval",
    )
    times: dict[str, list[float]] = {n: [] for n in names}
    made = []
    for i in range(repeat):
        member = User("bench-member", "member", member_id=sample[i % len(sample)])
        made.append(
            self_reports.report_course(
                db, member, title=f"Bench webinar {i}", provider="Bench", day=date(now, 2, 1),
                hours=2, category="General",
            )
        )  # fmt: skip
        page(Filters(now))()  # what viewers had open before the approval
        dashboard.figures(db, Scope(), now)
        steps = (
            lambda: self_reports.decide(db, admin, [made[-1]], approve=True),
            page(Filters(now)),
            lambda: dashboard.figures(db, Scope(), now),
        )
        for name, step in zip(names, steps, strict=True):
            start = clock()
            step()
            times[name].append(took(start))
    with tracked(db) as cur:  # leave the database as it was
        for record in made:
            records.delete_one(cur, record)
    for name in names:
        results[name] = times[name]
        print(f"  {name}: median {statistics.median(times[name]) * 1000:.0f} ms", flush=True)


def deployed_env() -> dict[str, str]:
    """This process's environment as deployed, for the processes a benchmark starts: each
    module compiled once and kept (``./ce`` unsets PYTHONDONTWRITEBYTECODE). Where the
    machine sets it, a command would otherwise compile pandas and the rest at every start
    (1.5 s of the command's 2.6 s)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def variety_cli_figures(db_path: Path, results: dict[str, list[float]]) -> None:
    """A provider's year of online courses (~80,000 distinct course, date and hours
    combinations, licenses with a dash) through the whole ``cetracker import`` process,
    beside a whole process that only reads the file with calamine (the floor)."""
    roster = ROOT / "data" / "bench-roster-variety.xlsx"
    db = Database(db_path)
    provider, _ = make_variety_roster(db, 100_000, roster)
    db.close()
    read = [
        sys.executable,
        "-c",
        "import sys, python_calamine as c;"
        "c.CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python()",
        str(roster),
    ]
    cli = [
        sys.executable, "-m", "cetracker.cli", "--db", str(db_path), "import", str(roster),
        "--provider", provider, "--user", "bench",
    ]  # fmt: skip
    floor, whole, imported = [], [], []
    env = deployed_env()
    for run in range(6):  # the first is not timed: it compiles what the command imports
        start = clock()
        subprocess.run(read, check=True, env=env)
        if run:
            floor.append(took(start))
        start = clock()
        out = subprocess.run(cli, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
        if run:
            whole.append(took(start))
        imported.append(json.loads(out.stdout.strip().splitlines()[-1])["processed"])
        db = Database(db_path)
        undo_import(db, int(db.scalar("SELECT max(id) FROM imports")))
        db.close()
    results["whole process: calamine read of the variety roster (the floor)"] = floor
    results["whole process: cetracker import of the variety roster"] = whole
    ratio = statistics.median(whole) / statistics.median(floor)
    print(
        f"  variety roster: {imported[-1]:,} rows processed; cetracker import "
        f"{statistics.median(whole):.2f} s = {ratio:.1f}x the read alone",
        flush=True,
    )


def on_server(args: argparse.Namespace) -> int:
    """The scale database copied into a throwaway PostgreSQL, then the same figures there."""
    from cetracker import transfer
    from tests.pgserver import PostgresServer

    source = build(Path(args.db))
    with PostgresServer() as server:
        url = server.create_database("bench_scale")
        start = time.perf_counter()
        copied = transfer.copy_database(source, url)
        print(
            f"Copied {sum(copied.rows.values()):,} rows into PostgreSQL in "
            f"{time.perf_counter() - start:.0f} s (counts and hour-summary checksum verified)",
            flush=True,
        )
        source.close()
        rest, skip = [], False
        for arg in sys.argv[1:]:
            if skip or arg == "--server" or arg.startswith("--db="):
                skip = False
                continue
            skip = arg == "--db"
            if not skip:
                rest.append(arg)
        command = [sys.executable, __file__, "--db", url, *rest]
        return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
