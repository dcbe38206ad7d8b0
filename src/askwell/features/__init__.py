"""Features: one registry, one code path for training, serving and batch scoring.

- :data:`REGISTRY` lists the default :class:`FeatureSpec` s (name, display name, group,
  unit, kind, whether a writer can act on it and in which direction, range, function);
  :data:`OPTIONAL` holds features measured and left out, with reasons in :data:`DROPPED`.
- :func:`compute_features` (many questions -> DataFrame) and :func:`features_for` (one
  question -> dict) both analyse each question once (:func:`analyze_text`) and call the
  registered functions on that analysis.
- :func:`find_signals` locates greetings, thanks, urgency, "what I tried", error text
  outside code, shouting... with character offsets, for suggestions.
- :func:`writing_stats` gives the statistics shown next to a score.

Heavy resources (the CMU syllable dictionary) load on first use, never at import; the
service's canary analyses at model load pay for that before the first request.
"""

from askwell.features.registry import (
    ALL_FEATURES,
    DROPPED,
    OPTIONAL,
    REGISTRY,
    compute_features,
    feature_names,
    features_for,
    get_spec,
    specs,
    writing_stats,
)
from askwell.features.signals import (
    SIGNAL_KINDS,
    Signal,
    TextAnalysis,
    analyze_text,
    find_signals,
)
from askwell.features.spec import GROUPS, KINDS, FeatureSpec

__all__ = [
    "ALL_FEATURES",
    "DROPPED",
    "GROUPS",
    "KINDS",
    "OPTIONAL",
    "REGISTRY",
    "SIGNAL_KINDS",
    "FeatureSpec",
    "Signal",
    "TextAnalysis",
    "analyze_text",
    "compute_features",
    "feature_names",
    "features_for",
    "find_signals",
    "get_spec",
    "specs",
    "writing_stats",
]
