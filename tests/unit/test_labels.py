"""Label specs: each rule of ``grade``, exact per-site medians for ``book``, the registry."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from askwell.data.labels import (
    LABELS,
    LabelError,
    LabelSpec,
    apply_label,
    get_label,
    label_counts,
    label_values,
    register_label,
    site_medians,
)
from askwell.errors import AskwellError

CLOSED = pd.Timestamp("2020-06-01")
NAN = float("nan")

#: (case, score, answers, closed, close_reason, expected grade)
GRADE_CASES = [
    ("positive, open", 3, 0, False, None, 1.0),
    ("zero, answered, open", 0, 2, False, None, 1.0),
    ("zero, unanswered, open", 0, 0, False, None, NAN),
    ("negative, answered, open", -1, 4, False, None, 0.0),
    ("positive, closed other", 5, 1, True, "other", 0.0),
    ("positive, closed unknown reason", 2, 0, True, "unknown", 0.0),
    ("positive, closed duplicate", 5, 1, True, "duplicate", NAN),
    ("zero, unanswered, closed duplicate", 0, 0, True, "duplicate", NAN),
    ("zero, answered, closed duplicate", 0, 3, True, "duplicate", NAN),
    ("negative, closed duplicate", -2, 0, True, "duplicate", 0.0),
    ("negative, closed other", -3, 0, True, "other", 0.0),
]


def grade_frame(cases=GRADE_CASES) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": "beer.stackexchange.com",
            "score": [c[1] for c in cases],
            "answer_count": [c[2] for c in cases],
            "closed_date": [CLOSED if c[3] else pd.NaT for c in cases],
            "close_reason": pd.array([c[4] for c in cases], dtype="object"),
        },
        index=pd.RangeIndex(100, 100 + len(cases)),
    )


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize(("case", "score", "answers", "closed", "reason", "expected"), GRADE_CASES,
                         ids=[c[0] for c in GRADE_CASES])
def test_grade_rule_for_each_case(case, score, answers, closed, reason, expected):
    frame = grade_frame([(case, score, answers, closed, reason, expected)])
    assert same(label_values(frame, "grade").iloc[0], expected)


def test_grade_counts_and_apply_label_drop_neutrals_keeping_the_index():
    frame = grade_frame()
    counts = label_counts(frame, "grade")
    expected = [c[5] for c in GRADE_CASES]
    assert counts.good == sum(1 for e in expected if e == 1.0) == 2
    assert counts.bad == sum(1 for e in expected if e == 0.0) == 5
    assert counts.neutral == 4
    assert counts.total == len(frame)
    labelled = apply_label(frame, "grade")
    assert len(labelled) == 7
    assert labelled["label"].isin([0.0, 1.0]).all()
    kept = [100 + i for i, e in enumerate(expected) if not math.isnan(e)]
    assert labelled.index.tolist() == kept
    assert "label" not in frame.columns  # the input is not modified


def test_grade_is_the_default_label():
    frame = grade_frame()
    pd.testing.assert_frame_equal(apply_label(frame), apply_label(frame, "grade"))


def book_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "site": ["a"] * 4 + ["b"] * 3 + ["c"],
            "score": [1, 2, 3, 4, 5, 5, 7, -1],
        }
    )


def test_book_medians_per_site_are_exact():
    medians = site_medians(book_frame())
    assert medians.to_dict() == {"a": 2.5, "b": 5.0, "c": -1.0}


def test_book_labels_score_above_its_site_median_and_labels_every_row():
    frame = book_frame()
    assert label_values(frame, "book").tolist() == [0, 0, 1, 1, 0, 0, 1, 0]
    counts = label_counts(frame, "book")
    assert (counts.good, counts.bad, counts.neutral) == (3, 5, 0)
    assert len(apply_label(frame, "book")) == len(frame)


def test_unknown_label_names_the_valid_ones():
    with pytest.raises(LabelError) as err:
        get_label("goodness")
    assert isinstance(err.value, AskwellError)
    for name in ("grade", "book"):
        assert name in str(err.value)


def test_missing_columns_say_which():
    with pytest.raises(LabelError, match="answer_count"):
        label_values(pd.DataFrame({"score": [1], "closed_date": [pd.NaT], "close_reason": [None]}), "grade")


def test_registry_takes_new_specs_once():
    spec = LabelSpec("answered", "has an answer", lambda f: (f["answer_count"] > 0).astype(float),
                     ("answer_count",))
    try:
        register_label(spec)
        assert get_label("answered") is spec
        assert label_values(grade_frame(), "answered").sum() == 5
        with pytest.raises(LabelError, match="already registered"):
            register_label(spec)
    finally:
        LABELS.pop("answered", None)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-5, 5),
            st.integers(0, 3),
            st.sampled_from([None, "duplicate", "other", "unknown"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_grade_matches_the_rule_written_out(rows):
    frame = pd.DataFrame(
        {
            "score": [r[0] for r in rows],
            "answer_count": [r[1] for r in rows],
            "closed_date": [pd.NaT if r[2] is None else CLOSED for r in rows],
            "close_reason": pd.Series([r[2] for r in rows], dtype="object"),
        }
    )
    got = label_values(frame, "grade").to_numpy()
    for (score, answers, reason), value in zip(rows, got, strict=True):
        closed = reason is not None
        good = (score > 0 or (answers > 0 and score == 0)) and not closed
        bad = score < 0 or (closed and reason != "duplicate")
        assert not (good and bad)
        expected = 1.0 if good else 0.0 if bad else np.nan
        assert same(value, expected)
