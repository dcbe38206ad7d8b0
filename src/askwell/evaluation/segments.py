"""Per-segment performance ("inclusive model performance"): who does the model fail?

Held-out questions are grouped several ways — by site, main vs meta, question length,
new vs returning author and top tags — and each group gets the same figures as the whole
(with a bootstrap interval on ROC AUC). The worst segment is the one with the lowest ROC
AUC among segments large enough to trust (``MIN_ROWS`` questions and ``MIN_PER_CLASS`` of
each class); its gap to the overall figure is called out, with whether the overall
figure lies outside the segment's interval (a real gap) or inside it (could be noise).

Besides quality, each segment reports how often its questions are *flagged* (predicted
bad): a model can be equally accurate for new authors and still flag them far more.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from askwell.evaluation.bootstrap import bootstrap_metrics

MIN_ROWS = 30
#: The worst segment is chosen among segments with at least this many of each class: an
#: AUC from a handful of bad questions swings by +-0.25 and would crown noise.
MIN_PER_CLASS = 15
TOP_TAGS = 8
SEGMENT_RESAMPLES = 300
#: Length bands in words of the body text (title excluded).
LENGTH_BANDS = ((0, 80, "short (<80 words)"), (80, 250, "medium (80-249 words)"),
                (250, math.inf, "long (250+ words)"))
SEGMENT_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "brier")


def body_words(frame: pd.DataFrame) -> np.ndarray:
    if "body_text" in frame:
        texts = frame["body_text"].fillna("").astype(str)
    else:
        from askwell.data.document import parse_body

        texts = frame["body_html"].fillna("").astype(str).map(lambda b: parse_body(b).text)
    return texts.str.split().str.len().fillna(0).to_numpy(dtype=int)


def length_band(frame: pd.DataFrame) -> np.ndarray:
    words = body_words(frame)
    out = np.empty(len(frame), dtype=object)
    for lo, hi, name in LENGTH_BANDS:
        out[(words >= lo) & (words < hi)] = name
    return out


def author_kind(frame: pd.DataFrame) -> np.ndarray:
    """``new`` (no earlier question on the site), ``returning``, or ``unknown``."""
    if "author_prior_questions" not in frame:
        return np.full(len(frame), "unknown", dtype=object)
    prior = pd.to_numeric(frame["author_prior_questions"], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isnan(prior), "unknown", np.where(prior == 0, "new", "returning")).astype(object)


def segment_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Segment dimension -> the segment value of each row (tags are handled apart)."""
    dims: dict[str, np.ndarray] = {}
    if "site" in frame:
        dims["site"] = frame["site"].astype(str).to_numpy(dtype=object)
    if "site_kind" in frame:
        dims["site_kind"] = frame["site_kind"].astype(str).to_numpy(dtype=object)
    if "body_text" in frame or "body_html" in frame:
        dims["length"] = length_band(frame)
    dims["author"] = author_kind(frame)
    return dims


def _tag_masks(frame: pd.DataFrame, top: int) -> dict[str, np.ndarray]:
    if "tags" not in frame:
        return {}
    tags = [tuple(t) if t is not None and not isinstance(t, float) else () for t in frame["tags"]]
    counts: dict[str, int] = {}
    for ts in tags:
        for t in set(ts):
            counts[t] = counts.get(t, 0) + 1
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return {t: np.array([t in ts for ts in tags]) for t, _ in best}


def _figures(y: np.ndarray, p: np.ndarray, threshold: float, seed: int, n_boot: int) -> dict[str, Any]:
    boot = bootstrap_metrics(y, p, threshold, n_boot=n_boot, seed=seed, names=SEGMENT_METRICS)
    n_pos = int(y.sum())
    return {
        "n": len(y),
        "good": n_pos,
        "bad": len(y) - n_pos,
        "positive_rate": float(y.mean()) if len(y) else None,
        "flagged_share": float((p < threshold).mean()) if len(y) else None,
        **{k: v["value"] for k, v in boot.items()},
        "roc_auc_low": boot["roc_auc"]["low"],
        "roc_auc_high": boot["roc_auc"]["high"],
    }


def segment_performance(
    frame: pd.DataFrame,
    y: np.ndarray,
    p: np.ndarray,
    threshold: float,
    *,
    overall_auc: float | None,
    seed: int = 0,
    n_boot: int = SEGMENT_RESAMPLES,
    min_rows: int = MIN_ROWS,
    top_tags: int = TOP_TAGS,
) -> dict[str, Any]:
    """Figures per segment value for each dimension, plus the worst segment and its gap."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    dims: dict[str, dict[str, np.ndarray]] = {}
    for dim, values in segment_columns(frame).items():
        dims[dim] = {str(v): values == v for v in sorted(set(values.tolist()))}
    dims["tag"] = _tag_masks(frame, top_tags)
    out: dict[str, Any] = {"min_rows": min_rows, "dimensions": {}}
    candidates = []
    for dim, masks in dims.items():
        rows: list[dict[str, Any]] = []
        for value, mask in masks.items():
            n = int(mask.sum())
            if n < min_rows:
                rows.append({"segment": value, "n": n, "too_small": True})
                continue
            fig = _figures(y[mask], p[mask], threshold, seed, n_boot)
            row = {"segment": value, "too_small": False, **fig}
            if overall_auc is not None and row["roc_auc"] is not None:
                row["roc_auc_gap"] = row["roc_auc"] - overall_auc
            rows.append(row)
            if min(fig["good"], fig["bad"]) >= MIN_PER_CLASS and fig["roc_auc"] is not None:
                candidates.append((dim, row))
        rows.sort(key=lambda r: (r.get("too_small", False), -r["n"]))
        out["dimensions"][dim] = rows
    out["worst"] = _worst(candidates, overall_auc)
    out["flag_gap"] = _flag_gap(out["dimensions"])
    return out


def _flag_gap(dimensions: dict[str, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The largest difference in flagged share between two segments of one dimension.

    Only the dimensions that describe *who* asks or *how much* they wrote (main vs meta,
    new vs returning author, length band) are compared: there a model that flags one
    group far more often treats writers differently, whatever its accuracy.
    """
    best = None
    for dim in ("author", "site_kind", "length"):
        rows = [r for r in dimensions.get(dim, []) if not r.get("too_small") and r.get("flagged_share") is not None
                and r["segment"] != "unknown"]
        if len(rows) < 2:
            continue
        hi = max(rows, key=lambda r: r["flagged_share"])
        lo = min(rows, key=lambda r: r["flagged_share"])
        gap = hi["flagged_share"] - lo["flagged_share"]
        if best is None or gap > best["gap"]:
            best = {"dimension": dim, "most": hi["segment"], "most_share": hi["flagged_share"],
                    "least": lo["segment"], "least_share": lo["flagged_share"], "gap": gap}
    if best is not None:
        def who(segment: str) -> str:
            if best["dimension"] == "author":
                return f"questions from {segment} authors"
            if best["dimension"] == "site_kind":
                return f"{segment} site questions"
            return f"{segment} questions"

        best["text"] = (f"Flags fall unevenly by {best['dimension']}: {who(best['most'])} are flagged "
                        f"{best['most_share']:.0%} of the time vs {best['least_share']:.0%} for "
                        f"{who(best['least'])} (at the model's threshold).")
    return best


def _worst(candidates: list[tuple[str, dict[str, Any]]], overall_auc: float | None) -> dict[str, Any] | None:
    if not candidates:
        return None
    dim, row = min(candidates, key=lambda c: (c[1]["roc_auc"], -c[1]["n"]))
    lo, hi = row.get("roc_auc_low"), row.get("roc_auc_high")
    gap = None if overall_auc is None else row["roc_auc"] - overall_auc
    real = bool(overall_auc is not None and hi is not None and overall_auc > hi)
    return {
        "dimension": dim,
        "segment": row["segment"],
        "n": row["n"],
        "roc_auc": row["roc_auc"],
        "roc_auc_low": lo,
        "roc_auc_high": hi,
        "overall_roc_auc": overall_auc,
        "gap": gap,
        "outside_interval": real,
        "text": _worst_text(dim, row, overall_auc, gap, real),
    }


def _worst_text(dim: str, row: dict[str, Any], overall: float | None, gap: float | None, real: bool) -> str:
    base = f"Worst segment: {dim} = {row['segment']} (n={row['n']}), ROC AUC {row['roc_auc']:.3f}"
    if row.get("roc_auc_low") is not None:
        base += f" [{row['roc_auc_low']:.3f}, {row['roc_auc_high']:.3f}]"
    if overall is None or gap is None:
        return base + "."
    base += f" vs {overall:.3f} overall (gap {gap:+.3f})"
    if real:
        return base + "; the overall figure lies above the segment's 95% interval, so the gap is real."
    return base + "; the overall figure lies inside the segment's 95% interval, so the gap may be noise."
