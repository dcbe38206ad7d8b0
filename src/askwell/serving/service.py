"""One analysis request from parsed input to logged answer: plain functions, no HTTP.

cache -> the analysis pipeline (checks once -> filter -> model -> abstention; see
:mod:`askwell.explain.pipeline`) -> output safeguards (-> fallback) -> cache ->
prediction log. The route modules only parse, call :meth:`AnalysisService.analyze`
and shape the response.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from typing import Any

from starlette.concurrency import run_in_threadpool

from askwell.explain.checks import CheckedInput, check_question
from askwell.explain.schema import Analysis
from askwell.plain import finite_or_none
from askwell.question import Question
from askwell.serving.cache import Cache, input_key
from askwell.serving.lifecycle import ModelManager, Served
from askwell.serving.metrics import Metrics
from askwell.serving.precomputed import Precomputed
from askwell.serving.safeguards import FALLBACK_WARNING, Declined, check_output
from askwell.serving.store import Store, now

log = logging.getLogger("askwell.serving")


#: Questions up to this many characters are analysed on the event loop (a few ms); longer
#: ones in a worker thread, so a 30,000-character body never stalls other requests.
INLINE_CHARS = 4000
#: How often, and how long, feedback waits for another worker's log row.
FEEDBACK_POLL_SECONDS = 0.1
FEEDBACK_WAIT_SECONDS = 1.0
#: The ids this service makes: 32 hex digits, ``-<index>`` for a batch item.
_OUR_ID = re.compile(r"^[0-9a-f]{32}(-[0-9]{1,4})?$")


class NotReady(Exception):
    """No model is loaded (yet, or its load failed)."""


class Busy(Exception):
    """The analysis work in flight is at its bound for longer than a request may wait."""


class CharGate:
    """A bound on the characters analysed at once in worker threads (one per process).

    Cost, not count: a 30,000-character question holds 30,000 of ``capacity``, a short one
    almost nothing, so a burst of maximal batches queues here instead of taking every core
    (and the GIL) from the small requests. A wait longer than ``wait_seconds`` is a 503.
    """

    def __init__(self, capacity: int, wait_seconds: float = 10.0) -> None:
        self.capacity = max(int(capacity), 1)
        self.wait_seconds = wait_seconds
        self.in_flight = 0
        self._cond: asyncio.Condition | None = None

    @contextlib.asynccontextmanager
    async def hold(self, chars: int) -> AsyncIterator[None]:
        cost = min(max(int(chars), 1), self.capacity)
        if self._cond is None:
            self._cond = asyncio.Condition()
        cond = self._cond
        async with cond:
            try:
                await asyncio.wait_for(
                    cond.wait_for(lambda: self.in_flight + cost <= self.capacity), self.wait_seconds)
            except TimeoutError as exc:
                raise Busy(f"{self.in_flight:,} characters are being analysed") from exc
            self.in_flight += cost
        try:
            yield
        finally:
            async with cond:
                self.in_flight -= cost
                cond.notify_all()


class RecentRequests:
    """Request ids answered by this process lately (feedback may arrive before the log row)."""

    def __init__(self, size: int = 100_000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, request_id: str) -> None:
        with self._lock:
            self._ids[request_id] = None
            if len(self._ids) > self.size:
                self._ids.popitem(last=False)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._ids


class AnalysisService:
    """Analyses questions with whatever model the manager serves at the time."""

    def __init__(self, manager: ModelManager, cache: Cache, store: Store | None, metrics: Metrics,
                 *, precomputed: Precomputed | None = None,
                 chars_in_flight: int = 40_000, busy_wait_seconds: float = 10.0) -> None:
        self.manager = manager
        self.cache = cache
        self.precomputed = precomputed
        self.store = store
        self.metrics = metrics
        self.recent = RecentRequests()
        self.gate = CharGate(chars_in_flight, busy_wait_seconds)

    # -- the HTTP entry points: all blocking I/O and long work off the event loop --------
    async def _lookup(self, question: Question) -> tuple[Served, str, dict[str, Any] | None]:
        if self.cache.remote or self.precomputed is not None:  # I/O: not on the event loop
            return await run_in_threadpool(self.lookup, question)
        return self.lookup(question)

    async def _payload(self, served: Served, key: str, question: Question, inline: bool) -> dict[str, Any]:
        chars = len(question.title) + len(question.body)
        if inline and chars <= INLINE_CHARS:
            # a typical question takes ~1-3 ms: computing it on the event loop is faster than
            # a thread hop and avoids waiting on the GIL behind other threads
            return self.compute(served, key, question)
        async with self.gate.hold(chars):
            return await run_in_threadpool(self.compute, served, key, question)

    async def analyze_request(self, question: Question, *, request_id: str,
                              client_request_id: str | None, started: float) -> dict[str, Any]:
        """``POST /v1/analyze``: the answer with its per-request fields (logged)."""
        served, key, hit = await self._lookup(question)
        payload = hit if hit is not None else await self._payload(served, key, question, inline=True)
        return self.finish(payload, request_id=request_id, served=served, key=key, question=question,
                           cached=hit is not None, started=started, client_request_id=client_request_id)

    async def analyze_batch(self, questions: list[Question], *, request_id: str,
                            client_request_id: str | None) -> list[dict[str, Any]]:
        """``POST /v1/analyze/batch``: one answer or error per question, in order; each item
        goes through the character gate on its own, so a batch shares the cores fairly."""
        results: list[dict[str, Any]] = []
        for i, question in enumerate(questions):
            item_id = f"{request_id}-{i}"
            started = time.perf_counter()
            try:
                served, key, hit = await self._lookup(question)
                payload = hit if hit is not None else await self._payload(served, key, question,
                                                                          inline=False)
                results.append(self.finish(payload, request_id=item_id, served=served, key=key,
                                           question=question, cached=hit is not None, started=started,
                                           client_request_id=client_request_id))
            except Declined as exc:
                results.append({"error": {"code": exc.code, "message": exc.message,
                                          "request_id": item_id}})
        return results

    # -- the request path -------------------------------------------------------
    def lookup(self, question: Question) -> tuple[Served, str, dict[str, Any] | None]:
        """(the model to use, the input key, the cached answer or None). Cheap: no model."""
        served = self.manager.current  # read once: this request uses this model to the end
        if served is None:
            raise NotReady(self.manager.error or "the model is still loading")
        key = input_key(question.title, question.body, question.tags, question.site)
        hit = self.cache.get(served.key, key)
        if hit is not None:
            self.metrics.cache_hits.labels(self.cache.backend).inc()
        elif self.precomputed is not None:
            # a batch job's answer for this model and input (a DB read: cheaper than the model)
            hit = self.precomputed.get(served.key, key)
            if hit is not None:
                self.cache.set(served.key, key, hit)  # the hot layer (LRU, or Redis shared)
        return served, key, hit

    def compute(self, served: Served, key: str, question: Question, *,
                suggestions: bool = True) -> dict[str, Any]:
        """Run the analysis pipeline (checks once, filter, model; the fallback model when the
        answer is insane); cache and return the answer (without request fields).
        ``suggestions=False`` (batch scoring) scores only and caches nothing."""
        self.metrics.cache_misses.labels(self.cache.backend).inc()
        checked = check_question(question)
        try:
            analysis, fallback_reason = self._run(served, checked, suggestions)
        except Declined as exc:
            self.metrics.declined.labels(exc.code).inc()
            raise
        for notice in analysis.findings:
            self.metrics.input_checks.labels(notice.code).inc()
            if notice.action == "abstain":
                self.metrics.abstentions.labels(notice.code).inc()
        if analysis.filter is not None:
            if analysis.filter.model != "rules":
                self.metrics.filter_outcomes.labels(analysis.filter.outcome).inc()
            if analysis.verdict == "not_ready":
                self.metrics.not_ready.labels(analysis.filter.reason or "unknown").inc()
        if fallback_reason is not None:
            self.metrics.fallbacks.labels(fallback_reason).inc()
        payload = {**analysis_payload(analysis), "source": "computed"}
        if fallback_reason is None and suggestions:  # a fallback may be transient: not cached
            self.cache.set(served.key, key, payload)
        return payload

    def _run(self, served: Served, checked: CheckedInput,
             suggestions: bool = True) -> tuple[Analysis, str | None]:
        try:
            analysis = served.pipeline.analyze_checked(checked, suggestions=suggestions)
            problems = check_output(analysis, checked.question)
            reason = "output_check"
        except Declined:
            raise
        except Exception as exc:
            log.exception("model %s v%s failed", served.ref.name, served.ref.version)
            problems = [f"the model raised {type(exc).__name__}"]
            reason = "model_error"
        if not problems:
            return analysis, None
        note = FALLBACK_WARNING.format(detail="; ".join(problems)[:300])
        fb = self.manager.fallback.pipeline.analyze_checked(checked, suggestions=suggestions)
        return replace(fb, fallback=True, low_confidence=True, warnings=[*fb.warnings, note]), reason

    def finish(self, payload: dict[str, Any], *, request_id: str, served: Served, key: str,
               question: Question, cached: bool, started: float,
               client_request_id: str | None = None) -> dict[str, Any]:
        """Add the per-request fields and log the prediction (off the request path)."""
        latency_ms = round((time.perf_counter() - started) * 1000, 3)
        out = {"request_id": request_id, **payload, "cached": cached, "latency_ms": latency_ms}
        self.recent.add(request_id)
        model = payload["model"]
        self.metrics.analyses.labels(model["name"], model["version"]).inc()
        self.metrics.answers.labels(payload.get("source", "computed")).inc()
        if self.store is not None:
            self.store.submit("predictions", {
                "request_id": request_id, "client_request_id": client_request_id, "created_at": now(),
                "model_family": model["family"], "model_name": model["name"],
                "model_version": model["version"], "dataset_id": model["dataset_id"],
                "input_hash": key, "input_chars": len(question.title) + len(question.body),
                "site": question.site, "score": finite_or_none(payload["score"]),
                "verdict": payload["verdict"], "confidence": finite_or_none(payload["confidence"]),
                "suggestions": [s["id"] for s in payload["suggestions"]],
                "warnings": list(payload["warnings"]),
                "fallback": payload["fallback"], "abstained": payload["abstained"],
                "low_confidence": payload["low_confidence"], "cached": cached,
                "latency_ms": latency_ms, "source": payload.get("source", "computed"),
            })
        return out

    def analyze(self, question: Question, request_id: str,
                client_request_id: str | None = None) -> dict[str, Any]:
        """The whole path in one call (the batch route and tests use it)."""
        started = time.perf_counter()
        served, key, hit = self.lookup(question)
        payload = hit if hit is not None else self.compute(served, key, question)
        return self.finish(payload, request_id=request_id, served=served, key=key,
                           question=question, cached=hit is not None, started=started,
                           client_request_id=client_request_id)

    # -- feedback -----------------------------------------------------------------
    async def known_request(self, request_id: str, wait_seconds: float = FEEDBACK_WAIT_SECONDS) -> bool:
        """Was ``request_id`` answered (by any worker)? Waits briefly for the log to catch up.

        The wait is on the event loop (``asyncio.sleep``); only each short look-up runs in a
        worker thread, so a burst of unknown ids never holds the thread pool. An id this
        service could not have made is looked up once, without waiting. Also True when the
        database can't be asked: feedback is then kept, not refused.
        """
        if request_id in self.recent:
            return True
        if self.store is None:
            return False
        deadline = time.monotonic() + (wait_seconds if _OUR_ID.match(request_id) else 0.0)
        while True:
            try:
                if await run_in_threadpool(self.store.has_request, request_id):
                    return True
            except Exception:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(FEEDBACK_POLL_SECONDS)

    def feedback(self, row: dict[str, Any]) -> None:
        if self.store is not None:
            self.store.submit("feedback", {"created_at": now(), **row})


def analysis_payload(a: Analysis) -> dict[str, Any]:
    """The JSON-able analysis (what is cached): the API's fields minus per-request ones."""
    d = asdict(a)
    if d["score"] is not None:
        d["score"] = float(d["score"])
    return d

