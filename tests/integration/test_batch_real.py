"""``askwell batch`` for real: the shared dumps, a real Dask cluster on loopback (``dask
scheduler`` + two ``dask worker`` processes started here and stopped after), a worker
killed mid-job, and the hybrid service on PostgreSQL with Redis as the hot layer.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.test_serving_servers import postgres_url, redis_url  # noqa: F401
from tests.unit.test_batch import (  # noqa: F401  (fixtures)
    handle,
    hybrid_roundtrip,
    model_dir,
    other_model_dir,
)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=ENV,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real scheduler and two single-threaded workers on loopback; stopped after."""
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--no-dashboard"], logs / "scheduler.log")
    workers = [_start([str(BIN / "dask"), "worker", address, "--nthreads", "1", "--nworkers", "1",
                       "--no-dashboard", "--memory-limit", "3GiB", "--name", f"w{i}"],
                      logs / f"worker{i}.log") for i in range(2)]
    try:
        deadline = time.monotonic() + 120
        with Client(address, timeout="60s") as client:
            while len(client.scheduler_info()["workers"]) < 2:
                assert time.monotonic() < deadline, (logs / "worker0.log").read_text()[-2000:]
                time.sleep(0.5)
        yield {"address": address, "workers": workers, "logs": logs}
    finally:
        for p in [*workers, scheduler]:
            _stop(p)


@pytest.fixture(scope="module")
def real_subset(real_dataset: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,408 real questions from all 33 sites of both folders (every fifth row), as Parquet."""
    frame = real_dataset.to_pandas(columns=["question_id", "title", "body_html", "tags", "site"])
    path = tmp_path_factory.mktemp("subset") / "questions.parquet"
    pq.write_table(pa.Table.from_pandas(frame.iloc[::5].reset_index(drop=True)), path,
                   row_group_size=400)
    return path


def _batch(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "askwell"), "batch", *args], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


def _frame(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "parts").sort_values("id").reset_index(drop=True)


def test_the_same_answers_from_a_real_cluster_the_local_one_the_service_and_the_cli(
        real_subset: Path, dask_cluster: dict[str, Any], tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from askwell.cli import app as cli_app
    from askwell.serving.app import create_app
    from askwell.serving.config import ServiceSettings

    remote, local = tmp_path / "remote", tmp_path / "local"
    r = _batch("score", str(real_subset), "--out", str(remote), "--scheduler", dask_cluster["address"],
               "--partition-rows", "250", "--no-progress", "--json")
    assert r.returncode == 0, r.stderr
    manifest = json.loads(r.stdout)
    assert manifest["figures"]["workers"] == 2 and manifest["figures"]["where"] == dask_cluster["address"]
    assert len(manifest["figures"]["peak_rss_mb_per_worker"]) == 2  # both workers took tasks
    r = _batch("score", str(real_subset), "--out", str(local), "--workers", "2",
               "--partition-rows", "250", "--no-progress")
    assert r.returncode == 0, r.stderr
    a, b = _frame(remote), _frame(local)
    n = pq.ParquetFile(real_subset).metadata.num_rows
    assert len(a) + manifest["rejects"] == n and len(a) > 0.95 * n
    pd.testing.assert_frame_equal(a, b)  # byte-for-byte the same scores
    # the service and the CLI give the same scores for the same questions and model
    src = pd.read_parquet(real_subset).set_index("question_id")
    sample = a.iloc[:: max(1, len(a) // 25)].head(25)
    s = ServiceSettings(home=tmp_path / "svc", sync_seconds=0, rate_limit=0)
    runner = CliRunner()
    with TestClient(create_app(s)) as c:
        for i, row in enumerate(sample.itertuples()):
            q = src.loc[row.id]
            req = {"title": q["title"], "body": q["body_html"], "tags": list(q["tags"]),
                   "site": q["site"]}
            got = c.post("/v1/analyze", json=req).json()
            assert abs(got["score"] - row.score) <= 1e-12, row.id
            assert (got["verdict"], got["abstained"]) == (row.verdict, row.abstained), row.id
            assert abs(got["confidence"] - row.confidence) <= 1e-12
            if i < 5:
                res = runner.invoke(cli_app, ["analyze", "--json"], input=json.dumps(req))
                assert res.exit_code == 0, res.output
                assert abs(json.loads(res.stdout)["score"] - row.score) <= 1e-12
    rep = _batch("report", str(remote), "--csv", str(tmp_path / "queue.csv"), "--json")
    assert rep.returncode == 0, rep.stderr
    report = json.loads(rep.stdout)
    assert sum(x["questions"] for x in report["sites"]) == len(a)
    assert len(report["sites"]) == 33  # both shared folders
    assert len(pd.read_csv(tmp_path / "queue.csv")) == report["queue_size"]


def test_a_worker_killed_mid_job_then_a_rerun_completes_without_duplicates(
        real_subset: Path, dask_cluster: dict[str, Any], tmp_path: Path) -> None:
    """Runs last in the module: it takes one of the two workers down."""
    out = tmp_path / "out"
    args = [str(BIN / "askwell"), "batch", "score", str(real_subset), "--out", str(out),
            "--scheduler", dask_cluster["address"], "--partition-rows", "60", "--no-progress"]
    job = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    deadline = time.monotonic() + 600
    while len(list((out / "done").glob("part-*.json"))) < 3:
        assert job.poll() is None, job.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    victim = dask_cluster["workers"][0]
    os.killpg(victim.pid, signal.SIGKILL)  # the worker and its nanny, mid-task
    victim.wait(10)
    _out, stderr = job.communicate(timeout=900)
    if job.returncode != 0:  # allowed: fail, but clearly
        assert "partitions failed" in stderr and "Run the same command again" in stderr, stderr
    rerun = subprocess.run([*args, "--json"], capture_output=True, text=True, env=ENV, timeout=900)
    assert rerun.returncode == 0, rerun.stderr
    manifest = json.loads(rerun.stdout)
    frame = pd.read_parquet(out / "parts")
    assert frame["id"].is_unique
    assert len(frame) == manifest["rows"]
    assert len(frame) + manifest["rejects"] == pq.ParquetFile(real_subset).metadata.num_rows
    assert not list((out / "parts").glob(".*.tmp"))


def test_hybrid_service_on_postgresql_with_redis(tmp_path: Path, request: Any) -> None:
    """The fixtures come from the unit module (imported above) and the servers' module."""
    from distributed import LocalCluster

    f = request.getfixturevalue
    with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
        hybrid_roundtrip(tmp_path, f("handle"), cluster.scheduler_address, f("model_dir"),
                         f("other_model_dir"), db=f("postgres_url"), cache=f("redis_url"))
