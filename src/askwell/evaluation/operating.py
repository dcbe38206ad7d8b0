"""Choosing the operating point: the threshold for a target precision (or recall).

askwell gives advice when it judges a question likely to be poorly received, so the
decision that costs something is *flagging*: telling a writer whose question was fine
that it needs work wastes their time and teaches them to ignore the tool. Precision of
the flag therefore matters most, and the default target is a flag precision.

By default the flagged class is ``bad`` (label 0): a question is flagged when its score
``p < threshold``, consistent with ``BaseModel.predict`` (``p >= threshold`` is good).
``flag="good"`` gives the usual positive-class view (flag when ``p >= threshold``).

- precision = flagged questions that really belong to the flagged class / all flagged
- recall    = questions of the flagged class that were flagged / all of that class
- false alarm rate = questions of the other class that were flagged / all of that class
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DEFAULT_TARGET_PRECISION = 0.8
DEFAULT_FLAG = "bad"
#: A precision measured on fewer flagged questions than this is not trusted to meet a target.
MIN_FLAGGED = 10
#: The trade-off table is laid out by share of questions flagged, not by fixed thresholds:
#: calibrated scores on imbalanced data crowd into a narrow band, where fixed steps of 0.1
#: would all read "nothing flagged".
TABLE_SHARES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)


def flag_curve(y: np.ndarray, p: np.ndarray, flag: str = DEFAULT_FLAG) -> dict[str, np.ndarray]:
    """Precision, recall, false-alarm rate and flagged share at every distinct threshold."""
    if flag not in ("bad", "good"):
        raise ValueError("flag must be 'bad' or 'good'")
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    thresholds = np.unique(np.r_[p, 1.0 + 1e-9, 0.0])
    order = np.sort(p)
    below = np.searchsorted(order, thresholds, side="left")  # rows with p < t
    bad_sorted = np.cumsum(1 - y[np.argsort(p, kind="mergesort")])
    bad_below = np.where(below > 0, bad_sorted[np.maximum(below - 1, 0)], 0)
    n, n_bad = len(y), int((1 - y).sum())
    n_good = n - n_bad
    if flag == "bad":
        flagged, hits = below, bad_below
        n_target, n_other = n_bad, n_good
    else:
        flagged = n - below
        hits = flagged - (n_bad - bad_below)  # good questions among p >= t
        n_target, n_other = n_good, n_bad
    false = flagged - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(flagged > 0, hits / np.maximum(flagged, 1), np.nan)
        recall = hits / n_target if n_target else np.full(len(thresholds), np.nan)
        false_alarm = false / n_other if n_other else np.full(len(thresholds), np.nan)
    return {
        "threshold": thresholds,
        "flagged_share": flagged / max(n, 1),
        "precision": precision,
        "recall": recall,
        "false_alarm_rate": false_alarm,
        "flagged": flagged,
    }


def _row(curve: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    def f(x: float) -> float | None:
        return None if not math.isfinite(float(x)) else float(x)

    return {
        "threshold": float(min(curve["threshold"][i], 1.0)),
        "flagged_share": f(curve["flagged_share"][i]),
        "precision": f(curve["precision"][i]),
        "recall": f(curve["recall"][i]),
        "false_alarm_rate": f(curve["false_alarm_rate"][i]),
    }


def operating_point(
    y: np.ndarray,
    p: np.ndarray,
    *,
    target_precision: float | None = None,
    target_recall: float | None = None,
    flag: str = DEFAULT_FLAG,
    min_flagged: int = MIN_FLAGGED,
) -> dict[str, Any]:
    """The threshold meeting the target with the most of the other quantity.

    For a precision target: among thresholds flagging at least ``min_flagged`` questions
    (fewer, and a precision of 100% may be one lucky question) whose flag precision is >=
    the target, the one with the highest recall. For a recall target: among thresholds
    reaching it, the highest precision. When no threshold reaches the target, ``reached``
    is False and the closest achievable point is returned (the highest precision among
    thresholds flagging at least ``min_flagged`` questions / the highest recall).
    """
    if target_precision is not None and target_recall is not None:
        raise ValueError("give a target precision or a target recall, not both")
    if target_precision is None and target_recall is None:
        target_precision = DEFAULT_TARGET_PRECISION
    curve = flag_curve(y, p, flag)
    prec = np.nan_to_num(curve["precision"], nan=-1.0)
    rec = np.nan_to_num(curve["recall"], nan=-1.0)
    enough = curve["flagged"] >= min(min_flagged, max(len(y), 1))
    if not enough.any():
        enough = curve["flagged"] > 0
    if target_precision is not None:
        target, kind = float(target_precision), "precision"
        ok = enough & (prec >= target - 1e-12)
        if ok.any():
            cand = np.flatnonzero(ok)
            i = int(cand[np.lexsort((-prec[cand], -rec[cand]))[0]])
        else:
            cand = np.flatnonzero(enough) if enough.any() else np.arange(len(prec))
            i = int(cand[np.lexsort((-rec[cand], -prec[cand]))[0]])
    else:
        assert target_recall is not None  # one of the two targets is set (checked above)
        target, kind = float(target_recall), "recall"
        ok = rec >= target - 1e-12
        cand = np.flatnonzero(ok) if ok.any() else np.arange(len(rec))
        key = (-rec[cand], -prec[cand]) if ok.any() else (-prec[cand], -rec[cand])
        i = int(cand[np.lexsort(key)[0]])
    n = len(y)
    n_target = int((np.asarray(y) == (0 if flag == "bad" else 1)).sum())
    return {
        "flag": flag,
        "target": kind,
        "target_value": target,
        "reached": bool(ok.any()),
        "min_flagged": min_flagged,
        "base_rate": n_target / n if n else None,
        "flagged": int(curve["flagged"][i]),
        **_row(curve, i),
    }


def tradeoff_table(
    y: np.ndarray,
    p: np.ndarray,
    *,
    flag: str = DEFAULT_FLAG,
    shares: tuple[float, ...] = TABLE_SHARES,
    thresholds: tuple[float, ...] = (),
) -> list[dict[str, Any]]:
    """Precision / recall / false alarms at thresholds flagging given shares of questions,
    plus any explicit ``thresholds`` (the model's own, the chosen operating point)."""
    p = np.asarray(p, dtype=float)
    curve = flag_curve(y, p, flag)
    wanted = set()
    if len(p):
        ordered = np.sort(p) if flag == "bad" else np.sort(p)[::-1]
        for share in shares:
            k = int(np.ceil(share * len(p)))
            if 0 < k <= len(p):
                # flag bad: p < t flags the k lowest -> t just above the k-th lowest score
                wanted.add(float(np.nextafter(ordered[k - 1], 2.0)) if flag == "bad" else float(ordered[k - 1]))
    wanted |= {float(t) for t in thresholds}
    rows = []
    for t in sorted(wanted):
        i = int(np.searchsorted(curve["threshold"], t, side="left"))
        i = min(i, len(curve["threshold"]) - 1)
        row = _row(curve, i)
        row["threshold"] = t
        row["flagged"] = int(curve["flagged"][i])
        rows.append(row)
    return rows
