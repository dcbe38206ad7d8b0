"""Analyse a list of questions the way the service does: the one function every batch task
calls (:func:`analyse_questions`), and the per-worker model it uses.

Both paths *are* the service's path: each question goes through
:meth:`askwell.serving.service.AnalysisService.compute` (the analysis pipeline: checks,
filter, model, abstention; output safeguards and fallback), so a batch answer is the
answer ``POST /v1/analyze`` would give, byte for byte, and can be served as a
precomputed one. The score-only path (``suggestions=False``) is the same pipeline with
the suggestions (the costly part) left out. A question the service would decline, or
answer ``not_ready`` (no score), is a reject with its reason.

Workers never receive a pickled model: a task carries a :class:`ModelHandle` (the verified
model folder, its manifest digest, the model's key) and :func:`engine_for` loads the model
once per worker process, verifying the folder's sha256 manifest, then keeps it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askwell.explain.schema import ModelRef
from askwell.question import Question

#: Model keys look like the service's ``Served.key``: family:name:version:dataset_id:filter.


@dataclass(frozen=True)
class ModelHandle:
    """What a task needs to find its model on a worker: plain data, cheap to send."""

    path: str
    manifest_sha256: str
    family: str
    name: str
    version: str
    dataset_id: str | None
    ood_threshold: float = 0.06
    abstain_below: float | None = None
    #: the filtering model, as the service's setting names it (default | off | a folder)
    question_filter: str = "default"
    #: that filter's identity (:func:`askwell.explain.pipeline.filter_identity`), resolved
    #: by the client: a worker whose filter differs refuses the job
    filter_name: str = "off"

    @property
    def ref(self) -> ModelRef:
        return ModelRef(self.family, self.name, self.version, self.dataset_id)

    @property
    def key(self) -> str:
        """The service's model key for this model and filter (``Served.key``)."""
        return f"{self.family}:{self.name}:{self.version}:{self.dataset_id or ''}:{self.filter_name}"


def manifest_digest(folder: Path) -> str:
    """sha256 of the model folder's MANIFEST.json (which pins every file's sha256)."""
    from askwell.models.artifacts import MANIFEST

    return hashlib.sha256((Path(folder) / MANIFEST).read_bytes()).hexdigest()


class Engine:
    """One loaded model on one worker, with the service's analysis path around it."""

    def __init__(self, handle: ModelHandle) -> None:
        from askwell.errors import AskwellError
        from askwell.explain.engine import Analyzer
        from askwell.models.base import load_model
        from askwell.serving.cache import NoCache
        from askwell.serving.lifecycle import ModelManager, PipelineOptions
        from askwell.serving.metrics import Metrics
        from askwell.serving.service import AnalysisService

        folder = Path(handle.path)
        if manifest_digest(folder) != handle.manifest_sha256:
            raise AskwellError(f"{folder}: the model folder changed since the job started "
                               "(its manifest differs); start the job again")
        model = load_model(folder)  # verifies every file against the manifest
        self.handle = handle
        from askwell.explain.pipeline import filter_identity, resolve_filter

        question_filter = resolve_filter(handle.question_filter)
        if filter_identity(question_filter) != handle.filter_name:
            raise AskwellError(f"this worker's filtering model is {filter_identity(question_filter)}, "
                               f"the job's is {handle.filter_name}: install the same askwell "
                               "version (or filter folder) on every worker")
        options = PipelineOptions(question_filter=question_filter,
                                  settings_abstain=handle.abstain_below,
                                  ood_threshold=handle.ood_threshold)
        self.manager = ModelManager(None, options=options)
        self.served = self.manager.build(Analyzer(model, handle.ref), f"path:{folder}")
        self.manager.install(self.served, "load", "batch")
        self.service = AnalysisService(self.manager, NoCache(), None, Metrics())


_engines: dict[tuple[str, str, str], Engine] = {}
_engines_lock = threading.Lock()


def engine_for(handle: ModelHandle) -> Engine:
    """The worker's engine for ``handle``: loaded on first use, then reused by every task."""
    k = (handle.key, handle.path, handle.manifest_sha256)
    with _engines_lock:
        got = _engines.get(k)
        if got is None:
            got = _engines[k] = Engine(handle)
        return got


def warm(handle: ModelHandle) -> str:
    """Load the model on this worker now (``client.run(warm, handle)``); returns its key."""
    return engine_for(handle).served.key


@dataclass(frozen=True)
class Item:
    """One input row turned into a question (``row_id`` names it in outputs and rejects)."""

    row_id: str
    question: Question
    author_context: bool = False


@dataclass(frozen=True)
class Reject:
    row_id: str
    reason: str
    message: str


def analyse_questions(engine: Engine, items: Sequence[Item], *,
                      suggestions: bool) -> tuple[list[dict[str, Any]], list[Reject]]:
    """Analyse ``items`` as the service would; (one output row per analysed item, rejects).

    A question the service would decline (binary, too large) or answer ``not_ready``
    (empty, no body, a title under 15 characters, not English, rejected by the filter) is
    a reject with the reason and message the service gives; nothing stops the partition.
    """
    from askwell.serving.cache import input_key
    from askwell.serving.safeguards import Declined

    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    for item in items:
        q = item.question
        key = input_key(q.title, q.body, q.tags, q.site)
        try:
            payload = engine.service.compute(engine.served, key, q, suggestions=suggestions)
        except Declined as exc:
            rejects.append(Reject(item.row_id, exc.code, exc.message))
            continue
        if payload["verdict"] == "not_ready":
            why = payload.get("filter") or {}
            rejects.append(Reject(item.row_id, str(why.get("reason") or "not_ready"),
                                  str(why.get("message") or "not a question yet")))
            continue
        rows.append(_row(item, key, engine.served.key, payload, full=suggestions))
    return rows, rejects


def _row(item: Item, key: str, model_key: str, payload: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """One output row: the figures a report needs in columns, the whole answer as JSON."""
    sugg = payload.get("suggestions") or []
    top = sugg[0] if sugg else None
    return {
        "id": item.row_id,
        "site": item.question.site,
        "title": item.question.title[:300],
        "input_hash": key,
        "model_key": model_key,
        "score": _num(payload.get("score")),
        "verdict": payload["verdict"],
        "confidence": _num(payload.get("confidence")),
        "threshold": _num(payload.get("threshold")),
        "abstained": bool(payload.get("abstained")),
        "low_confidence": bool(payload.get("low_confidence")),
        "fallback": bool(payload.get("fallback")),
        "warnings": list(payload.get("warnings") or []),
        "n_suggestions": len(sugg) if full else None,
        "top_suggestion": top["id"] if top else None,
        "top_suggestion_message": top["message"] if top else None,
        "top_gain": float(top["gain"]) if top else None,
        "author_context": item.author_context,
        "payload": json.dumps(payload, separators=(",", ":"), allow_nan=False) if full else None,
    }


def _num(v: Any) -> float | None:
    """A float, or None where the answer has none (a question the filter sends back)."""
    return None if v is None else float(v)
