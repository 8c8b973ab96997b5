"""How the cost grows with members: the same figures at several sizes, and a plot of them.

    .venv/bin/python bench/growth.py [--sizes 20000,50000,200000,500000]
                                     [--db 1000000=/path/to/1m.duckdb] [--folder data/growth]
                                     [--repeat 5] [--svg docs/growth.svg]

Builds a demo database for each size that has none yet (``demo.build``: 10 CE years,
one provider per 400 members, one course per 200 and at least 500, so that members
pick a few courses a year: ~21 records a member, as in the million-member database of
docs/PERFORMANCE.md, which is given with --db as it takes minutes to build), then measures,
size after size in one process: the raw DuckDB floor (earned per member for a year), a
year's standing from scratch, the Hour Summary after a filter change, Conference Detail
for one area and the Dashboard's figures right after a write. Prints a table of
medians, writes them to bench/results/growth-<time>.json and draws them on log-log axes
(an SVG written here: plotly writes SVG only through kaleido and a browser, and
these few lines need neither).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cetracker import dashboard, demo, policy, reports  # noqa: E402
from cetracker import standing as summary  # noqa: E402
from cetracker.filters import Filters, Scope  # noqa: E402
from cetracker.store.db import Database  # noqa: E402

YEAR = 2025
FIGURES = [
    "raw DuckDB floor: earned per member for a year",
    "a year's standing from scratch",
    "Hour Summary after a filter change",
    "Conference Detail, one area",
    "Dashboard right after a write",
]
COLOURS = ["#6b7280", "#1d4ed8", "#15803d", "#b45309", "#b91c1c"]


def database(folder: Path, members: int, given: dict[int, Path]) -> Database:
    path = given.get(members) or folder / f"growth-{members}.duckdb"
    if not path.exists():
        print(f"building {members:,} members at {path} …", flush=True)
        started = time.perf_counter()
        db = Database(path)
        demo.build(
            db,
            members=members,
            years=10,
            providers=max(4, members // 400),
            courses=max(500, members // 200),  # over 40 a year: ~21 records a member
            with_users=False,
        )
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
        return db
    return Database(path)


def median_ms(fn: Callable[[], object], repeat: int, prepare: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        prepare()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(db: Database, repeat: int) -> dict[str, float]:
    def nothing() -> None:
        pass

    def kept_tables_only() -> None:  # other filters' results forgotten, the year's tables kept
        db.forget_cache(tables=False)
        summary.year_standing(db, YEAR)
        summary.year_records(db, YEAR)

    area = ("Area 3",)
    now = policy.current_ce_year(db)
    record = db.scalar(
        "SELECT max(id) FROM ce_records WHERE ce_year = ? AND status = 'approved'", [now]
    )
    step = iter(range(10**9))

    def one_write() -> None:  # one of the current year's records changes (a tracked write)
        with db.transaction(tracked=True) as cur:
            member, year = cur.execute(
                "SELECT member_id, ce_year FROM ce_records WHERE id = ?", [record]
            ).fetchone()
            from cetracker.store.db import note

            note(records=[(year, member)])
            cur.execute(
                "UPDATE ce_records SET hours = ? WHERE id = ?", [1 + next(step) % 2, record]
            )
        summary.year_standing(db, now)  # (the warm-up's work, as in bench/run.py)

    db.rows("SELECT member_id, sum(hours) FROM ce_records WHERE ce_year = 2025 GROUP BY ALL")
    return {
        FIGURES[0]: median_ms(
            lambda: db.rows(
                "SELECT member_id, sum(hours) FROM ce_records WHERE ce_year = 2025 GROUP BY ALL"
            ),
            repeat,
            nothing,
        ),
        FIGURES[1]: median_ms(lambda: summary.year_standing(db, YEAR), 3, db.forget_cache),
        FIGURES[2]: median_ms(
            lambda: (
                summary.hour_summary_counts(db, Filters(YEAR)),
                summary.hour_summary(db, Filters(YEAR), limit=5000),
            ),
            repeat,
            kept_tables_only,
        ),
        FIGURES[3]: median_ms(
            lambda: (
                reports.conference_detail_counts(db, Filters(YEAR, areas=area)),
                reports.conference_detail(db, Filters(YEAR, areas=area), limit=5000),
            ),
            repeat,
            kept_tables_only,
        ),
        FIGURES[4]: median_ms(lambda: dashboard.figures(db, Scope(), now), repeat, one_write),
    }


def svg(sizes: list[int], figures: dict[int, dict[str, float]]) -> str:
    """Log-log lines of each figure against members, with a dotted "grows like the
    members" line through the floor's first point for comparison."""
    width, height, left, right, top, bottom = 760, 440, 70, 250, 30, 50
    lo_x, hi_x = math.log10(min(sizes)), math.log10(max(sizes))
    if hi_x == lo_x:  # one size: centred
        lo_x, hi_x = lo_x - 0.5, hi_x + 0.5
    values = [v for f in figures.values() for v in f.values() if v > 0]
    lo_y = math.floor(math.log10(min(values)))
    hi_y = max(lo_y + 1, math.ceil(math.log10(max(values))))

    def x(members: float) -> float:
        return left + (math.log10(members) - lo_x) / (hi_x - lo_x) * (width - left - right)

    def y(ms: float) -> float:
        return top + (hi_y - math.log10(ms)) / (hi_y - lo_y) * (height - top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="18" font-size="14">Cost against members (log-log; medians, '
        "ms)</text>",
    ]
    for power in range(lo_y, hi_y + 1):
        at = y(10**power)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{at:.1f}" y2="{at:.1f}" stroke="#e5e7eb"/>'
        )
        out.append(
            f'<text x="{left - 8}" y="{at + 4:.1f}" text-anchor="end">{10**power:,} ms</text>'
        )
    for members in sizes:
        at = x(members)
        out.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{top}" y2="{height - bottom}" '
            'stroke="#e5e7eb"/>'
        )
        label = f"{members / 1e6:g}M" if members >= 1e6 else f"{members / 1e3:g}k"
        out.append(
            f'<text x="{at:.1f}" y="{height - bottom + 18}" text-anchor="middle">{label}</text>'
        )
    out.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">'
        "members (10 CE years of records: ~21 records a member)</text>"
    )
    first = figures[sizes[0]][FIGURES[0]]
    linear = [(x(m), y(first * m / sizes[0])) for m in (sizes[0], sizes[-1])]
    out.append(
        f'<line x1="{linear[0][0]:.1f}" y1="{linear[0][1]:.1f}" x2="{linear[1][0]:.1f}" '
        f'y2="{linear[1][1]:.1f}" stroke="#9ca3af" stroke-dasharray="4 4"/>'
    )
    for i, (name, colour) in enumerate(zip(FIGURES, COLOURS, strict=True)):
        points = " ".join(f"{x(m):.1f},{y(figures[m][name]):.1f}" for m in sizes)
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for m in sizes:
            out.append(
                f'<circle cx="{x(m):.1f}" cy="{y(figures[m][name]):.1f}" r="3" fill="{colour}"/>'
            )
        ly = top + 20 + i * 36
        out.append(
            f'<line x1="{width - right + 14}" x2="{width - right + 34}" y1="{ly}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        words = name.split(": ")[0] if ":" in name else name
        out.append(f'<text x="{width - right + 40}" y="{ly + 4}">{words}</text>')
    ly = top + 20 + len(FIGURES) * 36
    out.append(
        f'<line x1="{width - right + 14}" x2="{width - right + 34}" y1="{ly}" y2="{ly}" '
        'stroke="#9ca3af" stroke-dasharray="4 4"/>'
    )
    out.append(f'<text x="{width - right + 40}" y="{ly + 4}">grows like the members</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,50000,200000,500000")
    parser.add_argument(
        "--db", action="append", default=[], help="MEMBERS=PATH: a database already built"
    )
    parser.add_argument("--folder", default=str(ROOT / "data" / "growth"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--svg", default=str(ROOT / "docs" / "growth.svg"))
    args = parser.parse_args()
    os.environ["CETRACKER_SCHEDULER_MINUTES"] = "0"
    given = {int(n): Path(p) for n, p in (d.split("=", 1) for d in args.db)}
    sizes = sorted({int(s) for s in args.sizes.split(",")} | set(given))
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures: dict[int, dict[str, float]] = {}
    for members in sizes:
        db = database(folder, members, given)
        figures[members] = measure(db, args.repeat)
        db.close()
        print(
            f"{members:>9,}  " + "  ".join(f"{figures[members][f]:8.0f}" for f in FIGURES),
            flush=True,
        )
    print("members    " + " | ".join(FIGURES))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    results = ROOT / "bench" / "results" / f"growth-{stamp}.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"cores": os.cpu_count(), "figures": figures}, indent=1))
    Path(args.svg).write_text(svg(sizes, figures))
    print(f"Figures written to {results}; the plot to {args.svg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
