"""How fast is the whole analysis on real questions, next to proselint? (issue 12, section 4)

Real questions from the shared dumps (HTML bodies as in the dumps, both folders), in one
process, warm: the whole ``Analyzer.analyze`` (features once, TreeSHAP gate, candidate
edits, invariant checks, one scoring call) against proselint (a rules-only linter, no
model) linting the same question's text (title and body text), question by question in
the same run, so the ratio holds whatever else the machine is doing. Also checks that the
engine's score is the model's own ``predict_proba`` (the fast path changes no value).

Pinned to one core. The machine's load (1-minute load average, and the CPU time other
processes used during the run) is printed beside the figures: on a shared 2-core machine
absolute timings are noisy; the ratio is the figure to read.

    .venv/bin/pip install -e ".[bench]"      # proselint
    .venv/bin/python benchmarks/bench_analysis.py [--n 400] [--model-path DIR] [--json]

Targets: p50 <= 2 ms and p99 <= 8 ms per question.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def real_questions(shared: Path, n: int, seed: int = 0) -> list:
    """``n`` questions drawn at random from every site dump under ``shared``."""
    import pandas as pd

    from askwell.data.dumpfiles import sites_in
    from askwell.data.ingest import ingest
    from askwell.data.store import DatasetStore
    from askwell.question import questions_from_frame

    home = Path(os.environ.get("ASKWELL_HOME") or Path.home() / ".cache" / "askwell-bench")
    frames = []
    for folder in sorted(p for p in shared.iterdir() if p.is_dir() and sites_in(p)):
        store = DatasetStore(home / "bench-analysis" / folder.name)
        frames.append(ingest(sites_in(folder), store).dataset.to_pandas())
    frame = pd.concat(frames, ignore_index=True)
    return questions_from_frame(frame.sample(min(n, len(frame)), random_state=seed))


def _cpu_of_others() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine, of this process) so far."""
    with open("/proc/stat") as f:
        fields = [float(v) for v in f.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    busy = (sum(fields) - fields[3] - fields[4]) / ticks  # minus idle and iowait
    own = sum(os.times()[:4])
    return busy, own


def _timed(fn, items) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def run(analyzer, questions, rounds: int = 3) -> dict:  # type: ignore[no-untyped-def]
    from askwell.data.document import parse_body

    texts = [f"{q.title}\n\n{parse_body(q.body).text}" for q in questions]
    lint = _proselint()
    for q, text in zip(questions[:20], texts[:20], strict=False):  # warm both
        analyzer.analyze(q)
        if lint:
            lint(text)
    ours: list[float] = []
    theirs: list[float] = []
    load_before = os.getloadavg()[0]
    busy0, own0 = _cpu_of_others()
    wall0 = time.perf_counter()
    for _ in range(rounds):  # question by question, so both see the same machine
        for q, text in zip(questions, texts, strict=True):
            ours += _timed(analyzer.analyze, [q])
            if lint:
                theirs += _timed(lint, [text])
    wall = time.perf_counter() - wall0
    busy1, own1 = _cpu_of_others()
    report = {
        "questions": len(questions),
        "rounds": rounds,
        "median_words": float(np.median([len(t.split()) for t in texts])),
        "askwell_p50_ms": float(np.percentile(ours, 50)),
        "askwell_p99_ms": float(np.percentile(ours, 99)),
        "askwell_mean_ms": float(np.mean(ours)),
        "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "other_processes_cpu_share": round(((busy1 - busy0) - (own1 - own0)) / wall / (os.cpu_count() or 1), 3),
        "cpus": os.cpu_count(),
    }
    if lint:
        report |= {
            "proselint_p50_ms": float(np.percentile(theirs, 50)),
            "proselint_p99_ms": float(np.percentile(theirs, 99)),
            "proselint_over_askwell_p50": float(np.percentile(theirs, 50) / np.percentile(ours, 50)),
            "proselint_over_askwell_p99": float(np.percentile(theirs, 99) / np.percentile(ours, 99)),
        }
    else:
        report["proselint"] = "not installed (pip install -e '.[bench]')"
    return report


def _proselint():  # type: ignore[no-untyped-def]
    try:
        from proselint.checks import __register__
        from proselint.registry import CheckRegistry
        from proselint.tools import LintFile
    except ImportError:
        return None
    CheckRegistry().register_many(__register__)
    return lambda text: LintFile("<question>", text).lint()


def identical_scores(analyzer, model, questions) -> dict:  # type: ignore[no-untyped-def]
    """The engine's score is the model's own ``predict_proba`` of the question, bit for
    bit. (Scored in a batch of hundreds, a probability may differ in its last bit: numpy's
    vectorised ``exp`` rounds lanes and tail differently; that is no feature change.)"""
    engine = np.array([analyzer.analyze(q).score for q in questions])
    alone = np.array([model.predict_proba([q])[0] for q in questions])
    batch = model.predict_proba(questions)
    return {"checked": len(questions), "identical": bool(np.array_equal(engine, alone)),
            "max_abs_diff_vs_batch": float(np.max(np.abs(engine - batch))) if len(questions) else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=400, help="real questions timed (default 400)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shared", type=Path, default=SHARED,
                        help="folder holding the dump folders (default ../shared/data)")
    parser.add_argument("--model-path", type=Path, help="model folder (default: the packaged model)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from askwell.explain.engine import Analyzer
    from askwell.explain.schema import ModelRef
    from askwell.models.base import load_model
    from askwell.models.default import load_default_model

    model = load_model(args.model_path) if args.model_path else load_default_model()
    analyzer = Analyzer(model, ModelRef(model.family, "bench", "1", None))
    questions = real_questions(args.shared, args.n)
    for q in questions[:20]:  # warm up as the service does at model load (its canary analyses)
        analyzer.analyze(q)
    report = run(analyzer, questions, args.rounds)
    report["scores"] = identical_scores(analyzer, model, questions)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['questions']} real questions (median {report['median_words']:.0f} words), "
          f"{report['rounds']} rounds, one core")
    print(f"askwell analysis: p50 {report['askwell_p50_ms']:.2f} ms, p99 {report['askwell_p99_ms']:.2f} ms "
          "(target p50 <= 2 ms, p99 <= 8 ms)")
    if "proselint_p50_ms" in report:
        print(f"proselint lint:   p50 {report['proselint_p50_ms']:.2f} ms, p99 {report['proselint_p99_ms']:.2f} ms")
        print(f"proselint / askwell: p50 {report['proselint_over_askwell_p50']:.1f}x, "
              f"p99 {report['proselint_over_askwell_p99']:.1f}x")
    else:
        print(report["proselint"])
    print(f"machine: {report['cpus']} CPUs, load average {report['load_avg_1min'][0]} -> "
          f"{report['load_avg_1min'][1]}, other processes used {report['other_processes_cpu_share']:.0%} "
          "of the CPUs during the run")
    s = report["scores"]
    print(f"engine score == model predict_proba([question]) on {s['checked']} questions: {s['identical']} "
          f"(against one batch of all: max |diff| {s['max_abs_diff_vs_batch']:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
