"""Faults on the real PostgreSQL and Redis (issue 13): rows the database refuses, ids at
their limits, a reused X-Request-ID. Each reproduction of the issue is a test here.

Same servers as ``test_serving_servers.py`` (``scripts/services.sh``); skipped without them,
failed when ASKWELL_REQUIRE_REAL_DATA=1.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from askwell.serving.app import create_app
from askwell.serving.store import Store, now
from tests.integration.test_serving_servers import _count, postgres_url, toy  # noqa: F401
from tests.unit.test_serving import WEAK, analyzer_for, metric, settings_for


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
        ids = [c.post("/v1/analyze", json={**WEAK, "title": f"urgent help {i}"}).json()["request_id"]
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
