"""The Dashboard's figures are worked out ahead of the first viewer (cetracker.warmup)."""

from __future__ import annotations

import threading

import duckdb
import pytest

from cetracker import config, dashboard, warmup
from cetracker import policy as policies
from cetracker.errors import CetrackerError
from cetracker.filters import EVERYONE


class StepClock:
    """``warmup``'s ``time`` with a clock that moves only when the warmer sleeps (or a fake
    computation says so), so that the tests need no real pauses: ``sleep`` first waits
    until the test lets it (``hold``/``release``), then moves the clock on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._go = threading.Event()
        self._go.set()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert self._go.wait(60), "the test never let the warmer go on"
        self.now += max(0.0, seconds)

    def hold(self) -> None:
        self._go.clear()

    def release(self) -> None:
        self._go.set()


def _count_builds(monkeypatch) -> list[object]:  # type: ignore[no-untyped-def]
    built: list[object] = []
    compute = dashboard._figures

    def counting(db, scope, year, areas=()):  # type: ignore[no-untyped-def]
        built.append(scope)
        return compute(db, scope, year, areas)

    monkeypatch.setattr(dashboard, "_figures", counting)
    return built


def test_figures_are_ready_before_the_first_viewer_and_again_after_a_write(demo_db, monkeypatch):
    built = _count_builds(monkeypatch)
    warmer = warmup.Warmer(demo_db, quiet_seconds=0.05)
    warmer.busy_share = 1.0  # no rest after a warm-up (the share has a test of its own)
    assert warmer.wait_for(runs=1)
    assert len(built) == 1
    year = policies.current_ce_year(demo_db)
    before = dashboard.figures(demo_db, EVERYONE, year)
    assert len(built) == 1  # the admin's Dashboard found them computed

    with demo_db.transaction() as cur:
        cur.execute(
            "UPDATE members SET status = 'inactive' WHERE id = "
            "(SELECT min(id) FROM members WHERE status = 'active')"
        )
    assert warmer.wait_for(runs=2)
    after = dashboard.figures(demo_db, EVERYONE, year)
    assert len(built) == 2  # recomputed once, by the warm-up, not by the viewer
    assert after.members == before.members - 1

    demo_db.close()  # the warm-up thread ends with its database
    warmer._thread.join(timeout=10)
    assert not warmer._thread.is_alive()


def test_a_burst_of_writes_is_warmed_once_it_pauses(demo_db, monkeypatch):
    built = _count_builds(monkeypatch)
    clock = StepClock()
    monkeypatch.setattr(warmup, "time", clock)
    warmer = warmup.Warmer(demo_db, quiet_seconds=2)
    assert warmer.wait_for(runs=1) and warmer.wait_idle()
    clock.hold()  # the writes come faster than the quiet time: the warmer is kept waiting
    for _ in range(5):
        demo_db.execute("UPDATE members SET phone = phone WHERE id = (SELECT min(id) FROM members)")
    clock.release()
    assert warmer.wait_for(runs=2) and warmer.wait_idle()
    assert warmer.runs == 2 and len(built) == 2


def test_one_build_per_key_while_several_sessions_ask_at_once(demo_db, monkeypatch):
    builds = []
    gate = threading.Event()
    asked = threading.Semaphore(0)

    class Building(dict):  # type: ignore[type-arg]
        """The database's table of builds under way, telling the test of each session that
        found no result and asks for the build."""

        def setdefault(self, key, default=None):  # type: ignore[no-untyped-def]
            found = super().setdefault(key, default)
            asked.release()
            return found

    monkeypatch.setattr(demo_db, "_building", Building())

    def slow() -> int:
        builds.append(1)
        assert gate.wait(30)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(demo_db.cached("slow figure", slow)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for _ in threads:  # all four have asked while the first build is still running
        assert asked.acquire(timeout=30)
    gate.set()
    for t in threads:
        t.join(timeout=30)
    assert results == [42, 42, 42, 42] and len(builds) == 1


def test_stopping_waits_for_the_running_computation_and_ends_the_thread(demo_db):
    hooks_before = list(demo_db.after_report_write)
    warmer = warmup.Warmer(demo_db, quiet_seconds=0.05)
    assert warmer.wait_for(runs=1)
    warmer.stop()
    assert not warmer._thread.is_alive()
    # A stopped warmer no longer follows writes: it is unhooked from the database.
    assert demo_db.after_report_write == hooks_before
    demo_db.execute("UPDATE members SET phone = phone WHERE id = (SELECT min(id) FROM members)")
    assert warmer.runs == 1


def test_closing_the_database_waits_for_a_warm_up_inside_a_query(demo_db, monkeypatch):
    """DuckDB ends the process (a segmentation fault, seen in a test run) when a connection
    closes under a query another thread runs: closing stops the warm-up and waits for it."""
    inside, finish, results = threading.Event(), threading.Event(), []

    def held_query(db):  # type: ignore[no-untyped-def]
        cur = db.cursor()
        try:
            inside.set()
            assert finish.wait(60)
            results.append(cur.execute("SELECT count(*) FROM members").fetchone()[0])
        finally:
            cur.close()

    monkeypatch.setattr(warmup, "warm", held_query)
    warmer = warmup.Warmer(demo_db, quiet_seconds=0.05)
    assert inside.wait(60)
    closing = threading.Thread(target=demo_db.close)
    closing.start()
    closing.join(0.5)
    assert closing.is_alive(), "the connection closed under the warm-up's query"
    finish.set()
    closing.join(60)
    assert not closing.is_alive() and not warmer._thread.is_alive()
    assert results and results[0] > 0  # the query ran to its end on the open connection
    assert demo_db.before_close == []
    with pytest.raises(duckdb.ConnectionException):
        demo_db.rows("SELECT 1")  # and then the connection was closed


def test_warming_takes_at_most_its_share_of_the_time(demo_db, monkeypatch):
    clock = StepClock()
    started: list[float] = []

    def slow(db) -> None:  # type: ignore[no-untyped-def]
        started.append(clock.now)
        clock.now += 0.2  # 0.2 s of work

    monkeypatch.setattr(warmup, "time", clock)
    monkeypatch.setattr(warmup, "warm", slow)
    warmer = warmup.Warmer(demo_db, quiet_seconds=0)
    assert warmer.wait_for(runs=1)  # the warm-up at start
    for runs in (2, 3):  # then another instance writing all the time
        demo_db.execute("UPDATE members SET phone = phone WHERE id = (SELECT min(id) FROM members)")
        assert warmer.wait_for(runs=runs)
    warmer.stop()
    gaps = [round(b - a, 6) for a, b in zip(started, started[1:], strict=False)]
    # 0.2 s of work, then 0.8 s of rest: a fifth of the time at most.
    assert len(started) == 3 and min(gaps) >= 1.0, gaps


def test_the_warm_up_folds_the_kept_tables_changes_in_unless_someone_writes(demo_db):
    """DuckDB folds an in-memory database's changes in (a checkpoint, seconds at a million
    members) inside whichever commit passes its threshold: the warm-up does it while
    nobody writes, and steps aside when someone does."""
    from cetracker.standing import year_standing
    from cetracker.store.db import SCRATCH

    table = year_standing(demo_db, 2026)
    assert demo_db.tidy()
    writer = demo_db.cursor()
    try:
        writer.begin()
        writer.execute(f"UPDATE {table} SET earned = earned WHERE member_id = 1")  # noqa: S608
        assert not demo_db.tidy()  # it would wait for the writer: it declines instead
        writer.rollback()
    finally:
        writer.close()
    assert demo_db.tidy()
    assert SCRATCH in table


def test_a_warm_up_ends_by_folding_the_kept_tables_changes_in(demo_db, monkeypatch):
    tidied: list[bool] = []
    real = demo_db.tidy
    monkeypatch.setattr(demo_db, "tidy", lambda: tidied.append(real()) or tidied[-1])
    warmup.warm(demo_db)
    assert tidied == [True]


def test_a_warmed_up_process_leaves_what_it_holds_out_of_full_collections(demo_db, monkeypatch):
    """Python's full collections walked every long-lived object (110-130 ms inside a
    viewer's rerun at a million members): once warmed up, a process freezes them."""
    import gc

    gc.unfreeze()
    monkeypatch.setattr(warmup, "_frozen", False)
    monkeypatch.setenv("CETRACKER_WARMUP", "on")  # as shipped (the tests turn it off)
    assert gc.get_freeze_count() == 0
    warmer = warmup.start(demo_db)
    assert warmer is not None and warmer.wait_for(1, timeout=120)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()  # the test process's objects go back to the collector


def test_the_setting_turns_the_warm_up_off_and_on(demo_db, monkeypatch):
    monkeypatch.setenv("CETRACKER_WARMUP", "off")
    assert warmup.start(demo_db) is None
    monkeypatch.setenv("CETRACKER_WARMUP", "on")
    warmer = warmup.start(demo_db)
    assert warmer is not None and warmup.start(demo_db) is warmer  # one per database
    warmer.stop()
    # A mistyped value is said in the log and leaves it on (as shipped).
    monkeypatch.setenv("CETRACKER_WARMUP", "of")
    with pytest.raises(CetrackerError, match="CETRACKER_WARMUP is 'of': write on or off"):
        config.warmup_on()
    warmer = warmup.start(demo_db)
    assert warmer is not None
    warmer.stop()
