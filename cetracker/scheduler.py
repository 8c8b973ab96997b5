"""The app's own scheduled work: reminders when they are due, and the nightly backup.

The app holds the embedded database open, so a cron job could not reach it while the
app runs: each app process runs one scheduler thread per open database (started with
the database, as the warm-up is). Every ``CETRACKER_SCHEDULER_MINUTES`` it sends the
reminders due (``reminders.run_due``) and, once a day from ``CETRACKER_BACKUP_HOUR``,
makes the nightly backup (``backups.nightly``). Both are claimed in the database
before they run, so app processes sharing a PostgreSQL server do each once. What it
does is in the audit log as "scheduler"; an error is logged, never raised into the app,
and the work is tried again at the next check.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cetracker import audit, backups, config, reminders
from cetracker.errors import CetrackerError
from cetracker.mail import SmtpSettings
from cetracker.store.db import Database

log = logging.getLogger(__name__)

ACTOR = "scheduler"


@dataclass
class Check:
    """What one check did (read by tests and logged)."""

    sent: list[reminders.Sent] = field(default_factory=list)
    backup: Path | None = None
    errors: list[str] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        db: Database,
        *,
        interval_seconds: float,
        backup_hour: int | None,
        backup_folder: Path | None = None,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.db = db
        self.interval_seconds = interval_seconds
        self.backup_hour = backup_hour
        self.backup_folder = backup_folder
        self._now = now
        self.checks = 0  # completed checks (read by tests)
        self.last: Check | None = None
        self._reported: set[str] = set()  # failures already in the audit log
        self._wake = threading.Event()
        self._stopping = False
        # Told of every finished check, so that a caller (the tests) waits for what
        # happened instead of for time.
        self._progress = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="cetracker-scheduler", daemon=True)
        db.before_close.append(self.stop)
        _all.add(self)
        self._thread.start()

    @property
    def _ended(self) -> bool:
        return self._stopping or self.db.closed

    def wake(self) -> None:
        """Check now instead of at the end of the interval."""
        self._wake.set()

    def stop(self, wait: float = 300.0) -> bool:
        """End the thread once its current check returns (a send or a backup is never cut);
        whether it ended within ``wait`` seconds."""
        self._stopping = True
        self._wake.set()
        self._thread.join(wait)
        if self.stop in self.db.before_close and not self._thread.is_alive():
            self.db.before_close.remove(self.stop)
        return not self._thread.is_alive()

    def wait_for(self, checks: int, timeout: float = 60.0) -> bool:
        """Wait until ``checks`` checks have finished; False if ``timeout`` passed first."""
        with self._progress:
            return self._progress.wait_for(
                lambda: self.checks >= checks or not self._thread.is_alive(), timeout
            ) and (self.checks >= checks)

    def _loop(self) -> None:
        while not self._ended:
            self._wake.clear()
            try:
                outcome = self.check()
            except Exception:  # never let the thread die: the next check tries again
                log.exception("The scheduler's check failed")
                outcome = Check(errors=["the check failed"])
            with self._progress:
                self.last = outcome
                self.checks += 1
                self._progress.notify_all()
            self._wake.wait(self.interval_seconds)

    def check(self) -> Check:
        """Send the reminders due, then make the day's nightly backup if it is time."""
        outcome = Check()
        if self._ended:
            return outcome
        try:
            outcome.sent = reminders.run_due(self.db, actor=ACTOR, smtp=SmtpSettings.from_config())
        except reminders.RemindersFailed as exc:
            outcome.sent = exc.sent
            outcome.errors.extend(exc.failures)
            self._report("reminder failed", exc.failures)
        except Exception as exc:
            log.exception("Due reminders could not be looked up")
            outcome.errors.append(str(exc))
            self._report("reminder failed", [str(exc)])
        for sent in outcome.sent:
            log.info(
                "Sent reminder %s (%s days before) for CE year %s to %s members%s",
                sent.schedule_id,
                sent.days_before,
                sent.ce_year,
                sent.members,
                " (emailed)" if sent.emailed else "",
            )
        if self._ended or not self._backup_time():
            return outcome
        try:
            outcome.backup = backups.nightly(
                self.db,
                self.backup_folder or config.backup_folder(),
                day=config.today(),
                actor=ACTOR,
            )
        except Exception as exc:
            # Recorded with its reason by backups.nightly; tried again tomorrow.
            log.exception("The nightly backup failed")
            outcome.errors.append(f"nightly backup: {exc}")
        else:
            if outcome.backup is not None:
                log.info("Nightly backup made: %s", outcome.backup)
        return outcome

    def _backup_time(self) -> bool:
        if self.backup_hour is None or self._now().hour < self.backup_hour:
            return False
        last = backups.last_nightly(self.db)
        return last is None or last.day < config.today()

    def _report(self, action: str, failures: list[str]) -> None:
        """A failure goes to the audit log once per process, not at every check."""
        for failure in failures:
            if failure in self._reported:
                continue
            self._reported.add(failure)
            try:
                audit.log(self.db, ACTOR, action, "reminder", "", {"error": failure})
            except Exception:
                log.exception("The scheduler could not write to the audit log")


_lock = threading.Lock()
_all: weakref.WeakSet[Scheduler] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    # A daemon thread still inside DuckDB when the interpreter ends aborts the process.
    for scheduler in list(_all):
        scheduler.stop()


def start(db: Database) -> Scheduler | None:
    """One scheduler per open database of the process, as the settings say (None: off)."""
    try:
        interval, hour = config.scheduler_seconds(), config.backup_hour()
    except CetrackerError as exc:  # a mistyped setting must not keep the app from starting
        log.error("The scheduler is off: %s", exc.message)
        return None
    if not interval:
        log.info("The scheduler is off (CETRACKER_SCHEDULER_MINUTES=0)")
        return None
    if not log.handlers and not logging.getLogger().handlers:
        # Nothing configured logging (``streamlit run`` sets up only its own loggers): the
        # office still sees in the server's output what the scheduler sent and backed up.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    with _lock:
        for scheduler in list(_all):
            if scheduler.db is db and not scheduler._ended:
                return scheduler
        return Scheduler(db, interval_seconds=interval, backup_hour=hour)
