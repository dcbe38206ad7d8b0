"""Batch predictions on Dask and the hybrid service, measured side by side in one run.

    .venv/bin/python benchmarks/bench_batch.py [--rows 6000] [--json]

On real, varied questions from the shared dumps (repeated with new ids where more are
needed; the inputs are written to a temporary folder and deleted after):

1. score-only questions/s on 1 and on 2 Dask workers (one thread each), and the ratio
   (target >= 1.8x on 2 workers on a 2-core machine);
2. per-core cost of the distributed path against the same work in-process (partitions read,
   analysed by the same function and written, one after the other, in this process;
   target < 15 % overhead), and against the raw ``model.predict_proba`` batch path
   (features + model, no safeguards, no I/O);
3. peak memory per worker on a synthetic 1,000,000-question input (real rows repeated with
   new ids). ``--memory-sample K`` scores every K-th partition spread over the whole file
   (1 = all of it; the default 25 keeps the run to minutes on a shared machine);
4. service latency of a precomputed hit against a computed answer (cache off, SQLite).

The machine's other load is printed beside every timing (load average, and the CPU other
processes used while it ran): on a shared machine the ratios measured in the same run are
the figures to trust. The throughput runs alternate (in-process, 1 worker, 2 workers) and
repeat, and the best of each is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------- the machine
class Load:
    """CPU used by other processes while a measurement runs (cores), and the load average."""

    def __init__(self) -> None:
        import psutil

        self.psutil = psutil

    def _ours(self) -> float:
        me = self.psutil.Process()
        total = 0.0
        for p in [me, *me.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except self.psutil.Error:
                continue
        return total

    def __enter__(self) -> Load:
        self.t0 = time.perf_counter()
        self.busy0 = self._busy()
        self.ours0 = self._ours()
        return self

    def _busy(self) -> float:
        t = self.psutil.cpu_times()
        return t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0)

    def __exit__(self, *exc: Any) -> None:
        wall = time.perf_counter() - self.t0
        others = (self._busy() - self.busy0) - (self._ours() - self.ours0)
        self.figures = {"other_cpu_cores": round(max(others, 0.0) / wall, 2) if wall > 0 else None,
                        "loadavg_1m": round(os.getloadavg()[0], 2)}


# ---------------------------------------------------------------------- inputs
def real_rows(shared: Path, home: Path) -> Any:
    from askwell.config import Settings
    from askwell.data.commands import default_inputs
    from askwell.data.ingest import ingest
    from askwell.data.store import DatasetStore

    settings = Settings(home=home, shared_data=shared)
    ds = ingest(default_inputs(settings), DatasetStore(settings.datasets_dir)).dataset
    return ds.to_pandas(columns=["question_id", "title", "body_html", "tags", "site"])


def synthetic(frame: Any, n: int, path: Path, row_group: int = 2000) -> Path:
    """``n`` questions: the real rows repeated, each copy with a new id; written in row groups
    (never held whole: one row group at a time)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    base = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    writer = None
    try:
        written = 0
        while written < n:
            take = min(row_group, n - written)
            idx = (np.arange(written, written + take) % base.num_rows)
            chunk = base.take(pa.array(idx))
            ids = pa.array([f"synthetic:{i}" for i in range(written, written + take)])
            chunk = chunk.set_column(chunk.schema.get_field_index("question_id"), "question_id", ids)
            if writer is None:
                writer = pq.ParquetWriter(path, chunk.schema, compression="zstd")
            writer.write_table(chunk, row_group_size=row_group)
            written += take
    finally:
        if writer is not None:
            writer.close()
    return path


# ---------------------------------------------------------------------- measurements
def in_process(plan: Any, handle: Any, out: Path) -> float:
    """The same work as a job, partition after partition in this process: questions/s."""
    from askwell.batch.analysis import analyse_questions, engine_for
    from askwell.batch.inputs import read_partition
    from askwell.batch.output import prepare, write_partition

    engine = engine_for(handle)
    shutil.rmtree(out, ignore_errors=True)
    prepare(out, "in-process", overwrite=True)
    t = time.perf_counter()
    n = 0
    for part in plan.partitions:
        items, rejects = read_partition(part)
        rows, declined = analyse_questions(engine, items, suggestions=False)
        write_partition(out, part.index, "in-process", rows, rejects + declined, {})
        n += len(items) + len(rejects)
    return n / (time.perf_counter() - t)


def _pool_init(handle: Any) -> None:
    from askwell.batch.analysis import engine_for

    engine_for(handle)


def _pool_ready(_: int) -> int:
    import time as _time

    _time.sleep(0.5)  # long enough that every pool process takes one
    return os.getpid()


def _pool_partitions(args: tuple[Any, Any, list[int], str]) -> int:
    plan, handle, indices, out = args
    from askwell.batch.analysis import analyse_questions, engine_for
    from askwell.batch.inputs import read_partition
    from askwell.batch.output import write_partition

    engine, n = engine_for(handle), 0
    for i in indices:
        part = plan.partitions[i]
        items, rejects = read_partition(part)
        rows, declined = analyse_questions(engine, items, suggestions=False)
        write_partition(Path(out), part.index, "in-process", rows, rejects + declined, {})
        n += len(items) + len(rejects)
    return n


def plain_processes(plan: Any, handle: Any, out: Path, n: int) -> float:
    """The same work split over ``n`` plain processes (multiprocessing, no Dask): how far
    two processes scale on this machine at all, the ceiling for the 2-worker ratio."""
    import multiprocessing

    from askwell.batch.output import prepare

    shutil.rmtree(out, ignore_errors=True)
    prepare(out, "in-process", overwrite=True)
    with multiprocessing.get_context("spawn").Pool(n, initializer=_pool_init, initargs=(handle,)) as pool:
        pool.map(_pool_ready, range(n), chunksize=1)  # every process has loaded the model
        chunks = [(plan, handle, list(range(k, len(plan.partitions), n)), str(out)) for k in range(n)]
        t = time.perf_counter()
        done = sum(pool.map(_pool_partitions, chunks, chunksize=1))
        return done / (time.perf_counter() - t)


def on_cluster(plan: Any, handle: Any, out: Path, address: str) -> dict[str, Any]:
    from askwell.batch.job import JobOptions, run_score

    shutil.rmtree(out, ignore_errors=True)
    m = run_score(plan, handle, out, JobOptions(partition_rows=plan.partitions[0].stop),
                  scheduler=address)
    f = m["figures"]
    return {"questions_per_s": f["rows_run"] / f["seconds"], "peak_rss_mb": f["peak_rss_mb_per_worker"]}


def cluster(n: int, handle: Any) -> Any:
    """A LocalCluster of ``n`` single-threaded workers with the model already loaded."""
    import logging

    from distributed import Client, LocalCluster

    from askwell.batch.analysis import warm

    c = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                     silence_logs=logging.ERROR)
    with Client(c) as client:
        client.run(warm, handle)  # every worker loads the model once, before any timing
    return c


def raw_predict(frame: Any, handle: Any, n: int) -> float:
    from askwell.models.base import load_model
    from askwell.question import Question

    model = load_model(Path(handle.path))
    qs = [Question(r.title, r.body_html, tuple(r.tags), r.site) for r in frame.head(n).itertuples()]
    model.predict_proba(qs[:20])
    t = time.perf_counter()
    model.predict_proba(qs)
    return len(qs) / (time.perf_counter() - t)


def throughput(frame: Any, handle: Any, tmp: Path, rows: int, partition_rows: int,
               repeats: int) -> dict[str, Any]:
    from askwell.batch.inputs import plan

    src = synthetic(frame, rows, tmp / "throughput.parquet", row_group=partition_rows)
    p = plan(str(src), tmp, partition_rows)
    clusters = {1: cluster(1, handle), 2: cluster(2, handle)}
    best: dict[str, float] = {"in_process": 0.0, "workers_1": 0.0, "workers_2": 0.0,
                              "plain_processes_2": 0.0}
    loads: dict[str, list[dict[str, Any]]] = {k: [] for k in best}
    try:
        for _ in range(repeats):
            with Load() as load:
                qps = in_process(p, handle, tmp / "out-inproc")
            best["in_process"] = max(best["in_process"], qps)
            loads["in_process"].append(load.figures)
            with Load() as load:
                qps = plain_processes(p, handle, tmp / "out-plain", 2)
            best["plain_processes_2"] = max(best["plain_processes_2"], qps)
            loads["plain_processes_2"].append(load.figures)
            for n, c in clusters.items():
                with Load() as load:
                    got = on_cluster(p, handle, tmp / f"out-{n}", c.scheduler_address)
                key = f"workers_{n}"
                best[key] = max(best[key], got["questions_per_s"])
                loads[key].append(load.figures)
    finally:
        for c in clusters.values():
            c.close()
    with Load() as load:
        raw = raw_predict(frame, handle, min(3000, len(frame)))
    return {
        "questions": rows, "partition_rows": partition_rows, "repeats": repeats,
        "questions_per_s": {k: round(v, 1) for k, v in best.items()},
        "ratio_2_vs_1_workers": round(best["workers_2"] / best["workers_1"], 3),
        "ratio_2_plain_processes_vs_in_process": round(best["plain_processes_2"] / best["in_process"], 3),
        "per_core_overhead_vs_in_process": round(1 - best["workers_1"] / best["in_process"], 3),
        "raw_predict_proba_per_s": round(raw, 1),
        "per_core_vs_raw_predict_proba": round(best["workers_1"] / raw, 3),
        "load": {**loads, "raw_predict_proba": [load.figures]},
    }


def memory(frame: Any, handle: Any, tmp: Path, rows: int, sample: int,
           partition_rows: int) -> dict[str, Any]:
    from askwell.batch.inputs import InputPlan, plan

    t = time.perf_counter()
    src = synthetic(frame, rows, tmp / "million.parquet", row_group=partition_rows)
    build_s = time.perf_counter() - t
    full = plan(str(src), tmp, partition_rows)
    chosen = full.partitions[::sample]
    p = InputPlan(full.kind, full.path, None, full.rows, full.fingerprint, chosen)
    c = cluster(2, handle)
    try:
        with Load() as load:
            got = on_cluster(p, handle, tmp / "out-million", c.scheduler_address)
    finally:
        c.close()
    return {
        "input_questions": full.rows, "input_mb": round(src.stat().st_size / 2**20, 1),
        "build_seconds": round(build_s, 1), "partitions": len(full.partitions),
        "partitions_scored": len(chosen), "every_kth_partition": sample,
        "questions_scored": sum(x.stop - x.start for x in chosen),
        "peak_rss_mb_per_worker": got["peak_rss_mb"],
        "questions_per_s": round(got["questions_per_s"], 1), "load": load.figures,
    }


def latency(frame: Any, handle: Any, tmp: Path, n: int) -> dict[str, Any]:
    """p50/p99 of POST /v1/analyze: precomputed hits vs computed answers, cache off."""
    from fastapi.testclient import TestClient

    from askwell.batch.inputs import plan
    from askwell.batch.job import JobOptions, run_score
    from askwell.serving.app import create_app
    from askwell.serving.config import ServiceSettings

    sub = frame.iloc[:: max(1, len(frame) // n)].head(n)
    src = tmp / "latency.parquet"
    sub.to_parquet(src)
    out = tmp / "out-latency"
    c = cluster(2, handle)
    try:
        run_score(plan(str(src), tmp, 100), handle, out, JobOptions(suggestions=True, partition_rows=100),
                  scheduler=c.scheduler_address)
    finally:
        c.close()
    reqs = [{"title": r.title, "body": r.body_html, "tags": list(r.tags), "site": r.site}
            for r in sub.itertuples()]
    figures = {}
    for name, pre in (("precomputed_hit", True), ("computed", False)):
        # the model and filter the batch job resolved (the packaged ones): the same key
        s = ServiceSettings(home=tmp / f"svc-{name}", cache="off",
                            rate_limit=0, sync_seconds=0, admin_token="bench")
        with TestClient(create_app(s)) as client:
            if pre:
                r = client.post("/v1/admin/precomputed", json={"path": str(out)},
                                headers={"Authorization": "Bearer bench"})
                assert r.status_code == 200, r.text
            for q in reqs[:10]:
                client.post("/v1/analyze", json=q)  # warm-up
            lat, sources = [], set()
            with Load() as load:
                for q in reqs:
                    t = time.perf_counter()
                    resp = client.post("/v1/analyze", json=q)
                    lat.append((time.perf_counter() - t) * 1000)
                    if resp.status_code == 200:
                        sources.add(resp.json()["source"])
        figures[name] = {"p50_ms": round(float(np.percentile(lat, 50)), 3),
                         "p99_ms": round(float(np.percentile(lat, 99)), 3),
                         "sources": sorted(sources), "load": load.figures}
    figures["requests"] = len(reqs)
    figures["p50_speedup"] = round(figures["computed"]["p50_ms"] / figures["precomputed_hit"]["p50_ms"], 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data" / "stackexchange")
    parser.add_argument("--rows", type=int, default=6000, help="questions in the throughput runs")
    parser.add_argument("--partition-rows", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--memory-sample", type=int, default=25,
                        help="score every K-th partition of the big input (1: all)")
    parser.add_argument("--latency-requests", type=int, default=300)
    parser.add_argument("--skip", default="", help="comma-separated: throughput,memory,latency")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from askwell.batch.job import resolve_model
    from askwell.config import Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    skip = set(filter(None, args.skip.split(",")))
    try:
        frame = real_rows(args.shared, tmp / "home")
        handle = resolve_model(Settings(home=tmp / "home"), None, None)
        result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "loadavg_at_start":
                                              [round(x, 2) for x in os.getloadavg()]},
                                  "model": handle.key, "real_questions": len(frame)}
        if "throughput" not in skip:
            result["throughput"] = throughput(frame, handle, tmp, args.rows, args.partition_rows,
                                              args.repeats)
        if "memory" not in skip:
            result["memory"] = memory(frame, handle, tmp, args.memory_rows, args.memory_sample, 1000)
        if "latency" not in skip:
            result["service_latency"] = latency(frame, handle, tmp, args.latency_requests)
        result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    _print(result)
    return 0


def _print(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"model {r['model']}; {r['real_questions']:,} real questions; {m['cpus']} CPUs, load "
          f"average {m['loadavg_at_start']} at start, {m['loadavg_at_end']} at end")
    if "throughput" in r:
        t = r["throughput"]
        q = t["questions_per_s"]
        print(f"score-only, {t['questions']:,} questions, best of {t['repeats']}: in-process "
              f"{q['in_process']:,.0f}/s, 1 worker {q['workers_1']:,.0f}/s, 2 workers "
              f"{q['workers_2']:,.0f}/s -> ratio {t['ratio_2_vs_1_workers']:.2f}x (target >= 1.8x)")
        print(f"per-core overhead vs in-process: {t['per_core_overhead_vs_in_process']:.1%} (target "
              f"< 15%); raw predict_proba {t['raw_predict_proba_per_s']:,.0f}/s, 1 worker = "
              f"{t['per_core_vs_raw_predict_proba']:.2f} of it")
        print(f"the machine's own ceiling: 2 plain processes (no Dask) {q['plain_processes_2']:,.0f}/s "
              f"= {t['ratio_2_plain_processes_vs_in_process']:.2f}x one in-process run")
        for k, v in t["load"].items():
            print(f"  other load during {k}: {v}")
    if "memory" in r:
        mm = r["memory"]
        print(f"memory: {mm['input_questions']:,}-question input ({mm['input_mb']} MB), "
              f"{mm['partitions_scored']} of {mm['partitions']} partitions scored "
              f"(every {mm['every_kth_partition']}th): peak RSS per worker "
              f"{mm['peak_rss_mb_per_worker']} MB; other load {mm['load']}")
    if "service_latency" in r:
        s = r["service_latency"]
        print(f"service, {s['requests']} requests, cache off: precomputed hit p50 "
              f"{s['precomputed_hit']['p50_ms']} ms / p99 {s['precomputed_hit']['p99_ms']} ms; computed "
              f"p50 {s['computed']['p50_ms']} ms / p99 {s['computed']['p99_ms']} ms "
              f"({s['p50_speedup']}x at p50)")
    print("the machine is shared: trust the ratios measured in this run, not the absolute figures")


if __name__ == "__main__":
    sys.exit(main())
