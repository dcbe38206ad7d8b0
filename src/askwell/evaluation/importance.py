"""Global feature importance, three ways, each answering a different question.

- **Permutation** (on held-out questions): how much ROC AUC drops when one input is
  shuffled across questions, breaking its link to the label. Model-agnostic and measured
  on data the model never saw. For models with a feature matrix, every feature is
  permuted; for every model, whole *question fields* (title, body, tags, author
  context, site) are permuted, which is the only permutation that is meaningful for text
  models and makes models of different families comparable.
- **Mean |contribution|**: the average size of each input's exact contribution to the
  log-odds (from ``model.explain``), on a sample of held-out questions.
- **Model-native**, where the model has it (e.g. LightGBM's total split gain via
  ``feature_importance()``), normalised to shares.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

PERMUTATION_REPEATS = 3
PERMUTATION_MAX_ROWS = 2000
#: Question fields permuted together: a field is every column the model could read it from.
FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "body": ("body_html", "body", "body_text"),
    "tags": ("tags",),
    "author context": ("author_prior_questions", "author_prior_answers", "author_account_age_days"),
    "site": ("site",),
}


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else math.nan


def _sample(n: int, max_rows: int, seed: int) -> np.ndarray:
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))


def _summary(name: str, base: float, scores: list[float]) -> dict[str, Any]:
    drops = np.array([base - s for s in scores], dtype=float)
    return {
        "feature": name,
        "auc_drop": float(np.nanmean(drops)) if len(drops) else None,
        "auc_drop_std": float(np.nanstd(drops)) if len(drops) else None,
    }


def permutation_importance_matrix(
    proba: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    repeats: int = PERMUTATION_REPEATS,
    seed: int = 0,
    max_rows: int = PERMUTATION_MAX_ROWS,
    budget_seconds: float | None = None,
) -> dict[str, Any]:
    """ROC AUC drop per permuted column of ``x`` (scored by ``proba``)."""
    rows = _sample(len(y), max_rows, seed)
    x = np.asarray(x, dtype=float)[rows]
    y = np.asarray(y, dtype=int)[rows]
    base = _auc(y, proba(x))
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    out = []
    for j, name in enumerate(names):
        scores = []
        for _ in range(repeats):
            xp = x.copy()
            xp[:, j] = xp[rng.permutation(len(xp)), j]
            scores.append(_auc(y, proba(xp)))
        out.append(_summary(name, base, scores))
        if budget_seconds is not None and time.perf_counter() - started > budget_seconds:
            break
    out.sort(key=lambda r: -(r["auc_drop"] or 0.0))
    return {"baseline_auc": base, "rows": len(rows), "repeats": repeats,
            "complete": len(out) == len(names), "features": out}


def permutation_importance_fields(
    proba: Callable[[pd.DataFrame], np.ndarray],
    frame: pd.DataFrame,
    y: np.ndarray,
    *,
    fields: dict[str, tuple[str, ...]] = FIELDS,
    repeats: int = PERMUTATION_REPEATS,
    seed: int = 0,
    max_rows: int = PERMUTATION_MAX_ROWS,
) -> dict[str, Any]:
    """ROC AUC drop when a whole question field is shuffled across questions."""
    rows = _sample(len(y), max_rows, seed)
    frame = frame.iloc[rows].reset_index(drop=True)
    y = np.asarray(y, dtype=int)[rows]
    base = _auc(y, proba(frame))
    rng = np.random.default_rng(seed)
    out = []
    for name, columns in fields.items():
        present = [c for c in columns if c in frame.columns]
        if not present:
            continue
        scores = []
        for _ in range(repeats):
            perm = rng.permutation(len(frame))
            shuffled = frame.copy()
            for c in present:
                shuffled[c] = frame[c].to_numpy()[perm]
            scores.append(_auc(y, proba(shuffled)))
        out.append(_summary(name, base, scores))
    out.sort(key=lambda r: -(r["auc_drop"] or 0.0))
    return {"baseline_auc": base, "rows": len(rows), "repeats": repeats, "fields": out}


def contribution_importance(explanation: Any, top: int = 25) -> list[dict[str, Any]]:
    """Mean absolute contribution to the log-odds per input, largest first."""
    c = explanation.contributions
    if sp.issparse(c):
        mean_abs = np.asarray(abs(c).mean(axis=0)).ravel()
    else:
        mean_abs = np.abs(np.asarray(c, dtype=float)).mean(axis=0)
    order = np.argsort(-mean_abs, kind="mergesort")[:top]
    return [
        {"feature": explanation.feature_names[j], "mean_abs_contribution": float(mean_abs[j])}
        for j in order if mean_abs[j] > 0
    ]


def native_importance(model: Any, top: int = 25) -> dict[str, Any] | None:
    """The model's own importance (``feature_importance()``), as shares of the total."""
    getter = getattr(model, "feature_importance", None)
    if getter is None:
        return None
    try:
        raw = dict(getter())
    except Exception:  # a model may not have it in every state; the section says so
        return None
    total = sum(v for v in raw.values() if math.isfinite(v)) or 1.0
    rows = sorted(({"feature": k, "share": float(v) / total} for k, v in raw.items()),
                  key=lambda r: -r["share"])
    return {"kind": "LightGBM total split gain" if getattr(model, "family", "") == "features"
            else "model-native", "features": rows[:top]}
