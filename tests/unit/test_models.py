"""The learning pipeline itself: data flow, capacity, generalisation, determinism, artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from askwell.models.artifacts import ArtifactError
from askwell.models.base import Calibration, best_threshold, load_model, make_model
from tests.worlds import make_questions

FAMILIES = ["heuristic", "linear", "features", "book-v1", "stacked"]
LEARNED = ["linear", "features", "book-v1", "stacked"]


@pytest.fixture(scope="module")
def world():
    train = make_questions(240, seed=1)
    test = make_questions(120, seed=2)
    return train, test


@pytest.mark.parametrize("family", FAMILIES)
def test_probabilities_are_finite_and_in_range(family, world):
    train, test = world
    model = make_model(family).fit(train, train["label"], calibration=(test, test["label"]))
    p = model.predict_proba(test)
    assert p.shape == (len(test),)
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()


@pytest.mark.parametrize("family", LEARNED)
def test_each_model_can_overfit_a_small_training_set(family):
    small = make_questions(60, seed=3, noise=0.0)
    trees = {"min_child_samples": 2, "n_estimators": 200}
    params = trees if family in ("features", "stacked") else {}
    if family == "book-v1":
        params = {}
    model = make_model(family, **params).fit(small, small["label"])
    acc = ((model.predict_proba(small) >= 0.5) == small["label"].astype(bool)).mean()
    assert acc >= 0.95


@pytest.mark.parametrize("family", FAMILIES)
def test_beats_a_constant_predictor_on_held_out_data(family, world):
    from sklearn.metrics import brier_score_loss, roc_auc_score

    train, test = world
    model = make_model(family).fit(train, train["label"], calibration=(train, train["label"]))
    p = model.predict_proba(test)
    y = test["label"].to_numpy()
    assert roc_auc_score(y, p) > 0.75
    assert brier_score_loss(y, p) < brier_score_loss(y, np.full(len(y), y.mean()))


@pytest.mark.parametrize("family", LEARNED)
def test_same_data_and_seed_give_the_same_model(family, world):
    train, test = world
    a = make_model(family, seed=7).fit(train, train["label"]).predict_proba(test)
    b = make_model(family, seed=7).fit(train, train["label"]).predict_proba(test)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("family", FAMILIES)
def test_save_and_load_round_trip(family, world, tmp_path: Path):
    train, test = world
    model = make_model(family).fit(train, train["label"], calibration=(test, test["label"]))
    folder = model.save(tmp_path / family)
    loaded = load_model(folder)
    np.testing.assert_allclose(loaded.predict_proba(test), model.predict_proba(test))
    assert loaded.threshold == model.threshold
    assert not list(folder.glob("*.pkl")) and not list(folder.glob("*.joblib"))


@pytest.mark.parametrize("family", LEARNED)
def test_tampered_artifact_is_refused(family, world, tmp_path: Path):
    train, _ = world
    folder = make_model(family).fit(train, train["label"]).save(tmp_path / "m")
    victim = next(p for p in folder.iterdir() if p.name not in ("MANIFEST.json", "model.json"))
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ArtifactError, match="sha256"):
        load_model(folder)


def test_missing_manifest_and_unknown_family_are_refused(world, tmp_path: Path):
    train, _ = world
    folder = make_model("linear").fit(train, train["label"]).save(tmp_path / "m")
    meta = json.loads((folder / "model.json").read_text())
    meta["family"] = "pickle-bomb"
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError):
        load_model(folder)  # sha mismatch first
    (folder / "MANIFEST.json").unlink()
    with pytest.raises(ArtifactError, match="MANIFEST"):
        load_model(folder)


def test_calibration_maps_a_miscalibrated_score_closer_to_frequencies():
    rng = np.random.default_rng(0)
    true_p = rng.uniform(0.05, 0.95, 5000)
    y = (rng.uniform(size=5000) < true_p).astype(int)
    raw = true_p**3  # badly miscalibrated but same ranking
    cal = Calibration.fit(raw, y)
    err_before = np.mean((raw - true_p) ** 2)
    err_after = np.mean((cal.apply(raw) - true_p) ** 2)
    assert err_after < err_before / 4
    assert np.all(np.diff(cal.apply(np.sort(raw))) >= 0)  # monotone


def test_threshold_separates_a_clean_problem():
    y = np.array([0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    t = best_threshold(y, p)
    assert 0.3 < t <= 0.6


@pytest.mark.parametrize("family", ["linear", "features"])
def test_explanations_add_up_to_the_raw_log_odds(family, world):
    train, test = world
    model = make_model(family).fit(train, train["label"])
    exp = model.explain(test.head(5))
    total = np.asarray(exp.contributions.sum(axis=1)).ravel() + exp.base_value
    raw = model.raw_proba(model_questions(test.head(5)))
    np.testing.assert_allclose(1 / (1 + np.exp(-total)), raw, atol=1e-6)
    assert exp.top(0, 3)


def model_questions(frame):
    from askwell.question import questions_from_frame

    return questions_from_frame(frame)


def test_unknown_family_has_a_helpful_message():
    from askwell.errors import AskwellError

    with pytest.raises(AskwellError, match="choose one of"):
        make_model("xgboost")


def test_a_fault_costs_the_same_in_the_heuristic_and_the_features_prior() -> None:
    """One table of fault costs (models/faults.py): the fallback model and the features
    model's prior never disagree on what urgency or a greeting costs."""
    from askwell.models.faults import FAULT_PRIORS
    from askwell.models.heuristic import RULES

    faults = [r for r in RULES if r.feature in FAULT_PRIORS]
    assert {r.feature for r in faults} >= {"urgency", "begging", "greetings", "error_outside_code"}
    for rule in faults:
        prior = FAULT_PRIORS[rule.feature]
        assert rule.points == prior.expert, rule.feature
        at = prior.threshold
        assert rule.when(at - 1 if prior.below else at) and not rule.when(at if prior.below else at - 1)
