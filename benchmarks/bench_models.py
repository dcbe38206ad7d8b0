"""Model speed on the real dumps: training time, one-question latency, batch throughput.

Run by hand (or as a CI smoke run with ``--quick``)::

    .venv/bin/python benchmarks/bench_models.py [--models features,linear] [--label grade] [--split time] [--json]

``--label book --split author`` is the book's own task (the ``stacked`` against ``book-v1``
comparison of issue 11), every model on the same prepared split, in one run.

Pinned to one core. Targets (issue 3) for the default model: p99 < 5 ms for one question
including feature extraction, and >= 2,000 questions/s in batch on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _dataset(shared: Path):  # type: ignore[no-untyped-def]
    from askwell.config import Settings
    from askwell.data.commands import default_inputs
    from askwell.data.ingest import ingest
    from askwell.data.store import DatasetStore

    home = Path(os.environ.get("ASKWELL_HOME", tempfile.mkdtemp(prefix="bench-models-")))
    settings = Settings(home=home, shared_data=shared)
    return ingest(default_inputs(settings), DatasetStore(settings.datasets_dir)).dataset


def bench(family: str, data, quick: bool) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from askwell.models.training import train_on
    from askwell.question import questions_from_frame

    t0 = time.perf_counter()
    result = train_on(data, family, measure_latency=False)
    train_s = time.perf_counter() - t0
    model = result.model
    qs = questions_from_frame(data.test)
    singles = qs[: 200 if quick else 1000]
    model.predict_proba(singles[:5])  # warm-up
    lat = []
    for q in singles:
        t = time.perf_counter()
        model.predict_proba([q])
        lat.append((time.perf_counter() - t) * 1000)
    batch = (qs * (1 if quick else 3))
    t = time.perf_counter()
    model.predict_proba(batch)
    batch_s = time.perf_counter() - t
    return {
        "train_seconds": round(train_s, 2),
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 3),
        "latency_p99_ms": round(float(np.percentile(lat, 99)), 3),
        "batch_questions_per_s": round(len(batch) / batch_s, 1),
        "test_roc_auc": round(result.metrics["roc_auc"], 4),
        "test_brier": round(result.metrics["brier"], 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="heuristic,linear,features,book-v1,stacked")
    parser.add_argument("--label", default="grade", help="grade | book (the book's task)")
    parser.add_argument("--split", default="time", help="time | author | random")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data" / "stackexchange")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (CI smoke run)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from askwell.models.training import prepare

    dataset = _dataset(args.shared)
    data = prepare(dataset.to_pandas(), label=args.label, split=args.split, seed=42)
    rows = {m: bench(m, data, args.quick) for m in args.models.split(",")}
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{args.label} label, {args.split} split, {len(data.test):,} held-out questions")
    print(f"{'model':<10} {'train s':>8} {'p50 ms':>8} {'p99 ms':>8} {'batch q/s':>10} {'test AUC':>9} {'Brier':>7}")
    for name, r in rows.items():
        print(f"{name:<10} {r['train_seconds']:>8} {r['latency_p50_ms']:>8} {r['latency_p99_ms']:>8} "
              f"{r['batch_questions_per_s']:>10} {r['test_roc_auc']:>9} {r['test_brier']:>7}")
    print("targets (default model): p99 < 5 ms, batch >= 2,000 questions/s on one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
