"""Label specs: what counts as a good or a bad question, selectable by name.

A :class:`LabelSpec` turns a dataset frame into one float per row: ``1.0`` (good),
``0.0`` (bad) or ``NaN`` (neutral: left out of training and evaluation). Specs live in a
small registry (:data:`LABELS`); :func:`register_label` adds more.

- ``grade`` (default), after Stack Overflow's own question grade: good = score > 0, or
  answered with score 0, and not closed; bad = score < 0, or closed for any reason other
  than being a duplicate. Everything else (unanswered at score 0, closed as a duplicate
  with a score >= 0) is neutral.
- ``book``: score > the median score of the question's site, as in the book's case study.
  Every row is labelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from askwell.errors import AskwellError

DEFAULT_LABEL = "grade"
LABEL_COLUMN = "label"


class LabelError(AskwellError):
    """An unknown label spec, or a frame that lacks the columns a spec needs."""


@dataclass(frozen=True)
class LabelSpec:
    """A named rule mapping a question frame to 1.0 (good), 0.0 (bad) or NaN (neutral)."""

    name: str
    description: str
    function: Callable[[pd.DataFrame], pd.Series]
    requires: tuple[str, ...] = field(default=())

    def __call__(self, frame: pd.DataFrame) -> pd.Series:
        missing = [c for c in self.requires if c not in frame.columns]
        if missing:
            raise LabelError(
                f"label {self.name!r} needs the column(s) {', '.join(missing)}; "
                "pass a frame loaded from an ingested dataset (Dataset.to_pandas())"
            )
        values = self.function(frame).astype(float)
        if not values.index.equals(frame.index):
            raise LabelError(f"label {self.name!r} returned a series not aligned with the frame")
        return values.rename(LABEL_COLUMN)


@dataclass(frozen=True)
class LabelCounts:
    """How many rows a spec labels good, bad and neutral."""

    label: str
    good: int
    bad: int
    neutral: int

    @property
    def total(self) -> int:
        return self.good + self.bad + self.neutral

    @property
    def labelled(self) -> int:
        return self.good + self.bad

    @property
    def good_share(self) -> float:
        """Share of good among labelled rows (NaN when nothing is labelled)."""
        return self.good / self.labelled if self.labelled else float("nan")

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "good": self.good,
            "bad": self.bad,
            "neutral": self.neutral,
            "total": self.total,
            "good_share": None if not self.labelled else round(self.good_share, 4),
        }


def _closed(frame: pd.DataFrame) -> pd.Series:
    return frame["closed_date"].notna()


def grade(frame: pd.DataFrame) -> pd.Series:
    """Stack Overflow's question grade (see the module docstring)."""
    score = frame["score"].fillna(0).to_numpy()
    answered = frame["answer_count"].fillna(0).to_numpy() > 0
    closed = _closed(frame).to_numpy()
    reason = frame["close_reason"].astype(object).to_numpy()
    closed_not_dup = closed & (reason != "duplicate")
    good = ((score > 0) | ((score == 0) & answered)) & ~closed
    bad = (score < 0) | closed_not_dup
    out = np.full(len(frame), np.nan)
    out[good] = 1.0
    out[bad] = 0.0  # good and bad are disjoint: good needs score >= 0 and not closed
    return pd.Series(out, index=frame.index)


def site_medians(frame: pd.DataFrame) -> pd.Series:
    """Median score of each site in ``frame`` (indexed by site)."""
    return frame.groupby("site", sort=True)["score"].median()


def book(frame: pd.DataFrame) -> pd.Series:
    """Score above the median score of the question's own site."""
    median = frame.groupby("site")["score"].transform("median")
    return (frame["score"] > median).astype(float)


LABELS: dict[str, LabelSpec] = {}


def register_label(spec: LabelSpec) -> LabelSpec:
    """Add a spec to the registry (a name can be registered once)."""
    if spec.name in LABELS:
        raise LabelError(f"a label named {spec.name!r} is already registered")
    LABELS[spec.name] = spec
    return spec


register_label(
    LabelSpec(
        "grade",
        "good = score > 0, or answered with score 0, and not closed; bad = score < 0 or "
        "closed (except as a duplicate); other questions are neutral and left out",
        grade,
        ("score", "answer_count", "closed_date", "close_reason"),
    )
)
register_label(
    LabelSpec(
        "book",
        "good = score > the median score of its site (the book's case study); "
        "every question labelled",
        book,
        ("site", "score"),
    )
)


def get_label(name: str) -> LabelSpec:
    """The spec registered under ``name``; the error lists the valid names."""
    try:
        return LABELS[name]
    except KeyError:
        valid = ", ".join(sorted(LABELS))
        raise LabelError(f"unknown label {name!r}; choose one of: {valid}") from None


def label_values(frame: pd.DataFrame, name: str = DEFAULT_LABEL) -> pd.Series:
    """1.0 / 0.0 / NaN per row of ``frame`` under spec ``name``."""
    return get_label(name)(frame)


def count_labels(values: pd.Series, name: str) -> LabelCounts:
    arr = values.to_numpy(dtype=float)
    return LabelCounts(
        label=name,
        good=int((arr == 1.0).sum()),
        bad=int((arr == 0.0).sum()),
        neutral=int(np.isnan(arr).sum()),
    )


def label_counts(frame: pd.DataFrame, name: str = DEFAULT_LABEL) -> LabelCounts:
    """Good, bad and neutral counts of ``frame`` under spec ``name``."""
    return count_labels(label_values(frame, name), name)


def apply_label(frame: pd.DataFrame, name: str = DEFAULT_LABEL) -> pd.DataFrame:
    """A copy of ``frame`` with a float ``label`` column (1.0 good, 0.0 bad); neutrals dropped.

    The original index is kept, so rows can be traced back to the full frame.
    """
    values = label_values(frame, name)
    out = frame.assign(**{LABEL_COLUMN: values})
    return out[values.notna()]
