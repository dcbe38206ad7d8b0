"""Which model serves, and changing it without a request failing or waiting.

The model in service is one immutable :class:`Served` bundle (its whole analysis
pipeline: filter, engine, outlier reference, site statistics, abstention threshold) held
in a single attribute. A request reads
that attribute once and uses the bundle it got until it answers. A reload builds and
verifies the next bundle in a background thread (load, manifest check, canary analyses,
warm-up) and then swaps the attribute: one reference assignment, atomic under the GIL,
so a request sees the old model or the new one, never a half-loaded one, and never
waits. Rollback swaps the previous bundle back. Every load, swap and rollback is an
event row (who, when, from, to).

Several workers (processes) each hold their own model: a worker that swaps records the
event, and the others follow it within ``sync_seconds`` (they poll the event log).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from askwell.explain.pipeline import DEFAULT_OOD_THRESHOLD, AnalysisPipeline, QuestionFilterLike
from askwell.explain.schema import Analysis
from askwell.models.base import Model
from askwell.models.spec import ModelRef, ModelSpec
from askwell.question import Question
from askwell.serving.safeguards import check_output

if TYPE_CHECKING:
    from askwell.serving.config import ServiceSettings

log = logging.getLogger("askwell.serving")

FALLBACK_REF = ModelRef(family="heuristic", name="askwell-heuristic", version="builtin", dataset_id=None)

#: Questions every new model must analyse sanely before it may serve.
CANARIES = (
    Question("How do I keep my homebrew from going flat after bottling?",
             "<p>I bottle with priming sugar and store at 18C. After two weeks the beer is flat.</p>"
             "<p>What I tried: more sugar, new caps. I expected carbonation within a week.</p>",
             ("carbonation", "bottling"), "beer.stackexchange.com"),
    Question("URGENT help with my code", "pls help my code dont work!!! thanks in advance"),
    Question("x", ""),  # not ready: the path with no score must hold too
)


@runtime_checkable
class AnalyzerLike(Protocol):
    """What the service needs from the recommendation engine (``askwell.explain.engine``).

    ``model`` is the model it analyses with (``None`` for an analyzer that has no model of
    its own, such as a test double): the service reads its meta, threshold and card.
    """

    model_ref: ModelRef

    @property
    def model(self) -> Model | None: ...

    def analyze(self, question: Question, warnings: Sequence[str] = ()) -> Analysis: ...


@dataclass(frozen=True)
class PipelineOptions:
    """How every served model's pipeline is built: the filter in front of it, abstention."""

    question_filter: QuestionFilterLike | None = None
    settings_abstain: float | None = None
    ood_threshold: float = DEFAULT_OOD_THRESHOLD


class ReloadError(Exception):
    """The new model could not be loaded or failed verification; the old one keeps serving."""


@dataclass(frozen=True)
class Served:
    """Everything one model needs to answer requests. Immutable: swapped whole."""

    pipeline: AnalysisPipeline
    ref: ModelRef
    source: str
    threshold: float | None
    card: dict[str, Any] = field(default_factory=dict)
    loaded_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def analyzer(self) -> Any:
        """The recommendation engine of this model."""
        return self.pipeline.analyzer

    @property
    def abstain_below(self) -> float:
        return self.pipeline.abstain_below

    @property
    def key(self) -> str:
        """Identifies the answers in cache and precomputed keys: the model's family, name,
        version and training data, and the filter in front of it."""
        from askwell.explain.pipeline import filter_identity

        r = self.ref
        return (f"{r.family}:{r.name}:{r.version}:{r.dataset_id or ''}:"
                f"{filter_identity(self.pipeline.question_filter)}")


def bundle(analyzer: Any, source: str, options: PipelineOptions | None = None) -> Served:
    """The immutable serving bundle of one model: its whole analysis pipeline."""
    options = options or PipelineOptions()
    model = analyzer.model
    meta = model.meta if model is not None else None
    pipeline = AnalysisPipeline.for_analyzer(
        analyzer, question_filter=options.question_filter,
        settings_abstain=options.settings_abstain, ood_threshold=options.ood_threshold)
    return Served(
        pipeline=pipeline, ref=analyzer.model_ref, source=source,
        threshold=float(model.threshold) if model is not None else None,
        card=dict(meta.card) if meta is not None else {},
    )


def verify(served: Served) -> None:
    """Analyse the canaries; any exception or insane output refuses the model."""
    for q in CANARIES:
        try:
            analysis = served.pipeline.analyze(q)
        except Exception as exc:
            raise ReloadError(f"{served.ref.name} v{served.ref.version} failed on a canary "
                              f"question: {type(exc).__name__}: {exc}") from exc
        problems = check_output(analysis, q)
        if problems:
            raise ReloadError(f"{served.ref.name} v{served.ref.version} gave an insane answer on a "
                              f"canary question: {'; '.join(problems)}")


def fallback_analyzer() -> AnalyzerLike:
    from askwell.explain.engine import Analyzer
    from askwell.models.heuristic import HeuristicModel

    return Analyzer(HeuristicModel(), FALLBACK_REF)


Loader = Callable[[str | None], tuple[AnalyzerLike, str]]
"""``loader(source)`` -> (analyzer, its source). ``None``: whatever the settings name now."""


def settings_loader(settings: ServiceSettings) -> Loader:
    """Load what the settings name (``model_path`` wins over ``model``), or a ``source``
    recorded by a reload event (``default``, ``path:DIR``, ``registry:NAME:VERSION``),
    through the one resolver (:func:`askwell.registry.resolve.resolve_model`)."""

    def load(source: str | None) -> tuple[AnalyzerLike, str]:
        from askwell.explain.engine import Analyzer
        from askwell.models.booster_check import isolated_loads
        from askwell.registry.resolve import resolve_model

        if source is not None:
            spec = ModelSpec.parse(source)
        elif settings.model_path is not None:
            spec = ModelSpec.folder(settings.model_path)
        else:
            spec = ModelSpec.parse(settings.model)
        with isolated_loads():  # a damaged booster may only kill a child process
            resolved = resolve_model(settings, spec, settings.tracking_uri)
        return Analyzer(resolved.model, resolved.ref), resolved.source

    return load


class ModelManager:
    """Holds the serving model and the one before it; reloads, rolls back and follows."""

    def __init__(self, loader: Loader | None, *, options: PipelineOptions | None = None,
                 store: Any = None, metrics: Any = None,
                 on_swap: Callable[[Served | None, Served], None] | None = None) -> None:
        self.loader = loader
        self.options = options or PipelineOptions()
        self.store = store
        self.metrics = metrics
        self.on_swap = on_swap
        self.current: Served | None = None
        self.previous: Served | None = None
        self.error: str | None = None
        self._fallback: Served | None = None
        self._swap_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._follow_stop = threading.Event()
        self._follow_thread: threading.Thread | None = None
        self._last_event_id = 0

    # -- the fallback (rules, no artifact) ----------------------------------------
    @property
    def fallback(self) -> Served:
        if self._fallback is None:
            self._fallback = bundle(fallback_analyzer(), "builtin", self.options)
        return self._fallback

    # -- building ---------------------------------------------------------------
    def build(self, analyzer: AnalyzerLike, source: str) -> Served:
        served = bundle(analyzer, source, self.options)
        verify(served)
        return served

    def _load(self, source: str | None) -> Served:
        if self.loader is None:
            raise ReloadError("this service was given a fixed model and cannot reload it")
        try:
            analyzer, where = self.loader(source)
        except ReloadError:
            raise
        except Exception as exc:
            raise ReloadError(f"could not load the model: {exc}") from exc
        return self.build(analyzer, where)

    # -- swapping ---------------------------------------------------------------
    def install(self, served: Served, kind: str, actor: str) -> tuple[Served | None, Served]:
        """Make ``served`` the model in service: one reference swap, then bookkeeping."""
        with self._swap_lock:
            old = self.current
            self.previous = old if old is not None and old.key != served.key else self.previous
            self.current = served  # the swap: requests read this attribute once
            self.error = None
        if self.metrics is not None:
            r = served.ref
            self.metrics.set_model(r.family, r.name, r.version, r.dataset_id)
            self.metrics.model_swaps.labels(kind).inc()
        if self.on_swap is not None:
            self.on_swap(old, served)
        self._record(kind, actor, old, served)
        log.info("%s: now serving %s version %s (%s)", kind, served.ref.name, served.ref.version, served.source)
        return old, served

    def _record(self, kind: str, actor: str, old: Served | None, new: Served | None,
                detail: str | None = None) -> None:
        if self.store is None:
            return
        self.store.record_event({
            "kind": kind, "actor": actor,
            "from_name": old.ref.name if old else None, "from_version": old.ref.version if old else None,
            "to_name": new.ref.name if new else None, "to_version": new.ref.version if new else None,
            "to_source": new.source if new else None, "detail": detail,
        })

    def load_initial(self, actor: str = "startup") -> Served | None:
        """Load what the settings name. On failure the service runs unready, with the reason."""
        try:
            served = self._load(None)
        except ReloadError as exc:
            self.error = str(exc)
            log.error("no model loaded: %s", exc)
            self._record("load_failed", actor, None, None, str(exc))
            return None
        self.install(served, "load", actor)
        return served

    def reload(self, actor: str) -> dict[str, Any]:
        """Load and verify what the settings name now; swap if it differs from what serves."""
        if not self._reload_lock.acquire(blocking=False):
            raise ReloadError("a reload is already running")
        try:
            try:
                served = self._load(None)
            except ReloadError as exc:
                self._record("reload_failed", actor, self.current, None, str(exc))
                raise
            current = self.current
            if current is not None and current.key == served.key:
                return {"status": "unchanged", "from": current.ref, "to": current.ref}
            old, new = self.install(served, "swap", actor)
            return {"status": "swapped", "from": old.ref if old else None, "to": new.ref}
        finally:
            self._reload_lock.release()

    def rollback(self, actor: str) -> dict[str, Any]:
        """Serve the previous model again (the current one becomes the previous)."""
        with self._reload_lock:
            previous = self.previous
            if previous is None:
                raise ReloadError("there is no previous model to roll back to")
            old, new = self.install(previous, "rollback", actor)
            return {"status": "rolled_back", "from": old.ref if old else None, "to": new.ref}

    def not_ready_reason(self) -> str:
        """Why no model serves, for /readyz and 503s."""
        if self.current is not None:
            return ""
        return self.error or "the model is loading"

    # -- following other workers --------------------------------------------------
    def start_following(self, every_seconds: float) -> None:
        if self.store is None or every_seconds <= 0 or self.loader is None:
            return
        try:
            self._last_event_id = self.store.last_event_id()
        except Exception:
            self._last_event_id = 0
        self._follow_thread = threading.Thread(target=self._follow_loop, args=(every_seconds,),
                                               name="askwell-model-follow", daemon=True)
        self._follow_thread.start()

    def stop_following(self) -> None:
        self._follow_stop.set()
        if self._follow_thread is not None:
            self._follow_thread.join(5)

    def _follow_loop(self, every: float) -> None:
        while not self._follow_stop.wait(every):
            try:
                self.follow_once()
            except Exception as exc:  # the database may be away: try again next time
                log.debug("model follow: %s", exc)

    def follow_once(self) -> bool:
        """Apply the newest swap/rollback another worker recorded; True if we swapped."""
        events = [e for e in self.store.events(limit=20, after_id=self._last_event_id)]
        if not events:
            return False
        self._last_event_id = max(e["id"] for e in events)
        latest = next((e for e in events if e["kind"] in ("swap", "rollback")), None)
        if latest is None:
            return False
        current = self.current
        if current is not None and (current.ref.name, current.ref.version) == \
                (latest["to_name"], latest["to_version"]) and current.source == latest["to_source"]:
            return False
        previous = self.previous
        with self._reload_lock:
            if previous is not None and previous.source == latest["to_source"] and \
                    (previous.ref.name, previous.ref.version) == (latest["to_name"], latest["to_version"]):
                target = previous
            else:
                target = self._load(latest["to_source"])
            with self._swap_lock:
                old = self.current
                self.previous = old
                self.current = target
            if self.metrics is not None:
                r = target.ref
                self.metrics.set_model(r.family, r.name, r.version, r.dataset_id)
            if self.on_swap is not None:
                self.on_swap(old, target)
        log.info("followed %s: now serving %s version %s", latest["kind"], target.ref.name, target.ref.version)
        return True


class ReloadJobs:
    """The background reload behind ``POST /v1/admin/reload`` (one at a time) and its result."""

    def __init__(self, manager: ModelManager) -> None:
        self.manager = manager
        self.last: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, actor: str) -> bool:
        """Start a reload in the background; False when one is already running."""
        with self._lock:
            if self.running:
                return False
            self._thread = threading.Thread(target=self._run, args=(actor,), name="askwell-reload",
                                            daemon=True)
            self._thread.start()
            return True

    def _run(self, actor: str) -> None:
        try:
            self.last = self.manager.reload(actor)
        except ReloadError as exc:
            self.last = {"status": "failed", "detail": str(exc)}
            log.error("reload failed: %s", exc)
