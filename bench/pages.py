"""Every page of the app, as each role opens it: the first run and the reruns, on any database.

    .venv/bin/python bench/pages.py --db data/bench-scale.duckdb [--only ce_years,my_ce]
    .venv/bin/python bench/pages.py --db postgresql://…/bench_scale

``bench/run.py`` measures the report pages after a filter change; this walks the
others too (the CE Years, the Courses, a provider's CE details…), so that a page that
reads every record on each run shows up at scale. Each page runs in Streamlit's
AppTest as a signed-in admin, member or provider (a provider account is added for the
provider with most courses), once (its first run in this process) and then twice more
(the median of those: what each click on the page costs). The warm-up thread is off:
first runs include what it would have prepared. It adds a member's and a provider's
account, with passwords nobody knows: run it on a benchmark's database, not the
office's.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Each role's pages (opened by the database's first admin account, and by a member's and
# a provider's made below).
PAGES = {
    "admin": (
        "dashboard approvals audit ce_years conference_report import_history manage_courses"
        " manage_dues manage_members manage_policy manage_providers member_list"
        " messages_compose messages_sent reminders users upload_roster verify"
    ),
    "member": "my_ce my_licenses report_course inbox account",
    "provider": "ce_details provider_home upload_roster import_history manage_courses",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(ROOT / "data" / "bench-scale.duckdb"))
    parser.add_argument("--only", default="", help="these pages alone, by file name, commas")
    args = parser.parse_args()
    os.environ["CETRACKER_DB"] = args.db
    os.environ.setdefault("CETRACKER_SECRET_KEY", "benchmark-secret")
    os.environ["CETRACKER_SCHEDULER_MINUTES"] = "0"
    os.environ["CETRACKER_WARMUP"] = "off"
    import logging

    logging.disable(logging.WARNING)  # AppTest's "missing ScriptRunContext", once a page
    from streamlit.testing.v1 import AppTest

    from cetracker.accounts import users
    from cetracker.store.db import holds_database, open_database

    if not holds_database(args.db):
        print(f"No CE Tracker database at {args.db}: build one with bench/run.py first.")
        return 1
    db = open_database(args.db)
    provider = db.one(
        """SELECT p.license_number FROM providers p JOIN courses c ON c.provider_id = p.id
           GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"""
    )
    if provider and not db.scalar("SELECT count(*) FROM users WHERE username = 'bench-provider'"):
        # Nobody can sign in with it: the pages are opened as it without a password.
        users.add_user(
            db, "bench-provider", secrets.token_urlsafe(24), role="provider",
            provider_license=provider[0],
        )  # fmt: skip
    member = db.one(
        """SELECT m.license_number FROM members m JOIN ce_records r ON r.member_id = m.id
           WHERE m.id = (SELECT min(id) FROM members) GROUP BY ALL"""
    )
    if member and not db.scalar("SELECT count(*) FROM users WHERE username = 'bench-member'"):
        users.add_user(
            db, "bench-member", secrets.token_urlsafe(24), role="member",
            member_license=member[0],
        )  # fmt: skip
    accounts = {
        "admin": db.scalar(
            "SELECT username FROM users WHERE role = 'admin' AND NOT coalesce(disabled, false)"
            " ORDER BY username LIMIT 1"
        ),
        "member": "bench-member" if member else None,
        "provider": "bench-provider" if provider else None,
    }
    only = {p for p in args.only.split(",") if p}
    print(f"{'user':16s} {'page':18s} {'first':>8s} {'rerun':>8s}")
    for role, pages in PAGES.items():
        user = accounts[role]
        for page in pages.split():
            if user is None or (only and page not in only):
                continue
            at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600)
            at.session_state["authentication_status"] = True
            at.session_state["username"] = user
            start = time.perf_counter()
            at.run()
            first = time.perf_counter() - start
            again = []
            for _ in range(2):
                start = time.perf_counter()
                at.run()
                again.append(time.perf_counter() - start)
            problem = f"  ({at.exception[0].message[:80]})" if at.exception else ""
            print(
                f"{user:16s} {page:18s} {first * 1000:6.0f} ms"
                f" {statistics.median(again) * 1000:6.0f} ms{problem}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
