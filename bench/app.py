"""The app on the scale database in Chromium: first page after login on a cold process, memory.

    .venv/bin/python bench/app.py [--db data/bench-scale.duckdb] [--typing-delay MS]

Starts the app's server (cetracker.ui.server) on a free port, logs in as the benchmark admin, times the
landing page (the Dashboard) and a tour of the report pages, and reads the app
process's resident memory after the tour. Build the database first with bench/run.py.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["hour-summary", "conference-detail", "carryover", "dues", "clerk-list", "certificates"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    total = 0
    for child in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in found]


def settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "bench-scale.duckdb"))
    parser.add_argument(
        "--typing-delay",
        type=float,
        default=0,
        help="milliseconds between keystrokes on the login form (0: filled at once)",
    )
    parser.add_argument(
        "--up-for",
        type=float,
        default=0,
        help="seconds the server has been up before the login page opens (0: at once)",
    )
    args = parser.parse_args()
    port = free_port()
    # As deployed: each module compiled once and kept (``./ce`` unsets the variable that
    # stops it; where the machine sets it, the server would compile every library at start).
    deployed = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(
        [sys.executable, "-c", "import cetracker.ui.server, cetracker.warmup, plotly, pandas"],
        env=deployed, cwd=ROOT, check=True,
    )  # fmt: skip
    env = {
        **deployed,
        "CETRACKER_DB": args.db,
        "CETRACKER_SECRET_KEY": os.environ.get("CETRACKER_SECRET_KEY", "benchmark-secret"),
        "CETRACKER_LOGIN_SLEEP": "0",
        "CETRACKER_SCHEDULER_MINUTES": "0",  # no nightly backup beside the figures
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "cetracker.ui.server",
         "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(args.up_for)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            # A person types (args.typing_delay ms between keys); 0 fills the form at once.
            page.get_by_label("Username").press_sequentially("bench-admin", delay=args.typing_delay)
            page.get_by_role("textbox", name="Password").press_sequentially(
                "bench-admin-password", delay=args.typing_delay
            )
            start = time.perf_counter()
            page.get_by_role("button", name="Log in").click()
            # The headline first (its figures), then the charts, the trend's last.
            page.get_by_text("Eligible for").first.wait_for(timeout=120_000)
            shown = time.perf_counter() - start
            page.wait_for_function(
                "() => [...document.querySelectorAll('.js-plotly-plot')]"
                ".filter(p => p.offsetParent && p.querySelector('.main-svg')).length >= 3",
                timeout=120_000,
            )
            drawn = time.perf_counter() - start
            settle(page)
            first = time.perf_counter() - start
            print(
                f"first page after login (Dashboard, cold process): headline shown {shown:.2f} s,"
                f" charts drawn {drawn:.2f} s, settled {first:.2f} s"
            )
            print(f"app memory after login: {rss_mb(server.pid):.0f} MB")
            for name in PAGES:
                start = time.perf_counter()
                page.goto(f"{url}/{name}")
                page.get_by_role("button", name="Log out").wait_for(timeout=120_000)
                settle(page)
                print(f"  {name}: {time.perf_counter() - start:.2f} s (page load incl. browser)")
            print(f"app memory after the tour: {rss_mb(server.pid):.0f} MB")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
