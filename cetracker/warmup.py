"""Work out the landing page's figures before anyone asks for them.

The Dashboard needs the current CE year's standing and the five-year compliance
trend: about a second at 200,000 members, five at a million. An app process computes
them in the background when it opens its database, which the server does as it starts
(before the first person has typed a password), and again after each write that
reports read, once writes have paused
for ``quiet_seconds`` (on a PostgreSQL server, also after other instances'
writes, seen within seconds), spending at most a fifth of its time on it.
Results land in the database's per-version cache, which serves one build per key
at a time, so a viewer who arrives mid-way waits for the computation already
running instead of starting a second one.
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading
import time
import weakref

from cetracker import config
from cetracker.errors import CetrackerError
from cetracker.store.db import Database

log = logging.getLogger(__name__)


class Warmer:
    def __init__(self, db: Database, quiet_seconds: float = 2.0) -> None:
        self.db = db
        self.quiet_seconds = quiet_seconds
        self.runs = 0  # completed warm-ups (read by tests)
        self.warmed_version = -1  # the data version the last warm-up computed
        self.server_poll_seconds = 5.0
        # At most this share of the time goes to warming: after a warm-up that took d
        # seconds the next waits d * (1 / share - 1) (on PostgreSQL one takes ~8 s at
        # 200,000 members, and another instance may be writing all day).
        self.busy_share = 0.2
        self._rest_until = 0.0
        self._changed = threading.Event()
        self._changed.set()  # warm once at start
        self._stopping = False
        # Told of every finished warm-up and of each time the thread goes idle, so that a
        # caller (the tests) waits for what happened instead of for time.
        self._progress = threading.Condition()
        self._idle = False
        self._thread = threading.Thread(target=self._loop, name="cetracker-warmup", daemon=True)
        db.after_report_write.append(self._changed.set)
        db.before_close.append(self.stop)
        _all.add(self)
        self._thread.start()

    def stop(self, wait: float = 300.0) -> bool:
        """End the thread once its current computation returns (a query is never cut);
        whether it ended within ``wait`` seconds (a warm-up at a million members takes
        seconds)."""
        self._stopping = True
        self._changed.set()
        self._thread.join(wait)
        if self._changed.set in self.db.after_report_write:
            self.db.after_report_write.remove(self._changed.set)
        if self.stop in self.db.before_close and not self._thread.is_alive():
            self.db.before_close.remove(self.stop)
        return not self._thread.is_alive()

    @property
    def _ended(self) -> bool:
        return self._stopping or self.db.closed

    def wait_for(self, runs: int, timeout: float = 60.0) -> bool:
        """Wait until ``runs`` warm-ups have finished; False if ``timeout`` passed first."""
        with self._progress:
            return self._progress.wait_for(lambda: self.runs >= runs, timeout)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until the thread waits for a write with none pending (or has ended)."""
        with self._progress:
            return self._progress.wait_for(
                lambda: self._idle or not self._thread.is_alive(), timeout
            )

    def _set_idle(self, idle: bool) -> None:
        with self._progress:
            self._idle = idle
            self._progress.notify_all()

    def _loop(self) -> None:
        try:
            self._warm_after_writes()
        finally:
            self._set_idle(True)

    def _warm_after_writes(self) -> None:
        # On a server, other app instances write too: look at the shared version now and then.
        poll = self.server_poll_seconds if self.db.server else None
        while True:
            self._set_idle(not self._changed.is_set())
            woke = self._changed.wait(poll)
            self._set_idle(False)
            if not woke and not self._ended and self.db.data_version == self.warmed_version:
                continue
            # Let a burst of writes (an office editing members one by one) finish first.
            while self._changed.is_set() and not self._ended:
                self._changed.clear()
                time.sleep(self.quiet_seconds if self.runs else 0)
            while not self._ended and time.monotonic() < self._rest_until:
                time.sleep(min(0.2, self._rest_until - time.monotonic()))
            if self._ended:
                return
            started = time.monotonic()
            try:
                version = self.db.data_version
                warm(self.db)
                self.warmed_version = version
                _freeze_start_up()
            except Exception:  # a warm-up is only ever a head start
                if self._ended:
                    return
                log.warning("Warming the report figures failed", exc_info=True)
            spent = time.monotonic() - started
            self._rest_until = time.monotonic() + spent * (1 / self.busy_share - 1)
            with self._progress:
                self.runs += 1
                self._progress.notify_all()


def warm(db: Database) -> None:
    """Compute what the Dashboard of an admin shows for the current CE year, draw a chart,
    and fold the in-memory tables' changes in (``Database.tidy``). On a server, also
    bring the copy of the members up to date: every report's filter bar reads it (made
    from nothing, 5-9 s at a million members)."""
    from cetracker import charts, dashboard, members
    from cetracker import policy as policies
    from cetracker.filters import EVERYONE

    if db.server:
        members.kept(db)
    figures = dashboard.figures(db, EVERYONE, policies.current_ce_year(db))
    # Drawing the first chart of a process loads most of plotly (~0.7 s): do it here too.
    charts.not_eligible_by_area(figures.not_eligible_by_area)
    # The in-memory tables' changes folded in now, not in the next viewer's patch.
    db.tidy()


_lock = threading.Lock()
_all: weakref.WeakSet[Warmer] = weakref.WeakSet()
_frozen = False


def _freeze_start_up() -> None:
    """Once a process has warmed up, what it holds (its modules, plotly, the database's
    objects) lives as long as it does: take it out of Python's full collections. At a
    million members one walked ~220,000 objects, 110–130 ms inside a viewer's rerun; the
    largest was 5–33 ms after."""
    global _frozen
    with _lock:  # (not held through the collection: start() takes it)
        if _frozen:
            return
        _frozen = True
    gc.collect()
    gc.freeze()


@atexit.register
def _stop_all() -> None:
    # A daemon thread still inside DuckDB when the interpreter ends aborts the process
    # ("terminate called without an active exception"): let each finish its query.
    for warmer in list(_all):
        warmer.stop()


def start(db: Database) -> Warmer | None:
    """One warmer per open database of the process (None: CETRACKER_WARMUP is off)."""
    try:
        wanted = config.warmup_on()
    except CetrackerError as exc:  # a mistyped setting must not keep the app from starting
        log.error("The warm-up stays on: %s", exc.message)
        wanted = True
    if not wanted:
        return None
    with _lock:
        for warmer in list(_all):
            if warmer.db is db and not warmer._ended:
                return warmer
        return Warmer(db)
