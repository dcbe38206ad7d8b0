"""Classification metrics on calibrated probabilities, as plain dicts of floats."""

from __future__ import annotations

import math

import numpy as np

METRIC_NAMES = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "brier", "log_loss",
)


def classification_metrics(y: np.ndarray, p: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Threshold metrics at ``threshold`` and ranking/probability metrics on ``p``.

    ROC/PR AUC are NaN when only one class is present (they are undefined, not zero).
    """
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        brier_score_loss,
        f1_score,
        log_loss,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "n": len(y),
        "positive_rate": float(y.mean()) if len(y) else math.nan,
        "threshold": float(threshold),
        "accuracy": float(accuracy_score(y, pred)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y, p)) if both else math.nan,
        "pr_auc": float(average_precision_score(y, p)) if both else math.nan,
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
    }


# --------------------------------------------------------------------------- report figures
# Small, hand-checkable pieces the evaluation report is built from. Positive class = good
# question (label 1), as in ``classification_metrics``; a model predicts "good" when
# p >= threshold.

CALIBRATION_BINS = 10


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, object]:
    """Counts and row-normalised rates at ``threshold``.

    ``counts[i][j]`` = questions of true class ``i`` predicted ``j`` (0 = bad, 1 = good);
    ``normalised`` divides each row by its true-class total (so the diagonal holds the
    recall of each class).
    """
    y = np.asarray(y, dtype=int)
    pred = (np.asarray(p, dtype=float) >= threshold).astype(int)
    counts = [[int(((y == t) & (pred == q)).sum()) for q in (0, 1)] for t in (0, 1)]
    normalised = [
        [c / sum(row) if sum(row) else math.nan for c in row] for row in counts
    ]
    return {
        "threshold": float(threshold),
        "labels": ["bad", "good"],
        "counts": counts,
        "normalised": normalised,
        "tn": counts[0][0], "fp": counts[0][1], "fn": counts[1][0], "tp": counts[1][1],
    }


def reliability(
    y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS, strategy: str = "uniform"
) -> dict[str, list]:
    """Probability bins: count, mean predicted probability, observed good share.

    ``uniform``: equal-width bins, bin ``b`` holds ``b/bins <= p < (b+1)/bins`` (the last
    bin includes 1.0); empty bins carry ``None`` for their means. ``quantile``: bins of
    (about) equal counts, which stay readable when calibrated scores crowd into a narrow
    band, as they do when one class is rare.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if strategy == "quantile" and len(p):
        edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
        idx = np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, max(len(edges) - 2, 0))
        n_bins = max(len(edges) - 1, 1)
    else:
        edges = np.linspace(0, 1, bins + 1)
        idx = np.clip((p * bins).astype(int), 0, bins - 1)
        n_bins = bins
    count = np.bincount(idx, minlength=n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=n_bins)
    sum_y = np.bincount(idx, weights=y, minlength=n_bins)
    return {
        "strategy": strategy,
        "edges": [float(e) for e in edges],
        "count": count.tolist(),
        "mean_predicted": [float(s / c) if c else None for s, c in zip(sum_p, count, strict=True)],
        "fraction_good": [float(s / c) if c else None for s, c in zip(sum_y, count, strict=True)],
    }


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, bins: int = CALIBRATION_BINS, strategy: str = "uniform"
) -> float:
    """ECE: the count-weighted mean gap |mean predicted - observed rate| over the bins.

    ``uniform`` (equal-width bins) is the usual definition; ``quantile`` (equal-count
    bins, "adaptive ECE") does not let one crowded bin hide the gaps inside it.
    """
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return math.nan
    r = reliability(y, p, bins, strategy)
    total = 0.0
    for c, mp, fg in zip(r["count"], r["mean_predicted"], r["fraction_good"], strict=True):
        if c:
            total += c * abs(mp - fg)
    return float(total / len(y))


def roc_points(y: np.ndarray, p: np.ndarray, max_points: int = 200) -> dict[str, list[float]]:
    """The ROC curve (positive = good), thinned to at most ``max_points`` for plots and JSON."""
    from sklearn.metrics import roc_curve

    y = np.asarray(y, dtype=int)
    if len(np.unique(y)) < 2:
        return {"fpr": [], "tpr": [], "threshold": []}
    fpr, tpr, thr = roc_curve(y, p, drop_intermediate=True)
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max_points).round().astype(int))
        fpr, tpr, thr = fpr[keep], tpr[keep], thr[keep]
    thr = np.clip(thr, 0.0, 1.0)
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "threshold": thr.tolist()}


def univariate_auc(x: np.ndarray, y: np.ndarray) -> float:
    """How well one feature alone separates the classes: ``max(AUC, 1 - AUC)`` in [0.5, 1].

    Missing values are ranked below every observed value (so "missing" can itself be the
    signal); a constant feature scores 0.5; NaN when ``y`` has a single class.
    """
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, dtype=int)
    x = np.asarray(x, dtype=float)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    finite = np.isfinite(x)
    if not finite.any():
        return 0.5
    filled = np.where(finite, x, np.nanmin(np.where(finite, x, np.nan)) - 1.0)
    auc = float(roc_auc_score(y, filled))
    return max(auc, 1.0 - auc)
