"""Writing faults and what each costs: the one table of fault costs.

The ``features`` model boosts its trees from these costs (LightGBM init_score) and the
``heuristic`` model (the service's fallback) scores with the same figures, so a fault
costs the same wherever it is counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


#: Writing faults the communities' own "How to ask" guidance names, with a prior cost in
#: log-odds. Most are rare in the dumps (a few dozen questions each), so the trees can't
#: estimate their cost; the common ones (a title without "?", lower-case sentences) are
#: confounded with site and topic (meta posts have statement titles), so the observed
#: association is no estimate of what fixing them is worth. By default the expert figure
#: is used as it is (``prior_strength=None``; a number blends it with the observed
#: log-odds ratio, Bayesian, in that many pseudo-questions). The trees are boosted *from*
#: this offset (LightGBM init_score) so they learn what it misses instead of counting it
#: twice, and monotone constraints (the registry's writer-facing direction) stop them from
#: undoing it: a fault can cost more than its prior, never less. Measured on the shared
#: dumps (grade label, time split, same run): held-out ROC AUC 0.651 with this against
#: 0.653 blended (100 pseudo-questions), and degradation recall@3 for a dropped title "?"
#: 0.99 against 0.00 (benchmarks/bench_recommendations.py).
@dataclass(frozen=True)
class FaultPrior:
    """A fault is present when the feature is at least ``threshold`` (or below it, when
    ``below``); its cost counts once per ``threshold`` occurrences, up to ``cap`` times,
    so fixing one of two unformatted snippets is worth something on its own."""

    threshold: float
    expert: float
    below: bool = False
    cap: int = 3


FAULT_PRIORS: dict[str, FaultPrior] = {
    "urgency": FaultPrior(1, -0.5),
    "begging": FaultPrior(1, -0.5),
    "greetings": FaultPrior(1, -0.2),
    "thanks": FaultPrior(1, -0.2),
    "not_working": FaultPrior(1, -0.3),
    "exclamation_runs": FaultPrior(1, -0.5),
    "all_caps_words": FaultPrior(1, -0.5),
    "error_outside_code": FaultPrior(1, -0.7),
    "code_outside_block": FaultPrior(1, -0.7),
    "lowercase_starts": FaultPrior(2, -0.5),
    "title_question_mark": FaultPrior(1, -0.3, below=True, cap=1),
}


def fault_units(values: np.ndarray, threshold: float, below: bool = False, cap: int = 1) -> np.ndarray:
    """How many times a fault's cost counts for each value (0 when absent)."""
    values = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    if below:
        return (values < threshold).astype(float)
    return np.minimum(np.floor(values / threshold), cap)
