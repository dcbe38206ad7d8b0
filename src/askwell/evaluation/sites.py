"""Leave-one-site-out: how the model holds on a site it never saw.

A community that installs askwell is, to the model, a new site. Its held-out test side
(time or author split) mixes future questions of sites it trained on, which says little
about that case. Here each main site in turn is taken out entirely, the same family and
parameters are re-fit on the others (fit / calibration split the model's own way), and
the site is scored as a new one: its kind's calibration shift, no site base rate.

Per site: ROC AUC with a bootstrap interval, Brier against two constants — the site's
own base rate (an oracle: it needs the site's labels, which a new site has not got) and
its kind's base rate over the training sites (the best constant without them) — the
Brier the model would get had it the site's base rate (what per-site calibration gives
once the site is in the training data), calibration (mean predicted vs observed, ECE);
then the macro average over sites.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from askwell.evaluation.bootstrap import bootstrap_metrics
from askwell.evaluation.metrics import expected_calibration_error
from askwell.models.base import Model, logit, sigmoid
from askwell.models.sites import matching_shift
from askwell.question import questions_from_frame

#: The issue's goal for the macro ROC AUC on held-out main sites.
GOAL_MACRO_AUC = 0.70
#: A site needs this many questions of each class to be scored (AUC is meaningless below).
MIN_CLASS_ROWS = 5
LOSO_RESAMPLES = 300


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - y) ** 2))


def held_out_site(model: Model, rest: pd.DataFrame, site: pd.DataFrame, *, split: str,
                  seed: int, n_boot: int = LOSO_RESAMPLES) -> dict[str, Any]:
    """Re-fit ``model``'s family on ``rest`` and score ``site`` as a site it never saw."""
    from askwell.data.splits import make_split
    from askwell.evaluation.curves import refit

    inner = make_split(rest, kind=split, seed=seed + 1, test_size=0.2)
    fresh = refit(model, rest.iloc[inner.train].reset_index(drop=True),
                  rest.iloc[inner.test].reset_index(drop=True))
    qs = questions_from_frame(site)
    y = site["label"].to_numpy(dtype=float)
    p = np.asarray(fresh.predict_proba(qs), dtype=float)
    rate = float(y.mean())
    kind = str(site["site_kind"].iloc[0])
    kind_rows = rest[rest["site_kind"] == kind]
    kind_rate = float((kind_rows if len(kind_rows) else rest)["label"].mean())
    with_rate = sigmoid(logit(p) + matching_shift(p, rate))
    ci = bootstrap_metrics(y, p, float(fresh.threshold), n_boot=n_boot, seed=seed,
                           names=("roc_auc",))["roc_auc"]
    brier = _brier(y, p)
    return {
        "site": str(site["site"].iloc[0]), "kind": kind, "n": len(y),
        "bad": int((y == 0).sum()), "base_rate": rate,
        "roc_auc": ci["value"], "roc_auc_low": ci["low"], "roc_auc_high": ci["high"],
        "brier": brier,
        "brier_base_rate": rate * (1 - rate),
        "brier_kind_rate": _brier(y, np.full(len(y), kind_rate)),
        "brier_with_site_rate": _brier(y, with_rate),
        "kind_rate": kind_rate,
        "mean_predicted": float(p.mean()),
        "ece": float(expected_calibration_error(y, p, strategy="quantile")),
        "beats_base_rate": brier < rate * (1 - rate),
        "beats_kind_rate": brier < _brier(y, np.full(len(y), kind_rate)),
    }


def leave_one_site_out(model: Model, everything: pd.DataFrame, *, split: str, seed: int,
                       kinds: tuple[str, ...] = ("main",), n_boot: int = LOSO_RESAMPLES,
                       progress: Any = None) -> dict[str, Any]:
    """The section: one row per held-out site of ``kinds``, the macro average, a verdict."""
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    sites = sorted(everything.loc[everything["site_kind"].isin(kinds), "site"].unique())
    for name in sites:
        mask = (everything["site"] == name).to_numpy()
        site = everything[mask].reset_index(drop=True)
        y = site["label"].to_numpy()
        if (y == 0).sum() < MIN_CLASS_ROWS or (y == 1).sum() < MIN_CLASS_ROWS:
            skipped.append({"site": name, "n": len(y), "bad": int((y == 0).sum()),
                            "why": f"fewer than {MIN_CLASS_ROWS} questions of one class"})
            continue
        if progress is not None:
            progress(name)
        rows.append(held_out_site(model, everything[~mask].reset_index(drop=True), site,
                                  split=split, seed=seed, n_boot=n_boot))
    return {"kinds": list(kinds), "split": split, "sites": rows, "skipped": skipped,
            "macro": _macro(rows), "verdict": _verdict(rows),
            "seconds": round(time.perf_counter() - started, 1)}


def _macro(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {}
    keys = ("roc_auc", "brier", "brier_base_rate", "brier_kind_rate", "brier_with_site_rate", "ece")
    out: dict[str, Any] = {k: float(np.mean([r[k] for r in rows if r[k] is not None])) for k in keys}
    out["sites"] = len(rows)
    out["beats_base_rate"] = sum(r["beats_base_rate"] for r in rows)
    out["beats_kind_rate"] = sum(r["beats_kind_rate"] for r in rows)
    out["pooled_auc_weighted"] = float(np.average([r["roc_auc"] for r in rows],
                                                  weights=[r["n"] for r in rows]))
    return out


def _verdict(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no main site has enough good and bad questions to hold out"
    m = _macro(rows)
    widths = [r["roc_auc_high"] - r["roc_auc_low"] for r in rows
              if r["roc_auc_high"] is not None and r["roc_auc_low"] is not None]
    bad = sorted(r["bad"] for r in rows)
    goal = (f"meets the goal of {GOAL_MACRO_AUC:.2f}" if m["roc_auc"] >= GOAL_MACRO_AUC else
            f"below the goal of {GOAL_MACRO_AUC:.2f}: a held-out site has {bad[len(bad) // 2]} "
            f"badly received questions at the median (range {bad[0]}–{bad[-1]}), so one site's "
            f"AUC is uncertain by ±{np.median(widths) / 2:.2f} (median half-width of its 95% "
            "interval); the pooled features rank questions within an unseen site only this well")
    brier = ("beats its own base rate (an oracle constant)" if m["brier"] < m["brier_base_rate"]
             else "does not beat the site's own base rate (a constant that needs the site's labels)")
    return (f"Macro ROC AUC {m['roc_auc']:.3f} over {m['sites']} held-out main sites, {goal}. "
            f"Macro Brier {m['brier']:.4f}: beats the kind's base rate ({m['brier_kind_rate']:.4f}, "
            f"the best constant without the site's labels) on {m['beats_kind_rate']} of {m['sites']} "
            f"sites and {brier} ({m['brier_base_rate']:.4f}, {m['beats_base_rate']} of {m['sites']}); "
            f"given the site's base rate, as per-site calibration has once the site is in the "
            f"training data, {m['brier_with_site_rate']:.4f}.")
