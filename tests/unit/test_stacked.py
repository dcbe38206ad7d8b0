"""The ``stacked`` family: out-of-fold text score as a tree input, exact contributions,
regularisation chosen on the training side, full suggestions through the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from askwell.explain.engine import Analyzer
from askwell.explain.schema import ModelRef
from askwell.models.base import FeatureModel, load_model, logit, make_model
from askwell.models.stacked import TEXT_COLUMN, StackedModel
from askwell.models.textinput import question_texts
from askwell.question import Question, as_questions
from tests.worlds import WEAK, make_questions


@pytest.fixture(scope="module")
def trained() -> StackedModel:
    train = make_questions(400, seed=11, noise=0.05)
    model = make_model("stacked", min_child_samples=5, n_estimators=200, text_folds=3)
    assert isinstance(model, StackedModel)
    return model.fit(train, train["label"], calibration=(train, train["label"]))  # type: ignore[return-value]


def test_the_text_column_of_training_rows_comes_from_models_that_never_saw_them() -> None:
    """In-sample text scores of noisy labels are over-confident; out-of-fold ones are not.
    A model fed in-sample scores would learn to trust the text column far too much."""
    from sklearn.metrics import roc_auc_score

    frame = make_questions(300, seed=4, noise=0.3)
    qs, y = as_questions(frame), frame["label"].to_numpy()
    model = StackedModel(text_C=[10.0], text_folds=3)
    model.fit(frame, y)
    _, oof = model._out_of_fold(question_texts(qs), y)
    in_sample = model._text_logit(qs)
    assert roc_auc_score(y, in_sample) > roc_auc_score(y, oof) + 0.05


def test_regularisation_is_chosen_from_the_grid_and_recorded() -> None:
    frame = make_questions(200, seed=5, noise=0.2)
    grid = [0.01, 1.0, 100.0]
    model = StackedModel(text_C=grid, text_folds=3, n_estimators=20).fit(frame, frame["label"])
    assert model.meta["text_C_chosen"] in grid
    single = StackedModel(text_C=0.5, text_folds=3, n_estimators=20).fit(frame, frame["label"])
    assert single.meta["text_C_chosen"] == 0.5


def test_contributions_add_up_to_the_raw_log_odds_and_include_the_text(trained: StackedModel) -> None:
    test = as_questions(make_questions(40, seed=12))
    x = trained.matrix(test)
    assert trained.feature_names_[-1] == TEXT_COLUMN and x.shape == (40, len(trained.feature_names_))
    contrib, base = trained.contributions_from_matrix(x)
    np.testing.assert_allclose(contrib.sum(axis=1) + base, logit(trained.raw_from_matrix(x)), atol=1e-6)
    assert np.abs(contrib[:, -1]).max() > 0, "the trees never use the text score"
    np.testing.assert_allclose(x[:, -1], trained._text_logit(test))


def test_suggestion_gains_are_rescored_with_the_edited_text(trained: StackedModel) -> None:
    assert isinstance(trained, FeatureModel)
    analyzer = Analyzer(trained, ModelRef("stacked", "test", "1", "ds"))
    result = analyzer.analyze(WEAK)
    mechanical = [s for s in result.suggestions if s.replacement is not None]
    assert mechanical, result.suggestions
    for s in mechanical:
        text = WEAK.title if s.field == "title" else WEAK.body
        edited = text[: s.start] + s.replacement + text[s.start + s.length:]
        q = (Question(edited, WEAK.body, WEAK.tags, WEAK.site) if s.field == "title"
             else Question(WEAK.title, edited, WEAK.tags, WEAK.site))
        assert trained.predict_proba([q])[0] - result.score == pytest.approx(s.gain, abs=1e-3)


def test_save_and_load_keep_both_estimators(trained: StackedModel, tmp_path: Path) -> None:
    folder = trained.save(tmp_path / "m")
    assert (folder / "booster.txt").exists() and (folder / "text_pipeline.skops").exists()
    loaded = load_model(folder)
    test = make_questions(30, seed=13)
    np.testing.assert_allclose(loaded.predict_proba(test), trained.predict_proba(test))
    (folder / "text_pipeline.skops").unlink()
    from askwell.models.artifacts import ArtifactError

    with pytest.raises(ArtifactError):
        load_model(folder)
