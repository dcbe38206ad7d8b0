"""The feature registry and the one code path that computes features.

Training, the service and batch scoring all call :func:`compute_features` (many
questions) or :func:`features_for` (one); both analyse each question once
(:func:`~askwell.features.signals.analyze_text`) and then run every registered function on
that analysis through :func:`_row`, so the numbers are the same whichever is used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from askwell.features import author, context, readability, structure, tone, vocabulary
from askwell.features.signals import TextAnalysis, analyze_text
from askwell.features.spec import GROUPS, FeatureSpec
from askwell.question import Question, as_questions, is_frame

if TYPE_CHECKING:
    import pandas as pd

#: Every defined feature, in definition order.
ALL_FEATURES: tuple[FeatureSpec, ...] = (
    *structure.SPECS,
    *context.SPECS,
    *readability.SPECS,
    *tone.SPECS,
    *vocabulary.SPECS,
    *author.SPECS,
)

#: Features measured and left out of the default set, with the reason. They can still be
#: computed by name (``compute_features(qs, names=[...])``). Figures from
#: ``benchmarks/bench_features.py --ablation --seeds 3`` on the 24 shared sites (7,525
#: labelled questions, ``grade`` label): 5-fold LightGBM CV ROC AUC 0.620 with the default
#: set, 0.612 with these added back. ``title_words`` duplicates ``title_chars`` (r = 0.93)
#: but is kept: the heuristic model's rules and the title edit operator read it.
#: (A ``sentiment`` feature, VADER's lexicon and rules, was measured too and removed with
#: its code: no signal, AUC 0.493 pooled, 0.497 within sites, real VADER 0.491.)
DROPPED: dict[str, str] = {
    "title_is_question": "duplicates title_question_mark (r = 0.94); the question mark is "
                         "what a writer can add, and what the title edit fixes",
    "body_chars": "duplicates body_words (r = 0.98) on these sites; code_share keeps the code part",
    "action_verbs": "no signal (AUC 0.490 pooled, 0.500 within sites)",
    "pronoun_share": "no signal (within-site AUC 0.498); removing the eight weakest "
                     "part-of-speech shares raised CV AUC by ~0.01",
    "adposition_share": "no signal (within-site AUC 0.501)",
    "conjunction_share": "no signal (within-site AUC 0.495)",
    "auxiliary_share": "no signal (within-site AUC 0.495)",
    "gerund_ing_share": "no signal (within-site AUC 0.497)",
    "nominalization_share": "no signal (within-site AUC 0.500)",
    "adverb_ly_share": "no signal (within-site AUC 0.508)",
}

#: The default features, in the order of the columns of :func:`compute_features`.
REGISTRY: tuple[FeatureSpec, ...] = tuple(s for s in ALL_FEATURES if s.name not in DROPPED)
#: Defined but not computed by default (see :data:`DROPPED`).
OPTIONAL: tuple[FeatureSpec, ...] = tuple(s for s in ALL_FEATURES if s.name in DROPPED)
_BY_NAME: dict[str, FeatureSpec] = {spec.name: spec for spec in ALL_FEATURES}
if len(_BY_NAME) != len(ALL_FEATURES) or not set(DROPPED) <= set(_BY_NAME):
    raise RuntimeError("feature names must be unique and DROPPED must name defined features")


def get_spec(name: str) -> FeatureSpec:
    """The spec of feature ``name``; the error lists what exists."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(
            f"unknown feature {name!r}; see askwell.features.feature_names() for the "
            f"{len(REGISTRY)} registered features"
        ) from None


def specs(
    groups: Iterable[str] | None = None,
    actionable: bool | None = None,
    include_optional: bool = False,
) -> list[FeatureSpec]:
    """Specs in registry order, optionally only some groups and/or (non-)actionable ones.

    ``include_optional`` adds the measured-and-dropped features (:data:`DROPPED`).
    """
    wanted: set[str] | None = None
    if groups is not None:
        wanted = {groups} if isinstance(groups, str) else set(groups)
        unknown = wanted - set(GROUPS)
        if unknown:
            raise ValueError(
                f"unknown feature group(s) {sorted(unknown)}; choose from {', '.join(GROUPS)}"
            )
    pool = ALL_FEATURES if include_optional else REGISTRY
    return [
        s for s in pool
        if (wanted is None or s.group in wanted)
        and (actionable is None or s.actionable == actionable)
    ]


def feature_names(
    groups: Iterable[str] | None = None,
    actionable: bool | None = None,
    include_optional: bool = False,
) -> list[str]:
    """Feature names in registry order (the columns of :func:`compute_features`)."""
    return [s.name for s in specs(groups, actionable, include_optional)]


def _selected(names: Sequence[str] | None) -> tuple[FeatureSpec, ...]:
    if names is None:
        return REGISTRY
    chosen = {get_spec(n).name for n in names}
    return tuple(s for s in ALL_FEATURES if s.name in chosen)


def _row(analysis: TextAnalysis, chosen: Sequence[FeatureSpec]) -> list[float]:
    """The one place a feature function is called."""
    return [float(spec.compute(analysis)) for spec in chosen]


def feature_row(analysis: TextAnalysis, chosen: Sequence[FeatureSpec]) -> list[float]:
    """The values of ``chosen`` features of one analysed question, in that order (the
    numbers :func:`compute_features` gives; the recommendation engine's fast path)."""
    return _row(analysis, chosen)


def _check_input(questions: Any) -> Any:
    if isinstance(questions, Question):
        return [questions]
    if isinstance(questions, Mapping | str):
        raise TypeError(
            "compute_features takes many questions (a list of Questions or dicts, or a "
            "dataset frame); for one question use features_for(question)"
        )
    return questions


def _matrix(items: Sequence[Question], chosen: Sequence[FeatureSpec]) -> np.ndarray:
    values = np.empty((len(items), len(chosen)), dtype=np.float64)
    for i, question in enumerate(items):
        values[i] = _row(analyze_text(question), chosen)
    return values


def feature_array(questions: Sequence[Question], names: Sequence[str]) -> np.ndarray:
    """Features of many questions as a float64 array, columns in the order of ``names``
    (a model's input order): the numbers of :func:`compute_features`, without pandas."""
    return _matrix(list(questions), tuple(get_spec(n) for n in names))


def compute_features(
    questions: Iterable[Question | Mapping[str, Any]] | pd.DataFrame,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Features of many questions: one float64 row per question, columns in registry order.

    Accepts :class:`Question` objects, dicts (``title``, ``body`` or ``body_html``,
    ``tags``, author fields) or a dataset frame; a frame's index is kept. ``names``
    picks the columns (default: :data:`REGISTRY`; optional features may be named too),
    always in definition order. Author features are NaN when unknown;
    every other value is finite and within its spec's ``[low, high]``.
    """
    import pandas as pd

    frame_index = questions.index if is_frame(questions) else None
    items = as_questions(_check_input(questions))
    chosen = _selected(names)
    values = _matrix(items, chosen)
    return pd.DataFrame(
        values,
        columns=[s.name for s in chosen],
        index=frame_index if frame_index is not None else pd.RangeIndex(len(items)),
    )


def features_for(
    question: Question | Mapping[str, Any] | TextAnalysis,
    names: Sequence[str] | None = None,
) -> dict[str, float]:
    """Features of one question (the same numbers :func:`compute_features` gives)."""
    analysis = question if isinstance(question, TextAnalysis) else analyze_text(question)
    chosen = _selected(names)
    return dict(zip((s.name for s in chosen), _row(analysis, chosen), strict=True))


def writing_stats(question: Question | Mapping[str, Any] | TextAnalysis) -> dict[str, float]:
    """Writing statistics to show a writer (title and prose; code is not prose).

    Keys: ``flesch_reading_ease``, ``flesch_kincaid_grade``, ``sentences``, ``words``,
    ``avg_word_length``, ``vocabulary_diversity``.
    """
    a = question if isinstance(question, TextAnalysis) else analyze_text(question)
    stats = {
        "flesch_reading_ease": readability.flesch_reading_ease(
            len(a.words), a.sentence_count, a.syllable_count),
        "flesch_kincaid_grade": readability.flesch_kincaid_grade(
            len(a.words), a.sentence_count, a.syllable_count),
        "sentences": float(a.sentence_count),
        "words": float(len(a.words)),
        "avg_word_length": vocabulary.avg_word_length(a),
        "vocabulary_diversity": vocabulary.vocabulary_diversity(a),
    }
    return {k: round(v, 2) if math.isfinite(v) else 0.0 for k, v in stats.items()}

