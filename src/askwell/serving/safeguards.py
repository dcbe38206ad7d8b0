"""Safeguards around the model (the book's chapter 10) that belong to serving: check what
comes out, and fall back to rules when it is insane.

What goes in is checked once, for the CLI, the service and batch alike, by the analysis
pipeline (:mod:`askwell.explain.checks` finds, :data:`askwell.explain.checks.POLICY`
decides: decline, ``not_ready``, abstain or warn; :mod:`askwell.explain.pipeline` runs
the filtering model, the outlier score and abstention).

Output checks run after the model: the probability must be finite and in [0, 1] (or
absent, for ``not_ready``), the verdict one of the bands, every suggestion's gain finite
and positive and its offsets inside the text sent. Anything else -> the rule-based
heuristic model answers instead (``fallback``), and the warning says so.
"""

from __future__ import annotations

import math
from typing import Any, get_args

from askwell.explain.pipeline import Declined
from askwell.explain.schema import Analysis, Verdict
from askwell.question import Question

__all__ = ["FALLBACK_WARNING", "VERDICTS", "Declined", "check_output"]

#: Verdict bands the output check accepts.
VERDICTS = frozenset(get_args(Verdict))

FALLBACK_WARNING = ("The model's answer failed a sanity check ({detail}); this analysis comes "
                    "from the rule-based fallback model.")


# ---------------------------------------------------------------------- output
def _finite01(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v) and 0.0 <= v <= 1.0


def check_output(analysis: Analysis, question: Question) -> list[str]:
    """Problems with the model's answer (empty when it can be shown)."""
    problems: list[str] = []
    if analysis.verdict == "not_ready":
        if analysis.score is not None or analysis.suggestions:
            problems.append("a not_ready answer has a score or suggestions")
        if analysis.filter is None or not analysis.filter.message:
            problems.append("a not_ready answer does not say why")
    else:
        if not _finite01(analysis.score):
            problems.append(f"score {analysis.score!r} is not a probability")
        if not _finite01(analysis.confidence):
            problems.append(f"confidence {analysis.confidence!r} is not in [0, 1]")
    if not _finite01(analysis.threshold):
        problems.append(f"threshold {analysis.threshold!r} is not a probability")
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
