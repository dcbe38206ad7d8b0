"""``askwell batch``: inputs cut into partitions, the service's answers, restartable output,
the moderator report. A tiny features model trained on the synthetic beer world, saved to
a folder as a real model artifact; the jobs run on a real (small) Dask LocalCluster."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from askwell.batch.analysis import Item, ModelHandle, analyse_questions, engine_for, manifest_digest
from askwell.batch.inputs import plan, read_partition, to_item
from askwell.batch.job import JobOptions, resolve_model, run_score
from askwell.batch.output import PARTS, verified
from askwell.batch.report import build_report
from askwell.errors import AskwellError
from askwell.models.base import make_model
from askwell.question import Question
from askwell.serving.cache import input_key
from tests.worlds import make_questions


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = make_questions(300, seed=1)
    model = make_model("features", n_estimators=60).fit(frame, frame["label"])
    return model.save(tmp_path_factory.mktemp("model") / "toy-model")


@pytest.fixture(scope="module")
def handle(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelHandle:
    """Through the one resolver, as ``askwell batch score --model-path`` does."""
    from askwell.config import Settings

    got = resolve_model(Settings(home=tmp_path_factory.mktemp("home")), None, model_dir)
    assert got.manifest_sha256 == manifest_digest(model_dir)
    return got


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """One small LocalCluster for the module's jobs (the embedded path is tested by the CLI)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as c:
        yield c.scheduler_address


def world_rows(n: int, seed: int = 3) -> list[dict[str, Any]]:
    frame = make_questions(n, seed=seed)
    cols = ["question_id", "title", "body_html", "tags", "site", "author_prior_questions"]
    return [{k: (list(v) if k == "tags" else v) for k, v in r.items() if k in cols}
            for r in frame.to_dict("records")]


def write_jsonl(path: Path, rows: list[Any], extra_lines: list[str] = ()) -> Path:
    with path.open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
        for line in extra_lines:
            fh.write(line + "\n")
    return path


# ---------------------------------------------------------------------- inputs
def test_parquet_partitions_cover_every_row_once_across_row_groups(tmp_path: Path) -> None:
    rows = world_rows(53)
    path = tmp_path / "q.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=7)
    p = plan(str(path), tmp_path, 10)
    assert p.rows == 53 and [(x.start, x.stop) for x in p.partitions][-1] == (50, 53)
    ids = [it.row_id for part in p.partitions for it in read_partition(part)[0]]
    assert ids == [r["question_id"] for r in rows]


def test_jsonl_partitions_by_line_offsets_and_rejects_bad_rows(tmp_path: Path) -> None:
    rows = world_rows(9)
    path = write_jsonl(tmp_path / "q.jsonl", rows, [
        "{not json", "[1, 2]", json.dumps({"id": "wrongtype", "title": 12, "body": "x"}),
        "", json.dumps({"id": "last", "title": "A question with no newline", "body": "b"})])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # last line without its newline
    p = plan(str(path), tmp_path, 4)
    items, rejects = [], []
    for part in p.partitions:
        i, r = read_partition(part)
        items += i
        rejects += r
    assert [it.row_id for it in items] == [r["question_id"] for r in rows] + ["last"]
    assert [(r.row_id, r.reason) for r in rejects] == [
        ("row-10", "malformed"), ("row-11", "malformed"), ("wrongtype", "invalid")]
    assert "line 10 is not JSON" in rejects[0].message


def test_rows_become_the_question_the_api_would_see() -> None:
    item = to_item({"id": 7, "title": "T", "body_html": "<p>b</p>", "tags": "<Beer><hops>",
                    "site": "beer.stackexchange.com", "author_prior_questions": 4.0}, 0)
    assert isinstance(item, Item)
    assert item.question == Question("T", "<p>b</p>", ("beer", "hops"), "beer.stackexchange.com")
    assert item.row_id == "7" and not item.author_context
    with_author = to_item({"title": "T", "body": "b", "author_prior_questions": 4.0}, 0,
                          with_author=True)
    assert with_author.question.author_prior_questions == 4 and with_author.author_context
    too_many = to_item({"title": "T", "body": "b", "tags": [f"t{i}" for i in range(11)]}, 5)
    assert too_many.reason == "invalid" and too_many.row_id == "row-6"


def test_a_missing_or_unreadable_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AskwellError, match="no such file"):
        plan(str(tmp_path / "nope.parquet"), tmp_path, 10)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(AskwellError, match="not a readable Parquet"):
        plan(str(tmp_path / "bad.parquet"), tmp_path, 10)


# ---------------------------------------------------------------------- the service's answers
def test_batch_answers_are_the_services(handle: ModelHandle) -> None:
    """Full: the payload the service computes, exactly. Score-only: the same score, verdict,
    confidence, abstention and warnings. Declined and not_ready inputs: the service's reason."""
    from askwell.serving.safeguards import Declined

    engine = engine_for(handle)
    assert engine_for(handle) is engine  # loaded once per process
    qs = [Question.from_mapping(r) for r in world_rows(40)]
    qs += [Question("Wie halte ich mein Bier frisch, wenn es zwei Wochen im Keller steht?",
                    "<p>Ich braue zu Hause und lagere bei zwölf Grad. Nach zwei Wochen ist es schal "
                    "und ich weiß nicht warum das passiert.</p>"),
           Question("short", "help"), Question("", "   "), Question("\x00\x01\x02\x03", "\x00" * 50)]
    items = [Item(f"q{i}", q) for i, q in enumerate(qs)]
    full, rej_full = analyse_questions(engine, items, suggestions=True)
    fast, rej_fast = analyse_questions(engine, items, suggestions=False)
    # what the service answers not_ready (no score) or declines is a reject with its reason
    assert [(r.row_id, r.reason) for r in rej_full] == [
        ("q40", "not_english"), ("q41", "title_too_short"), ("q42", "empty"), ("q43", "binary")]
    assert rej_fast == rej_full
    svc, served = engine.service, engine.served
    for row, srow, q in zip(full, fast, qs, strict=False):
        key = input_key(q.title, q.body, q.tags, q.site)
        expected = svc.compute(served, key, q)
        assert json.loads(row["payload"]) == json.loads(json.dumps(expected))
        assert row["input_hash"] == srow["input_hash"] == key
        for k in ("score", "verdict", "confidence", "abstained", "low_confidence", "warnings"):
            assert srow[k] == expected[k], k
    with pytest.raises(Declined):
        svc.compute(served, "k", qs[-1])


# ---------------------------------------------------------------------- jobs
def test_a_job_writes_verified_partitions_rejects_and_a_manifest_and_reruns_nothing(
        tmp_path: Path, handle: ModelHandle, cluster: str) -> None:
    rows = world_rows(30)
    src = write_jsonl(tmp_path / "in.jsonl", rows, ["{broken", json.dumps({"id": "e", "title": "",
                                                                          "body": ""})])
    out = tmp_path / "out"
    p = plan(str(src), tmp_path, 8)
    m = run_score(p, handle, out, JobOptions(partition_rows=8), scheduler=cluster)
    assert m["rows"] == 30 and m["rejects"] == 2 and len(m["partitions"]) == 4
    assert m["model"]["key"] == handle.key and m["input"]["rows"] == 32
    assert m["figures"]["partitions_run"] == 4 and m["figures"]["peak_rss_mb_per_worker"]
    frame = pd.read_parquet(out / PARTS)
    assert sorted(frame["id"]) == sorted(r["question_id"] for r in rows)
    assert (frame["model_key"] == handle.key).all()
    rejects = pd.read_csv(out / "rejects.csv")
    assert sorted(rejects["reason"]) == ["empty", "malformed"]
    again = run_score(p, handle, out, JobOptions(partition_rows=8), scheduler=cluster)
    assert again["figures"]["partitions_run"] == 0 and again["figures"]["partitions_skipped"] == 4
    # a damaged partition is not trusted: the rerun writes it again, and only it
    target = out / PARTS / "part-00002.parquet"
    target.write_bytes(target.read_bytes()[:-20])
    assert verified(out, 2, m["job"]["fingerprint"]) is None
    (out / PARTS / ".part-00001.parquet.deadbeef.tmp").write_bytes(b"half")
    third = run_score(p, handle, out, JobOptions(partition_rows=8), scheduler=cluster)
    assert third["figures"]["partitions_run"] == 1 and third["rows"] == 30
    assert not list((out / PARTS).glob(".*.tmp"))
    assert len(pd.read_parquet(out / PARTS)) == 30  # no duplicated rows
    # another job (other options) refuses to mix into this folder
    with pytest.raises(AskwellError, match="another job"):
        run_score(p, handle, out, JobOptions(partition_rows=5), scheduler=cluster)


def test_the_report_ranks_the_queue_and_exports_csv(tmp_path: Path, handle: ModelHandle,
                                                     cluster: str) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", world_rows(40, seed=5))
    out = tmp_path / "out"
    run_score(plan(str(src), tmp_path, 15), handle, out, JobOptions(suggestions=True,
                                                                   partition_rows=15),
              scheduler=cluster)
    rep = build_report(out, top=5, csv=tmp_path / "queue.csv")
    frame = pd.read_parquet(out / PARTS)
    need = frame[frame["verdict"].isin(["at_risk", "likely_closed"]) & ~frame["abstained"]]
    assert rep["queue_size"] == len(need) > 0
    scores = [r["score"] for r in rep["queue"]]
    assert scores == sorted(scores) and scores[0] == need["score"].min()
    assert sum(s["questions"] for s in rep["sites"]) == 40
    assert rep["queue"][0]["top_suggestion"] is not None  # the weak world questions get one
    csv = pd.read_csv(tmp_path / "queue.csv")
    assert len(csv) == len(need) and list(csv["score"]) == sorted(csv["score"])
    meta = build_report(out, site="beer.meta.stackexchange.com")
    assert [s["site"] for s in meta["sites"]] == ["beer.meta.stackexchange.com"]
    with pytest.raises(AskwellError, match="not a finished"):
        build_report(tmp_path)


# ---------------------------------------------------------------------- the hybrid service
def hybrid_roundtrip(tmp_path: Path, handle: ModelHandle, scheduler: str, model_dir: Path,
                     other_model_dir: Path, **service: Any) -> None:
    """Batch -> admin load -> a hit is served precomputed (the answer computing gives), a miss
    is computed, /metrics counts both; after a model swap the old entries are never used."""
    from fastapi.testclient import TestClient

    from askwell.serving.app import create_app
    from askwell.serving.config import ServiceSettings

    rows = world_rows(12, seed=11)
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "pre"
    run_score(plan(str(src), tmp_path, 5), handle, out, JobOptions(suggestions=True, partition_rows=5),
              scheduler=scheduler)
    score_only = tmp_path / "scores"
    run_score(plan(str(src), tmp_path, 5), handle, score_only, JobOptions(partition_rows=5),
              scheduler=scheduler)
    s = ServiceSettings(home=tmp_path / "svc", model_path=model_dir, sync_seconds=0, rate_limit=0,
                        admin_token="s3cret", **service)
    admin = {"Authorization": "Bearer s3cret"}
    req = {"title": rows[0]["title"], "body": rows[0]["body_html"], "tags": rows[0]["tags"],
           "site": rows[0]["site"]}
    with TestClient(create_app(s)) as c:
        before = c.post("/v1/analyze", json={**req, "title": req["title"] + " (draft)"}).json()
        assert before["source"] == "computed"
        assert c.post("/v1/admin/precomputed", json={"path": str(out)}).status_code == 401
        refused = c.post("/v1/admin/precomputed", json={"path": str(score_only)}, headers=admin)
        assert refused.status_code == 422 and "scores only" in refused.json()["error"]["message"]
        got = c.post("/v1/admin/precomputed", json={"path": str(out)}, headers=admin).json()
        assert got["loaded"] == got["entries"] == 12 and got["serving"] is True
        hit = c.post("/v1/analyze", json=req).json()
        assert hit["source"] == "precomputed"
        miss = c.post("/v1/analyze", json={**req, "title": req["title"] + " now"}).json()
        assert miss["source"] == "computed"
        metrics = c.get("/metrics").text
        assert 'askwell_answers_total{source="precomputed"} 1.0' in metrics
        assert 'askwell_answers_total{source="computed"} 2.0' in metrics
        assert "askwell_precomputed_share 0.3333333333333333" in metrics
        # the prediction log says where each answer came from
        import sqlalchemy as sa

        store = c.app.state.store
        assert store.flush(10)
        with store.engine.connect() as con:
            logged = dict(con.execute(sa.text("select request_id, source from predictions")).all())
        assert logged[hit["request_id"]] == "precomputed"
        assert logged[miss["request_id"]] == logged[before["request_id"]] == "computed"
        # the precomputed answer is the one computing gives
        svc = c.app.state.service
        pre, svc.precomputed = svc.precomputed, None
        svc.cache.clear()
        computed = c.post("/v1/analyze", json=req).json()
        svc.precomputed = pre
        strip = ("request_id", "latency_ms", "cached", "source")
        assert {k: v for k, v in hit.items() if k not in strip} == \
            {k: v for k, v in computed.items() if k not in strip}
        # swap to another model: the old entries stop matching
        c.app.state.settings.model_path = other_model_dir
        swapped = c.post("/v1/admin/reload?wait=true", headers=admin).json()
        assert swapped["status"] == "swapped"
        after = c.post("/v1/analyze", json=req).json()
        assert after["source"] == "computed" and after["model"]["name"] == other_model_dir.name
    # a new service on the same database finds the table and uses it for the old model only
    with TestClient(create_app(s.model_copy(update={"model_path": model_dir}))) as c:
        assert c.post("/v1/analyze", json=req).json()["source"] == "precomputed"
    # the same model behind another filter (here: none) gives other answers: never served
    with TestClient(create_app(s.model_copy(update={"model_path": model_dir,
                                                    "question_filter": "off"}))) as c:
        answer = c.post("/v1/analyze", json=req).json()
        assert answer["source"] == "computed" and answer["filter"] is None


@pytest.fixture(scope="module")
def other_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = make_questions(300, seed=2)
    model = make_model("features", n_estimators=40).fit(frame, frame["label"])
    return model.save(tmp_path_factory.mktemp("model2") / "toy-model-2")


def test_hybrid_service_on_sqlite(tmp_path: Path, handle: ModelHandle, cluster: str,
                                  model_dir: Path, other_model_dir: Path) -> None:
    hybrid_roundtrip(tmp_path, handle, cluster, model_dir, other_model_dir)
