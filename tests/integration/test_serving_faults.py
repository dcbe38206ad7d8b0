"""Faults on the real PostgreSQL and Redis (issue 13): rows the database refuses, ids at
their limits, a reused X-Request-ID. Each reproduction of the issue is a test here.

Same servers as ``test_serving_servers.py`` (``scripts/services.sh``); skipped without them,
failed when ASKWELL_REQUIRE_REAL_DATA=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from askwell.serving.app import create_app
from askwell.serving.store import Store, now
from tests.integration.test_serving_servers import (  # noqa: F401 - fixtures
    REPO,
    _count,
    postgres_url,
    redis_url,
    toy,
)
from tests.unit.test_serving import GOOD, WEAK, analyzer_for, metric, settings_for


def _row(i: int, **changes: Any) -> dict[str, Any]:
    return {"request_id": f"r{i:04d}", "created_at": now(), "model_name": "toy", "model_version": "1",
            "score": 0.5, "verdict": "fine", "suggestions": ["a"], "warnings": [], "fallback": False,
            "abstained": False, "low_confidence": False, "cached": False, "latency_ms": 1.0, **changes}


def test_a_row_postgresql_refuses_is_isolated_and_the_batch_kept(postgres_url: str) -> None:  # noqa: F811
    # one NUL (cleaned at the store) and one value too long for its column (refused) among 48
    # innocent rows, all in one batch: before, the DataError was taken for "database down",
    # retried for retry_seconds and the whole batch dropped
    store = Store(postgres_url, batch_size=500, flush_seconds=0.5, retry_seconds=30).start()
    try:
        for i in range(50):
            changes = {"site": "a\x00b"} if i == 10 else {"verdict": "v" * 40} if i == 20 else {}
            assert store.submit("predictions", _row(i, **changes))
        started = time.monotonic()
        assert store.flush(15), "the writer is stuck retrying a data error"
        assert time.monotonic() - started < 15
    finally:
        store.close()
    assert _count(postgres_url, "predictions") == 49
    assert store.written == 49 and store.dropped == 1
    assert store.dropped_by == {("predictions", "bad_row"): 1}
    engine = sa.create_engine(postgres_url)
    with engine.connect() as con:
        site = con.execute(sa.text("select site from predictions where request_id = 'r0010'")).scalar()
    engine.dispose()
    assert site == "a\ufffdb"


def test_nul_in_stored_fields_is_a_clear_422_and_poisons_nothing(postgres_url: str, tmp_path: Path,  # noqa: F811
                                                                 toy: Any) -> None:  # noqa: F811
    s = settings_for(tmp_path, db=postgres_url, log_flush_seconds=0.05, log_retry_seconds=30)
    with TestClient(create_app(s, analyzer=analyzer_for(toy))) as c:
        bad = c.post("/v1/analyze", json={"title": "How do I fix my flat beer?", "body": "I bottled it two "
                                          "weeks ago and it is still flat.", "site": "a\u0000b"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
        ids = [c.post("/v1/analyze", json={**WEAK, "title": f"urgent help with code {i}"}).json()["request_id"]
               for i in range(20)]
        for field in ("comment", "suggestion_id"):
            resp = c.post("/v1/feedback", json={"request_id": ids[0], "kind": "helpful", field: "x\u0000y"})
            assert resp.status_code == 422, resp.text
        assert c.post("/v1/feedback", json={"request_id": ids[0], "kind": "helpful",
                                            "comment": "fine\nreally"}).status_code == 201
        store = c.app.state.store
        assert store.flush(10)
        assert metric(c, "askwell_log_dropped_total") == 0
        assert metric(c, "askwell_log_retries_total") == 0
    assert _count(postgres_url, "predictions") == 20 and _count(postgres_url, "feedback") == 1


# ---------------------------------------------------------------------- defect 2: corrupt model
@pytest.mark.slow
def test_a_damaged_model_never_kills_askwell_serve(tmp_path: Path) -> None:
    """At start: alive, unready, one line saying why. On reload: reload_failed, the old
    model keeps serving. (Before: LightGBM segfaulted the process both times.)"""
    import shutil

    from askwell.models.default import default_model_dir
    from tests.integration.test_serving_servers import _call, _free_port
    from tests.unit.test_serving_faults import _damaged_default

    folder = tmp_path / "model"
    shutil.copytree(_damaged_default(tmp_path, "truncated"), folder)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ASKWELL_HOME": str(tmp_path / "home"), "ASKWELL_RATE_LIMIT": "0",
           "ASKWELL_ADMIN_TOKEN": "s3cret"}
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from askwell.cli import main; main()", "serve", "--port", str(port),
             "--model-path", str(folder)], env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=str(REPO))
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, f"askwell serve died: {log_path.read_text()[-2000:]}"
                try:
                    status, body = _call("GET", f"{base}/readyz")
                    break
                except OSError:
                    assert time.monotonic() < deadline, "askwell serve never answered"
                    time.sleep(0.25)
            assert status == 503 and "booster.txt" in body["detail"], body
            lines = [ln for ln in log_path.read_text().splitlines() if "no model loaded" in ln]
            assert len(lines) == 1 and "booster.txt" in lines[0]
            # a good model arrives: reload serves it
            shutil.rmtree(folder)
            shutil.copytree(default_model_dir(), folder)
            status, body = _admin_reload(base)
            assert status == 200 and body["status"] == "swapped", body
            # damaged again (a bad deploy): the reload fails, the process and the old model stay
            shutil.rmtree(folder)
            shutil.copytree(_damaged_default(tmp_path / "again", "edited"), folder)
            status, body = _admin_reload(base)
            assert status == 500 and body["error"]["code"] == "reload_failed", body
            assert proc.poll() is None
            status, body = _call("POST", f"{base}/v1/analyze", {"title": "How do I fix flat beer?",
                                                               "body": "It is flat after two weeks."})
            assert status == 200 and body["model"]["name"] == "model"
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _admin_reload(base: str) -> tuple[int, Any]:
    import json
    import urllib.error
    import urllib.request

    req = urllib.request.Request(f"{base}/v1/admin/reload?wait=true", data=b"", method="POST",
                                 headers={"Authorization": "Bearer s3cret"})
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


# ---------------------------------------------------------------------- Alembic on PostgreSQL
def test_migrations_on_postgresql_keep_the_rows_already_there(postgres_url: str) -> None:  # noqa: F811
    from askwell.serving.store import make_engine
    from tests.unit.test_serving_migrations import (
        check_models_match_migrations,
        check_upgraded_keeps_rows,
        old_schema_with_rows,
    )

    engine = make_engine(postgres_url)
    try:
        old_schema_with_rows(engine)
        check_upgraded_keeps_rows(engine)
        check_models_match_migrations(engine)
    finally:
        engine.dispose()
def test_batch_items_of_a_64_character_request_id_are_logged_and_take_feedback(
        postgres_url: str, tmp_path: Path, toy: Any) -> None:  # noqa: F811
    s = settings_for(tmp_path, db=postgres_url, log_flush_seconds=0.05)
    with TestClient(create_app(s, analyzer=analyzer_for(toy))) as c:
        resp = c.post("/v1/analyze/batch", json={"questions": [WEAK, GOOD] * 6},
                      headers={"X-Request-ID": "c" * 64})
        assert resp.status_code == 200
        items = [r["request_id"] for r in resp.json()["results"]]
        assert len(set(items)) == 12 and all(len(i) <= 64 for i in items)
        c.app.state.store.flush(10)
        for rid in items:
            assert c.post("/v1/feedback", json={"request_id": rid, "kind": "helpful"}).status_code == 201
        assert metric(c, "askwell_log_dropped_total") == 0
    assert _count(postgres_url, "predictions") == 12 and _count(postgres_url, "feedback") == 12


def test_a_reused_x_request_id_keeps_every_row(postgres_url: str, tmp_path: Path, toy: Any) -> None:  # noqa: F811
    s = settings_for(tmp_path, db=postgres_url, log_flush_seconds=0.05)
    with TestClient(create_app(s, analyzer=analyzer_for(toy))) as c:
        answers = [c.post("/v1/analyze", json=WEAK, headers={"X-Request-ID": "client-abc-123"})
                   for _ in range(5)]
        assert {a.status_code for a in answers} == {200}
        assert len({a.json()["request_id"] for a in answers}) == 5  # unique server-side ids
        assert {a.headers["x-client-request-id"] for a in answers} == {"client-abc-123"}
        c.app.state.store.flush(10)
        assert metric(c, "askwell_log_written_total", table="predictions") == 5
        assert metric(c, "askwell_log_dropped_total") == 0
    engine = sa.create_engine(postgres_url)
    with engine.connect() as con:
        rows = con.execute(sa.text("select client_request_id from predictions")).all()
    engine.dispose()
    assert [r[0] for r in rows] == ["client-abc-123"] * 5


# ---------------------------------------------------------------------- Redis: limit and keys
def test_the_rate_limit_is_shared_by_workers_through_redis(redis_url: str, tmp_path: Path,  # noqa: F811
                                                           toy: Any) -> None:  # noqa: F811
    """Defect 6: two workers, one client, a window of 3: the fourth request is refused
    whichever worker gets it (before: each worker had its own bucket, so 2x the rate)."""
    s1 = settings_for(tmp_path / "a", cache=redis_url, rate_limit=0.1, rate_burst=3)
    s2 = settings_for(tmp_path / "b", cache=redis_url, rate_limit=0.1, rate_burst=3)
    with TestClient(create_app(s1, analyzer=analyzer_for(toy))) as one, \
            TestClient(create_app(s2, analyzer=analyzer_for(toy))) as two:
        codes = [c.post("/v1/analyze", json=WEAK).status_code for c in (one, two, one, two, one)]
    assert codes == [200, 200, 200, 429, 429]


def test_a_long_batch_costs_more_than_one_request(redis_url: str, tmp_path: Path,  # noqa: F811
                                                  toy: Any) -> None:  # noqa: F811
    s = settings_for(tmp_path, cache=redis_url, rate_limit=0.1, rate_burst=10)
    long_q = {"title": "Why is my stout flat after bottling?", "body": "I bottled my stout. " * 1000}
    with TestClient(create_app(s, analyzer=analyzer_for(toy))) as c:
        assert c.post("/v1/analyze/batch", json={"questions": [long_q, long_q]}).status_code == 200
        # 2 questions of 20,000 characters: 2 x 3 units; with the request's own unit, 6 of 10 used
        codes = [c.post("/v1/analyze", json=WEAK).status_code for _ in range(6)]
    assert codes == [200, 200, 200, 200, 429, 429]


def test_redis_keys_are_salted_and_hold_no_plain_input_hash(redis_url: str, tmp_path: Path,  # noqa: F811
                                                            toy: Any) -> None:  # noqa: F811
    """Defect 7: the key is an HMAC under the service's secret, not sha256(input) that anyone
    can recompute from a guessed question."""
    import redis

    from askwell.serving.cache import input_key

    s = settings_for(tmp_path, cache=redis_url, cache_secret="k" * 32)
    with TestClient(create_app(s, analyzer=analyzer_for(toy))) as c:
        c.post("/v1/analyze", json=GOOD)
        assert c.app.state.cache.flush()
    r = redis.Redis.from_url(redis_url)
    keys = [k.decode() for k in r.scan_iter("askwell:analysis:*")]
    r.close()
    plain = input_key(GOOD["title"], GOOD["body"], GOOD["tags"], GOOD["site"])
    assert len(keys) == 1 and plain not in keys[0]
    other = settings_for(tmp_path / "other", cache=redis_url, cache_secret="z" * 32)
    with TestClient(create_app(other, analyzer=analyzer_for(toy))) as c:
        assert c.post("/v1/analyze", json=GOOD).json()["cached"] is False  # another secret: no hit
