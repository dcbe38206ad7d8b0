"""Seeded bootstrap confidence intervals for every metric, vectorised.

A bootstrap resample is represented by how many times each row was drawn (a weight
vector), so one ``(B, n)`` matrix of weights gives all ``B`` resamples at once and every
metric is a handful of matrix products — no Python loop over resamples, no re-sorting
per resample (the rows are sorted by score once). With integer weights each metric is
exactly the one ``classification_metrics`` computes on the resampled rows (checked in the
tests), including scikit-learn's tie handling for ROC AUC and average precision.

The same weights applied to two models' scores on the same rows give a *paired*
bootstrap of their difference, which is much tighter than comparing two separate
intervals because both models face the same hard and easy questions in every resample.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from askwell.evaluation.metrics import METRIC_NAMES

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
#: Resamples are processed in chunks of this many rows x resamples cells to bound memory.
_CHUNK_CELLS = 2_000_000
_CLIP = 1e-7


def resample_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n)`` draw counts; the same ``(n, n_boot, seed)`` always gives the same matrix."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    flat = (np.arange(n_boot)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)


@dataclass
class _Sorted:
    """Rows grouped by distinct score (ascending), computed once per (y, p)."""

    order: np.ndarray
    starts: np.ndarray
    y_sorted: np.ndarray


def _sorted(y: np.ndarray, p: np.ndarray) -> _Sorted:
    order = np.argsort(p, kind="mergesort")
    ps = p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    return _Sorted(order, starts, y[order])


def _ranking_metrics(w: np.ndarray, s: _Sorted) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ROC AUC and average precision for each row of weights ``w``."""
    ws = w[:, s.order]
    pos = np.add.reduceat(ws * s.y_sorted, s.starts, axis=1)
    neg = np.add.reduceat(ws * (1 - s.y_sorted), s.starts, axis=1)
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (pos * (below + 0.5 * neg)).sum(axis=1) / (n_pos * n_neg)
        # Average precision: thresholds from the highest score down.
        tps = np.cumsum(pos[:, ::-1], axis=1)
        fps = np.cumsum(neg[:, ::-1], axis=1)
        flagged = tps + fps
        precision = np.where(flagged > 0, tps / np.where(flagged > 0, flagged, 1), 1.0)
        recall_step = pos[:, ::-1] / n_pos[:, None]
        ap = (recall_step * precision).sum(axis=1)
    bad = (n_pos == 0) | (n_neg == 0)
    auc[bad] = np.nan
    ap[n_pos == 0] = np.nan
    ap[bad] = np.nan
    return auc, ap


def weighted_metrics(
    y: np.ndarray, p: np.ndarray, threshold: float, w: np.ndarray, *, _s: _Sorted | None = None
) -> dict[str, np.ndarray]:
    """Every metric in ``METRIC_NAMES`` for each row of weights ``w`` (shape ``(B, n)``)."""
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), _CLIP, 1 - _CLIP)
    w = np.atleast_2d(np.asarray(w, dtype=float))
    pred = (p >= threshold).astype(float)
    total = w.sum(axis=1)
    tp = w @ (y * pred)
    fp = w @ ((1 - y) * pred)
    fn = w @ (y * (1 - pred))
    tn = w @ ((1 - y) * (1 - pred))

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.divide(a, b, out=np.zeros_like(a), where=b > 0)

    auc, ap = _ranking_metrics(w, _s or _sorted(y, p))
    ll = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return {
        "accuracy": ratio(tp + tn, total),
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": auc,
        "pr_auc": ap,
        "brier": ratio(w @ (p - y) ** 2, total),
        "log_loss": ratio(w @ ll, total),
    }


def _chunks(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    w = resample_weights(n, n_boot, seed)
    step = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, n_boot, step):
        yield w[start:start + step]


def _interval(samples: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    finite = samples[np.isfinite(samples)]
    if len(finite) < 10:
        return None, None
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo), float(hi)


def _point(y: np.ndarray, p: np.ndarray, threshold: float, names: tuple[str, ...]) -> dict[str, float]:
    full = weighted_metrics(y, p, threshold, np.ones((1, len(y))))
    return {k: float(full[k][0]) for k in names}


def bootstrap_metrics(
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    *,
    n_boot: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
    names: tuple[str, ...] = METRIC_NAMES,
) -> dict[str, dict[str, float | None]]:
    """``{metric: {"value", "low", "high"}}``: point estimate and percentile interval."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    point = _point(y, p, threshold, names)
    if len(y) == 0 or n_boot <= 0:
        return {k: {"value": _nan_none(point[k]), "low": None, "high": None} for k in names}
    s = _sorted(y, np.clip(p, _CLIP, 1 - _CLIP))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for w in _chunks(len(y), n_boot, seed):
        m = weighted_metrics(y, p, threshold, w, _s=s)
        for k in names:
            parts[k].append(m[k])
    out: dict[str, dict[str, float | None]] = {}
    for k in names:
        lo, hi = _interval(np.concatenate(parts[k]), confidence)
        out[k] = {"value": _nan_none(point[k]), "low": lo, "high": hi}
    return out


def paired_bootstrap(
    y: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    threshold_a: float,
    threshold_b: float,
    *,
    n_boot: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = CONFIDENCE,
    names: tuple[str, ...] = METRIC_NAMES,
) -> dict[str, dict[str, float | None]]:
    """Difference ``a - b`` of each metric on the same rows, with a paired bootstrap interval.

    ``share_a_better`` is the share of resamples in which ``a`` beats ``b`` (higher is
    better except for Brier and log loss).
    """
    y = np.asarray(y, dtype=float)
    pa, pb = np.asarray(p_a, dtype=float), np.asarray(p_b, dtype=float)
    point_a = _point(y, pa, threshold_a, names)
    point_b = _point(y, pb, threshold_b, names)
    sa = _sorted(y, np.clip(pa, _CLIP, 1 - _CLIP))
    sb = _sorted(y, np.clip(pb, _CLIP, 1 - _CLIP))
    parts: dict[str, list[np.ndarray]] = {k: [] for k in names}
    if len(y) and n_boot > 0:
        for w in _chunks(len(y), n_boot, seed):
            ma = weighted_metrics(y, pa, threshold_a, w, _s=sa)
            mb = weighted_metrics(y, pb, threshold_b, w, _s=sb)
            for k in names:
                parts[k].append(ma[k] - mb[k])
    out: dict[str, dict[str, float | None]] = {}
    for k in names:
        diffs = np.concatenate(parts[k]) if parts[k] else np.zeros(0)
        lo, hi = _interval(diffs, confidence)
        finite = diffs[np.isfinite(diffs)]
        lower_is_better = k in ("brier", "log_loss")
        better = (finite < 0) if lower_is_better else (finite > 0)
        out[k] = {
            "a": _nan_none(point_a[k]),
            "b": _nan_none(point_b[k]),
            "difference": _nan_none(point_a[k] - point_b[k]),
            "low": lo,
            "high": hi,
            "share_a_better": float(better.mean()) if len(finite) else None,
            "significant": bool(lo is not None and hi is not None and (lo > 0 or hi < 0)),
        }
    return out


def _nan_none(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
