"""The recommendation engine: exact contributions -> candidate edits -> re-scored -> ranked.

1. Score the question and take the model's own exact per-feature contributions
   (TreeSHAP for the ``features`` model); no sampling explainer on this path.
2. Each actionable feature that pulls the score down wakes its edit operators
   (:mod:`askwell.explain.edits`). A mechanical operator edits the text itself; the others
   move the feature to the typical value of well-received questions on that site.
3. Every candidate is re-scored in one batch; only positive gains are kept, one per
   conflict group (so "shorten" and "add detail" can't both appear), ranked by gain with
   ties broken by id: the same input always gives the same output.
Features a writer can't change (author history, site) are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from askwell.explain.edits import OPERATORS, Candidate, EditOperator, Reference, code_seeds
from askwell.explain.schema import Analysis, Severity, Suggestion
from askwell.explain.verdict import confidence, verdict
from askwell.models.base import FeatureModel, Model
from askwell.models.spec import ModelRef
from askwell.question import Question

if TYPE_CHECKING:
    from askwell.features.signals import TextAnalysis
    from askwell.features.spec import FeatureSpec

#: A suggestion must raise the score by at least this much (a probability difference) to
#: be shown; below it the change is noise.
MIN_GAIN = 0.002
#: A feature "pulls the score down" when its contribution is below this (log-odds).
PULL_DOWN = -1e-3


def _overlap(a: Candidate, b: Candidate) -> bool:
    """Two edits of the same characters: applying one would move or undo the other. Edits
    are applied one at a time and the text analysed again, so only what each one really
    changes counts (capitalising sentence starts around a snippet doesn't touch it)."""
    if a.field is None or b.field is None or a.field != b.field or a.start is None or b.start is None:
        return False
    if a.start == b.start:
        return True
    return any(s < f and t < e for s, e in a.changed() for t, f in b.changed())


def _model_specs(names: Sequence[str]) -> list[FeatureSpec] | None:
    """The specs of a feature model's inputs, in its order (None when a name is unknown)."""
    from askwell.features.registry import REGISTRY

    by_name = {spec.name: spec for spec in REGISTRY}
    if not names or any(n not in by_name for n in names):
        return None
    return [by_name[n] for n in names]


class _Guard:
    """Checks each mechanical edit of one question against :mod:`.invariants`; the
    protected places (pasted code the wrap would take, error lines) are found once."""

    def __init__(self, text: TextAnalysis) -> None:
        self.text = text
        self._protected: list[tuple[int, int]] | None = None

    def analysis(self, cand: Candidate) -> TextAnalysis:
        """The edited question's analysis (a title edit reuses the body's)."""
        from askwell.features.signals import TextAnalysis as Analysis

        assert cand.edited is not None
        if cand.field == "title":
            return self.text.with_title(cand.edited)
        return Analysis(cand.edited)

    def protected(self) -> list[tuple[int, int]]:
        if self._protected is None:
            from askwell.explain.snippets import code_regions

            body = self.text.question.body or ""
            seeds = code_seeds(self.text.signals)
            errors = [(s.source_start, s.source_end) for s in self.text.body_signals
                      if s.kind == "error_outside_code" and s.source_start is not None
                      and s.source_end is not None]
            self._protected = [*code_regions(body, seeds), *seeds, *errors]
        return self._protected

    def safe(self, cand: Candidate, edited: TextAnalysis) -> bool:
        from askwell.explain import invariants

        if cand.field == "title":
            return not invariants.title_violations(self.text.title, edited.title)
        if cand.start is None or cand.length is None:
            return False
        errors = [s.text for s in self.text.body_signals if s.kind == "error_outside_code"]
        return not invariants.body_violations(
            self.text.question.body or "", self.text.document, edited.question.body or "",
            edited.document, cand.start, cand.start + cand.length, code=cand.code,
            protected=() if cand.code else self.protected(), changed=cand.changed(),
            errors=errors)


def severity(gain: float) -> Severity:
    if gain >= 0.05:
        return "high"
    if gain >= 0.015:
        return "medium"
    return "low"


@dataclass
class Scored:
    candidate: Candidate
    operator: EditOperator
    score: float

    def gain(self, base: float) -> float:
        return self.score - base


@dataclass
class Analyzer:
    """Analyses questions with one model. Build once per model; ``analyze`` is thread-safe.

    Any :class:`~askwell.models.base.Model` gets a score and the mechanical suggestions
    (text edits, re-scored by ``predict_proba``); a
    :class:`~askwell.models.base.FeatureModel` also gets its contributions read and the
    feature-moving suggestions, re-scored on its matrix.
    """

    model: Model
    model_ref: ModelRef
    operators: Sequence[EditOperator] = field(default_factory=lambda: OPERATORS)
    max_suggestions: int = 5
    min_gain: float = MIN_GAIN

    def __post_init__(self) -> None:
        self.reference = Reference.from_meta(self.model.meta.get("reference"))
        self._features: FeatureModel | None = (
            self.model if isinstance(self.model, FeatureModel) else None
        )
        self._has_matrix = self._features is not None
        self._names: list[str] = list(self._features.feature_names_) if self._features else []
        self._index = {n: i for i, n in enumerate(self._names)}
        # a matrix of registry features can be computed from the engine's own analysis
        self._specs = (_model_specs(self._names)
                       if getattr(type(self.model), "registry_matrix", False) else None)

    # -- public ------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        """The names of :meth:`matrix`'s columns (empty for models without features)."""
        return list(self._names)

    def matrix(self, question: Question, text: TextAnalysis | None = None) -> np.ndarray | None:
        """The model's feature row for ``question`` (None for models without features),
        from the request's one text analysis when given."""
        if not self._has_matrix:
            return None
        if text is None:
            from askwell.features import analyze_text

            text = analyze_text(question)
        return self._matrix([text])

    def analyze(self, question: Question, warnings: Sequence[str] = (), *,
                text: TextAnalysis | None = None, x: np.ndarray | None = None,
                suggestions: bool = True) -> Analysis:
        """Score ``question`` and suggest edits (``suggestions=False``: score only, as batch
        scoring does). ``text`` (its analysis) and ``x`` (its feature row) are reused when
        the caller has them, so the text is parsed once per request."""
        from askwell.features import analyze_text, writing_stats

        if text is None:
            text = analyze_text(question)  # parsed once for signals, statistics and features
        x0, pulling = self._base(text, x, contributions=suggestions)
        if suggestions:
            base, ranked = self._suggest(question, text, x0, pulling)
        else:
            base, ranked = self._rescore(question, x0, [])[0], []
        threshold = float(self.model.threshold)
        return Analysis(
            score=base,
            verdict=verdict(base, threshold),
            confidence=confidence(base, threshold),
            threshold=threshold,
            stats=writing_stats(text),
            suggestions=ranked,
            model=self.model_ref,
            warnings=list(warnings),
            low_confidence=bool(warnings),
        )

    # -- internals ---------------------------------------------------------
    def _matrix(self, analyses: Sequence[TextAnalysis]) -> np.ndarray:
        """The model's input rows, from analyses already made (the numbers the model's own
        ``matrix`` gives, without building a DataFrame)."""
        assert self._features is not None
        if self._specs is None:
            return self._features.matrix([a.question for a in analyses])
        from askwell.features.registry import feature_row

        return np.array([feature_row(a, self._specs) for a in analyses], dtype=np.float64
                        ).reshape(len(analyses), len(self._specs))

    def _candidates(self, question: Question, text: TextAnalysis, x0: np.ndarray | None,
                    pulling: set[str] | None) -> list[tuple[EditOperator, Candidate, TextAnalysis | None]]:
        """Every operator's proposals, each mechanical edit analysed once (the analysis
        re-scores it) and kept only if it breaks no invariant (:mod:`.invariants`)."""
        signals = text.signals
        current = dict(zip(self._names, x0[0].tolist(), strict=True)) if x0 is not None else {}
        guard = _Guard(text)
        out: list[tuple[EditOperator, Candidate, TextAnalysis | None]] = []
        for op in self.operators:
            if not op.mechanical and not self._has_matrix:
                continue  # moving a feature needs a feature model
            if self._has_matrix and not any(f in self._index for f in op.features):
                continue
            if pulling is not None and not any(f in pulling for f in op.features):
                continue
            for cand in op.propose(question, signals, self.reference, current):
                if cand.edited is None:
                    out.append((op, cand, None))
                    continue
                edited = guard.analysis(cand)
                if guard.safe(cand, edited):
                    out.append((op, cand, edited))
        return out

    def _base(self, text: TextAnalysis, x: np.ndarray | None = None, *,
              contributions: bool = True) -> tuple[np.ndarray | None, set[str] | None]:
        """The question's features, computed once (or ``x``, the caller's row), and the
        features that pull its score down (exact TreeSHAP contributions; skipped when only
        the score is wanted); (None, None) for a model without features."""
        if not self._has_matrix:
            return None, None
        assert self._features is not None
        x0 = x if x is not None else self._matrix([text])
        if not contributions:
            return x0, None
        contrib, _ = self._features.contributions_from_matrix(x0)
        return x0, {self._names[j] for j in np.flatnonzero(contrib[0] < PULL_DOWN)}

    def _rescore(self, question: Question, x0: np.ndarray | None,
                 pairs: list[tuple[EditOperator, Candidate, TextAnalysis | None]]) -> list[float]:
        """The question's score, then every candidate's, from one call on one matrix: the
        base row, the rows of the edited analyses, the base row with the overrides."""
        if self._features is None or x0 is None:
            edited = [c.edited for _, c, _ in pairs if c.edited is not None]
            return [float(p) for p in self.model.predict_proba([question, *edited])]
        rows = np.repeat(x0, len(pairs) + 1, axis=0)
        edited_idx = [i for i, (_, c, _) in enumerate(pairs) if c.edited is not None]
        if edited_idx:
            rows[[i + 1 for i in edited_idx]] = self._matrix(
                [a for i in edited_idx if (a := pairs[i][2]) is not None])
        for i, (_, c, _) in enumerate(pairs):
            for name, value in (c.overrides or {}).items():
                if name in self._index:
                    rows[i + 1, self._index[name]] = value
        return [float(p) for p in self._features.proba_from_matrix(rows, [question.site] * len(rows))]

    def _suggest(self, question: Question, text: TextAnalysis, x0: np.ndarray | None,
                 pulling: set[str] | None) -> tuple[float, list[Suggestion]]:
        """The question's score and its ranked suggestions."""
        pairs = self._candidates(question, text, x0, pulling)
        base, *scores = self._rescore(question, x0, pairs)
        best: dict[str, Scored] = {}
        for (op, cand, _), score in zip(pairs, scores, strict=True):
            if score - base < self.min_gain:
                continue
            current = best.get(op.group)
            if current is None or (score, op.id) > (current.score, current.operator.id):
                best[op.group] = Scored(cand, op, score)
        ranked = sorted(best.values(), key=lambda s: (-round(s.score - base, 6), s.operator.id))
        kept: list[Scored] = []
        for s in ranked:
            if not any(_overlap(s.candidate, k.candidate) for k in kept):
                kept.append(s)
        return base, [self._suggestion(s, base) for s in kept[: self.max_suggestions]]

    @staticmethod
    def _suggestion(s: Scored, base: float) -> Suggestion:
        gain = round(s.score - base, 4)
        c, op = s.candidate, s.operator
        return Suggestion(
            id=op.id, feature=op.features[0], message=op.message, category=op.category,
            severity=severity(gain), gain=gain, mechanical=op.mechanical, field=c.field,
            start=c.start, length=c.length, replacement=c.replacement, detail=c.detail,
        )
