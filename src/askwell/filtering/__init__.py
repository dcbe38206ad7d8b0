"""The filtering model: is this a real, answerable question? (Ameisen ch10)

A fast LightGBM multiclass model in front of the quality model. It reads the request's
one :class:`~askwell.features.TextAnalysis` and says ``pass``, ``unsure`` (scored with a
warning) or ``reject`` (not scored: verdict ``not_ready``), with a reason code, a
message and advice. Trained on real questions against real non-questions from the dumps
(answers, comments, closed questions) and generated junk; see :mod:`.train` and the
packaged filter's MODEL_CARD.md.

Names are imported lazily, so registering ``askwell filter`` in the CLI costs nothing
until a filter command runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from askwell.filtering.model import (
        FilterOutcome,
        QuestionFilter,
        Thresholds,
        default_filter,
        default_filter_dir,
        load_filter,
    )
    from askwell.filtering.reasons import CLASSES, REASONS, SOFT_REASONS

_HOME = {
    "FilterOutcome": "model", "QuestionFilter": "model", "Thresholds": "model",
    "default_filter": "model", "default_filter_dir": "model", "load_filter": "model",
    "CLASSES": "reasons", "REASONS": "reasons", "SOFT_REASONS": "reasons",
}
__all__ = [
    "CLASSES",
    "REASONS",
    "SOFT_REASONS",
    "FilterOutcome",
    "QuestionFilter",
    "Thresholds",
    "default_filter",
    "default_filter_dir",
    "load_filter",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"askwell.filtering.{_HOME[name]}"), name)
    raise AttributeError(f"module 'askwell.filtering' has no attribute {name!r}")
