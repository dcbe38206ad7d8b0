"""Looking at questions, not just numbers: top-k examples and a 2-D map of the errors.

Top-k (after the book's advice to read the examples a model gets most right, most wrong
and is least sure of), at the model's decision threshold:

- ``best``: correctly classified, most confidently (score closest to the true label);
- ``worst``: misclassified, most confidently (score furthest from the true label);
- ``uncertain``: score closest to the threshold, whatever the outcome.

The error map projects held-out questions to 2-D (PCA on the standardised feature
matrix for feature models, truncated SVD of tf-idf for text models), highlights the
errors, and finds the densest error region: the cell of a ``GRID`` x ``GRID`` grid holding
the most errors among cells whose error rate is at least the overall one. Its questions are described by the features that set them apart from
the rest, with a few of its errors as examples.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

SNIPPET_CHARS = 240
TOP_FEATURES = 5
GRID = 8
MAP_MAX_POINTS = 2500
REGION_EXAMPLES = 4


def pick_examples(y: np.ndarray, p: np.ndarray, threshold: float, k: int) -> dict[str, list[int]]:
    """Row positions of the ``k`` best, worst and most uncertain predictions."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(int)
    distance = np.abs(y - p)
    rows = np.arange(len(y))
    right, wrong = rows[pred == y], rows[pred != y]
    best = right[np.lexsort((right, distance[right]))][:k]
    worst = wrong[np.lexsort((wrong, -distance[wrong]))][:k]
    uncertain = rows[np.lexsort((rows, np.abs(p - threshold)))][:k]
    return {"best": best.tolist(), "worst": worst.tolist(), "uncertain": uncertain.tolist()}


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def question_url(site: Any, post_id: Any) -> str | None:
    """Link to the question on its site (site names in the dumps are host names)."""
    if not isinstance(site, str) or not site or post_id is None:
        return None
    try:
        return f"https://{site}/questions/{int(post_id)}"
    except (TypeError, ValueError):
        return None


def _body_text(row: dict[str, Any]) -> str:
    text = row.get("body_text")
    if isinstance(text, str):
        return text
    from askwell.data.document import parse_body

    return parse_body(str(row.get("body_html") or row.get("body") or "")).text


def describe(
    frame: pd.DataFrame,
    rows: list[int],
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    explanation: Any | None = None,
    explained_rows: list[int] | None = None,
    top_features: int = TOP_FEATURES,
) -> list[dict[str, Any]]:
    """Plain-data cards for the given rows (``explanation`` covers ``explained_rows``)."""
    where = {r: i for i, r in enumerate(explained_rows or [])}
    dense_values = None
    if explanation is not None and explanation.values is not None and not hasattr(explanation.values, "tocsr"):
        dense_values = np.asarray(explanation.values)
    names_index = (
        {n: j for j, n in enumerate(explanation.feature_names)}
        if explanation is not None and dense_values is not None else {}
    )
    out = []
    for r in rows:
        row = frame.iloc[r].to_dict()
        tags = row.get("tags")
        card = {
            "row": int(r),
            "question_id": str(row.get("question_id", r)),
            "site": row.get("site"),
            "url": question_url(row.get("site"), row.get("post_id")),
            "title": str(row.get("title") or ""),
            "snippet": snippet(_body_text(row)),
            "tags": [str(t) for t in tags] if tags is not None and not isinstance(tags, float) else [],
            "label": "good" if int(y[r]) == 1 else "bad",
            "score": float(p[r]),
            "predicted": "good" if p[r] >= threshold else "bad",
            "features": [],
        }
        if explanation is not None and r in where:
            i = where[r]
            for name, contribution in explanation.top(i, top_features):
                item: dict[str, Any] = {"feature": name, "contribution": float(contribution)}
                if dense_values is not None and name in names_index:
                    v = float(dense_values[i, names_index[name]])
                    item["value"] = v if math.isfinite(v) else None
                card["features"].append(item)
        out.append(card)
    return out


# ---------------------------------------------------------------- the 2-D map
def project_features(x: np.ndarray, seed: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """PCA to 2-D of a standardised feature matrix (missing values -> column median)."""
    from sklearn.decomposition import PCA

    x = np.asarray(x, dtype=float)
    med = np.nanmedian(np.where(np.isfinite(x), x, np.nan), axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    x = np.where(np.isfinite(x), x, med)
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
    pca = PCA(n_components=2, random_state=seed).fit(z)
    return pca.transform(z), {
        "method": "PCA on standardised features",
        "explained_variance": [float(v) for v in pca.explained_variance_ratio_],
        "components": pca.components_,
    }


def project_texts(texts: list[str], seed: int = 0) -> tuple[np.ndarray, dict[str, Any]]:
    """Truncated SVD to 2-D of word tf-idf."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(max_features=20_000, min_df=2, sublinear_tf=True, stop_words="english")
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # empty vocabulary (tiny or empty texts)
        return np.zeros((len(texts), 2)), {"method": "none (no vocabulary)"}
    if x.shape[1] < 3:
        return np.zeros((len(texts), 2)), {"method": "none (vocabulary too small)"}
    svd = TruncatedSVD(n_components=2, random_state=seed).fit(x)
    names = vec.get_feature_names_out()
    terms = [[str(names[j]) for j in np.argsort(-np.abs(c))[:8]] for c in svd.components_]
    return svd.transform(x), {
        "method": "truncated SVD of word tf-idf",
        "explained_variance": [float(v) for v in svd.explained_variance_ratio_],
        "axis_terms": terms,
    }


def error_map(
    xy: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    *,
    grid: int = GRID,
    max_points: int = MAP_MAX_POINTS,
    seed: int = 0,
) -> dict[str, Any]:
    """Points (thinned to ``max_points`` for the plot) and the densest error cell."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    xy = np.asarray(xy, dtype=float)
    pred = (p >= threshold).astype(int)
    error = pred != y
    n = len(y)
    out: dict[str, Any] = {"n": n, "errors": int(error.sum()),
                           "error_rate": float(error.mean()) if n else None, "grid": grid}
    keep = np.arange(n)
    if n > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
    out["points"] = {
        "x": xy[keep, 0].round(4).tolist(), "y": xy[keep, 1].round(4).tolist(),
        "error": error[keep].astype(int).tolist(), "label": y[keep].tolist(),
    }
    if n == 0 or not error.any():
        out["region"] = None
        return out
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    cell = np.clip(((xy - lo) / span * grid).astype(int), 0, grid - 1)
    cell_id = cell[:, 0] * grid + cell[:, 1]
    errors_in = np.bincount(cell_id[error], minlength=grid * grid)
    totals = np.bincount(cell_id, minlength=grid * grid)
    rate = np.divide(errors_in, totals, out=np.zeros(grid * grid), where=totals > 0)
    # The cell with the most errors among cells at least as error-prone as the whole map
    # (so the region is where errors concentrate, not merely where most questions are).
    eligible = (errors_in >= 3) & (rate >= error.mean())
    if not eligible.any():
        eligible = errors_in > 0
    score = np.where(eligible, errors_in, -1)
    best = int(np.lexsort((-rate, -score))[0])
    cx, cy = divmod(best, grid)
    members = np.flatnonzero(cell_id == best)
    err_members = members[error[members]]
    centre = lo + (np.array([cx, cy]) + 0.5) * span / grid
    nearest = err_members[np.argsort(np.linalg.norm(xy[err_members] - centre, axis=1))]
    fp = int(((pred == 1) & (y == 0))[members].sum())
    fn = int(((pred == 0) & (y == 1))[members].sum())
    out["region"] = {
        "x_range": [float(lo[0] + cx * span[0] / grid), float(lo[0] + (cx + 1) * span[0] / grid)],
        "y_range": [float(lo[1] + cy * span[1] / grid), float(lo[1] + (cy + 1) * span[1] / grid)],
        "questions": len(members),
        "errors": len(err_members),
        "error_rate": float(len(err_members) / len(members)),
        "share_of_all_errors": float(len(err_members) / error.sum()),
        "false_good": fp,
        "false_bad": fn,
        "rows": members.tolist(),
        "example_rows": nearest[:REGION_EXAMPLES].tolist(),
    }
    return out


def region_profile(
    x: np.ndarray, names: list[str], members: list[int], top: int = 5
) -> list[dict[str, Any]]:
    """Features that most set the region's questions apart (standardised mean difference)."""
    x = np.asarray(x, dtype=float)
    mask = np.zeros(len(x), dtype=bool)
    mask[members] = True
    if mask.all() or not mask.any():
        return []
    with np.errstate(invalid="ignore", divide="ignore"):
        inside = np.nanmean(np.where(np.isfinite(x[mask]), x[mask], np.nan), axis=0)
        outside = np.nanmean(np.where(np.isfinite(x[~mask]), x[~mask], np.nan), axis=0)
        std = np.nanstd(np.where(np.isfinite(x), x, np.nan), axis=0)
        effect = (inside - outside) / np.where(std > 0, std, np.nan)
    order = [j for j in np.argsort(-np.nan_to_num(np.abs(effect), nan=-1.0)) if np.isfinite(effect[j])][:top]
    return [
        {"feature": names[j], "region_mean": float(inside[j]), "rest_mean": float(outside[j]),
         "effect": float(effect[j])}
        for j in order
    ]
