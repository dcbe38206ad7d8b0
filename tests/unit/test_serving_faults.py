"""Faults and hostile input the service must survive (issue 13), on SQLite and in-process.
The PostgreSQL and Redis halves are in tests/integration/test_serving_faults.py."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from askwell.serving.store import Store, is_connection_error, now


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
