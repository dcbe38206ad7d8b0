"""Author: the asker's history before the question, where known.

Known for dump rows (computed at ingest from what existed before the question), unknown
(NaN) for a person typing into the editor; LightGBM treats NaN as missing. A writer can't
change their history, so these features are never the subject of a suggestion.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from askwell.features.signals import TextAnalysis
from askwell.features.spec import FeatureSpec, feature


def _value(attribute: str) -> Callable[[TextAnalysis], float]:
    def compute(a: TextAnalysis) -> float:
        value = getattr(a.question, attribute)
        if value is None:
            return math.nan
        value = float(value)
        return value if value >= 0 and math.isfinite(value) else math.nan

    compute.__name__ = attribute
    return compute


SPECS: tuple[FeatureSpec, ...] = (
    feature("author_prior_questions", "Asker's earlier questions", "author",
            "Questions the asker had posted on the site before this one (NaN if unknown).",
            _value("author_prior_questions"), actionable=False, unit="questions",
            missing_ok=True),
    feature("author_prior_answers", "Asker's earlier answers", "author",
            "Answers the asker had posted on the site before this question (NaN if unknown).",
            _value("author_prior_answers"), actionable=False, unit="answers", missing_ok=True),
    feature("author_account_age_days", "Asker's account age", "author",
            "Days between the asker's account creation and the question (NaN if unknown).",
            _value("author_account_age_days"), actionable=False, kind="score", unit="days",
            missing_ok=True),
)
