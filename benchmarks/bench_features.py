"""Feature cost and worth on the real dumps.

Run by hand::

    .venv/bin/python benchmarks/bench_features.py [--quick] [--json] [--no-auc]

Pinned to one core. Prints:

- latency of ``features_for`` on one question at a time (p50/p90/p99/max, µs);
- batch throughput of ``compute_features`` (questions/s);
- cost per stage and per feature group (µs per question), where the shared analysis
  (parse + words + sentences) is counted once and each group is timed on fresh analyses,
  so a group is charged for the lazy pieces it needs (signals, word statistics...);
- the time to analyse adversarial 20,000-character lines (regexes that backtrack blow up
  on them: a pasted line can be that long);
- the off-the-shelf alternatives we replaced (textstat, vaderSentiment) on the same
  texts, and how closely our versions agree with them;
- each feature's ROC AUC alone against the ``grade`` label, pooled and averaged within
  sites (so a feature that only tells sites apart does not look useful).

Targets (issue 3): the whole default model at p99 < 5 ms per question including feature
extraction and >= 2,000 questions/s in batch on one core, so features should average
well under ~350 µs per question.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "stackexchange"


def _frame() -> pd.DataFrame:
    """The real dataset: the latest one under $ASKWELL_HOME, else a fresh ingest."""
    from askwell.config import Settings
    from askwell.data.commands import default_inputs
    from askwell.data.ingest import ingest
    from askwell.data.store import DatasetStore

    home = os.environ.get("ASKWELL_HOME")
    if home and (Path(home) / "datasets").is_dir():
        try:
            return DatasetStore(Path(home) / "datasets").latest().to_pandas()
        except Exception:  # an empty or foreign folder: ingest afresh
            pass
    settings = Settings(home=Path(home or tempfile.mkdtemp(prefix="bench-features-")),
                        shared_data=SHARED)
    return ingest(default_inputs(settings), DatasetStore(settings.datasets_dir)).dataset.to_pandas()


def _per_question_us(seconds: float, n: int) -> float:
    return round(seconds / max(n, 1) * 1e6, 1)


def latency(questions: list, repeats: int = 1) -> dict[str, float]:
    from askwell.features import features_for

    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeats):
        for q in questions:
            t, c = time.perf_counter(), time.thread_time()
            features_for(q)
            cpu.append((time.thread_time() - c) * 1e6)
            wall.append((time.perf_counter() - t) * 1e6)
    out: dict[str, float] = {"n": len(questions) * repeats}
    for clock, values in (("wall", wall), ("cpu", cpu)):
        arr = np.asarray(values)
        for p in (50, 90, 99):
            out[f"{clock}_p{p}_us"] = round(float(np.percentile(arr, p)), 1)
        out[f"{clock}_max_us"] = round(float(arr.max()), 1)
        out[f"{clock}_mean_us"] = round(float(arr.mean()), 1)
    return out


def throughput(questions: list, rounds: int) -> dict[str, float]:
    from askwell.features import compute_features

    rates = []
    for _ in range(rounds):
        t = time.perf_counter()
        compute_features(questions)
        rates.append(len(questions) / (time.perf_counter() - t))
    return {"n": len(questions), "rounds": rounds,
            "median_qps": round(statistics.median(rates)), "best_qps": round(max(rates))}


def group_costs(questions: list, rounds: int) -> dict[str, float]:
    """µs per question: the shared analysis, then each group on fresh analyses."""
    from askwell.features import GROUPS, analyze_text, specs

    out: dict[str, float] = {}
    best = min(_timed(lambda: [analyze_text(q) for q in questions]) for _ in range(rounds))
    out["analysis (parse, words, sentences)"] = _per_question_us(best, len(questions))
    for group in GROUPS:
        chosen = specs(groups=[group])
        times = []
        for _ in range(rounds):
            analyses = [analyze_text(q) for q in questions]
            times.append(_timed(lambda a=analyses, c=chosen: [[s.compute(x) for s in c] for x in a]))
        out[f"group {group} ({len(chosen)} features)"] = _per_question_us(min(times), len(questions))
    for stage in ("signals", "word_counts", "word_stats", "punctuation"):
        times = []
        for _ in range(rounds):
            analyses = [analyze_text(q) for q in questions]
            if stage == "word_stats":
                for a in analyses:
                    _ = a.word_counts
            times.append(_timed(lambda a=analyses, st=stage: [getattr(x, st) for x in a]))
        out[f"stage {stage}"] = _per_question_us(min(times), len(questions))
    return out


#: Lines that make a backtracking regex blow up (quadratic or worse): each is analysed
#: inside a pasted paragraph, where every line detector runs on it.
ADVERSARIAL = {
    "words": "word " * 4000, "rule with a letter": "-" * 10000 + "a" + "-" * 10000,
    "underscores": "_" * 20000 + " Name _", "pipes": "|" * 20000 + "a",
    "spaces then pipe": "a" + " " * 20000 + "|x", "numbers": "x" + " 1" * 10000,
    "open calls": "f(" * 10000 + "x;", "long word call": "a" * 20000 + "(",
    "assignments": "a = " * 5000, "commas": "ab, " * 5000 + ";", "tex": "\\frac " * 4000,
    "dollars": "$" * 20000, "prompts": ">>> " * 5000, "error cue": "error " * 4000,
}


def adversarial_ms() -> dict[str, float]:
    """Milliseconds to analyse each adversarial 20k-character line (features + signals)."""
    from askwell.features import features_for
    from askwell.question import Question

    out = {}
    for name, line in ADVERSARIAL.items():
        q = Question("t", f"<p>x = 1\n{line}\ny = 2\nz = 3</p>")
        out[name] = round(_timed(lambda q=q: features_for(q)) * 1000, 1)
    return out


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def alternatives(questions: list) -> dict[str, Any]:
    """What textstat and vaderSentiment cost on the same prose, how our reading ease agrees
    with textstat's, and real VADER's compound score as a reference feature (the sentiment
    feature was dropped for lack of signal). Both are in the ``bench`` extra only."""
    import textstat
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from askwell.features import analyze_text, features_for

    analyses = [analyze_text(q) for q in questions]
    texts = [" ".join([a.title, a.prose]).strip() for a in analyses]
    vader = SentimentIntensityAnalyzer()
    t = time.perf_counter()
    vader_scores = [vader.polarity_scores(x)["compound"] for x in texts]
    vader_us = _per_question_us(time.perf_counter() - t, len(texts))
    t = time.perf_counter()
    ts_ease = [textstat.flesch_reading_ease(x) for x in texts]
    textstat_us = _per_question_us(time.perf_counter() - t, len(texts))
    ours = [features_for(a, names=["flesch_reading_ease"]) for a in analyses]
    ease = np.asarray([o["flesch_reading_ease"] for o in ours])
    return {
        "vader_full_us": vader_us,
        "textstat_flesch_only_us": textstat_us,
        "reading_ease_corr_vs_textstat": round(float(np.corrcoef(ease, ts_ease)[0, 1]), 3),
    }, np.asarray(vader_scores), np.asarray(ts_ease)


def univariate(frame: pd.DataFrame, features: pd.DataFrame,
               extra: dict[str, np.ndarray] | None = None) -> list[dict[str, Any]]:
    """ROC AUC of each feature alone vs the grade label: pooled and mean within sites."""
    from sklearn.metrics import roc_auc_score

    from askwell.data.labels import label_values
    from askwell.features import DROPPED, get_spec

    y_all = label_values(frame, "grade").to_numpy()
    keep = ~np.isnan(y_all)
    y = y_all[keep]
    sites = frame["site"].to_numpy()[keep]
    columns = {c: features[c].to_numpy()[keep] for c in features.columns}
    for name, values in (extra or {}).items():
        columns[name] = values[keep]
    rows = []
    for name, x in columns.items():
        ok = ~np.isnan(x)
        if ok.sum() < 50 or len(set(y[ok])) < 2 or np.nanstd(x) == 0:
            rows.append({"feature": name, "auc": 0.5, "site_auc": 0.5, "n": int(ok.sum())})
            continue
        auc = float(roc_auc_score(y[ok], x[ok]))
        weighted, weight = 0.0, 0
        for site in np.unique(sites[ok]):
            m = ok & (sites == site)
            if len(set(y[m])) < 2 or np.std(x[m]) == 0:
                continue
            n_min = int(min((y[m] == 1).sum(), (y[m] == 0).sum()))
            weighted += float(roc_auc_score(y[m], x[m])) * n_min
            weight += n_min
        site_auc = weighted / weight if weight else 0.5
        try:
            spec = get_spec(name)
            direction, group = spec.direction, spec.group
        except KeyError:
            direction, group = 0, "reference"
        nonzero = x[ok] != 0
        bad = y[ok] == 0
        rows.append({
            "feature": name, "group": group, "auc": round(auc, 4),
            "site_auc": round(site_auc, 4), "direction": direction,
            "agrees": None if direction == 0 else bool((auc - 0.5) * direction >= 0),
            "nonzero_share": round(float(nonzero.mean()), 3), "n": int(ok.sum()),
            "bad_rate_nonzero": round(float(bad[nonzero].mean()), 3) if nonzero.any() else None,
            "bad_rate_zero": round(float(bad[~nonzero].mean()), 3) if (~nonzero).any() else None,
            "dropped": name in DROPPED,
        })
    rows.sort(key=lambda r: -abs(r["site_auc"] - 0.5))
    return rows


def ablation(frame: pd.DataFrame, seeds: int = 1) -> dict[str, float]:
    """5-fold CV ROC AUC of a LightGBM on the features (the ``features`` model's settings).

    Rows: every default feature, default + optional, and the default set without each
    group. Differences below ~0.005 are within the noise of ~500 bad questions.
    """
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from askwell.data.labels import label_values
    from askwell.features import GROUPS, compute_features, feature_names

    y_all = label_values(frame, "grade").to_numpy()
    keep = ~np.isnan(y_all)
    x_all = compute_features(frame[keep], names=feature_names(include_optional=True))
    x_all = x_all.reset_index(drop=True)
    y = y_all[keep]
    params = {"objective": "binary", "learning_rate": 0.03, "num_leaves": 15,
              "min_data_in_leaf": 25, "bagging_fraction": 0.8, "bagging_freq": 1,
              "feature_fraction": 0.8, "lambda_l2": 1.0, "deterministic": True,
              "force_row_wise": True, "num_threads": 1, "verbosity": -1}

    def cv(columns: list[str]) -> float:
        aucs = []
        for seed in range(seeds):
            pred = np.zeros(len(y))
            folds = StratifiedKFold(5, shuffle=True, random_state=seed).split(x_all, y)
            for train, test in folds:
                booster = lgb.train({**params, "seed": seed},
                                    lgb.Dataset(x_all.loc[train, columns].to_numpy(), y[train]),
                                    num_boost_round=300)
                pred[test] = booster.predict(x_all.loc[test, columns].to_numpy())
            aucs.append(roc_auc_score(y, pred))
        return round(float(np.mean(aucs)), 4)

    default = feature_names()
    out = {"default": cv(default), "default + optional": cv(feature_names(include_optional=True))}
    for group in GROUPS:
        out[f"without {group}"] = cv([c for c in default if c not in feature_names(groups=[group])])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer questions and rounds")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--no-auc", action="store_true", help="skip the univariate check")
    parser.add_argument("--ablation", action="store_true",
                        help="LightGBM CV AUC without each group (about a minute per seed)")
    parser.add_argument("--seeds", type=int, default=1, help="CV repeats for --ablation")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    from askwell.features import compute_features, feature_names
    from askwell.features.readability import warm_up
    from askwell.question import questions_from_frame

    frame = _frame()
    questions = questions_from_frame(frame)
    rng = np.random.default_rng(0)
    sample = [questions[i] for i in rng.permutation(len(questions))[: 500 if args.quick else 2000]]
    t = time.perf_counter()
    warm_up()
    report: dict[str, Any] = {"warm_up_s": round(time.perf_counter() - t, 2),
                              "questions": len(questions)}
    compute_features(questions)  # fill the per-word caches, as a running service would
    report["latency"] = latency(sample, repeats=1 if args.quick else 2)
    report["batch"] = throughput(questions, rounds=1 if args.quick else 3)
    report["cost_us_per_question"] = group_costs(sample, rounds=1 if args.quick else 3)
    report["adversarial_ms"] = adversarial_ms()
    alt, _, _ = alternatives(sample[:500])
    report["alternatives"] = alt
    if not args.no_auc:
        features = compute_features(frame, names=feature_names(include_optional=True))
        _, vader_all, ts_all = alternatives(questions)
        report["auc"] = univariate(frame, features, {"ref_vader_compound": vader_all,
                                                     "ref_textstat_flesch": ts_all})
    if args.ablation:
        report["ablation"] = ablation(frame, seeds=args.seeds)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    _print(report)


def _print(report: dict[str, Any]) -> None:
    print(f"questions: {report['questions']}   warm-up: {report['warm_up_s']} s")
    lat = report["latency"]
    print(f"features_for, one question at a time (n={lat['n']}):")
    for clock, what in (("wall", "wall clock"), ("cpu", "thread CPU time (ignores time "
                                                          "spent descheduled)")):
        print(f"  {what}: p50 {lat[f'{clock}_p50_us']} µs, p90 {lat[f'{clock}_p90_us']} µs, "
              f"p99 {lat[f'{clock}_p99_us']} µs, max {lat[f'{clock}_max_us']} µs, "
              f"mean {lat[f'{clock}_mean_us']} µs")
    b = report["batch"]
    print(f"compute_features, batch of {b['n']}: median {b['median_qps']} questions/s "
          f"(best {b['best_qps']})")
    print("cost per question (µs, one core):")
    for k, v in report["cost_us_per_question"].items():
        print(f"  {k:45s} {v:8.1f}")
    adv = report["adversarial_ms"]
    worst = max(adv, key=adv.get)
    print(f"adversarial 20k-character lines: worst {adv[worst]} ms ({worst}); "
          + ", ".join(f"{k} {v}" for k, v in adv.items()))
    print("replaced alternatives on the same prose:")
    for k, v in report["alternatives"].items():
        print(f"  {k:45s} {v}")
    if "auc" in report:
        print("univariate ROC AUC vs grade (site = mean within-site AUC, weighted by minority "
              "class size; dir = registry prior; agrees = pooled AUC on the prior's side):")
        print("  (bad|>0 and bad|=0: share of bad questions when the feature is non-zero / "
              "zero; base rate ~0.067)")
        print(f"  {'feature':28s} {'group':12s} {'auc':>7s} {'site':>7s} {'dir':>4s} "
              f"{'agrees':>6s} {'nonzero':>8s} {'bad|>0':>7s} {'bad|=0':>7s}")
        for r in report["auc"]:
            name = r["feature"] + (" (dropped)" if r.get("dropped") else "")
            print(f"  {name:28s} {r.get('group', ''):12s} {r['auc']:7.3f} "
                  f"{r['site_auc']:7.3f} {r.get('direction', 0):4d} "
                  f"{'' if r.get('agrees') is None else str(r['agrees']):>6s} "
                  f"{r.get('nonzero_share', 0):8.3f} {_fmt(r.get('bad_rate_nonzero'))} "
                  f"{_fmt(r.get('bad_rate_zero'))}")
    if "ablation" in report:
        print("LightGBM 5-fold CV ROC AUC (grade label):")
        for k, v in report["ablation"].items():
            print(f"  {k:45s} {v:.4f}")


def _fmt(value: float | None) -> str:
    return f"{'-':>7s}" if value is None else f"{value:7.3f}"


if __name__ == "__main__":
    main()
