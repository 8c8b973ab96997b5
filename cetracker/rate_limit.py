"""Rate limits per client for public lookups (SPEC §8: no input can stop the app for others).

The public Verify page answers anyone without a login; without a limit a script could
try codes as fast as the server answers (and keep it busy for everyone). A sliding
window per client address, kept in this process's memory: a limit that resets when
the app restarts is enough to make guessing pointless, and needs no database write per
lookup. Each app process of a server deployment keeps its own count.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    """A lookup refused: when the client may try again."""

    retry_in: float  # seconds
    limit: int
    per_seconds: float


class RateLimiter:
    """At most ``limit`` uses per client in any ``per_seconds`` (a sliding window).

    At most ``max_clients`` are remembered (the least recently seen are forgotten
    first), so that a stream of new addresses cannot grow memory without end.
    """

    def __init__(
        self,
        limit: int,
        per_seconds: float,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or per_seconds <= 0:
            raise ValueError("a rate limit needs a positive count and window")
        self.limit = limit
        self.per_seconds = per_seconds
        self.max_clients = max_clients
        self._clock = clock
        self._uses: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> Refusal | None:
        """Count one use by ``client``; a ``Refusal`` (counted as nothing) when over the limit."""
        now = self._clock()
        with self._lock:
            uses = self._uses.pop(client, None) or deque()
            while uses and uses[0] <= now - self.per_seconds:
                uses.popleft()
            self._uses[client] = uses  # now the most recently seen
            if len(uses) >= self.limit:
                return Refusal(uses[0] + self.per_seconds - now, self.limit, self.per_seconds)
            uses.append(now)
            while len(self._uses) > self.max_clients:
                self._uses.popitem(last=False)
            return None


def client_address(direct: str | None, forwarded_for: str | None) -> str | None:
    """Whose request it is: the connection's address (None when it comes from this
    machine), or, when a reverse proxy on this machine forwarded it, the address that
    proxy saw: the last in X-Forwarded-For, the one it added. The addresses before it
    are whatever the client claimed, and would let anyone pick a fresh one per lookup.
    """
    if direct is not None:
        return direct
    if forwarded_for and forwarded_for.strip():
        return forwarded_for.split(",")[-1].strip()[:64] or None
    return None


# The Verify page: 30 lookups a minute per address is far above what a person types.
VERIFY_LOOKUPS = RateLimiter(30, 60.0)
