"""Faults and hostile input the service must survive (issue 13), on SQLite and in-process.
The PostgreSQL and Redis halves are in tests/integration/test_serving_faults.py."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from askwell.serving.store import Store, is_connection_error, now
from tests.asyncrun import run_coroutine
from tests.unit.test_serving import (
    GOOD,
    WEAK,
    analyzer_for,
    assert_error,
    db_rows,
    make_client,  # noqa: F401 - a fixture
    settings_for,
    toy_model,  # noqa: F401 - a fixture
)


def _row(i: int, **changes: Any) -> dict[str, Any]:
    return {"request_id": f"r{i:04d}", "created_at": now(), "model_name": "toy", "model_version": "1",
            "score": 0.5, "verdict": "fine", "suggestions": ["a"], "warnings": [], "fallback": False,
            "abstained": False, "low_confidence": False, "cached": False, "latency_ms": 1.0, **changes}


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as con:
        n = int(con.execute(sa.text(f"select count(*) from {table}")).scalar() or 0)
    engine.dispose()
    return n


# ---------------------------------------------------------------------- defect 1: data errors
def test_a_row_the_database_refuses_is_dropped_alone_and_counted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    store = Store(url, batch_size=100, flush_seconds=0.3, retry_seconds=30).start()
    for i in range(30):
        store.submit("predictions", _row(i))
    store.submit("feedback", {"request_id": "r0001", "created_at": now(), "kind": None})  # NOT NULL
    store.submit("feedback", {"request_id": "r0001", "created_at": now(), "kind": "helpful"})
    assert store.flush(10), "a data error must not be retried like a lost connection"
    store.close()
    assert _count(url, "predictions") == 30 and _count(url, "feedback") == 1
    assert store.written == 31  # what is in the database, not what was tried
    assert store.dropped_by == {("feedback", "bad_row"): 1}


def test_data_errors_and_connection_errors_are_told_apart() -> None:
    op = sa.exc.OperationalError("insert", {}, Exception("connection refused"))
    data = sa.exc.DataError("insert", {}, Exception("invalid byte sequence: 0x00"))
    integrity = sa.exc.IntegrityError("insert", {}, Exception("NOT NULL"))
    assert is_connection_error(op) and is_connection_error(ConnectionRefusedError())
    assert not is_connection_error(data) and not is_connection_error(integrity)
    assert not is_connection_error(TypeError("not JSON serializable"))


def test_nul_is_cleaned_at_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    store = Store(url).start()
    store.submit("predictions", _row(1, site="a\x00b", warnings=["x\x00"]))
    store.close()
    engine = sa.create_engine(url)
    with engine.connect() as con:
        site, warnings = con.execute(sa.text("select site, warnings from predictions")).one()
    engine.dispose()
    assert site == "a\ufffdb" and "\x00" not in warnings


# ---------------------------------------------------------------------- defect 9: the total
def test_shutdown_logs_the_total_dropped_not_the_throttled_count(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Store("postgresql+psycopg://nobody:x@127.0.0.1:9/none", retry_seconds=0.1,
                  batch_size=5, flush_seconds=0.01)
    store.start()
    for i in range(23):
        store.submit("predictions", _row(i))
    with caplog.at_level(logging.WARNING, logger="askwell.serving"):
        store.close()
    assert store.dropped == 23
    totals = [r.getMessage() for r in caplog.records if "in total" in r.getMessage()]
    assert totals and "23 rows dropped in total" in totals[-1]
    assert "23 predictions (unreachable)" in totals[-1]


# ---------------------------------------------------------------------- defect 2: corrupt model
def _damaged_default(tmp_path: Path, how: str) -> Path:
    """The packaged model with booster.txt damaged and MANIFEST.json rewritten to match."""
    import hashlib
    import json
    import shutil

    from askwell.models.default import default_model_dir

    folder = tmp_path / f"damaged-{how}"
    shutil.copytree(default_model_dir(), folder)
    booster = folder / "booster.txt"
    data = booster.read_bytes()
    if how == "truncated":
        data = data[: len(data) // 2]
    else:  # a child index pointing far outside its tree
        data = data.replace(b"\nleft_child=", b"\nleft_child=999 ", 1)
    booster.write_bytes(data)
    manifest = json.loads((folder / "MANIFEST.json").read_text())
    manifest["sha256"]["booster.txt"] = hashlib.sha256(data).hexdigest()
    (folder / "MANIFEST.json").write_text(json.dumps(manifest))
    return folder


@pytest.mark.parametrize("how", ["truncated", "edited"])
def test_a_damaged_booster_with_a_matching_manifest_is_refused_not_a_crash(
        tmp_path: Path, how: str) -> None:
    import subprocess
    import sys

    folder = _damaged_default(tmp_path, how)
    code = ("import sys\nfrom askwell.models.base import load_model\n"
            "from askwell.models.artifacts import ArtifactError\n"
            "try:\n    load_model(sys.argv[1])\nexcept ArtifactError as e:\n    print('refused:', e)\n")
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"the loading process died ({done.returncode}): {done.stderr[-500:]}"
    assert "refused:" in done.stdout and "booster.txt" in done.stdout


def test_the_child_probe_survives_what_lightgbm_crashes_on(tmp_path: Path) -> None:
    from askwell.models.artifacts import ArtifactError
    from askwell.models.booster_check import probe_in_child

    folder = _damaged_default(tmp_path, "truncated")
    with pytest.raises(ArtifactError, match=r"killed by SIG|failed"):
        probe_in_child(folder / "booster.txt")  # LightGBM segfaults in the child, not here


# ---------------------------------------------------------------------- the HTTP service


def test_unknown_id_feedback_holds_no_pool_thread(make_client: Any) -> None:  # noqa: F811
    """Defect 5: 12 feedbacks on unknown ids with 4 pool threads. Before, each held a thread
    for its 1 s of polling, so a thread-pool route waited behind them; now the waiting is on
    the event loop and /metrics (rendered in a pool thread) answers before any of them."""
    import threading

    import anyio.to_thread

    c = make_client()
    c.portal.call(lambda: setattr(anyio.to_thread.current_default_thread_limiter(), "total_tokens", 4))
    store = c.app.state.store
    looked_up = threading.Event()
    real = store.has_request
    calls = [0]

    def counting(rid: str) -> bool:
        calls[0] += 1
        if calls[0] >= 4:
            looked_up.set()
        return real(rid)

    store.has_request = counting
    done: list[tuple[str, float]] = []
    lock = threading.Lock()

    def fire(kind: str, i: int) -> None:
        if kind == "feedback":
            resp = c.post("/v1/feedback", json={"request_id": f"{i:032x}", "kind": "helpful"})
            assert resp.status_code == 404
        else:
            assert c.get("/metrics").status_code == 200
        with lock:
            done.append((kind, time.monotonic()))

    threads = [threading.Thread(target=fire, args=("feedback", i)) for i in range(12)]
    for t in threads:
        t.start()
    assert looked_up.wait(20)
    fire("metrics", 0)
    for t in threads:
        t.join()
    order = [kind for kind, _ in sorted(done, key=lambda d: d[1])]
    assert order[0] == "metrics", order


def test_an_id_the_service_never_makes_is_404_without_waiting(make_client: Any) -> None:  # noqa: F811
    c = make_client()
    calls = []
    store = c.app.state.store
    real = store.has_request
    store.has_request = lambda rid: calls.append(rid) or real(rid)
    assert_error(c.post("/v1/feedback", json={"request_id": "not-one-of-ours", "kind": "helpful"}),
                 404, "unknown_request")
    assert calls == ["not-one-of-ours"]  # looked up once (an old row may have it), no polling


def test_long_analyses_in_flight_are_bounded_by_characters(make_client: Any) -> None:  # noqa: F811
    """Defect 6: four concurrent batches of long questions with room for 10,000 characters:
    at most two 5,000-character analyses run at once (before: one thread per batch, all four)."""
    import threading

    c = make_client(chars_in_flight=10_000, cache="off")
    svc = c.app.state.service
    real = svc.compute
    running, peak = [0], [0]
    lock = threading.Lock()

    def tracked(served: Any, key: str, q: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            time.sleep(0.05)  # long enough for the batches to overlap
            return real(served, key, q)
        finally:
            with lock:
                running[0] -= 1

    svc.compute = tracked
    long_q = {"title": "Why is my stout flat after bottling?", "body": "I bottled my stout. " * 250}
    assert len(long_q["body"]) == 5000

    def batch(i: int) -> None:
        body = {"questions": [{**long_q, "title": f"{long_q['title']} {i}-{j}"} for j in range(3)]}
        resp = c.post("/v1/analyze/batch", json=body)
        assert resp.status_code == 200 and all("score" in r for r in resp.json()["results"])

    threads = [threading.Thread(target=batch, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= peak[0] <= 2, peak
    assert svc.gate.in_flight == 0


def test_the_character_gate_waits_then_says_busy() -> None:

    from askwell.serving.service import Busy, CharGate

    async def run() -> None:
        gate = CharGate(100, wait_seconds=0.2)
        async with gate.hold(80):
            with pytest.raises(Busy):
                async with gate.hold(50):
                    pass
            assert gate.in_flight == 80
        async with gate.hold(10_000):  # more than the room: takes all of it, never waits forever
            assert gate.in_flight == 100
        assert gate.in_flight == 0

    run_coroutine(run())


def test_a_slow_body_is_cut_off_with_408(tmp_path: Path, toy_model: Any) -> None:  # noqa: F811
    """Defect 6: a client that sends half a body and stalls gets 408 after body_timeout_seconds
    (before: the connection stayed open for as long as the client liked)."""
    import asyncio

    from askwell.serving.app import create_app

    app = create_app(settings_for(tmp_path, body_timeout_seconds=0.3), analyzer=analyzer_for(toy_model))
    sent: list[dict[str, Any]] = []

    async def drive() -> None:
        chunks = [{"type": "http.request", "body": b'{"title": "x", ', "more_body": True}]

        async def receive() -> dict[str, Any]:
            if chunks:
                return chunks.pop(0)
            await asyncio.sleep(3600)  # the client never sends the rest
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "path": "/v1/analyze", "raw_path": b"/v1/analyze", "query_string": b"",
                 "root_path": "", "scheme": "http", "server": ("127.0.0.1", 8000),
                 "client": ("127.0.0.1", 5555),
                 "headers": [(b"content-type", b"application/json"), (b"content-length", b"200")]}
        await asyncio.wait_for(app(scope, receive, send), 10)

    run_coroutine(drive())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 408
    # and the connection is closed after it: a client trickling the rest of its body kept
    # its connection open for as long as it liked (300 of 300 still open after 30 s)
    assert (b"connection", b"close") in [(k.lower(), v) for k, v in start["headers"]]


def test_serve_logs_one_start_line(tmp_path: Path, toy_model: Any,  # noqa: F811
                                   caplog: pytest.LogCaptureFixture) -> None:
    from fastapi.testclient import TestClient

    from askwell.serving.app import create_app

    with caplog.at_level(logging.INFO, logger="askwell.serving"), \
            TestClient(create_app(settings_for(tmp_path), analyzer=analyzer_for(toy_model))):
        pass
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("askwell ")]
    assert len(lines) == 1
    line = lines[0]
    assert "serving toy version 1 (features) from injected" in line
    assert "database sqlite:///" in line and "cache memory" in line and "rate limit off" in line


# ---------------------------------------------------------------------- defect 8: the contract
def test_the_openapi_schema_documents_every_answer_and_limit(make_client: Any) -> None:  # noqa: F811
    c = make_client(admin_token="s3cret")
    spec = c.get("/openapi.json").json()
    for path in ("/v1/analyze", "/v1/analyze/batch", "/v1/feedback"):
        assert {"400", "408", "413", "422", "429", "500"} <= set(spec["paths"][path]["post"]["responses"])
    tags = spec["components"]["schemas"]["AnalyzeRequest"]["properties"]["tags"]["anyOf"]
    assert tags[0]["maxItems"] == 10 and tags[0]["items"]["maxLength"] == 64
    assert "pattern" in tags[1]
    events = spec["paths"]["/v1/admin/events"]["get"]
    assert events["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("EventsResponse")


@pytest.mark.parametrize("value", [False, "12", True])
def test_feedback_value_is_a_number_only(make_client: Any, value: Any) -> None:  # noqa: F811
    c = make_client()
    rid = c.post("/v1/analyze", json=WEAK).json()["request_id"]
    assert_error(c.post("/v1/feedback", json={"request_id": rid, "kind": "time_to_next", "value": value}),
                 422, "invalid_request")
    assert c.post("/v1/feedback", json={"request_id": rid, "kind": "time_to_next", "value": 12}).status_code == 201


def test_a_repeated_query_parameter_is_refused(make_client: Any, toy_model: Any) -> None:  # noqa: F811
    c = make_client(admin_token="s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    assert_error(c.get("/v1/admin/events?limit=abc&limit=5", headers=auth), 422, "invalid_request")
    assert_error(c.get("/v1/admin/events?limit=0", headers=auth), 422, "invalid_request")
    assert c.get("/v1/admin/events?limit=5", headers=auth).status_code == 200


def test_the_docs_pages_have_a_strict_csp(make_client: Any) -> None:  # noqa: F811
    import base64
    import hashlib
    import re

    c = make_client()
    for page in ("/docs", "/redoc"):
        resp = c.get(page)
        csp = resp.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        for body in re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", resp.text, re.S):
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp


def test_responses_are_checked_against_their_models(make_client: Any) -> None:  # noqa: F811
    """Routes return their response models (FastAPI validates them): a payload that breaks the
    documented schema is a 500, not an undocumented answer."""
    c = make_client()
    svc = c.app.state.service
    real = svc.finish
    svc.finish = lambda *a, **k: {**real(*a, **k), "verdict": "splendid"}
    assert_error(c.post("/v1/analyze", json=GOOD), 500, "internal")
    svc.finish = real
    assert c.post("/v1/analyze", json=GOOD).status_code == 200
    assert db_rows(c, "predictions")


def test_schemathesis_findings_stay_fixed(make_client: Any) -> None:  # noqa: F811
    """Found by scripts/schemathesis.sh: event times without their zone (not RFC 3339), a
    path the file system refuses -> 500, an undocumented 400 on the admin body route."""
    from datetime import datetime

    c = make_client(admin_token="s3cret")
    auth = {"Authorization": "Bearer s3cret"}
    created = c.get("/v1/admin/events", headers=auth).json()["events"][0]["created_at"]
    assert datetime.fromisoformat(created).utcoffset() is not None
    resp = c.post("/v1/admin/precomputed", headers=auth, json={"path": "0" * 4000})
    assert_error(resp, 422, "precomputed_refused")
    spec = c.get("/openapi.json").json()
    assert "400" in spec["paths"]["/v1/admin/precomputed"]["post"]["responses"]
