"""Re-fitting experiments: learning curves and k-fold cross-validation.

Both re-fit the evaluated model's family with the evaluated model's own parameters
(:func:`askwell.models.base.clone`), calibrating each fit on a calibration
fold exactly as training does, so the numbers describe *this* model configuration.

- **Learning curve**: fit on growing, nested, seeded subsets of the fitting rows and
  score the same held-out rows. If the held-out score is still climbing at full size,
  more data would help; if train and held-out have met, it would not.
- **Cross-validation**: K folds of the same kind as the model's split — ``random``
  (per-site random folds), ``author`` (whole authors per fold) or ``time`` (forward
  chaining per site: fold i trains on the i oldest blocks and tests on the next one, so
  a model never trains on the future). The spread of the fold scores shows how much one
  split's figures depend on which questions happened to land in the test side.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from askwell.data.splits import cv_folds
from askwell.evaluation.metrics import classification_metrics
from askwell.models.base import BaseModel, FeatureModel, Model, clone
from askwell.plain import finite_or_none

LEARNING_FRACTIONS = (0.1, 0.25, 0.5)
CV_METRICS = ("roc_auc", "pr_auc", "accuracy", "f1", "brier")


def refit(model: Model, fit: pd.DataFrame, calibration: pd.DataFrame) -> BaseModel:
    """A fresh model of the same family and parameters, fit and calibrated."""
    fresh = clone(model)
    fresh.fit(fit, fit["label"].to_numpy(),
              calibration=(calibration, calibration["label"].to_numpy()))
    return fresh


def _subset(frame: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """A seeded row mask keeping both classes in proportion (nested across fractions)."""
    rng = np.random.default_rng(seed)
    keys = rng.random(len(frame))
    y = frame["label"].to_numpy()
    keep = np.zeros(len(frame), dtype=bool)
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        n = max(2, round(len(idx) * fraction))
        keep[idx[np.argsort(keys[idx])[:n]]] = True
    return keep


def learning_curve(
    model: Model,
    fit: pd.DataFrame,
    calibration: pd.DataFrame,
    test: pd.DataFrame,
    *,
    full: dict[str, dict[str, float]] | None = None,
    fractions: tuple[float, ...] = LEARNING_FRACTIONS,
    seed: int = 0,
    budget_seconds: float | None = None,
    matrices: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Train and held-out ROC AUC / Brier against training-set size.

    ``full`` (the evaluated model's own train and held-out metrics) supplies the point
    at fraction 1.0 without fitting it again: same family, parameters, data and seed.
    ``matrices`` (the fit and test feature matrices, for models with ``matrix``) lets
    each re-fit model score rows without recomputing their features.
    """
    points = []
    started = time.perf_counter()
    complete = True
    names = list(model.input_names())
    for fraction in fractions:
        if budget_seconds is not None and time.perf_counter() - started > budget_seconds:
            complete = False
            break
        keep = _subset(fit, fraction, seed)
        sub = fit[keep]
        t0 = time.perf_counter()
        m = refit(model, sub, calibration)
        if matrices is not None and isinstance(m, FeatureModel) and list(m.input_names()) == names:
            p_sub, p_test = m.proba_from_matrix(matrices[0][keep]), m.proba_from_matrix(matrices[1])
        else:
            p_sub, p_test = m.predict_proba(sub), m.predict_proba(test)
        tr = classification_metrics(sub["label"].to_numpy(), p_sub, m.threshold)
        te = classification_metrics(test["label"].to_numpy(), p_test, m.threshold)
        points.append(_point(fraction, len(sub), tr, te, time.perf_counter() - t0))
    if full is not None:
        points.append(_point(1.0, len(fit), full["train"], full["test"], 0.0))
    return {"points": points, "complete": complete, "verdict": _curve_verdict(points)}


def _point(fraction: float, n: int, tr: dict[str, Any], te: dict[str, Any], seconds: float) -> dict[str, Any]:
    return {
        "fraction": fraction, "n_train": n,
        "train_roc_auc": finite_or_none(tr.get("roc_auc")), "held_out_roc_auc": finite_or_none(te.get("roc_auc")),
        "train_brier": finite_or_none(tr.get("brier")), "held_out_brier": finite_or_none(te.get("brier")),
        "seconds": round(seconds, 2),
    }


def _curve_verdict(points: list[dict[str, Any]]) -> str | None:
    """Does more data help? Judged on the last doubling of the curve."""
    pts = [p for p in points if p["held_out_roc_auc"] is not None]
    if len(pts) < 2:
        return None
    last, prev = pts[-1], pts[-2]
    gain = last["held_out_roc_auc"] - prev["held_out_roc_auc"]
    gap = (last["train_roc_auc"] or last["held_out_roc_auc"]) - last["held_out_roc_auc"]
    span = f"from {prev['n_train']:,} to {last['n_train']:,} training questions"
    if gain > 0.01:
        return (f"Held-out ROC AUC still rises {span} ({prev['held_out_roc_auc']:.3f} -> "
                f"{last['held_out_roc_auc']:.3f}): more data is likely to help.")
    if gap > 0.05:
        return (f"Held-out ROC AUC is flat {span} ({gain:+.3f}) while train stays {gap:.3f} above "
                "it: more data alone helps little; regularise or change the inputs.")
    return (f"Held-out ROC AUC is flat {span} ({gain:+.3f}) and train has met it: the model is "
            "limited by its inputs, not by the amount of data.")


# ---------------------------------------------------------------- cross-validation
def cross_validate(
    model: Model,
    frame: pd.DataFrame,
    *,
    kind: str,
    k: int,
    seed: int,
    calibration_fraction: float = 0.2,
) -> dict[str, Any]:
    """Re-fit and score the model's configuration on each of ``k`` folds."""
    from askwell.data.splits import make_split

    frame = frame.reset_index(drop=True)
    folds: list[dict[str, Any]] = []
    for i, (train_idx, test_idx) in enumerate(cv_folds(frame, kind, k, seed)):
        train, test = frame.iloc[train_idx].reset_index(drop=True), frame.iloc[test_idx].reset_index(drop=True)
        if train["label"].nunique() < 2 or test["label"].nunique() < 2:
            folds.append({"fold": i + 1, "n_train": len(train), "n_test": len(test), "skipped": True})
            continue
        inner = make_split(train, kind=kind, seed=seed + 1, test_size=calibration_fraction,
                           check_leakage=False)
        t0 = time.perf_counter()
        m = refit(model, train.iloc[inner.train], train.iloc[inner.test])
        te = classification_metrics(test["label"].to_numpy(), m.predict_proba(test), m.threshold)
        folds.append({"fold": i + 1, "n_train": len(train), "n_test": len(test), "skipped": False,
                      **{key: finite_or_none(te[key]) for key in CV_METRICS},
                      "seconds": round(time.perf_counter() - t0, 2)})
    summary = {}
    for key in CV_METRICS:
        vals = np.array([f[key] for f in folds if not f["skipped"] and f.get(key) is not None], dtype=float)
        if len(vals):
            summary[key] = {"mean": float(vals.mean()), "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                            "min": float(vals.min()), "max": float(vals.max())}
    return {"kind": kind, "k": k, "folds": folds, "summary": summary}

