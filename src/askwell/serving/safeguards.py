"""Safeguards around the model (the book's chapter 10): check what goes in, check what comes
out, and say "I don't know" when the model can't help.

Input checks run before the model. Each outcome is one of three:

========================  =====================================================
check                     outcome
========================  =====================================================
empty                     declined (422 ``empty``)
binary junk               declined (422 ``binary``)
no letters / symbols only declined (422 ``not_text``)
over the hard size limit  declined (413 ``too_large``; the HTTP layer refuses
                          bodies over ``max_body_bytes`` before parsing)
over Stack Exchange's     the model runs on the first 30,000 / 300 characters,
limits (body / title)     with a warning
too short (< 5 words),    the model runs, with a warning (``low_confidence``)
only code, no title/body
not English               the model runs with a warning and **abstains**
far from the training     the model runs with a warning and **abstains**
data (outlier score)
========================  =====================================================

Output checks run after the model: the probability must be finite and in [0, 1], the
verdict one of the bands, every suggestion's gain finite and positive and its offsets
inside the text sent. Anything else -> the rule-based heuristic model answers instead
(``fallback``), and the warning says so.

Abstention: when the model's confidence is below a threshold (from settings, else the
model's own ``serving.abstain_below``, else 0.05), or the input is non-English or far
from the training data, the answer carries ``abstained``: the writing statistics and only
the high-certainty suggestions (mechanical fixes with at least a medium gain), no verdict
to act on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from askwell.data.document import parse_body
from askwell.explain.checks import check_question, english_likelihood
from askwell.explain.schema import Analysis
from askwell.question import Question

#: Verdict bands the output check accepts.
VERDICTS = frozenset({"strong", "fine", "at_risk", "likely_closed"})
#: Abstain below this confidence unless settings or the model say otherwise.
DEFAULT_ABSTAIN_BELOW = 0.05
#: A feature is "far out" when it lies beyond its training 1-99 % range by more than
#: that range's width.
FAR_OUT = 1.0
#: Features describing the author, not the text: an editor user has none, so they are not
#: part of the outlier score.
NOT_TEXT_FEATURES = frozenset({"author_prior_questions", "author_prior_answers",
                               "author_account_age_days", "site_is_meta", "site_kind"})

_WORD = re.compile(r"[^\W\d_]+")

ENGLISH_WARNING = ("This does not look like English. askwell was trained on English questions, "
                   "so it gives no verdict; only sure-fire fixes are shown.")
OOD_WARNING = ("This question is unlike the questions the model learned from ({detail}), so it "
               "gives no verdict; only sure-fire fixes are shown.")
ABSTAIN_WARNING = ("The model is not confident either way (confidence {confidence:.0%}), so it "
                   "gives no verdict; the writing statistics and sure-fire fixes still apply.")
FALLBACK_WARNING = ("The model's answer failed a sanity check ({detail}); this analysis comes "
                    "from the rule-based fallback model.")


class Declined(Exception):
    """The input can't be analysed; ``message`` tells the writer what to do."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# ---------------------------------------------------------------------- outliers
@dataclass(frozen=True)
class OutlierReference:
    """Per-feature training ranges (1st/99th percentile) kept with the model.

    ``score(x)`` is the share of features that lie further outside their range than the
    range is wide: about 0 for questions like the training ones, larger the stranger the
    input. Cheap (one vectorised comparison) and plain JSON, so no extra artifact.
    """

    names: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray
    width: np.ndarray

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None) -> OutlierReference | None:
        quantiles = ((meta or {}).get("reference") or {}).get("quantiles") or {}
        rows = [(n, q) for n, q in sorted(quantiles.items())
                if n not in NOT_TEXT_FEATURES and q and len(q) == 3
                and q[0] is not None and q[2] is not None]
        if not rows:
            return None
        lo = np.array([float(q[0]) for _, q in rows])
        hi = np.array([float(q[2]) for _, q in rows])
        # a feature that is constant on 98 % of training rows (e.g. 0 capital words) gets a
        # width of max(|value|, 1): one occurrence is not "far", ten are
        width = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0))
        return cls(tuple(n for n, _ in rows), lo, hi, width)

    def distances(self, values: Mapping[str, float]) -> np.ndarray:
        x = np.array([float(values.get(n, math.nan)) for n in self.names])
        out = np.maximum(np.maximum(self.lo - x, x - self.hi), 0.0) / self.width
        return np.where(np.isfinite(out), out, 0.0)

    def score(self, values: Mapping[str, float]) -> tuple[float, list[str]]:
        """(share of features far out, the names of the furthest ones, furthest first)."""
        d = self.distances(values)
        far = np.flatnonzero(d > FAR_OUT)
        worst = sorted(far.tolist(), key=lambda j: (-d[j], self.names[j]))[:3]
        return float(len(far) / len(self.names)), [self.names[j] for j in worst]


def feature_values(question: Question) -> dict[str, float]:
    """The model's feature vector for ``question``, by name (the same code as training)."""
    from askwell.features import compute_features

    frame = compute_features([question])
    return {k: float(v) for k, v in frame.iloc[0].items()}


# ---------------------------------------------------------------------- input
@dataclass
class InputReport:
    """What the input checks found, and the question the model will see."""

    question: Question
    warnings: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    abstain: list[str] = field(default_factory=list)
    ood_score: float | None = None


def _prose(body: str) -> str:
    """The body's text without code (code is not English or any other language)."""
    if not body.strip():
        return ""
    doc = parse_body(body)
    text = doc.text
    for span in sorted((s for s in doc.spans if s.kind in ("code_block", "inline_code")),
                       key=lambda s: -s.start):
        text = text[: span.start] + " " + text[span.end:]
    return text


def _letters_share(text: str) -> float:
    if not text:
        return 1.0
    return sum(1 for ch in text if ch.isalpha() or ch.isspace()) / len(text)


def check_input(question: Question, *, outliers: OutlierReference | None = None,
                ood_threshold: float = 0.06,
                features: Callable[[Question], Mapping[str, float]] | None = None) -> InputReport:
    """Run every input check; raise :class:`Declined` for input that can't be analysed."""
    base = check_question(question)
    if not base.ok:
        status = 413 if base.code == "too_large" else 422
        raise Declined(base.code or "unusable", base.error or "This input can't be analysed.", status)
    text = question.title + "\n" + question.body
    if not any(ch.isalpha() for ch in text):
        raise Declined("not_text", "There are no words to analyse: write the question in sentences "
                       "(a title that states the problem, a body that explains it).")
    if len(text) >= 40 and _letters_share(text) < 0.25:
        raise Declined("not_text", "This is mostly symbols, not text: paste the question as plain "
                       "text or Markdown, with any data or code in a code block.")
    q = base.question
    report = InputReport(q, list(base.warnings))
    words = _WORD.findall(q.title + " " + q.body)
    if len(q.body) < len(question.body) or len(q.title) < len(question.title):
        report.checks.append("truncated")
    if len(words) < 5:
        report.checks.append("too_short")
    prose = q.title + " " + _prose(q.body)
    prose_words = len(_WORD.findall(prose))
    latin, stops = english_likelihood(prose)
    if latin < 0.5 or (prose_words >= 12 and stops < 0.08):
        report.checks.append("non_english")
        report.abstain.append("non_english")
        # the shared check already warned in its own words; make the consequence explicit
        report.warnings = [w for w in report.warnings if not w.startswith("This does not look like English")]
        report.warnings.append(ENGLISH_WARNING)
    if outliers is not None and "non_english" not in report.checks:
        score, worst = outliers.score((features or feature_values)(q))
        report.ood_score = score
        if score > ood_threshold:
            report.checks.append("out_of_distribution")
            report.abstain.append("out_of_distribution")
            detail = "unusual " + ", ".join(w.replace("_", " ") for w in worst)
            report.warnings.append(OOD_WARNING.format(detail=detail))
    return report


# ---------------------------------------------------------------------- output
def _finite01(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and 0.0 <= v <= 1.0


def check_output(analysis: Analysis, question: Question) -> list[str]:
    """Problems with the model's answer (empty when it can be shown)."""
    problems: list[str] = []
    if not _finite01(analysis.score):
        problems.append(f"score {analysis.score!r} is not a probability")
    if not _finite01(analysis.threshold):
        problems.append(f"threshold {analysis.threshold!r} is not a probability")
    if not _finite01(analysis.confidence):
        problems.append(f"confidence {analysis.confidence!r} is not in [0, 1]")
    if analysis.verdict not in VERDICTS:
        problems.append(f"unknown verdict {analysis.verdict!r}")
    if any(not isinstance(v, int | float) or not math.isfinite(v) for v in analysis.stats.values()):
        problems.append("a writing statistic is not a number")
    seen: set[str] = set()
    last_gain = math.inf
    for s in analysis.suggestions:
        if s.id in seen:
            problems.append(f"suggestion {s.id} appears twice")
        seen.add(s.id)
        if not (isinstance(s.gain, int | float) and math.isfinite(s.gain) and s.gain > 0):
            problems.append(f"suggestion {s.id} has gain {s.gain!r}")
        elif s.gain > last_gain + 1e-9:
            problems.append("suggestions are not ranked by gain")
        else:
            last_gain = s.gain
        if s.field not in (None, "title", "body", "tags"):
            problems.append(f"suggestion {s.id} points at field {s.field!r}")
        if s.start is not None:
            text = question.title if s.field == "title" else question.body if s.field == "body" else None
            length = s.length or 0
            if text is None or s.start < 0 or length < 0 or s.start + length > len(text):
                problems.append(f"suggestion {s.id} points outside the {s.field}")
        if s.replacement is not None and (s.field is None or s.start is None):
            problems.append(f"suggestion {s.id} has a replacement but no place to put it")
    return problems


# ---------------------------------------------------------------------- abstention
def abstain_below(settings_value: float | None, model_meta: Mapping[str, Any] | None) -> float:
    """The confidence below which the service abstains: settings, else the model, else 0.05."""
    if settings_value is not None:
        return float(settings_value)
    serving = (model_meta or {}).get("serving") or {}
    got = serving.get("abstain_below")
    return float(got) if isinstance(got, int | float) else DEFAULT_ABSTAIN_BELOW


def high_certainty(analysis: Analysis) -> list:
    """Suggestions worth showing even without a verdict: mechanical, medium gain or more."""
    return [s for s in analysis.suggestions if s.mechanical and s.severity in ("high", "medium")]


def apply_abstention(analysis: Analysis, reasons: Sequence[str],
                     threshold: float) -> tuple[Analysis, list[str]]:
    """Abstain when asked to (``reasons``) or when confidence is below ``threshold``; returns
    the analysis to show and every reason it abstained for (empty: it did not)."""
    reasons = list(reasons)
    warnings = list(analysis.warnings)
    if analysis.confidence < threshold:
        reasons.append("low_confidence")
        warnings.append(ABSTAIN_WARNING.format(confidence=analysis.confidence))
    if not reasons:
        return analysis, []
    return replace(analysis, abstained=True, low_confidence=True,
                   suggestions=high_certainty(analysis), warnings=warnings), reasons
