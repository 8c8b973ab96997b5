"""The Verify page's rate limit per client: 30 lookups a minute, then a clear message."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cetracker import rate_limit
from cetracker.rate_limit import RateLimiter

PAGES = Path(__file__).parents[1] / "pages"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_thirty_a_minute_then_refused_until_the_oldest_leaves_the_window():
    clock = Clock()
    limiter = RateLimiter(30, 60, clock=clock)
    for _ in range(30):
        assert limiter.take("203.0.113.7") is None
        clock.now += 1
    refused = limiter.take("203.0.113.7")
    assert refused is not None and refused.limit == 30
    assert refused.retry_in == 30  # the first lookup (at 1000) leaves the window at 1060
    assert limiter.take("198.51.100.2") is None  # another client is not held up
    clock.now += 30
    assert limiter.take("203.0.113.7") is None
    # A refused attempt does not count: waiting out the window is enough.
    assert limiter.take("203.0.113.7") is not None


def test_memory_stays_bounded_under_many_addresses():
    limiter = RateLimiter(1, 60, max_clients=100, clock=Clock())
    for i in range(10_000):
        limiter.take(f"10.0.{i // 256}.{i % 256}")
    assert len(limiter._uses) == 100
    assert limiter.take("10.0.39.15") is not None  # among the most recent: still counted


def test_the_client_is_the_connection_or_what_a_local_proxy_saw():
    assert rate_limit.client_address("203.0.113.7", "1.2.3.4") == "203.0.113.7"
    # Only a proxy on this machine is believed, and only for the address it added.
    assert rate_limit.client_address(None, "1.2.3.4, 203.0.113.7") == "203.0.113.7"
    assert rate_limit.client_address(None, " ") is None
    assert rate_limit.client_address(None, None) is None


def verify_page() -> AppTest:
    at = AppTest.from_file(str(PAGES / "verify.py"), default_timeout=30)
    at.run()
    return at


def test_the_verify_page_says_when_to_try_again(demo_db_path, monkeypatch):
    monkeypatch.setattr(rate_limit, "VERIFY_LOOKUPS", RateLimiter(3, 60))
    at = verify_page()
    for attempt in ("AAAAA-AAAAA-1", "AAAAA-AAAAA-2", "AAAAA-AAAAA-3"):
        at.text_input(key="verify_code").input(attempt).run()
        assert any("Not a valid certificate" in e.value for e in at.error)
    # Reruns of the same code (any click on the page) are not new lookups.
    at.run()
    at.run()
    assert any("Not a valid certificate" in e.value for e in at.error)
    at.text_input(key="verify_code").input("AAAAA-AAAAA-4").run()
    shown = [e.value for e in at.error]
    assert len(shown) == 1 and shown[0].startswith(
        "Too many lookups from your address: at most 3 a minute. Try again in "
    )
    assert not at.exception
    # Another browser on another address is not held up.
    monkeypatch.setattr("cetracker.ui.session.client_address", lambda: "198.51.100.2")
    other = verify_page()
    other.text_input(key="verify_code").input("AAAAA-AAAAA-5").run()
    assert any("Not a valid certificate" in e.value for e in other.error)
