"""Features on real Stack Exchange questions: train/serve parity, no stray NaN, ranges hold."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from askwell.features import (
    REGISTRY,
    analyze_text,
    compute_features,
    feature_names,
    features_for,
    writing_stats,
)
from askwell.question import questions_from_frame

pytestmark = pytest.mark.integration

N = 500


@pytest.fixture(scope="module")
def sample(real_dataset) -> pd.DataFrame:
    frame = real_dataset.to_pandas()
    return frame.sample(n=min(N, len(frame)), random_state=7)


@pytest.fixture(scope="module")
def batch(sample) -> pd.DataFrame:
    return compute_features(sample)


def test_batch_equals_one_question_at_a_time_on_real_questions(sample, batch):
    """Training computes features in batch, the service one by one: same numbers."""
    assert list(batch.columns) == feature_names()
    assert list(batch.index) == list(sample.index)
    for i, question in enumerate(questions_from_frame(sample)):
        single = np.array(list(features_for(question).values()))
        np.testing.assert_array_equal(batch.iloc[i].to_numpy(), single)


def test_no_nan_outside_author_features_and_ranges_hold(batch):
    assert (batch.dtypes == np.float64).all()
    for spec in REGISTRY:
        values = batch[spec.name].to_numpy()
        if spec.missing_ok:
            values = values[~np.isnan(values)]
        assert np.isfinite(values).all(), spec.name
        assert (values >= spec.low).all() and (values <= spec.high).all(), spec.name


def test_author_features_are_known_for_dump_rows(sample, batch):
    known = sample["author_prior_questions"].notna().to_numpy()
    assert known.mean() > 0.5
    np.testing.assert_array_equal(batch["author_prior_questions"].notna().to_numpy(), known)


def test_structure_features_agree_with_the_ingested_columns(sample, batch):
    """Ingest and features parse bodies with the same function: the counts match."""
    for feature, column in [("code_blocks", "n_code_blocks"), ("inline_code", "n_inline_code"),
                            ("links", "n_links"), ("images", "n_images"), ("lists", "n_lists")]:
        np.testing.assert_array_equal(batch[feature].to_numpy(), sample[column].to_numpy(float))


def test_no_feature_is_dead_on_the_real_dataset(real_dataset):
    """Each feature takes more than one value over all shared questions."""
    everything = compute_features(real_dataset.to_pandas())
    dead = [c for c in everything.columns if everything[c].nunique(dropna=True) < 2]
    assert not dead, dead


def test_signal_offsets_point_at_their_text_on_real_questions(sample):
    for question in questions_from_frame(sample.head(200)):
        a = analyze_text(question)
        for s in a.signals:
            text = a.title if s.field == "title" else a.body
            assert text[s.start : s.end] == s.text
        stats = writing_stats(a)
        assert all(math.isfinite(v) for v in stats.values())
