"""A per-client token bucket: ``rate`` requests a second on average, ``burst`` at once.

Each worker keeps its own buckets (so N workers allow up to N times the rate); the
client is the peer address. Buckets idle long enough to be full again are forgotten, and
at most ``max_clients`` are kept, so memory stays bounded whatever the traffic.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class RateLimiter:
    def __init__(self, rate: float, burst: int, max_clients: int = 50_000) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def allow(self, client: str, now: float | None = None) -> tuple[bool, float]:
        """(allowed, seconds until the next token when refused)."""
        if not self.enabled:
            return True, 0.0
        t = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(client, (self.burst, t))
            tokens = min(self.burst, tokens + (t - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, t)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return allowed, 0.0 if allowed else (1.0 - tokens) / self.rate
