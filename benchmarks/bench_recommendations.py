"""Are the suggestions right, and fast? (issue 5: measured, not assumed)

1. Degradation test: take well-received held-out questions, break each in one known way
   (drop the title's "?", strip code formatting, lowercase everything, cut the body to one
   sentence, add "URGENT please help!!!", remove the what-I-tried text) and report how
   often the score drops and how often the top 3 suggestions name the degradation
   (recall@3). Target: recall@3 >= 0.8 for the mechanical degradations.
1b. Restoration test: the same kind of degradation, then the top suggestion for that fault
   applied (again, re-analysing, while one is offered), and the result compared with the
   original (same title, the same code blocks character for character, the same text with
   white space runs as one): the restoration rate per degradation. Target: code restored
   exactly in >= 90% of the stripped-code questions where the fault is named. Code safety
   (``--code-safety``, every question of both dump folders): the mechanical suggestions
   applied one after another, re-analysing between them as the editor does; target 0
   questions whose existing code (blocks, inline code) changes.
2. Real edits: questions in PostHistory.xml that were closed, edited and reopened; score
   the revision at closing and at reopening; how often does the reopened one score higher?
3. Speed: the whole analysis of a ~300-word question, p50/p99 on one core, side by side
   with a LIME tabular explanation (5,000 samples) of the same model; and determinism
   (every analysis run twice, compared).

    .venv/bin/pip install -e ".[bench]"   # LIME, for the side-by-side speed figure
    .venv/bin/python benchmarks/bench_recommendations.py [--model-path DIR] [--quick] [--code-safety] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from askwell.evaluation.degradations import (
    code_safety,
    degradation_test,
    determinism,
    restoration_test,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "stackexchange"

def real_edits(analyzer, shared: Path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Closed -> edited -> reopened questions: does the reopened revision score higher?"""
    from askwell.data.dumpfiles import ReadStats, iter_rows
    from askwell.question import Question

    pairs = []
    for site_dir in sorted(p for p in shared.iterdir() if (p / "PostHistory.xml").is_file()):
        events: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
        for row in iter_rows(site_dir / "PostHistory.xml", "posthistory", ReadStats()):
            kind = int(row.get("PostHistoryTypeId", 0))
            if kind in (1, 2, 4, 5, 7, 8, 10, 11):
                events[row["PostId"]].append((row.get("CreationDate", ""), kind, row.get("Text") or ""))
        for evs in events.values():
            evs.sort()
            title = body = None
            closed_rev = None
            for _, kind, text in evs:
                if kind in (1, 4, 7):
                    title = text
                elif kind in (2, 5, 8):
                    body = text
                elif kind == 10 and title is not None and body is not None:
                    closed_rev = (title, body)
                elif kind == 11 and closed_rev is not None and title is not None and body is not None:
                    if (title, body) != closed_rev:
                        pairs.append((Question(*closed_rev, site=site_dir.name),
                                      Question(title, body, site=site_dir.name)))
                    closed_rev = None
    higher = sum(analyzer.analyze(b).score > analyzer.analyze(a).score for a, b in pairs)
    return {"pairs": len(pairs), "reopened_scores_higher": higher / len(pairs) if pairs else float("nan")}


def speed(analyzer, model, questions, runs: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from askwell.features import compute_features
    from askwell.question import Question

    # a ~300-word question built from real held-out text
    long_q = next((q for q in questions if 250 <= len(q.body.split()) <= 450), questions[0])
    words = " ".join(long_q.body.split()[:300])
    q300 = Question(long_q.title, words, long_q.tags, long_q.site)
    analyzer.analyze(q300)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        analyzer.analyze(q300)
        times.append((time.perf_counter() - t) * 1000)
    result = {"analysis_p50_ms": float(np.percentile(times, 50)),
              "analysis_p99_ms": float(np.percentile(times, 99))}
    try:
        from lime.lime_tabular import LimeTabularExplainer
    except ImportError:
        result["lime"] = "not installed (pip install lime)"
        return result
    background = compute_features(questions[:500])[model.feature_names_].to_numpy(dtype=float)
    background = np.nan_to_num(background)
    explainer = LimeTabularExplainer(background, feature_names=model.feature_names_,
                                     discretize_continuous=True, random_state=0)
    x = np.nan_to_num(model.matrix([q300])[0])

    def predict(rows):  # type: ignore[no-untyped-def]
        p = model.proba_from_matrix(rows)
        return np.column_stack([1 - p, p])

    lime_times = []
    for _ in range(3):
        t = time.perf_counter()
        explainer.explain_instance(x, predict, num_features=10, num_samples=5000)
        lime_times.append((time.perf_counter() - t) * 1000)
    result["lime_5000_median_ms"] = float(np.median(lime_times))
    result["speedup_vs_lime"] = result["lime_5000_median_ms"] / result["analysis_p50_ms"]
    return result


def _every_question(settings, dataset) -> list:  # type: ignore[no-untyped-def]
    """Every question of the dataset: both shared dump folders (the default ingest reads
    the extra folder too, so it is not added again)."""
    from askwell.question import questions_from_frame

    return questions_from_frame(dataset.to_pandas())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-path", type=Path, help="model folder (default: the packaged model)")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--quick", action="store_true", help="small samples (CI smoke run)")
    parser.add_argument("--code-safety", action="store_true",
                        help="also apply suggestions in sequence to every question of both dump folders")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from askwell.config import Settings
    from askwell.data.commands import default_inputs
    from askwell.data.ingest import ingest
    from askwell.data.store import DatasetStore
    from askwell.explain.engine import Analyzer
    from askwell.models.training import prepare
    from askwell.question import questions_from_frame
    from askwell.registry.resolve import load_for_use

    home = Path(os.environ.get("ASKWELL_HOME", tempfile.mkdtemp(prefix="bench-rec-")))
    settings = Settings(home=home, shared_data=args.shared)
    model, ref = load_for_use(settings, None, args.model_path)
    analyzer = Analyzer(model, ref)
    dataset = ingest(default_inputs(settings), DatasetStore(settings.datasets_dir)).dataset
    meta = model.meta
    data = prepare(dataset.to_pandas(), label=meta.get("label") or "grade",
                   split=meta.get("metrics", {}).get("split", "time"), seed=meta.get("seed", 42))
    good = data.test[data.test["label"] == 1]
    questions = questions_from_frame(good)
    limit = 60 if args.quick else 400
    everything = _every_question(settings, dataset)
    report = {
        "model": f"{ref.name} v{ref.version}",
        "degradation": degradation_test(analyzer, questions, limit),
        "restoration": restoration_test(analyzer, everything, 150 if args.quick else 400),
        "real_edits": real_edits(analyzer, args.shared),
        "speed": speed(analyzer, model, questions_from_frame(data.test), 200 if args.quick else 1000),
        "deterministic": determinism(analyzer, questions[: 30 if args.quick else 200]),
    }
    if args.code_safety:
        report["code_safety"] = code_safety(analyzer, everything)
    mech = [v["recall_at_3"] for v in report["degradation"].values() if v["mechanical"] and v["n"]]
    report["mechanical_recall_at_3"] = float(np.mean(mech)) if mech else float("nan")
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"model {report['model']}")
    print(f"{'degradation':<28}{'n':>5}{'score drops':>13}{'recall@3':>10}  mechanical")
    for name, r in report["degradation"].items():
        print(f"{name:<28}{r['n']:>5}{r['score_drops']:>13.2f}{r['recall_at_3']:>10.2f}  {r['mechanical']}")
    print(f"mechanical recall@3 (mean): {report['mechanical_recall_at_3']:.2f}   target >= 0.80")
    print(f"{'restoration':<28}{'n':>5}{'named':>7}{'restored/named':>16}{'by one edit':>13}")
    for name, r in report["restoration"].items():
        print(f"{name:<28}{r['n']:>5}{r['named']:>7}{r['restored_when_named']:>16.2f}"
              f"{r['restored_by_one_edit']:>13.2f}")
    print("code restored exactly where the fault is named: target >= 0.90")
    if "code_safety" in report:
        c = report["code_safety"]
        print(f"code safety: {c['questions']} questions, {c['edits_applied']} suggestions applied in "
              f"sequence, {c['code_changed']} questions whose existing code changed (target 0)")
    e = report["real_edits"]
    print(f"real edits: {e['pairs']} closed->reopened pairs; reopened scores higher in {e['reopened_scores_higher']:.2f}")
    s = report["speed"]
    print(f"analysis of a 300-word question: p50 {s['analysis_p50_ms']:.2f} ms, p99 {s['analysis_p99_ms']:.2f} ms "
          "(target p99 < 20 ms)")
    if "speedup_vs_lime" in s:
        print(f"LIME tabular, 5,000 samples: {s['lime_5000_median_ms']:.0f} ms -> askwell is "
              f"{s['speedup_vs_lime']:.0f}x faster (target >= 20x)")
    print(f"deterministic (each analysis run twice): {report['deterministic']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
