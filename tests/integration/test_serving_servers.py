"""The service against real servers on loopback: the prediction log on PostgreSQL, the cache
on Redis, and ``askwell serve --workers 2`` as a real process using both.

``bash scripts/services.sh`` starts them and prints ASKWELL_TEST_POSTGRES_URL and
ASKWELL_TEST_REDIS_URL (scripts/test.sh exports them). Unset: these tests skip, or fail
when ASKWELL_REQUIRE_REAL_DATA=1 (CI).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from askwell.serving.app import create_app
from askwell.serving.store import metadata
from tests.unit.test_serving import (
    ADMIN,
    GOOD,
    WEAK,
    VersionedLoader,
    analyzer_for,
    settings_for,
)
from tests.worlds import make_questions

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def toy() -> Any:
    from askwell.models.base import make_model

    frame = make_questions(300, seed=1)
    return make_model("features", n_estimators=60).fit(frame, frame["label"])


def _server_url(var: str, what: str) -> str:
    url = os.environ.get(var)
    if url:
        return url
    reason = f"{var} is not set (start {what} with `eval \"$(bash scripts/services.sh)\"`)"
    if os.environ.get("ASKWELL_REQUIRE_REAL_DATA") == "1":
        pytest.fail(f"{reason} and ASKWELL_REQUIRE_REAL_DATA=1")
    pytest.skip(reason)


@pytest.fixture()
def postgres_url() -> str:
    url = _server_url("ASKWELL_TEST_POSTGRES_URL", "PostgreSQL")
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)  # the test database only: a clean log per test
        with engine.begin() as con:
            con.execute(sa.text("drop table if exists alembic_version"))
    finally:
        engine.dispose()
    return url


@pytest.fixture()
def redis_url() -> str:
    import redis

    url = _server_url("ASKWELL_TEST_REDIS_URL", "Redis")
    client = redis.Redis.from_url(url)
    client.flushdb()  # the test database index only
    client.close()
    return url


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            return int(con.execute(sa.text(f"select count(*) from {table}")).scalar() or 0)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- PostgreSQL
def test_prediction_log_and_feedback_on_postgresql(postgres_url: str, tmp_path: Path,
                                                   toy: Any) -> None:
    from askwell.serving.store import export_feedback

    s = settings_for(tmp_path, db=postgres_url, log_flush_seconds=0.05)
    with TestClient(create_app(s, analyzer=analyzer_for(toy))) as c:
        ids = [c.post("/v1/analyze", json={**WEAK, "title": f"urgent help with code {i}"}).json()["request_id"]
               for i in range(30)]
        assert c.post("/v1/feedback", json={"request_id": ids[3], "kind": "helpful",
                                            "suggestion_id": "remove_urgency"}).status_code == 201
        assert c.post("/v1/feedback", json={"request_id": "f" * 32, "kind": "helpful"}).status_code == 404
    assert _count(postgres_url, "predictions") == 30 and _count(postgres_url, "feedback") == 1
    out, n = export_feedback(postgres_url, tmp_path / "fb.parquet")
    import pandas as pd

    frame = pd.read_parquet(out)
    assert n == 1 and frame.loc[0, "request_id"] == ids[3] and frame.loc[0, "label"] == 1
    assert frame.loc[0, "model_name"] == "toy" and frame.loc[0, "input_chars"] > 0


def test_swaps_are_recorded_on_postgresql(postgres_url: str, tmp_path: Path, toy: Any) -> None:
    loader = VersionedLoader(toy)
    s = settings_for(tmp_path, db=postgres_url, admin_token="s3cret")
    with TestClient(create_app(s, loader=loader)) as c:
        loader.version = 2
        assert c.post("/v1/admin/reload?wait=true", headers=ADMIN).json()["status"] == "swapped"
        assert c.post("/v1/admin/rollback", headers=ADMIN).json()["status"] == "rolled_back"
        events = c.get("/v1/admin/events", headers=ADMIN).json()["events"]
    assert [e["kind"] for e in events] == ["rollback", "swap", "load"]
    assert _count(postgres_url, "model_events") == 3


# ---------------------------------------------------------------------- Redis
def test_redis_cache_is_shared_by_workers_and_cleared_on_swap(redis_url: str, tmp_path: Path,
                                                              toy: Any) -> None:
    import redis

    loader = VersionedLoader(toy)
    s1 = settings_for(tmp_path / "a", cache=redis_url, admin_token="s3cret")
    s2 = settings_for(tmp_path / "b", cache=redis_url)
    with TestClient(create_app(s1, loader=loader)) as one, \
            TestClient(create_app(s2, analyzer=analyzer_for(toy))) as two:
        first = one.post("/v1/analyze", json=GOOD).json()
        assert one.app.state.cache.flush()  # SETs are written in the background
        shared = two.post("/v1/analyze", json=GOOD).json()  # another process, same Redis
        assert (first["cached"], shared["cached"]) == (False, True)
        assert shared["score"] == first["score"] and shared["suggestions"] == first["suggestions"]
        assert 'askwell_cache_hits_total{backend="redis"} 1.0' in two.get("/metrics").text
        r = redis.Redis.from_url(redis_url)
        assert len(list(r.scan_iter("askwell:analysis:*"))) == 1
        loader.version = 2
        one.post("/v1/admin/reload?wait=true", headers=ADMIN)
        assert list(r.scan_iter("askwell:analysis:*")) == []  # the old version's entries are gone
        again = one.post("/v1/analyze", json=GOOD).json()
        assert again["cached"] is False and again["model"]["version"] == "2"
        r.close()


# ---------------------------------------------------------------------- the real server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(method: str, url: str, payload: Any = None) -> tuple[int, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode()


@pytest.mark.slow
def test_askwell_serve_with_two_workers_postgresql_and_redis(postgres_url: str, redis_url: str,
                                                             tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ASKWELL_HOME": str(tmp_path / "home"), "ASKWELL_RATE_LIMIT": "0"}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from askwell.cli import main; main()", "serve", "--port", str(port),
         "--workers", "2", "--db", postgres_url, "--cache", redis_url],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=str(REPO))
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if _call("GET", f"{base}/readyz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "askwell serve never became ready"
            time.sleep(0.25)
        ids = []
        for i in range(40):
            status, body = _call("POST", f"{base}/v1/analyze",
                                 {"title": f"urgent help with code {i % 20}",
                                  "body": "pls help my code dont work!!! it crashes"})
            assert status == 200, body
            ids.append(body["request_id"])
            assert body["cached"] is (i >= 20)  # the second round comes from Redis, whichever worker
        status, _ = _call("POST", f"{base}/v1/feedback", {"request_id": ids[0], "kind": "helpful"})
        assert status == 201
        status, text = _call("GET", f"{base}/metrics")
        lines = [ln for ln in text.splitlines()
                 if ln.startswith("askwell_requests_total{") and 'route="/v1/analyze"' in ln]
        assert sum(float(ln.rsplit(" ", 1)[1]) for ln in lines) == 40  # summed over both workers
        assert 'askwell_cache_hits_total{backend="redis"} 20.0' in text
        status, body = _call("POST", f"{base}/v1/analyze", {"title": "", "body": ""})
        assert status == 200 and body["verdict"] == "not_ready" and body["filter"]["reason"] == "empty"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # a clean shutdown: the workers flush their logs
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
    assert _count(postgres_url, "predictions") == 41  # the 40, and the not_ready answer to the empty one
    assert _count(postgres_url, "feedback") == 1
    assert uuid.UUID(ids[0])
