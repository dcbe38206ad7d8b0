"""``evaluate``: every figure of the evaluation report, as one JSON-ready dict.

The held-out side is the one the model never saw: the model's own split is re-created
from its metadata (label, split kind, seed, dataset id) with the same
``training.prepare`` that trained it, and the row counts are checked against the ones the
model recorded. Asking for another label or split than the model's re-fits the same
family and parameters on that split first (and says so), because the model's training
rows would otherwise leak into the new held-out side.

Sections (each a key of the returned dict; the HTML report and the terminal summary are
rendered from it, never from the model):

``metrics`` (bootstrap intervals, train vs held-out, bias/variance diagnosis),
``confusion``, ``operating_point`` (ROC, threshold for a target precision or recall,
trade-off table), ``calibration`` (reliability, ECE raw vs calibrated), ``scores``
(score distribution by class), ``examples`` (top-k on train and held-out),
``importance``, ``leakage``, ``learning_curve``, ``segments``, ``error_map``, ``cv``,
``comparison``.

Heavy steps are bounded: permutation and contribution importance work on at most
``PERMUTATION_MAX_ROWS`` held-out rows, the learning curve fits three subsets (the full
size is the evaluated model itself), cross-validation only runs when asked (``cv``), and
every heavy step can be switched off.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from askwell import __version__
from askwell.errors import AskwellError
from askwell.evaluation import curves, erroranalysis, importance, leakage, operating, segments
from askwell.evaluation.bootstrap import DEFAULT_RESAMPLES, bootstrap_metrics, paired_bootstrap
from askwell.evaluation.metrics import (
    METRIC_NAMES,
    classification_metrics,
    confusion,
    expected_calibration_error,
    reliability,
    roc_points,
)
from askwell.models.base import Explanation, FeatureModel, Model
from askwell.models.training import PreparedData, prepare
from askwell.question import as_questions

SCHEMA = "askwell.evaluation/1"
#: Bias/variance rules on ROC AUC (train = the rows the model was fit on).
OVERFIT_GAP = 0.10
MILD_OVERFIT_GAP = 0.05
UNDERFIT_TRAIN_AUC = 0.75
CONTRIBUTION_ROWS = 400
#: A difference in flagged share between groups worth a line in the summary.
FLAG_GAP_NOTE = 0.10
LEAKAGE_MAX_TRAIN_ROWS = 3000
#: Whole-field permutation re-scores questions from scratch (features included), so it
#: runs on fewer rows than per-feature permutation, which re-uses the feature matrix.
FIELD_PERMUTATION_ROWS = 800


class EvaluationError(AskwellError):
    """The evaluation cannot run as asked (missing dataset, mismatched split...)."""


@dataclass
class EvaluationConfig:
    """What to compute; the defaults keep a full run on ~8k questions well under a minute."""

    top_k: int = 5
    n_boot: int = DEFAULT_RESAMPLES
    seed: int = 0
    target_precision: float | None = None
    target_recall: float | None = None
    flag: str = operating.DEFAULT_FLAG
    cv: int = 0
    #: Leave-one-site-out over the main sites (one re-fit per site; ``--no-sites-out``).
    sites_out: bool = True
    learning_curve: bool = True
    permutation: bool = True
    error_map: bool = True
    leakage_threshold: float = leakage.LEAKAGE_AUC
    permutation_repeats: int = importance.PERMUTATION_REPEATS
    permutation_max_rows: int = importance.PERMUTATION_MAX_ROWS

    def __post_init__(self) -> None:
        if self.target_precision is not None and self.target_recall is not None:
            raise EvaluationError("give --target-precision or --target-recall, not both")
        for name in ("target_precision", "target_recall"):
            v = getattr(self, name)
            if v is not None and not 0.0 < v <= 1.0:
                raise EvaluationError(f"{name.replace('_', ' ')} must be in (0, 1], got {v}")
        if self.flag not in ("bad", "good"):
            raise EvaluationError("flag must be 'bad' or 'good'")
        if self.cv == 1 or self.cv < 0:
            raise EvaluationError("--cv needs at least 2 folds (0 skips cross-validation)")


@dataclass
class Subject:
    """A model to evaluate, with where it came from and which rows it has seen."""

    name: str
    model: Model
    source: dict[str, Any] = field(default_factory=dict)
    seen_ids: set[str] | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the model's own split
def model_split(model: Model) -> dict[str, Any]:
    """Label, split kind, seed and dataset id the model was trained with (from its meta)."""
    meta = model.meta
    metrics = meta.metrics
    card = meta.card
    return {
        "label": meta.label or card.get("label"),
        "split": metrics.get("split") or card.get("split"),
        "seed": metrics.get("seed", card.get("seed", meta.seed)),
        "dataset_id": meta.dataset_id or (card.get("data") or {}).get("dataset_id"),
        "rows": metrics.get("rows") or (card.get("data") or {}).get("rows"),
        "site_kinds": metrics.get("site_kinds"),
    }


def _rows(data: PreparedData) -> dict[str, int]:
    return {"fit": len(data.fit), "calibration": len(data.calibration), "test": len(data.test)}


def recreate_split(
    model: Model,
    frame: pd.DataFrame,
    *,
    label: str | None = None,
    split: str | None = None,
    seed: int | None = None,
    cache: dict[Any, PreparedData] | None = None,
) -> tuple[PreparedData, dict[str, Any]]:
    """The model's own fit / calibration / test frames (or another label / split's).

    Returns the prepared data and a provenance dict: what was asked, what the model was
    trained with, whether they match (``own_split``) and notes for the report. ``cache``
    (a dict kept by the caller) saves re-splitting one frame the same way twice, e.g.
    for a compared model trained on the same split.
    """
    cache = {} if cache is None else cache

    def prepared(kinds: tuple[str, ...] | None) -> PreparedData:
        key = (id(frame), use_label, use_split, use_seed, kinds)
        if key not in cache:
            cache[key] = prepare(frame, label=use_label, split=use_split, seed=use_seed, site_kinds=kinds)
        return cache[key]

    own = model_split(model)
    notes: list[str] = []
    use_label = label or own["label"] or "grade"
    use_split = split or own["split"] or "time"
    use_seed = seed if seed is not None else (own["seed"] if own["seed"] is not None else 42)
    if own["label"] is None or own["split"] is None:
        notes.append("the model does not record its label or split; using "
                      f"label={use_label!r}, split={use_split!r}, seed={use_seed}")
    own_split = (use_label, use_split, use_seed) == (own["label"], own["split"], own["seed"])
    kinds = tuple(own["site_kinds"]) if own["site_kinds"] else None
    data = prepared(kinds)
    expected = own["rows"]
    if own_split and expected and _rows(data) != {k: expected.get(k) for k in ("fit", "calibration", "test")}:
        # Models trained with --main-only do not (yet) record it; try that before giving up.
        alt = prepared(("main",))
        if _rows(alt) == {k: expected.get(k) for k in ("fit", "calibration", "test")}:
            data, kinds = alt, ("main",)
            notes.append("the model was trained on main sites only; evaluating on main sites")
        else:
            notes.append(
                f"re-created split has {_rows(data)} rows but the model recorded {expected}; "
                "the held-out side may include rows the model was trained on"
            )
    return data, {
        "label": use_label, "split": use_split, "seed": use_seed, "site_kinds": list(kinds or []),
        "model_label": own["label"], "model_split": own["split"], "model_seed": own["seed"],
        "own_split": own_split, "notes": notes,
    }


def seen_question_ids(model: Model, frame: pd.DataFrame, cache: dict[Any, PreparedData] | None = None) -> set[str]:
    """Question ids a model was fit or calibrated on (its own split re-created)."""
    data, _ = recreate_split(model, frame, cache=cache)
    return set(data.fit["question_id"].astype(str)) | set(data.calibration["question_id"].astype(str))


# ---------------------------------------------------------------- scoring
@dataclass
class Scored:
    """A frame scored once: labels, raw and calibrated scores, and the feature matrix."""

    frame: pd.DataFrame
    y: np.ndarray
    raw: np.ndarray | None
    p: np.ndarray
    matrix: np.ndarray | None = None
    names: list[str] | None = None


def has_matrix(model: Model) -> bool:
    """A :class:`~askwell.models.base.FeatureModel`: scored, permuted and projected on its
    feature matrix."""
    return isinstance(model, FeatureModel)


def score(model: Model, frame: pd.DataFrame) -> Scored:
    """Score ``frame`` once, keeping the uncalibrated score and the feature matrix."""
    y = frame["label"].to_numpy(dtype=int)
    questions = as_questions(frame)
    if not questions:
        return Scored(frame, y, np.zeros(0), np.zeros(0))
    x: np.ndarray | None = None
    names: list[str] | None = None
    if isinstance(model, FeatureModel):
        x = model.matrix(questions)
        names = list(model.input_names())
        raw = np.asarray(model.raw_from_matrix(x), dtype=float)
    else:
        raw = np.asarray(model.raw_proba(questions), dtype=float)
    p = np.asarray(model.calibrate(raw, [q.site for q in questions]), dtype=float)
    return Scored(frame, y, raw, p, x, names)


# ---------------------------------------------------------------- diagnosis
def diagnose(train: dict[str, Any], held_out: dict[str, Any]) -> dict[str, Any]:
    """Bias / variance in words, from train and held-out ROC AUC.

    - overfitting (high variance): train beats held-out by more than ``OVERFIT_GAP``;
    - underfitting (high bias): train itself is below ``UNDERFIT_TRAIN_AUC`` and held-out
      is close to it (gap under ``MILD_OVERFIT_GAP``): the model cannot even fit the data
      it has seen;
    - mild overfitting: a gap between ``MILD_OVERFIT_GAP`` and ``OVERFIT_GAP``;
    - fine otherwise.
    """
    tr, te = train.get("roc_auc"), held_out.get("roc_auc")
    if tr is None or te is None or not (math.isfinite(tr) and math.isfinite(te)):
        return {"verdict": "unknown", "gap": None, "text": "ROC AUC is undefined on one side."}
    gap = tr - te
    figures = f"train ROC AUC {tr:.3f} vs held-out {te:.3f} (gap {gap:+.3f})"
    if gap > OVERFIT_GAP:
        verdict = "overfitting"
        text = (f"Overfitting (high variance): {figures}. The model fits its training questions "
                "much better than new ones; regularise it, simplify its inputs or give it more data.")
    elif tr < UNDERFIT_TRAIN_AUC and gap < MILD_OVERFIT_GAP:
        verdict = "underfitting"
        text = (f"Underfitting (high bias): {figures}. It does barely better on questions it has "
                "seen than on new ones, and not well on either: it lacks capacity or informative "
                "inputs; more data will not fix that, richer features or a stronger model might.")
    elif gap > MILD_OVERFIT_GAP:
        verdict = "mild overfitting"
        text = (f"Mild overfitting: {figures}. Acceptable, but the gap says some of what it "
                "learned is specific to its training questions.")
    else:
        verdict = "fine"
        text = f"Fine: {figures}. Train and held-out agree; the model generalises as well as it fits."
    return {"verdict": verdict, "gap": gap, "text": text}


# ---------------------------------------------------------------- sections
def _metrics_section(fit: Scored, test: Scored, threshold: float, config: EvaluationConfig) -> dict[str, Any]:
    held = bootstrap_metrics(test.y, test.p, threshold, n_boot=config.n_boot, seed=config.seed)
    train = bootstrap_metrics(fit.y, fit.p, threshold, n_boot=config.n_boot, seed=config.seed + 1)
    diag = diagnose({k: v["value"] for k, v in train.items()}, {k: v["value"] for k, v in held.items()})
    return {
        "names": list(METRIC_NAMES),
        "held_out": held,
        "train": train,
        "n": {"held_out": len(test.y), "train": len(fit.y)},
        "positive_rate": {"held_out": _mean(test.y), "train": _mean(fit.y)},
        "confidence": 0.95,
        "resamples": config.n_boot,
        "diagnosis": diag,
    }


def _operating_section(test: Scored, threshold: float, config: EvaluationConfig) -> dict[str, Any]:
    chosen = operating.operating_point(
        test.y, test.p, target_precision=config.target_precision,
        target_recall=config.target_recall, flag=config.flag,
    )
    at_model = operating.tradeoff_table(test.y, test.p, flag=config.flag, shares=(), thresholds=(threshold,))[0]
    table = operating.tradeoff_table(test.y, test.p, flag=config.flag,
                                     thresholds=(threshold, chosen["threshold"]))
    what = "bad (flag = needs work)" if config.flag == "bad" else "good"
    rule = "below" if config.flag == "bad" else "at least"
    goal = f"a flag {chosen['target']} of at least {chosen['target_value']:.0%}"
    figures = (f"{chosen['flagged']:,} questions flagged ({_pct(chosen['flagged_share'])}), precision "
               f"{_pct(chosen['precision'])}, recall {_pct(chosen['recall'])}")
    if chosen["reached"]:
        text = f"For {goal}, flag questions scoring {rule} {chosen['threshold']:.3f}: {figures}."
    else:
        text = (f"No threshold reaches {goal} on the held-out side (flagging at least "
                f"{chosen['min_flagged']} questions; {config.flag} questions are "
                f"{_pct(chosen['base_rate'])} of them). The closest: flag scores {rule} "
                f"{chosen['threshold']:.3f}: {figures}.")
    return {
        "flag": config.flag,
        "flagged_class": what,
        "roc": roc_points(test.y, test.p),
        "model_threshold": {**at_model, "threshold": threshold},
        "chosen": chosen,
        "table": table,
        "text": text,
    }


def calibration_figures(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """ECE (equal-width and equal-count bins), Brier and both reliability tables."""
    return {
        "ece": expected_calibration_error(y, p),
        "ece_adaptive": expected_calibration_error(y, p, strategy="quantile"),
        "brier": classification_metrics(y, p)["brier"],
        "reliability": reliability(y, p),
        "reliability_quantile": reliability(y, p, strategy="quantile"),
    }


def _calibration_section(test: Scored, model: Model) -> dict[str, Any]:
    out: dict[str, Any] = {"method": model.calibration.method}
    out["calibrated"] = calibration_figures(test.y, test.p)
    if test.raw is not None:
        out["raw"] = calibration_figures(test.y, test.raw)
        before, after = out["raw"], out["calibrated"]
        out["text"] = (f"Expected calibration error on held-out questions: {before['ece']:.3f} before "
                       f"calibration, {after['ece']:.3f} after ({out['method'] or 'none'}); with "
                       f"equal-count bins {before['ece_adaptive']:.3f} -> {after['ece_adaptive']:.3f}.")
    else:
        out["text"] = f"Expected calibration error on held-out questions: {out['calibrated']['ece']:.3f}."
    return out


def _scores_section(test: Scored, bins: int = 30) -> dict[str, Any]:
    """Score histograms by true class over the observed score range."""
    lo, hi = (float(test.p.min()), float(test.p.max())) if len(test.p) else (0.0, 1.0)
    if hi - lo < 1e-6:
        lo, hi = max(0.0, lo - 0.01), min(1.0, hi + 0.01)
    edges = np.linspace(lo, hi, bins + 1)
    return {
        "edges": edges.tolist(),
        "good": np.histogram(test.p[test.y == 1], edges)[0].tolist(),
        "bad": np.histogram(test.p[test.y == 0], edges)[0].tolist(),
    }


def _explain(model: Model, frame: pd.DataFrame, rows: list[int]) -> Explanation | None:
    if not rows:
        return None
    return model.explain(as_questions(frame.iloc[rows]))


def _examples_section(model: Model, side: Scored, threshold: float, k: int) -> dict[str, Any]:
    picked = erroranalysis.pick_examples(side.y, side.p, threshold, k)
    rows = sorted({r for rs in picked.values() for r in rs})
    expl = _explain(model, side.frame, rows)
    return {
        kind: erroranalysis.describe(side.frame, rs, side.y, side.p, threshold, expl, rows)
        for kind, rs in picked.items()
    }


def _registry_features(frame: pd.DataFrame) -> pd.DataFrame | None:
    try:
        from askwell.features import compute_features
    except ImportError:
        return None
    return compute_features(as_questions(frame))


def _leakage_section(model: Model, fit: Scored, test: Scored, config: EvaluationConfig,
                     model_auc: float | None) -> dict[str, Any]:
    if fit.matrix is not None and fit.names:
        tr = pd.DataFrame(fit.matrix, columns=fit.names)
        te = pd.DataFrame(test.matrix, columns=test.names)
        source = "the model's own features"
        y_fit = fit.y
    else:
        # Text models: score the registry's features of the questions (a sample of the
        # training side keeps this to seconds; +-0.02 on an AUC is plenty for an alarm).
        rows = np.arange(len(fit.y))
        if len(rows) > LEAKAGE_MAX_TRAIN_ROWS:
            rows = np.sort(np.random.default_rng(config.seed).choice(len(rows), LEAKAGE_MAX_TRAIN_ROWS,
                                                                     replace=False))
        tr, te = _registry_features(fit.frame.iloc[rows]), _registry_features(test.frame)
        y_fit = fit.y[rows]
        source = "the feature registry (the model reads text, so its registry features are checked)"
        if tr is None:
            return {"skipped": "no feature registry available (askwell.features)"}
    out = leakage.leakage_alarm(tr, y_fit, te, test.y, threshold=config.leakage_threshold,
                                model_auc=model_auc)
    out["source"] = source
    if out["flagged"]:
        names = ", ".join(f"{r['feature']} ({r['auc']:.3f})" for r in out["flagged"][:5])
        out["text"] = (f"LEAKAGE ALARM: {len(out['flagged'])} feature(s) alone separate good from bad "
                       f"questions with ROC AUC above {out['threshold']:.2f}: {names}. Check that they "
                       "do not encode the outcome (score, answers, closure, later edits).")
    else:
        top = out["features"][0] if out["features"] else None
        out["text"] = (f"No single feature exceeds ROC AUC {out['threshold']:.2f} alone"
                       + (f"; the strongest is {top['feature']} ({top['auc']:.3f})." if top else "."))
    if out["dominant"]:
        out["text"] += (" Feature(s) doing at least as well alone as the whole model: "
                        + ", ".join(r["feature"] for r in out["dominant"][:5]) + ".")
    return out


def _importance_section(model: Model, test: Scored, config: EvaluationConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rows = list(range(min(len(test.y), CONTRIBUTION_ROWS)))
    if len(test.y) > CONTRIBUTION_ROWS:
        rows = sorted(np.random.default_rng(config.seed).choice(len(test.y), CONTRIBUTION_ROWS,
                                                                replace=False).tolist())
    expl = _explain(model, test.frame, rows)
    out["contributions"] = importance.contribution_importance(expl) if expl is not None else None
    out["native"] = importance.native_importance(model)
    if not config.permutation:
        out["permutation"] = {"skipped": "switched off (--no-permutation)"}
        return out
    if test.matrix is not None and test.names and isinstance(model, FeatureModel):
        out["permutation"] = importance.permutation_importance_matrix(
            model.proba_from_matrix, test.matrix, test.y, test.names,
            repeats=config.permutation_repeats, seed=config.seed,
            max_rows=config.permutation_max_rows, budget_seconds=30.0,
        )
    out["permutation_fields"] = importance.permutation_importance_fields(
        model.predict_proba, test.frame, test.y,
        repeats=1 if test.matrix is not None else max(1, config.permutation_repeats - 1),
        seed=config.seed, max_rows=min(config.permutation_max_rows, FIELD_PERMUTATION_ROWS),
    )
    return out


def _error_map_section(test: Scored, threshold: float, config: EvaluationConfig) -> dict[str, Any]:
    if len(test.y) < 10:
        return {"skipped": "too few held-out questions"}
    if test.matrix is not None and test.names:
        xy, info = erroranalysis.project_features(test.matrix, config.seed)
        components = info.pop("components")
        info["axis_features"] = [
            [test.names[j] for j in np.argsort(-np.abs(c))[:6]] for c in components
        ]
    else:
        from askwell.models.textinput import question_texts

        xy, info = erroranalysis.project_texts(question_texts(as_questions(test.frame)), config.seed)
    out = erroranalysis.error_map(xy, test.y, test.p, threshold, seed=config.seed)
    out["projection"] = info
    region = out.get("region")
    if region:
        region["examples"] = erroranalysis.describe(
            test.frame, region.pop("example_rows"), test.y, test.p, threshold)
        members = region.pop("rows")
        region["profile"] = (
            erroranalysis.region_profile(test.matrix, test.names, members)
            if test.matrix is not None and test.names else []
        )
        kind = "too optimistic (bad questions scored good)" if region["false_good"] >= region["false_bad"] \
            else "too pessimistic (good questions scored bad)"
        region["text"] = (
            f"Densest error region: {region['errors']} errors among {region['questions']} questions "
            f"(error rate {region['error_rate']:.0%} vs {out['error_rate']:.0%} overall; "
            f"{region['share_of_all_errors']:.0%} of all errors); the model is mostly {kind} there."
        )
        if region["profile"]:
            region["text"] += " Its questions differ from the rest most in: " + ", ".join(
                f"{f['feature']} ({'higher' if f['effect'] > 0 else 'lower'})" for f in region["profile"][:3]
            ) + "."
    return out


def _comparison_section(
    primary: Subject, test: Scored, others: Sequence[Subject], config: EvaluationConfig
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ids = test.frame["question_id"].astype(str).to_numpy()
    for other in others:
        keep = np.ones(len(ids), dtype=bool)
        if other.seen_ids is not None:
            keep &= ~np.isin(ids, list(other.seen_ids))
        notes = list(other.notes)
        if not keep.all():
            notes.append(f"{int((~keep).sum())} held-out questions were in {other.name}'s training data "
                         "and are left out of the comparison")
        rows = np.flatnonzero(keep)
        if len(rows) < 20:
            out.append({"name": other.name, "source": other.source, "notes": notes,
                        "skipped": "fewer than 20 held-out questions unseen by both models"})
            continue
        frame = test.frame.iloc[rows].reset_index(drop=True)
        mine = Scored(frame, test.y[rows], None if test.raw is None else test.raw[rows], test.p[rows])
        theirs = score(other.model, frame)
        thr_a, thr_b = primary.model.threshold, other.model.threshold
        diff = paired_bootstrap(mine.y, mine.p, theirs.p, thr_a, thr_b, n_boot=config.n_boot,
                                seed=config.seed)
        segs_a = segments.segment_performance(frame, mine.y, mine.p, thr_a, overall_auc=diff["roc_auc"]["a"],
                                              seed=config.seed, n_boot=0)
        segs_b = segments.segment_performance(frame, theirs.y, theirs.p, thr_b,
                                              overall_auc=diff["roc_auc"]["b"], seed=config.seed, n_boot=0)
        side = []
        for dim in ("site_kind", "author", "length"):
            a_rows = {r["segment"]: r for r in segs_a["dimensions"].get(dim, []) if not r.get("too_small")}
            b_rows = {r["segment"]: r for r in segs_b["dimensions"].get(dim, []) if not r.get("too_small")}
            for seg in a_rows:
                if seg in b_rows:
                    side.append({"dimension": dim, "segment": seg, "n": a_rows[seg]["n"],
                                 "roc_auc_a": a_rows[seg]["roc_auc"], "roc_auc_b": b_rows[seg]["roc_auc"]})
        auc = diff["roc_auc"]
        verdict = _comparison_text(primary.name, other.name, auc)
        out.append({
            "name": other.name,
            "family": other.model.family,
            "source": other.source,
            "notes": notes,
            "rows": len(rows),
            "thresholds": {"a": thr_a, "b": thr_b},
            "metrics": diff,
            "roc": {"a": roc_points(mine.y, mine.p), "b": roc_points(theirs.y, theirs.p)},
            "ece": {"a": expected_calibration_error(mine.y, mine.p),
                    "b": expected_calibration_error(theirs.y, theirs.p)},
            "reliability": {"a": reliability(mine.y, mine.p, strategy="quantile"),
                            "b": reliability(theirs.y, theirs.p, strategy="quantile")},
            "segments": side,
            "text": verdict,
        })
    return out


def _comparison_text(a: str, b: str, auc: dict[str, Any]) -> str:
    if auc["difference"] is None:
        return f"{a} vs {b}: ROC AUC undefined on these rows."
    ci = f"[{auc['low']:+.3f}, {auc['high']:+.3f}]" if auc["low"] is not None else "(no interval)"
    if auc["significant"]:
        better = a if auc["difference"] > 0 else b
        return (f"{a} vs {b}: ROC AUC {auc['a']:.3f} vs {auc['b']:.3f}, difference "
                f"{auc['difference']:+.3f} {ci}; {better} is better (the interval excludes 0).")
    return (f"{a} vs {b}: ROC AUC {auc['a']:.3f} vs {auc['b']:.3f}, difference {auc['difference']:+.3f} "
            f"{ci}; the interval includes 0, so the difference may be noise.")


def _headline(report: dict[str, Any]) -> list[str]:
    held = report["metrics"]["held_out"]
    lines = []
    auc = held["roc_auc"]
    if auc["value"] is not None:
        ci = f" [{auc['low']:.3f}, {auc['high']:.3f}]" if auc["low"] is not None else ""
        acc = held["accuracy"]
        lines.append(
            f"Held-out ROC AUC {auc['value']:.3f}{ci}, accuracy {acc['value']:.3f}, "
            f"F1 {held['f1']['value']:.3f}, Brier {held['brier']['value']:.3f} "
            f"on {report['metrics']['n']['held_out']:,} questions."
        )
    lines.append(report["metrics"]["diagnosis"]["text"])
    lines.append(report["operating_point"]["text"])
    lines.append(report["calibration"]["text"])
    if "text" in report.get("leakage", {}):
        lines.append(report["leakage"]["text"])
    worst = (report.get("segments") or {}).get("worst")
    if worst:
        lines.append(worst["text"])
    flag_gap = (report.get("segments") or {}).get("flag_gap")
    if flag_gap and flag_gap["gap"] >= FLAG_GAP_NOTE:
        lines.append(flag_gap["text"])
    lc = report.get("learning_curve") or {}
    if lc.get("verdict"):
        lines.append(lc["verdict"])
    cv = report.get("cv") or {}
    if cv.get("summary", {}).get("roc_auc"):
        s = cv["summary"]["roc_auc"]
        lines.append(f"{cv['k']}-fold {cv['kind']} cross-validation: ROC AUC {s['mean']:.3f} ± {s['std']:.3f} "
                     f"(folds {s['min']:.3f}-{s['max']:.3f}).")
    loso = report.get("sites_out") or {}
    if loso.get("macro"):
        lines.append(loso["verdict"])
    for comp in report.get("comparison") or []:
        if comp.get("text"):
            lines.append(comp["text"])
    return lines


#: Calibration error (adaptive ECE, calibrated scores) a report calls fine / worth a look.
ECE_PASS, ECE_WARN = 0.03, 0.08

Status = Literal["pass", "warn", "fail"]


def _finding(section: str, status: Status, text: str) -> dict[str, str]:
    return {"section": section, "status": status, "text": text}


def _findings(report: dict[str, Any]) -> list[dict[str, str]]:
    """The headline as findings, each with a status a reader can scan: ``pass`` (nothing to
    do), ``warn`` (look at it), ``fail`` (the model or the evaluation has a problem)."""
    out = []
    held = report["metrics"]["held_out"]
    auc = held["roc_auc"]
    if auc["value"] is not None:
        low = auc["low"] if auc["low"] is not None else auc["value"]
        status: Status = "fail" if low <= 0.5 else "warn" if auc["value"] < 0.6 else "pass"
        out.append(_finding("metrics", status, _headline(report)[0]))
    diag = report["metrics"]["diagnosis"]
    by_verdict: dict[str, Status] = {"fine": "pass", "overfitting": "fail"}
    out.append(_finding("metrics", by_verdict.get(diag["verdict"], "warn"), diag["text"]))
    op = report["operating_point"]
    out.append(_finding("roc", "pass" if op["chosen"]["reached"] else "warn", op["text"]))
    cal = report["calibration"]
    ece = (cal.get("calibrated") or {}).get("ece_adaptive")
    calibrated: Status = ("warn" if ece is None else "pass" if ece <= ECE_PASS
                          else "warn" if ece <= ECE_WARN else "fail")
    out.append(_finding("calibration", calibrated, cal["text"]))
    leak = report.get("leakage") or {}
    if "text" in leak:
        out.append(_finding("leakage", "fail" if leak.get("flagged") else "pass", leak["text"]))
    segments = report.get("segments") or {}
    if segments.get("worst"):
        out.append(_finding("segments", "warn" if segments["worst"].get("outside_interval") else "pass",
                            segments["worst"]["text"]))
    flag_gap = segments.get("flag_gap")
    if flag_gap and flag_gap["gap"] >= FLAG_GAP_NOTE:
        out.append(_finding("segments", "warn", flag_gap["text"]))
    lc = report.get("learning_curve") or {}
    if lc.get("verdict"):
        out.append(_finding("learning", "pass", lc["verdict"]))
    cv = report.get("cv") or {}
    if cv.get("summary", {}).get("roc_auc"):
        s = cv["summary"]["roc_auc"]
        out.append(_finding("cv", "warn" if s["std"] > 0.05 else "pass",
                            f"{cv['k']}-fold {cv['kind']} cross-validation: ROC AUC {s['mean']:.3f} ± "
                            f"{s['std']:.3f} (folds {s['min']:.3f}-{s['max']:.3f})."))
    loso = report.get("sites_out") or {}
    if loso.get("macro"):
        from askwell.evaluation.sites import GOAL_MACRO_AUC

        mac = loso["macro"]
        good = mac["roc_auc"] >= GOAL_MACRO_AUC and mac["brier"] < mac["brier_kind_rate"]
        out.append(_finding("sites_out", "pass" if good else "warn", loso["verdict"]))
    for comp in report.get("comparison") or []:
        if comp.get("text"):
            out.append(_finding("comparison", "pass", comp["text"]))
    return out


# ---------------------------------------------------------------- the whole report
def evaluate(
    subject: Subject,
    data: PreparedData,
    *,
    config: EvaluationConfig | None = None,
    against: Sequence[Subject] = (),
    provenance: dict[str, Any] | None = None,
    dataset_id: str | None = None,
) -> dict[str, Any]:
    """Every section of the report for ``subject.model`` on prepared ``data``."""
    config = config or EvaluationConfig()
    model = subject.model
    threshold = float(model.threshold)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def timed(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timings[name] = round(time.perf_counter() - t0, 3)

    if len(data.test) == 0 or data.test["label"].nunique() < 2:
        raise EvaluationError("the held-out side needs both good and bad questions to evaluate")
    fit = timed("score_train", score, model, data.fit)
    test = timed("score_held_out", score, model, data.test)
    meta = model.meta
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "askwell_version": __version__,
        "model": {
            "name": subject.name,
            "family": model.family,
            "source": subject.source,
            "threshold": threshold,
            "params": meta.params,
            "calibration": asdict(meta.calibration),
            "dataset_id": meta.dataset_id,
            "trained_at": meta.trained_at,
            "inputs": list(model.input_names()),
        },
        "data": {
            "dataset_id": dataset_id or meta.dataset_id,
            "label": data.label, "split": data.split, "seed": data.seed,
            "rows": _rows(data),
            "positive_rate": {"held_out": _mean(test.y), "train": _mean(fit.y)},
            "split_leakage": _split_leakage_summary(data.leakage),
            "notes": list(subject.notes) + list((provenance or {}).get("notes", [])),
            "provenance": provenance or {},
        },
        "config": asdict(config),
    }
    report["metrics"] = timed("metrics", _metrics_section, fit, test, threshold, config)
    report["confusion"] = timed("confusion", confusion, test.y, test.p, threshold)
    report["operating_point"] = timed("operating_point", _operating_section, test, threshold, config)
    report["calibration"] = timed("calibration", _calibration_section, test, model)
    report["scores"] = _scores_section(test)
    report["examples"] = {
        "held_out": timed("examples_held_out", _examples_section, model, test, threshold, config.top_k),
        "train": timed("examples_train", _examples_section, model, fit, threshold, config.top_k),
    }
    held_auc = report["metrics"]["held_out"]["roc_auc"]["value"]
    report["importance"] = timed("importance", _importance_section, model, test, config)
    report["leakage"] = timed("leakage", _leakage_section, model, fit, test, config, held_auc)
    if config.learning_curve:
        full = {"train": {k: v["value"] for k, v in report["metrics"]["train"].items()},
                "test": {k: v["value"] for k, v in report["metrics"]["held_out"].items()}}
        matrices = (fit.matrix, test.matrix) if fit.matrix is not None and test.matrix is not None else None
        report["learning_curve"] = timed(
            "learning_curve", curves.learning_curve, model, data.fit, data.calibration, data.test,
            full=full, seed=config.seed, budget_seconds=60.0, matrices=matrices,
        )
    else:
        report["learning_curve"] = {"skipped": "switched off (--no-learning-curve)"}
    report["segments"] = timed(
        "segments", segments.segment_performance, test.frame, test.y, test.p, threshold,
        overall_auc=held_auc, seed=config.seed,
    )
    if config.error_map:
        report["error_map"] = timed("error_map", _error_map_section, test, threshold, config)
    else:
        report["error_map"] = {"skipped": "switched off (--no-error-map)"}
    if config.cv:
        everything = pd.concat([data.fit, data.calibration, data.test], ignore_index=True)
        report["cv"] = timed("cv", curves.cross_validate, model, everything, kind=data.split,
                             k=config.cv, seed=data.seed)
    else:
        report["cv"] = {"skipped": "not asked for (--cv K)"}
    if config.sites_out:
        from askwell.evaluation.sites import leave_one_site_out

        everything = pd.concat([data.fit, data.calibration, data.test], ignore_index=True)
        try:
            report["sites_out"] = timed("sites_out", leave_one_site_out, model, everything,
                                        split=data.split, seed=data.seed, n_boot=min(config.n_boot, 300))
        except AskwellError as exc:  # a family that cannot be re-fit (an unregistered one)
            report["sites_out"] = {"skipped": f"the model cannot be re-fit: {exc}"}
    else:
        report["sites_out"] = {"skipped": "switched off (--no-sites-out)"}
    report["comparison"] = timed("comparison", _comparison_section, subject, test, against, config)
    timings["total"] = round(time.perf_counter() - started, 3)
    report["timings"] = timings
    report["headline"] = _headline(report)
    report["findings"] = _findings(report)
    return report


def _split_leakage_summary(leak: dict[str, Any]) -> dict[str, Any]:
    keys = ("kind", "test_share_owner_in_train", "test_share_near_identical",
            "identical_test_rows", "test_share_older_than_newest_train_same_site")
    return {k: leak.get(k) for k in keys if k in leak}


def _mean(y: np.ndarray) -> float | None:
    return float(np.mean(y)) if len(y) else None


def _pct(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.1%}" if 0 < abs(v) < 0.1 else f"{v:.0%}"
