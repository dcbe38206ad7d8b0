"""The report's figures on cases small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from askwell.data.splits import cv_folds
from askwell.evaluation.bootstrap import (
    bootstrap_metrics,
    paired_bootstrap,
    resample_weights,
    weighted_metrics,
)
from askwell.evaluation.erroranalysis import error_map, pick_examples
from askwell.evaluation.evaluate import diagnose
from askwell.evaluation.leakage import LEAKAGE_AUC, leakage_alarm
from askwell.evaluation.metrics import (
    METRIC_NAMES,
    classification_metrics,
    confusion,
    expected_calibration_error,
    reliability,
    univariate_auc,
)
from askwell.evaluation.operating import flag_curve, operating_point, tradeoff_table
from askwell.evaluation.segments import segment_performance

# The classic four-question example: one bad question (0.4) outranks one good one (0.35).
Y4 = np.array([0, 0, 1, 1])
P4 = np.array([0.1, 0.4, 0.35, 0.8])


# ---------------------------------------------------------------- hand-computable figures
def test_confusion_matrix_counts_and_normalised_rows():
    c = confusion(Y4, P4, threshold=0.5)
    assert c["counts"] == [[2, 0], [1, 1]]
    assert (c["tn"], c["fp"], c["fn"], c["tp"]) == (2, 0, 1, 1)
    assert c["normalised"] == [[1.0, 0.0], [0.5, 0.5]]


def test_confusion_matrix_threshold_is_inclusive_like_predict():
    assert confusion(np.array([1]), np.array([0.5]), 0.5)["tp"] == 1


def test_roc_auc_of_the_four_question_example_is_three_quarters():
    m = classification_metrics(Y4, P4, 0.5)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["precision"] == pytest.approx(1.0)
    assert m["recall"] == pytest.approx(0.5)


def test_ece_of_two_bins_by_hand():
    # bin [0.1, 0.2): mean p 0.1, observed 1/2 -> gap 0.4; bin [0.9, 1]: mean 0.9, observed 1 -> 0.1
    y = np.array([0, 1, 1, 1])
    p = np.array([0.1, 0.1, 0.9, 0.9])
    assert expected_calibration_error(y, p) == pytest.approx(0.5 * 0.4 + 0.5 * 0.1)
    r = reliability(y, p)
    assert r["count"][1] == 2 and r["count"][9] == 2 and sum(r["count"]) == 4
    assert r["fraction_good"][1] == pytest.approx(0.5)
    assert r["mean_predicted"][0] is None


def test_ece_is_zero_when_probabilities_match_frequencies():
    y = np.array([0, 0, 0, 1] * 5 + [1, 1, 1, 0] * 5)
    p = np.array([0.25] * 20 + [0.75] * 20)
    assert expected_calibration_error(y, p) == pytest.approx(0.0)


def test_probability_one_falls_in_the_last_bin():
    assert reliability(np.array([1]), np.array([1.0]))["count"][-1] == 1


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        ([1, 2, 3, 4], 1.0),
        ([4, 3, 2, 1], 1.0),  # works backwards: still separates perfectly
        ([5, 5, 5, 5], 0.5),
        ([np.nan, np.nan, 1, 2], 1.0),  # "missing" itself is the signal
        ([1, 3, 2, 4], 0.75),
    ],
)
def test_univariate_auc_by_hand(x, expected):
    assert univariate_auc(np.array(x, dtype=float), np.array([0, 0, 1, 1])) == pytest.approx(expected)


def test_univariate_auc_is_undefined_with_one_class():
    assert math.isnan(univariate_auc(np.array([1.0, 2.0]), np.array([1, 1])))


# ---------------------------------------------------------------- bootstrap
def _toy(n=400, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.6).astype(int)
    p = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(2)  # rounding makes ties
    return y, p


def test_weighted_metrics_equal_classification_metrics_on_the_resampled_rows():
    y, p = _toy()
    w = resample_weights(len(y), 4, seed=3)
    got = weighted_metrics(y, p, 0.5, w)
    for b in range(4):
        rows = np.repeat(np.arange(len(y)), w[b].astype(int))
        ref = classification_metrics(y[rows], p[rows], 0.5)
        for name in METRIC_NAMES:
            assert got[name][b] == pytest.approx(ref[name], abs=1e-12), name


def test_bootstrap_interval_contains_the_point_estimate():
    y, p = _toy()
    out = bootstrap_metrics(y, p, 0.5, n_boot=500, seed=1)
    ref = classification_metrics(y, p, 0.5)
    for name in METRIC_NAMES:
        assert out[name]["value"] == pytest.approx(ref[name])
        assert out[name]["low"] <= out[name]["value"] <= out[name]["high"], name
        assert out[name]["low"] < out[name]["high"]


def test_bootstrap_is_seeded_and_deterministic():
    y, p = _toy()
    a = bootstrap_metrics(y, p, 0.5, n_boot=200, seed=7)
    b = bootstrap_metrics(y, p, 0.5, n_boot=200, seed=7)
    c = bootstrap_metrics(y, p, 0.5, n_boot=200, seed=8)
    assert a == b
    assert a["roc_auc"]["low"] != c["roc_auc"]["low"]


def test_bootstrap_interval_narrows_with_more_data():
    small = bootstrap_metrics(*_toy(100), 0.5, n_boot=300, seed=0)["roc_auc"]
    large = bootstrap_metrics(*_toy(2000), 0.5, n_boot=300, seed=0)["roc_auc"]
    assert large["high"] - large["low"] < small["high"] - small["low"]


def test_paired_bootstrap_of_a_model_against_itself_is_exactly_zero():
    y, p = _toy()
    out = paired_bootstrap(y, p, p, 0.5, 0.5, n_boot=200, seed=0)
    for name in METRIC_NAMES:
        assert out[name]["difference"] == 0.0
        assert out[name]["low"] == 0.0 and out[name]["high"] == 0.0
        assert not out[name]["significant"]


def test_paired_bootstrap_finds_a_clearly_better_model():
    y, p = _toy(800)
    noisy = np.clip(p + np.random.default_rng(1).normal(0, 0.3, len(p)), 0, 1)
    out = paired_bootstrap(y, p, noisy, 0.5, 0.5, n_boot=300, seed=0)["roc_auc"]
    assert out["difference"] > 0 and out["low"] > 0 and out["significant"]
    assert out["share_a_better"] > 0.97


def test_bootstrap_with_one_class_reports_undefined_auc():
    out = bootstrap_metrics(np.ones(20), np.linspace(0, 1, 20), 0.5, n_boot=50)
    assert out["roc_auc"]["value"] is None and out["roc_auc"]["low"] is None
    assert out["accuracy"]["value"] == pytest.approx(0.5)


# ---------------------------------------------------------------- operating point
Y8 = np.array([0, 0, 0, 1, 1, 1, 1, 0])
P8 = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])


def test_flag_curve_counts_bad_questions_below_the_threshold():
    c = flag_curve(Y8, P8, "bad")
    i = list(c["threshold"]).index(0.6)  # flags 0.1, 0.2, 0.3, 0.4: three bad of four
    assert c["flagged"][i] == 4
    assert c["precision"][i] == pytest.approx(0.75)
    assert c["recall"][i] == pytest.approx(0.75)
    assert c["false_alarm_rate"][i] == pytest.approx(0.25)


def test_operating_point_for_a_target_precision_maximises_recall():
    op = operating_point(Y8, P8, target_precision=0.75, flag="bad", min_flagged=1)
    assert op["reached"]
    assert op["threshold"] == pytest.approx(0.4)  # flag the three bad ones, nothing else
    assert (op["precision"], op["recall"], op["flagged"]) == (1.0, 0.75, 3)


def test_operating_point_for_a_target_recall():
    op = operating_point(Y8, P8, target_recall=1.0, flag="bad", min_flagged=1)
    assert op["reached"] and op["recall"] == 1.0 and op["precision"] == pytest.approx(0.5)


def test_operating_point_for_the_good_class():
    op = operating_point(Y8, P8, target_precision=0.75, flag="good", min_flagged=1)
    assert op["threshold"] == pytest.approx(0.4) and op["precision"] == pytest.approx(0.8)
    assert op["recall"] == 1.0


def test_unreachable_precision_is_reported_not_faked():
    op = operating_point(Y8, P8, target_precision=0.99, flag="bad", min_flagged=5)
    assert not op["reached"]
    assert op["flagged"] >= 5


def test_precision_on_a_single_flagged_question_does_not_meet_a_target():
    y = np.array([0] + [1] * 30 + [0] * 5)
    p = np.r_[0.01, np.linspace(0.2, 0.9, 35)]
    op = operating_point(y, p, target_precision=0.9, flag="bad", min_flagged=10)
    assert not op["reached"]


def test_tradeoff_table_rows_by_share_flagged():
    rows = tradeoff_table(Y8, P8, flag="bad", shares=(0.25, 0.5), thresholds=(0.5,))
    by_flagged = {r["flagged"]: r for r in rows}
    assert set(by_flagged) == {2, 4}
    assert by_flagged[4]["precision"] == pytest.approx(0.75)
    assert any(r["threshold"] == 0.5 for r in rows)


# ---------------------------------------------------------------- leakage alarm
def _features(n=600, seed=0, leak=True):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.7).astype(int)
    frame = pd.DataFrame({
        "words": rng.normal(120, 60, n) + 25 * y,  # honest, weak signal (AUC about 0.6)
        "has_code": (rng.random(n) < 0.3 + 0.15 * y).astype(float),
        "noise": rng.normal(size=n),
    })
    if leak:  # e.g. an answer count that slipped into the features
        frame["answers_later"] = y * 2 + rng.poisson(0.3, n)
    return frame, y


def test_leakage_alarm_fires_on_a_planted_leaking_feature():
    frame, y = _features()
    test, y_test = _features(seed=1)
    out = leakage_alarm(frame, y, test, y_test)
    assert [r["feature"] for r in out["flagged"]] == ["answers_later"]
    flagged = out["flagged"][0]
    assert flagged["auc"] > LEAKAGE_AUC and flagged["auc_held_out"] > LEAKAGE_AUC
    assert flagged["higher_means"] == "good"


def test_leakage_alarm_stays_quiet_on_honest_features():
    frame, y = _features(leak=False)
    out = leakage_alarm(frame, y)
    assert out["flagged"] == []
    assert 0.5 <= out["features"][0]["auc"] < LEAKAGE_AUC


def test_a_feature_that_separates_backwards_also_fires():
    frame, y = _features(leak=False)
    frame["closed_marker"] = 1 - y
    assert [r["feature"] for r in leakage_alarm(frame, y)["flagged"]] == ["closed_marker"]


def test_a_feature_as_good_as_the_model_is_called_dominant():
    frame, y = _features(leak=False)
    test, y_test = _features(leak=False, seed=1)
    out = leakage_alarm(frame, y, test, y_test, model_auc=0.55)
    assert "words" in [r["feature"] for r in out["dominant"]]


# ---------------------------------------------------------------- the rest, small
def test_pick_examples_best_worst_uncertain():
    y = np.array([1, 0, 1, 0, 1])
    p = np.array([0.95, 0.9, 0.55, 0.05, 0.2])
    ex = pick_examples(y, p, threshold=0.5, k=2)
    assert ex["best"] == [3, 0]  # right and most confident: 0.05 for a bad one, 0.95 for a good one
    assert ex["worst"] == [1, 4]  # wrong: 0.9 for a bad one, then 0.2 for a good one
    assert ex["uncertain"] == [2, 4]


def test_error_map_finds_the_cell_where_errors_concentrate():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 8, size=(400, 2))
    y = np.ones(400, dtype=int)
    p = np.full(400, 0.9)
    corner = (xy[:, 0] < 1) & (xy[:, 1] < 1)
    p[corner] = 0.1  # every question in the corner cell is wrong
    out = error_map(xy, y, p, 0.5, grid=8)
    region = out["region"]
    assert region["errors"] == corner.sum() and region["error_rate"] == 1.0
    assert region["x_range"][0] == pytest.approx(xy[:, 0].min())
    assert region["false_bad"] == corner.sum()


@pytest.mark.parametrize(
    ("train", "held_out", "verdict"),
    [(1.0, 0.64, "overfitting"), (0.70, 0.68, "underfitting"), (0.82, 0.75, "mild overfitting"),
     (0.80, 0.78, "fine")],
)
def test_bias_variance_diagnosis(train, held_out, verdict):
    out = diagnose({"roc_auc": train}, {"roc_auc": held_out})
    assert out["verdict"] == verdict
    assert f"{held_out:.3f}" in out["text"]


def _segment_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    kind = np.where(np.arange(n) % 2 == 0, "main", "meta")
    y = (rng.random(n) < 0.5).astype(int)
    # the model is good on main, random on meta
    p = np.where(kind == "main", np.clip(0.3 + 0.4 * y + rng.normal(0, 0.1, n), 0, 1), rng.random(n))
    frame = pd.DataFrame({
        "site": np.where(kind == "main", "beer.stackexchange.com", "beer.meta.stackexchange.com"),
        "site_kind": kind,
        "body_text": ["word " * int(w) for w in rng.integers(10, 400, n)],
        "author_prior_questions": rng.integers(0, 3, n).astype(float),
        "tags": [["hops"] if i % 3 else ["yeast", "hops"] for i in range(n)],
    })
    return frame, y, p


def test_segments_call_out_the_worst_one_and_its_gap():
    frame, y, p = _segment_frame()
    overall = classification_metrics(y, p)["roc_auc"]
    out = segment_performance(frame, y, p, 0.5, overall_auc=overall, n_boot=200)
    dims = out["dimensions"]
    assert {r["segment"] for r in dims["site_kind"]} == {"main", "meta"}
    assert {r["segment"] for r in dims["author"]} == {"new", "returning"}
    assert {r["segment"] for r in dims["tag"]} == {"hops", "yeast"}
    assert len(dims["length"]) == 3
    worst = out["worst"]
    assert worst["segment"] in ("meta", "beer.meta.stackexchange.com")
    assert worst["gap"] == pytest.approx(worst["roc_auc"] - overall)
    assert worst["outside_interval"]


@pytest.mark.parametrize("kind", ["random", "author", "time"])
def test_cv_folds_cover_the_data_without_overlap(kind):
    from tests.worlds import make_questions

    frame = make_questions(200, seed=0)
    folds = cv_folds(frame, kind, 4, seed=0)
    assert len(folds) == 4
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0 and len(test) > 0
    if kind != "time":
        tests = np.concatenate([t for _, t in folds])
        assert sorted(tests) == list(range(len(frame)))
    if kind == "author":
        owned = frame["owner_user_id"] > 0  # owner 0 / missing: every question its own group
        owners = (frame["owner_user_id"].astype(str) + frame["site"]).where(owned)
        for train, test in folds:
            assert not set(owners.iloc[train].dropna()) & set(owners.iloc[test].dropna())
    if kind == "time":
        for train, test in folds:
            for site in frame["site"].unique():
                tr = frame.iloc[train][frame.iloc[train]["site"] == site]["creation_date"]
                te = frame.iloc[test][frame.iloc[test]["site"] == site]["creation_date"]
                assert tr.max() <= te.min()


def test_adaptive_ece_with_equal_count_bins_by_hand():
    # two equal-count bins: {0.1, 0.2} (mean 0.15, observed 1/2) and {0.3, 0.4} (0.35, 1)
    y = np.array([0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4])
    r = reliability(y, p, bins=2, strategy="quantile")
    assert r["count"] == [2, 2]
    assert expected_calibration_error(y, p, bins=2, strategy="quantile") == pytest.approx(
        0.5 * 0.35 + 0.5 * 0.65)


def test_segments_report_who_gets_flagged_more():
    frame, y, _ = _segment_frame()
    new = frame["author_prior_questions"].to_numpy() == 0
    p = np.where(new, 0.3, 0.7)  # every new author flagged, nobody else
    out = segment_performance(frame, y, p, 0.5, overall_auc=None, n_boot=0)
    gap = out["flag_gap"]
    assert (gap["dimension"], gap["most"], gap["least"]) == ("author", "new", "returning")
    assert gap["most_share"] == 1.0 and gap["least_share"] == 0.0
