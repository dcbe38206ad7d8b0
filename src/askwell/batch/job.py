"""``askwell batch score`` on a Dask cluster: plan, skip what is done, score the rest, write
the manifest.

The client plans partitions (metadata only) and submits one small task per partition;
each task, on a worker, loads the model once per process (:func:`engine_for`), streams
its rows, analyses them with :func:`analyse_questions`, writes its files and returns a
summary of a few numbers. Nothing big crosses the network, and the client's memory does
not grow with the input. Without ``scheduler`` the job starts an embedded
``LocalCluster`` (one single-threaded worker process per core); with
``scheduler="tcp://HOST:8786"`` it runs on an existing cluster whose workers see the same
model folder and output folder (a shared filesystem).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from askwell.batch.analysis import ModelHandle, analyse_questions, engine_for, manifest_digest
from askwell.batch.inputs import InputPlan, Partition, peak_rss_mb, read_partition
from askwell.batch.output import (
    MANIFEST,
    atomic_text,
    prepare,
    verified,
    write_partition,
    write_rejects_csv,
)
from askwell.errors import AskwellError

log = logging.getLogger("askwell.batch")

DEFAULT_PARTITION_ROWS = 2000


@dataclass(frozen=True)
class JobOptions:
    suggestions: bool = False
    with_author: bool = False
    partition_rows: int = DEFAULT_PARTITION_ROWS
    overwrite: bool = False


# ---------------------------------------------------------------------- the model
def resolve_model(settings: Any, spec: str | None, path: Path | None) -> ModelHandle:
    """The model the job uses, through the one resolver (:func:`askwell.registry.resolve.
    resolve_model`). Nothing named: the model ``askwell serve`` would serve (its settings,
    else this home's champion, else the packaged one), so the output matches the service.
    The handle names the verified folder the workers load (registry versions are downloaded
    once into the home's model cache)."""
    from askwell.explain.pipeline import filter_identity, resolve_filter
    from askwell.models.spec import ModelSpec, ModelSpecError
    from askwell.registry.resolve import resolve_model as resolve
    from askwell.serving.commands import choose_model
    from askwell.serving.config import service_settings

    s = service_settings(settings)
    try:
        if path is not None or spec is not None:
            wanted = ModelSpec.parse(spec, path=path)
        else:
            choice = choose_model(s, None, None)
            folder_given = choice.model_path if choice.model_path is not None else s.model_path
            if folder_given is not None and (choice.model_path is not None or choice.model is None):
                wanted = ModelSpec.folder(folder_given)
            else:
                wanted = ModelSpec.parse(choice.model or s.model)
    except ModelSpecError as exc:
        raise AskwellError(f"--model: {exc}") from exc
    resolved = resolve(s, wanted, s.tracking_uri)
    ref = resolved.ref
    folder = Path(resolved.path).resolve()
    return ModelHandle(path=str(folder), manifest_sha256=manifest_digest(folder),
                       family=ref.family, name=ref.name, version=str(ref.version),
                       dataset_id=ref.dataset_id, ood_threshold=s.ood_threshold,
                       abstain_below=s.abstain_below, question_filter=s.question_filter,
                       filter_name=filter_identity(resolve_filter(s.question_filter)))


def code_version() -> str:
    """The package version, plus the git commit when run from a checkout."""
    from askwell import __version__

    head = Path(__file__).resolve().parents[3] / ".git"
    commit = None
    with contextlib.suppress(Exception):
        import subprocess

        commit = subprocess.run(["git", "-C", str(head.parent), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    return f"{__version__}+{commit}" if commit else __version__


def job_fingerprint(plan: InputPlan, handle: ModelHandle, options: JobOptions) -> str:
    """Same input, model and options -> same fingerprint (what a rerun may reuse)."""
    raw = json.dumps({"input": plan.fingerprint, "model": handle.key,
                      "manifest": handle.manifest_sha256, "suggestions": options.suggestions,
                      "with_author": options.with_author, "partition_rows": options.partition_rows,
                      "ood_threshold": handle.ood_threshold, "abstain_below": handle.abstain_below},
                     sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


# ---------------------------------------------------------------------- the task
def score_partition(part: Partition, handle: ModelHandle, out: str, fingerprint: str,
                    suggestions: bool, with_author: bool) -> dict[str, Any]:
    """One task: read, analyse and write one partition; return its summary (a few numbers)."""
    started = time.perf_counter()
    engine = engine_for(handle)
    items, rejects = read_partition(part, with_author=with_author)
    rows, declined = analyse_questions(engine, items, suggestions=suggestions)
    source = {"path": part.path, "start": part.start, "stop": part.stop}
    side = write_partition(Path(out), part.index, fingerprint, rows, rejects + declined, source)
    try:
        from distributed import get_worker

        worker = get_worker().address
    except Exception:
        worker = f"pid:{os.getpid()}"
    return {**side, "seconds": time.perf_counter() - started, "worker": worker,
            "peak_rss_mb": peak_rss_mb()}


def _worker_check(model: str, out: str) -> dict[str, Any]:
    """Run on every worker before the job: can it see what the job needs?"""
    from askwell import __version__

    return {"askwell": __version__, "model": os.path.isdir(model),
            "out": os.path.isdir(out) and os.access(out, os.W_OK)}


# ---------------------------------------------------------------------- the cluster
@contextlib.contextmanager
def connect(scheduler: str | None, workers: int | None = None) -> Iterator[tuple[Any, str]]:
    """A Dask client: on ``scheduler``, or on an embedded LocalCluster sized to the machine.
    Yields (client, a description of where it runs)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="15s")
        except Exception as exc:
            raise AskwellError(f"could not reach the Dask scheduler at {scheduler} ({exc}); is "
                               "`dask scheduler` running there?") from exc
        try:
            yield client, scheduler
        finally:
            client.close()
        return
    n = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                    else os.cpu_count() or 1)
    # the dashboard (bokeh) on a free loopback port; without bokeh there is none
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client, f"embedded LocalCluster ({n} workers x 1 thread)"
    finally:
        client.close()
        cluster.close()


def dashboard_of(client: Any) -> str | None:
    with contextlib.suppress(Exception):
        info = client.scheduler_info()
        if "dashboard" in (info.get("services") or {}):
            return client.dashboard_link
    return None


# ---------------------------------------------------------------------- the job
def run_score(plan: InputPlan, handle: ModelHandle, out: Path, options: JobOptions, *,
              scheduler: str | None = None, workers: int | None = None,
              on_start: Callable[[dict[str, Any]], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Score every partition not already written and verified; return the manifest."""
    out = Path(out).resolve()
    fingerprint = job_fingerprint(plan, handle, options)
    out.mkdir(parents=True, exist_ok=True)
    prepare(out, fingerprint, overwrite=options.overwrite)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    done: dict[int, dict[str, Any]] = {}
    for part in plan.partitions:
        side = verified(out, part.index, fingerprint)
        if side is not None:
            done[part.index] = side
    skipped = len(done)
    todo = [p for p in plan.partitions if p.index not in done]
    results: list[dict[str, Any]] = []
    failures: list[tuple[int, str]] = []
    t0 = time.perf_counter()
    with connect(scheduler, workers) as (client, where):
        from distributed import as_completed

        checks = client.run(_worker_check, handle.path, str(out))
        if not checks:
            raise AskwellError(f"the Dask cluster at {where} has no workers; start `dask worker "
                               f"{scheduler or ''}` on each machine")
        for addr, c in sorted(checks.items()):
            if not c["model"] or not c["out"]:
                what = "read the model folder " + handle.path if not c["model"] else \
                    "write to the output folder " + str(out)
                raise AskwellError(f"worker {addr} can't {what}: the workers need the same paths as "
                                   "this machine (a shared filesystem)")
        n_workers = len(checks)
        if on_start is not None:
            on_start({"where": where, "workers": n_workers, "dashboard": dashboard_of(client),
                      "partitions": len(plan.partitions), "skipped": skipped, "rows": plan.rows})
        run_id = uuid.uuid4().hex[:8]
        futures = {client.submit(score_partition, p, handle, str(out), fingerprint,
                                 options.suggestions, options.with_author,
                                 key=f"askwell-batch-{run_id}-{p.index:05d}", pure=False, retries=1): p
                   for p in todo}
        try:
            for fut in as_completed(futures):
                part = futures[fut]
                try:
                    r = fut.result()
                except Exception as exc:
                    failures.append((part.index, f"{type(exc).__name__}: {exc}"))
                else:
                    results.append(r)
                    done[part.index] = r
                if on_progress is not None:
                    on_progress(len(done) + len(failures), len(plan.partitions))
        except BaseException:
            client.cancel(list(futures))
            raise
    seconds = time.perf_counter() - t0
    if failures:
        index, reason = failures[0]
        raise AskwellError(
            f"{len(failures)} of {len(plan.partitions)} partitions failed (first: partition "
            f"{index}: {reason[:300]}); {len(done)} are written and verified. Run the same "
            "command again to finish the job: finished partitions are kept, none is duplicated")
    return _finish(out, plan, handle, options, fingerprint, done, results, skipped, seconds,
                   started_at, where, n_workers)


def _finish(out: Path, plan: InputPlan, handle: ModelHandle, options: JobOptions,
            fingerprint: str, done: dict[int, dict[str, Any]], results: list[dict[str, Any]],
            skipped: int, seconds: float, started_at: str, where: str, n_workers: int) -> dict[str, Any]:
    parts = [done[p.index] for p in plan.partitions]
    rejects_total = write_rejects_csv(out, parts)
    verdicts: dict[str, int] = {}
    for side in parts:
        for k, v in (side.get("verdicts") or {}).items():
            verdicts[k] = verdicts.get(k, 0) + v
    peak: dict[str, float] = {}
    for r in results:
        peak[r["worker"]] = max(peak.get(r["worker"], 0.0), r["peak_rss_mb"])
    scored_now = sum(r["rows"] + r["rejects"] for r in results)
    manifest = {
        "format": 1,
        "job": {"fingerprint": fingerprint, **asdict(options)},
        "model": {"family": handle.family, "name": handle.name, "version": handle.version,
                  "key": handle.key, "dataset_id": handle.dataset_id, "path": handle.path,
                  "manifest_sha256": handle.manifest_sha256},
        "settings": {"ood_threshold": handle.ood_threshold, "abstain_below": handle.abstain_below,
                     "question_filter": handle.filter_name},
        "input": {"kind": plan.kind, "path": str(plan.path), "dataset_id": plan.dataset_id,
                  "rows": plan.rows, "fingerprint": plan.fingerprint},
        "dataset_id": plan.dataset_id,
        "code_version": code_version(),
        "rows": sum(p["rows"] for p in parts),
        "rejects": rejects_total,
        "verdicts": verdicts,
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "figures": {
            "where": where, "workers": n_workers, "seconds": round(seconds, 3),
            "partitions_run": len(results), "partitions_skipped": skipped,
            "rows_run": scored_now,
            "questions_per_s": round(scored_now / seconds, 1) if seconds > 0 and scored_now else None,
            "peak_rss_mb_per_worker": peak,
        },
        "partitions": [{"index": p["index"], "rows": p["rows"], "rejects": p["rejects"],
                        "files": p["files"]} for p in parts],
    }
    atomic_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=False))
    return manifest
