"""The Dashboard's figures are worked out ahead of the first viewer (cetracker.warmup)."""

from __future__ import annotations

import threading
import time

from cetracker import dashboard, warmup
from cetracker import policy as policies
from cetracker.filters import EVERYONE


def _wait_for(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the warm-up did not finish in time"
        time.sleep(0.02)


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
    _wait_for(lambda: warmer.runs >= 1)
    assert len(built) == 1
    year = policies.current_ce_year(demo_db)
    before = dashboard.figures(demo_db, EVERYONE, year)
    assert len(built) == 1  # the admin's Dashboard found them computed

    with demo_db.transaction() as cur:
        cur.execute(
            "UPDATE members SET status = 'inactive' WHERE id = "
            "(SELECT min(id) FROM members WHERE status = 'active')"
        )
    _wait_for(lambda: warmer.runs >= 2)
    after = dashboard.figures(demo_db, EVERYONE, year)
    assert len(built) == 2  # recomputed once, by the warm-up, not by the viewer
    assert after.members == before.members - 1

    demo_db.close()  # the warm-up thread ends with its database
    warmer._thread.join(timeout=10)
    assert not warmer._thread.is_alive()


def test_a_burst_of_writes_is_warmed_once_it_pauses(demo_db, monkeypatch):
    built = _count_builds(monkeypatch)
    warmer = warmup.Warmer(demo_db, quiet_seconds=0.5)
    _wait_for(lambda: warmer.runs >= 1)
    for _ in range(5):
        demo_db.execute("UPDATE members SET phone = phone WHERE id = (SELECT min(id) FROM members)")
        time.sleep(0.05)
    _wait_for(lambda: warmer.runs >= 2)
    time.sleep(0.7)
    assert warmer.runs == 2 and len(built) == 2


def test_one_build_per_key_while_several_sessions_ask_at_once(demo_db):
    builds = []
    gate = threading.Event()

    def slow() -> int:
        builds.append(1)
        gate.wait(5)
        return 42

    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(demo_db.cached("slow figure", slow)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    gate.set()
    for t in threads:
        t.join(timeout=10)
    assert results == [42, 42, 42, 42] and len(builds) == 1


def test_stopping_waits_for_the_running_computation_and_ends_the_thread(demo_db):
    warmer = warmup.Warmer(demo_db, quiet_seconds=0.05)
    _wait_for(lambda: warmer.runs >= 1)
    warmer.stop()
    assert not warmer._thread.is_alive()
    demo_db.execute("UPDATE members SET phone = phone WHERE id = (SELECT min(id) FROM members)")
    time.sleep(0.3)
    assert warmer.runs == 1  # a stopped warmer no longer follows writes


def test_warming_takes_at_most_its_share_of_the_time(demo_db, monkeypatch):
    started: list[float] = []

    def slow(db) -> None:  # type: ignore[no-untyped-def]
        started.append(time.monotonic())
        time.sleep(0.2)

    monkeypatch.setattr(warmup, "warm", slow)
    warmer = warmup.Warmer(demo_db, quiet_seconds=0)
    _wait_for(lambda: warmer.runs >= 1)
    until = time.monotonic() + 2.5
    while time.monotonic() < until:  # another instance writing all the time
        demo_db.execute("UPDATE members SET phone = phone WHERE id = (SELECT min(id) FROM members)")
        time.sleep(0.05)
    gaps = [b - a for a, b in zip(started, started[1:], strict=False)]
    # 0.2 s of work, then 0.8 s of rest: a fifth of the time at most.
    assert len(started) >= 2 and min(gaps) >= 0.95, gaps
    warmer.stop()
