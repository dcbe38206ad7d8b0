"""The filtering model at serving time: load a verified folder, assess questions.

A filter folder holds ``model.txt.gz`` (LightGBM's text model, gzipped to keep the
packaged folder small), ``vocabulary.json``, ``filter.json`` (classes, feature names,
thresholds, metrics, data card), ``MODEL_CARD.md`` and ``MANIFEST.json``. The
manifest's sha256 sums are checked *before* LightGBM sees the model text: LightGBM can
abort the whole process on a corrupt model file, so a damaged folder must be refused
by askwell first, with a clear message.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from askwell.features.signals import TextAnalysis
from askwell.filtering.features import FEATURE_NAMES, Vocabulary, filter_features
from askwell.filtering.reasons import CLASSES, QUESTION, REASONS, SOFT_REASONS
from askwell.models.artifacts import ArtifactError, verify_manifest
from askwell.question import Question

MODEL_TXT = "model.txt.gz"
VOCAB_JSON = "vocabulary.json"
FILTER_JSON = "filter.json"
#: Refuse a model text larger than this once unpacked (a packaged one is ~1 MB).
MAX_MODEL_BYTES = 64 * 2**20
FORMAT = "askwell-filter/1"

Outcome = Literal["pass", "unsure", "reject"]


@dataclass(frozen=True)
class FilterOutcome:
    """What the filter says about one input (see docs/design.md, "The filtering model")."""

    outcome: Outcome
    p_question: float  # P(a real, answerable question) under the training mixture
    reason: str | None  # a code of askwell.filtering.reasons.REASONS
    message: str | None  # what is wrong, for a person
    advice: str | None  # what to do
    model: str  # "askwell-filter v<hash>"

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "p_question": self.p_question, "reason": self.reason,
                "message": self.message, "advice": self.advice, "model": self.model}


@dataclass(frozen=True)
class Thresholds:
    """``reject`` when P(junk) >= reject (junk: every non-question class except the soft
    ones learnt from closed questions); ``unsure`` when P(question) < unsure."""

    reject: float
    unsure: float


class QuestionFilter:
    """A trained filter: LightGBM multiclass booster + vocabulary + thresholds."""

    def __init__(self, booster: Any, vocab: Vocabulary, thresholds: Thresholds,
                 meta: dict[str, Any], model_text: str = "") -> None:
        #: a :class:`~askwell.models.lgbm_native.NativeBooster`: scoring needs no import of
        #: the lightgbm package (a cold ``askwell analyze`` stays fast)
        self.booster = booster
        self.model_text = model_text
        self.vocab = vocab
        self.thresholds = thresholds
        self.meta = meta
        self.classes: tuple[str, ...] = tuple(meta.get("classes", CLASSES))
        self.name = f"askwell-filter v{meta.get('model_sha', 'dev')[:12]}"
        self._question = self.classes.index(QUESTION)
        self._hard = np.array([c != QUESTION and c not in SOFT_REASONS for c in self.classes])

    # -- scoring -------------------------------------------------------------------
    def features(self, texts: Sequence[TextAnalysis]) -> np.ndarray:
        return np.array([filter_features(t, self.vocab) for t in texts], dtype=np.float64
                        ).reshape(len(texts), len(FEATURE_NAMES))

    def probabilities(self, texts: Sequence[TextAnalysis]) -> np.ndarray:
        """Class probabilities, one row per text, columns in :attr:`classes` order."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        return self.booster.predict_proba(self.features(texts), num_threads=1)

    def outcome_of(self, probs: np.ndarray) -> FilterOutcome:
        """The outcome for one row of :meth:`probabilities`."""
        p_question = float(probs[self._question])
        p_junk = float(probs[self._hard].sum())
        others = [(float(p), c) for p, c in zip(probs, self.classes, strict=True) if c != QUESTION]
        if p_junk >= self.thresholds.reject:
            _, reason = max((p, c) for p, c in others if c not in SOFT_REASONS)
            outcome: Outcome = "reject"
        elif p_question < self.thresholds.unsure:
            _, reason = max(others)
            outcome = "unsure"
        else:
            return FilterOutcome("pass", p_question, None, None, None, self.name)
        r = REASONS[reason]
        return FilterOutcome(outcome, p_question, reason, r.message, r.advice, self.name)

    def assess(self, question: Question, text: TextAnalysis) -> FilterOutcome:
        """Assess one question from the request's analysis (``question`` is the same
        question; the analysis is what is read)."""
        return self.outcome_of(self.probabilities([text])[0])

    def assess_many(self, questions: Sequence[Question],
                    texts: Sequence[TextAnalysis]) -> list[FilterOutcome]:
        if len(questions) != len(texts):
            raise ValueError("assess_many: one analysis per question")
        return [self.outcome_of(row) for row in self.probabilities(list(texts))]

    @property
    def card(self) -> dict[str, Any]:
        return self.meta


def load_filter(path: Path) -> QuestionFilter:
    """Load a filter folder; the manifest is verified before anything is parsed."""
    from askwell.models.lgbm_native import NativeBooster, NativeLightGBMError

    path = Path(path)
    verify_manifest(path)
    try:
        meta = json.loads((path / FILTER_JSON).read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: unreadable {FILTER_JSON} ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise ArtifactError(f"{path}: not an askwell filter (format {meta.get('format')!r})")
    if tuple(meta.get("features", ())) != FEATURE_NAMES:
        raise ArtifactError(f"{path}: built for other features; rebuild the filter "
                            "(`askwell filter build-default` or `askwell filter train`)")
    if any(c != QUESTION and c not in REASONS for c in meta.get("classes", ())):
        raise ArtifactError(f"{path}: unknown classes {meta.get('classes')}")
    try:
        vocab = Vocabulary.from_json(json.loads((path / VOCAB_JSON).read_text()))
        model_text = unpack_model(path / MODEL_TXT)
        booster = NativeBooster.from_string(model_text)
    except (OSError, ValueError, KeyError, zlib.error, NativeLightGBMError) as exc:
        raise ArtifactError(f"{path}: unreadable filter files ({exc})") from exc
    if booster.num_feature() != len(FEATURE_NAMES) or \
            booster.num_model_per_iteration() != len(meta["classes"]):
        raise ArtifactError(f"{path}: {MODEL_TXT} does not match {FILTER_JSON}")
    t = meta["thresholds"]
    return QuestionFilter(booster, vocab, Thresholds(float(t["reject"]), float(t["unsure"])), meta,
                          model_text)


def pack_model(text: str) -> bytes:
    """Gzip with no timestamp: the same model gives the same bytes."""
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def unpack_model(path: Path) -> str:
    inflate = zlib.decompressobj(wbits=31)
    raw = inflate.decompress(path.read_bytes(), MAX_MODEL_BYTES)
    if inflate.unconsumed_tail or not inflate.eof:
        raise ArtifactError(f"{path}: truncated, or larger than {MAX_MODEL_BYTES} bytes unpacked")
    text = raw.decode()
    # LightGBM may abort the process on a malformed model text: check its frame first.
    if not text.startswith("tree\n") or "\nend of trees" not in text:
        raise ArtifactError(f"{path}: not a LightGBM text model")
    return text


def default_filter_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "assets" / "default_filter"


@lru_cache(maxsize=1)
def default_filter() -> QuestionFilter:
    """The packaged filter (loaded once per process)."""
    folder = default_filter_dir()
    if not (folder / "MANIFEST.json").is_file():
        raise ArtifactError(f"{folder}: the packaged filter is missing; build it with "
                            "`askwell filter build-default`")
    return load_filter(folder)
