"""The per-client rate limit: cost-aware and shared by every worker.

``rate`` cost units a second on average, ``burst`` at once: a moving window of ``burst``
units per ``ceil(burst / rate)`` seconds (the ``limits`` library). A request costs 1 when it
arrives (the Guard charges it before the body is read); an analysis costs one more unit per
10,000 characters analysed, per question, charged once the body is parsed, so a batch of
32 long questions costs what 128 small requests do (capped at ``burst``: a maximal batch
uses a client's whole window).

The window lives in the storage the limiter is given: the service's Redis when the cache
is on Redis (every worker then counts against the same window), else in process memory
(per worker; one worker by default). A storage that fails lets requests through, with a
warning: the limiter must never take the service down.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("askwell.serving")

#: Characters analysed per extra cost unit.
CHARS_PER_UNIT = 10_000


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.1f} s")
        self.retry_after = retry_after


def analysis_cost(questions: Sequence[Any], cap: float) -> int:
    """Cost units of analysing ``questions``: 1 + 1 per 10,000 characters each, at most ``cap``."""
    units = sum(1 + (len(q.title) + len(q.body)) // CHARS_PER_UNIT for q in questions)
    return int(min(max(units, 1), max(cap, 1)))


def storage_uri(spec: str | None) -> str:
    """``limits`` async storage for a cache/limiter spec: Redis when given one, else memory."""
    if spec and spec.startswith(("redis://", "rediss://")):
        return "async+" + spec
    return "async+memory://"


class RateLimiter:
    def __init__(self, rate: float, burst: int, storage: str | None = None) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.storage_spec = storage_uri(storage)
        self.shared = self.storage_spec.startswith("async+redis")
        self._limiter: Any = None
        self._item: Any = None
        self._warned_at = 0.0

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    @property
    def window_seconds(self) -> int:
        return max(1, math.ceil(self.burst / self.rate)) if self.enabled else 1

    def _ready(self) -> None:
        if self._limiter is not None:
            return
        from limits import RateLimitItemPerSecond
        from limits.aio.strategies import MovingWindowRateLimiter
        from limits.storage import storage_from_string

        options: dict[str, Any] = {"implementation": "redispy", "socket_timeout": 0.25,
                   "socket_connect_timeout": 0.25} if self.shared else {}
        storage = storage_from_string(self.storage_spec, key_prefix="askwell-rate", **options)
        self._limiter = MovingWindowRateLimiter(storage)
        self._item = RateLimitItemPerSecond(int(self.burst), self.window_seconds)

    async def allow(self, client: str, cost: int = 1) -> tuple[bool, float]:
        """(allowed, seconds until it would be allowed when refused)."""
        if not self.enabled:
            return True, 0.0
        self._ready()
        cost = int(min(max(cost, 1), self.burst))
        try:
            if await self._limiter.hit(self._item, client, cost=cost):
                return True, 0.0
            stats = await self._limiter.get_window_stats(self._item, client)
            return False, max(stats.reset_time - time.time(), 0.0)
        except Exception as exc:  # a storage that is down must not stop the service
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning("rate limit storage %s unavailable (%s); not limiting",
                            self.storage_spec, exc)
            return True, 0.0

    async def charge(self, client: str, cost: int) -> None:
        """Charge ``cost`` more units; raise :class:`RateLimited` when the window has no room."""
        ok, wait = await self.allow(client, cost)
        if not ok:
            raise RateLimited(wait)
