"""Caching analyses: an in-process LRU by default, Redis when several workers should share.

Keys are the serving model's version key plus a hash of the *normalised* input. The
normalisation only touches what can't move a suggestion's offsets (tag order and case,
the site's case): offsets point into the title and body exactly as sent, so those are
hashed verbatim. Values are the analysis as plain JSON-able dicts (without the
per-request fields: request id, latency, ``cached``).

What Redis holds: the analyses, for ``cache_ttl_seconds`` (1 h by default). A
suggestion's ``replacement`` and ``detail`` may quote the question (the text to put in,
the sentence it is about), so quoted fragments of questions sit in Redis for that long;
the full title and body are never stored. Keys are an HMAC of the input hash under
``cache_secret`` (random per ``askwell serve`` start unless set), so someone who can read
Redis can't test whether a question they guess was asked.

A model swap clears the LRU; Redis keys carry the model's version key, so a new model
never reads an old model's entries, and the old ones are deleted in the background (and
expire anyway after ``cache_ttl_seconds``). A Redis that is down is a cache miss, never a
failed request.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

log = logging.getLogger("askwell.serving")


def input_key(title: str, body: str, tags: Sequence[str], site: str | None) -> str:
    """sha256 of the normalised input (also logged as the prediction's input hash)."""
    norm_tags = ",".join(sorted({t.strip().lower() for t in tags if t.strip()}))
    raw = "\x1f".join((title, body, norm_tags, (site or "").strip().lower()))
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class Cache(Protocol):
    """What the service needs from a cache. ``remote``: ``get`` is network I/O (the service
    calls it off the event loop); ``set`` never blocks its caller."""

    backend: str
    remote: bool

    def get(self, version: str, key: str) -> dict[str, Any] | None: ...

    def set(self, version: str, key: str, value: dict[str, Any]) -> None: ...

    def clear(self, version: str | None = None) -> None: ...

    def close(self) -> None: ...


class NoCache:
    backend = "off"
    remote = False

    def get(self, version: str, key: str) -> dict[str, Any] | None:
        return None

    def set(self, version: str, key: str, value: dict[str, Any]) -> None:
        return None

    def clear(self, version: str | None = None) -> None:
        return None

    def close(self) -> None:
        return None


class LRUCache:
    """A thread-safe, size-bounded least-recently-used map."""

    backend = "memory"
    remote = False

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, version: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            got = self._data.get((version, key))
            if got is not None:
                self._data.move_to_end((version, key))
            return got

    def set(self, version: str, key: str, value: dict[str, Any]) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[(version, key)] = value
            self._data.move_to_end((version, key))
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self, version: str | None = None) -> None:
        with self._lock:
            if version is None:
                self._data.clear()
            else:
                for k in [k for k in self._data if k[0] == version]:
                    del self._data[k]

    def close(self) -> None:
        self.clear()


class RedisCache:
    """Analyses in Redis (redis-py), shared by every worker; failures count as misses."""

    backend = "redis"
    remote = True
    PREFIX = "askwell:analysis:"

    def __init__(self, url: str, ttl_seconds: int = 3600, timeout: float = 0.25,
                 pending: int = 1000, secret: str | None = None) -> None:
        import redis

        self.url = _without_password(url)
        self._secret = (secret or process_secret()).encode()
        self.ttl = ttl_seconds
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout,
                                           socket_connect_timeout=timeout, health_check_interval=30)
        self.errors = 0
        self._warned_at = 0.0
        # SETs are written by one background thread, so no caller (the event loop least of
        # all) waits on the network to store an answer it already has.
        self._writes: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=pending)
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self.skipped = 0

    @staticmethod
    def _version_tag(version: str) -> str:
        return hashlib.sha256(version.encode()).hexdigest()[:16]

    def _key(self, version: str, key: str) -> str:
        """HMAC of the input hash under the secret: the key can't be recomputed from a guessed
        question without it (a plain sha256 of the input could)."""
        mac = hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()
        return f"{self.PREFIX}{self._version_tag(version)}:{mac}"

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        now = time.monotonic()
        if now - self._warned_at > 60:
            self._warned_at = now
            log.warning("redis cache at %s unavailable (%s); serving without it", self.url, exc)

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except Exception as exc:
            self._failed(exc)
            return False

    def get(self, version: str, key: str) -> dict[str, Any] | None:
        try:
            raw = self._redis.get(self._key(version, key))
        except Exception as exc:
            self._failed(exc)
            return None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def set(self, version: str, key: str, value: dict[str, Any]) -> None:
        """Queue the SET (never blocks; a full queue skips it: a cache may forget)."""
        self._start_writer()
        try:
            self._writes.put_nowait((self._key(version, key), json.dumps(value, separators=(",", ":"))))
        except queue.Full:
            self.skipped += 1

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the queued SETs are written (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._writes.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._writes.unfinished_tasks

    def _start_writer(self) -> None:
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_loop, daemon=True,
                                                    name="askwell-redis-set")
                    self._writer.start()

    def _write_loop(self) -> None:
        while True:
            item = self._writes.get()
            try:
                if item is None:
                    return
                self._redis.set(item[0], item[1], ex=self.ttl)
            except Exception as exc:
                self._failed(exc)
            finally:
                self._writes.task_done()

    def clear(self, version: str | None = None) -> None:
        pattern = f"{self.PREFIX}{self._version_tag(version)}:*" if version else f"{self.PREFIX}*"
        try:
            batch: list[bytes] = []
            for k in self._redis.scan_iter(match=pattern, count=500):
                batch.append(k)
                if len(batch) >= 500:
                    self._redis.delete(*batch)
                    batch = []
            if batch:
                self._redis.delete(*batch)
        except Exception as exc:
            self._failed(exc)

    def close(self) -> None:
        if self._writer is not None:
            self.flush()
            with contextlib.suppress(queue.Full):
                self._writes.put_nowait(None)
            self._writer.join(2)
        with contextlib.suppress(Exception):  # closing a dead connection
            self._redis.close()


def _without_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    _creds, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{'***@' if at else ''}{host}" if sep else url


_PROCESS_SECRET: list[str] = []


def process_secret() -> str:
    """A random secret for this process (``askwell serve`` passes one to all its workers)."""
    if not _PROCESS_SECRET:
        _PROCESS_SECRET.append(secrets.token_hex(32))
    return _PROCESS_SECRET[0]


def make_cache(spec: str | None, size: int, ttl_seconds: int = 3600,
               secret: str | None = None) -> Cache:
    """``None``/``memory`` -> LRU, ``off``/``none`` -> no cache, ``redis://...`` -> Redis."""
    if spec is None or spec.strip().lower() in ("", "memory", "lru"):
        return LRUCache(size) if size > 0 else NoCache()
    if spec.strip().lower() in ("off", "none", "0"):
        return NoCache()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(spec, ttl_seconds, secret=secret)
    from askwell.errors import AskwellError

    raise AskwellError(f"unknown cache {spec!r}: use 'memory', 'off' or redis://host:port/0")
