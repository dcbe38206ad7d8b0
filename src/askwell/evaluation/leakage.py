"""The leakage alarm: a single feature that separates good from bad questions too well.

Each feature is scored alone by its univariate ROC AUC, ``max(AUC, 1 - AUC)`` (so a
feature that works "backwards" counts as much as one that works forwards; 0.5 = no
signal, 1.0 = separates perfectly).

Why the alarm threshold is 0.85 (``LEAKAGE_AUC``):

- What a question's *writing* can tell about its reception is limited: votes and
  closures also depend on topic, timing and who happens to read it. Whole models over
  every feature reach a held-out ROC AUC of about 0.65-0.80 on Stack Exchange data (the
  book's case study reports about 0.6-0.7; askwell's models land in the same band), and
  the strongest honest single features (length, code blocks, a question mark) reach
  0.55-0.65 alone.
- A single feature at 0.85 would therefore beat every complete model by a wide margin.
  The plausible explanation is that it encodes the outcome: a score, an answer or view
  count, a close or edit that happened *after* posting, a "[closed]"/"[duplicate]" title
  suffix, or an author statistic computed with the future included.
- The margin above the best honest features (about 0.2) keeps the alarm quiet on real
  signal even on small segments, where a univariate AUC can wander by a few hundredths.

A feature alone doing at least as well as the whole model (``dominant``) is reported as a
softer warning: not necessarily a leak, but the model is then little more than that
feature.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from askwell.evaluation.metrics import univariate_auc
from askwell.plain import finite_or_none

LEAKAGE_AUC = 0.85


def feature_aucs(features: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    """Univariate ``max(AUC, 1 - AUC)`` of every numeric column of ``features``."""
    y = np.asarray(y, dtype=int)
    out: dict[str, float] = {}
    for name in features.columns:
        col = features[name]
        if col.dtype == bool:
            col = col.astype(float)
        if not pd.api.types.is_numeric_dtype(col):
            continue
        out[str(name)] = univariate_auc(col.to_numpy(dtype=float), y)
    return out


def leakage_alarm(
    train_features: pd.DataFrame,
    y_train: np.ndarray,
    test_features: pd.DataFrame | None = None,
    y_test: np.ndarray | None = None,
    *,
    threshold: float = LEAKAGE_AUC,
    model_auc: float | None = None,
    top: int = 20,
) -> dict[str, Any]:
    """Score every feature alone; flag those whose AUC exceeds ``threshold`` on either side.

    Returns ``{"threshold", "flagged": [...], "dominant": [...], "features": [...]}`` where
    each feature row carries its train and held-out AUC, the direction (whether higher
    values mean good), and the feature's mean in each class.
    """
    y_train = np.asarray(y_train, dtype=int)
    train_auc = feature_aucs(train_features, y_train)
    test_auc = (
        feature_aucs(test_features, np.asarray(y_test, dtype=int))
        if test_features is not None and y_test is not None else {}
    )
    rows: list[dict[str, Any]] = []
    for name, auc in train_auc.items():
        col = pd.to_numeric(train_features[name], errors="coerce").to_numpy(dtype=float)
        good_mean = _mean(col[y_train == 1])
        bad_mean = _mean(col[y_train == 0])
        held = test_auc.get(name)
        seen = [v for v in (auc, held) if v is not None and math.isfinite(v)]
        best = max(seen) if seen else math.nan
        rows.append({
            "feature": name,
            "auc_train": finite_or_none(auc),
            "auc_held_out": finite_or_none(held) if held is not None else None,
            "auc": finite_or_none(best),
            "higher_means": None if good_mean is None or bad_mean is None or good_mean == bad_mean
            else ("good" if good_mean > bad_mean else "bad"),
            "mean_good": good_mean,
            "mean_bad": bad_mean,
            "missing_share": float(np.mean(~np.isfinite(col))) if len(col) else None,
        })
    rows.sort(key=lambda r: -(r["auc"] or 0.0))
    flagged = [r for r in rows if r["auc"] is not None and r["auc"] > threshold]
    dominant = []
    if model_auc is not None and math.isfinite(model_auc):
        dominant = [
            r for r in rows
            if r not in flagged and r["auc_held_out"] is not None and r["auc_held_out"] >= model_auc
        ]
    return {
        "threshold": threshold,
        "model_auc": model_auc,
        "n_features": len(rows),
        "flagged": flagged,
        "dominant": dominant,
        "features": rows[:top],
    }


def _mean(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else None

