"""A load test: concurrent sessions on one app process (SPEC §8).

Twenty sessions at once, each a thread: directors and admins rerun report pages
under AppTest after filter changes, providers import overlapping rosters and
admins send messages, all against the same database. Returns what happened, so
that the pytest test can assert it and ``bench/load.py`` can print it.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from cetracker import importer, messages
from cetracker.accounts.users import load_user
from cetracker.store.db import Database
from tests.rosters import csv_bytes

PAGES = Path(__file__).resolve().parents[1] / "pages"


@dataclass
class LoadResult:
    page_times: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    imported: list[int] = field(default_factory=list)  # processed rows per import
    roster_rows: set[tuple[str, str, str]] = field(default_factory=set)
    messages_sent: list[int] = field(default_factory=list)
    wall: float = 0.0

    def p95(self) -> float:
        ordered = sorted(self.page_times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def summary(self) -> str:
        return (
            f"{len(self.page_times)} page runs, median {statistics.median(self.page_times):.3f} s, "
            f"p95 {self.p95():.3f} s; {len(self.imported)} imports "
            f"({sum(self.imported)} rows recorded); {len(self.messages_sent)} messages; "
            f"{len(self.errors)} errors; {self.wall:.1f} s in all"
        )


def _page_session(
    result: LoadResult,
    lock: threading.Lock,
    page: str,
    user: str,
    key: str,
    values: list[list[str]],
) -> None:
    at = AppTest.from_file(str(PAGES / page), default_timeout=180)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = user
    runs = [lambda: None] + [(lambda v=v: at.multiselect(key=key).set_value(v)) for v in values]
    for change in runs:
        try:
            change()
        except KeyError as missing:  # the filter is not on the page: say what it showed
            shown = [e.value for e in (*at.error, *at.warning, *at.info)][:3]
            raise AssertionError(
                f"{page} as {user}: no filter {key}; the page said {shown}"
            ) from missing
        start = time.perf_counter()
        at.run()
        spent = time.perf_counter() - start
        with lock:
            result.page_times.append(spent)
            if at.exception:
                result.errors.append(f"{page} as {user}: {at.exception[0].message}")


def _roster(db: Database, provider_id: int, part: int, rows: int) -> list[list[object]]:
    """Rows for the provider's first course; consecutive parts overlap by half."""
    number, start = db.one(
        "SELECT course_number, start_date FROM courses WHERE provider_id = ?"
        " AND start_date <= current_date ORDER BY start_date DESC LIMIT 1",
        [provider_id],
    ) or (None, None)
    if number is None:
        return []
    members = db.rows(
        "SELECT first_name, last_name, license_number FROM members ORDER BY id LIMIT ? OFFSET ?",
        [rows, part * rows // 2],
    )
    return [
        [first, last, lic, number, str(start.year), f"{start:%Y-%m-%d}", "1"]
        for first, last, lic in members
    ]


@contextmanager
def shared_runtime() -> Iterator[None]:
    """Let AppTest sessions run at the same time.

    Each ``AppTest.run`` installs a mock ``Runtime`` singleton and sets it back to None
    when it finishes, which breaks any other session still running. For the load
    test one runtime stays installed, and AppTest's own swaps go to a stand-in.

    Each run also patches ``config.get_option`` for its duration (``global.appTest``);
    overlapping patches undo each other, and a session whose patch was undone stops
    recording widget values (``KeyError: '$$ID-…'`` in the harness). The option is
    patched once here for the whole load instead.

    And the sessions share one script cache, as a server's do (``Runtime``'s, which
    compiles under its lock). Each AppTest makes its own (and its script runner another), so sessions parsed their pages
    at the same time, and CPython 3.11 keeps the ast module's recursion depth for the
    whole interpreter: a parse failed now and then with "SystemError: AST constructor
    recursion depth mismatch" (seen once in a full run). That was not all: Python 3.11's
    traceback module parses source lines too (for the carets under an error), so a
    session formatting an error beside another's first parse of its page failed the same
    way (seen once more, 2026-12-04, the Hour Summary as a director). So every
    ``ast.parse`` of the load takes one lock.
    """
    import ast
    from contextlib import nullcontext
    from unittest.mock import MagicMock

    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import (
        MemoryCacheStorageManager,
    )
    from streamlit.runtime.dataframe_source_manager import DataframeSourceManager
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner
    from streamlit.testing.v1.util import patch_config_options

    class StandIn:
        _instance: object = None

    runtime = MagicMock(spec=Runtime)
    runtime.media_file_mgr = MediaFileManager(MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    runtime.bidi_component_registry = MagicMock()
    saved = Runtime._instance
    app_test.Runtime = StandIn  # type: ignore[misc,assignment]
    app_test.patch_config_options = lambda overrides: nullcontext()  # type: ignore[assignment]
    shared_scripts = ScriptCache()
    app_test.ScriptCache = lambda: shared_scripts  # type: ignore[misc,assignment]
    local_script_runner.ScriptCache = lambda: shared_scripts  # type: ignore[misc,assignment]
    Runtime._instance = runtime
    real_parse, parsing = ast.parse, threading.RLock()

    def parse_alone(*args: Any, **kwargs: Any) -> Any:
        with parsing:
            return real_parse(*args, **kwargs)

    ast.parse = parse_alone
    try:
        with patch_config_options({"global.appTest": True}):
            yield
    finally:
        ast.parse = real_parse
        app_test.Runtime = Runtime  # type: ignore[misc]
        app_test.patch_config_options = patch_config_options
        app_test.ScriptCache = ScriptCache  # type: ignore[misc]
        local_script_runner.ScriptCache = ScriptCache  # type: ignore[misc]
        Runtime._instance = saved


def run_load(
    db: Database,
    sessions: int = 20,
    rows: int = 40,
    *,
    admin_name: str = "admin",
    director_name: str | None = "director",
) -> LoadResult:
    """``sessions`` threads at once; about half read pages, the rest import or send."""
    result = LoadResult()
    lock = threading.Lock()
    providers = [int(p) for (p,) in db.rows("SELECT id FROM providers ORDER BY id")]
    admin = load_user(db, admin_name)
    assert admin is not None
    areas = [a for (a,) in db.rows("SELECT DISTINCT area FROM members ORDER BY area")]
    jobs: list[threading.Thread] = []

    def guarded(fn, *args) -> None:  # type: ignore[no-untyped-def]
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            with lock:
                result.errors.append(f"{fn.__name__}: {exc!r}")

    def do_import(part: int) -> None:
        provider = providers[part % len(providers)]
        body = _roster(db, provider, part // len(providers), rows)
        outcome = importer.import_roster(
            db, csv_bytes(body), f"load-{part}.csv", provider_id=provider, uploaded_by=admin_name
        )
        with lock:
            result.imported.append(outcome.processed)
            for o in outcome.outcomes:
                if not o.failed:
                    result.roster_rows.add(
                        (o.raw["license_number"], o.raw["course_number"], o.raw["course_date"])
                    )

    def do_message(n: int) -> None:
        audience = messages.Audience(areas=(areas[n % len(areas)],))
        ids = [int(i) for i in messages.recipients(db, admin, audience)["member_id"]]
        messages.send(db, admin, subject=f"Load {n}", body="Hello", member_ids=ids)
        with lock:
            result.messages_sent.append(len(ids))

    page_plan = [
        ("hour_summary.py", "hs_area"),
        ("dashboard.py", None),
        ("carryover.py", "co_area"),
        ("dues.py", "dues_area"),
        ("member_list.py", "ml_area"),
        ("conference_detail.py", "cd_area"),
    ]
    for n in range(sessions):
        kind = n % 4
        if kind in (0, 1):
            page, key = page_plan[n % len(page_plan)]
            user = director_name if director_name and n % 3 == 0 else admin_name
            if not key:
                values = []
            elif user == director_name:  # the demo director sees Area 3 only
                values = [["Area 3"], []]
            else:
                values = [[areas[(n + i) % len(areas)]] for i in range(2)]
            jobs.append(
                threading.Thread(
                    target=guarded,
                    args=(_page_session, result, lock, page, user, key or "", values),
                )
            )
        elif kind == 2:
            jobs.append(threading.Thread(target=guarded, args=(do_import, n)))
        else:
            jobs.append(threading.Thread(target=guarded, args=(do_message, n)))
    start = time.perf_counter()
    with shared_runtime():
        for job in jobs:
            job.start()
        for job in jobs:
            job.join(timeout=600)
    result.wall = time.perf_counter() - start
    return result
