"""The hybrid service: answers computed ahead of time by a batch job, served first.

``askwell batch score --suggestions`` writes, for every question, the analysis the
service would compute (the same code path) with the normalised input hash and the model
key. :func:`load_batch` puts them in the service's database (table ``precomputed``,
SQLite or PostgreSQL); :class:`Precomputed` looks one up by (the serving model's key, the
request's input hash). The key holds the model's family, name, version and training
data, so a precomputed answer of another model version is never served: after a swap the
old entries simply stop matching. An answer found here is also put in the service's cache
(the in-process LRU, or Redis when configured: then the shared hot layer). A database
that is away is a miss: the answer is computed, as without precomputed answers.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from askwell.errors import AskwellError
from askwell.serving.store import ensure_schema, now, precomputed

log = logging.getLogger("askwell.serving")

#: Rows per insert while loading.
LOAD_CHUNK = 1000


class Precomputed:
    """Look-ups in the ``precomputed`` table (failures count as misses)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.errors = 0
        self._warned_at = 0.0

    def get(self, model_key: str, input_hash: str) -> dict[str, Any] | None:
        t = precomputed
        try:
            with self.engine.connect() as con:
                raw = con.execute(sa.select(t.c.payload).where(t.c.model_key == model_key,
                                                               t.c.input_hash == input_hash)).scalar()
        except Exception as exc:
            self.errors += 1
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("precomputed answers unavailable (%s); computing instead",
                            str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
            return None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def count(self, model_key: str | None = None) -> int:
        q = sa.select(sa.func.count()).select_from(precomputed)
        if model_key is not None:
            q = q.where(precomputed.c.model_key == model_key)
        with self.engine.connect() as con:
            return int(con.execute(q).scalar() or 0)


def _upsert(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Insert or replace (a reload of the same batch, or a newer one, wins)."""
    insert: Callable[[sa.Table], Any]
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        insert = pg_insert
    elif engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = sqlite_insert
    else:  # pragma: no cover - the project supports SQLite and PostgreSQL
        raise AskwellError(f"precomputed answers need SQLite or PostgreSQL, not {engine.dialect.name}")
    stmt = insert(precomputed)
    stmt = stmt.on_conflict_do_update(
        index_elements=[precomputed.c.model_key, precomputed.c.input_hash],
        set_={"payload": stmt.excluded.payload, "batch": stmt.excluded.batch,
              "loaded_at": stmt.excluded.loaded_at})
    with engine.begin() as con:
        con.execute(stmt, rows)


def load_batch(engine: Engine, folder: Path, *, ood_threshold: float,
               abstain_below: float | None, serving_key: str | None = None) -> dict[str, Any]:
    """Load a finished batch output as precomputed answers; what was loaded and skipped.

    Refused: an output without full analyses (score-only), or one computed with other
    safeguard settings than this service's (its answers would differ from what the service
    computes). Skipped: rows scored with the author's history (the service never sees it).
    """
    import pyarrow.parquet as pq

    from askwell.batch.output import part_files, read_manifest

    folder = Path(folder)
    manifest = read_manifest(folder)
    if not (manifest.get("job") or {}).get("suggestions"):
        raise AskwellError(f"{folder} holds scores only; the service answers with the full "
                           "analysis: run `askwell batch score --suggestions` to precompute it")
    theirs = manifest.get("settings") or {}
    if theirs.get("ood_threshold") != ood_threshold or theirs.get("abstain_below") != abstain_below:
        raise AskwellError(
            f"{folder} was computed with ood_threshold={theirs.get('ood_threshold')}, abstain_below="
            f"{theirs.get('abstain_below')}; this service uses {ood_threshold}, {abstain_below}: "
            "its answers would differ from the ones computed here. Run the batch job with the "
            "service's settings (ASKWELL_OOD_THRESHOLD, ASKWELL_ABSTAIN_BELOW)")
    model_key = manifest["model"]["key"]
    batch = manifest["job"]["fingerprint"][:64]
    ensure_schema(engine)
    loaded = skipped_author = 0
    chunk: dict[str, dict[str, Any]] = {}  # by input hash: one upsert may not touch a row twice
    at = now()
    for path in part_files(folder, manifest):
        for rb in pq.ParquetFile(path).iter_batches(
                batch_size=LOAD_CHUNK, columns=["model_key", "input_hash", "payload", "author_context"]):
            for r in rb.to_pylist():
                if r["author_context"]:
                    skipped_author += 1
                    continue
                if r["model_key"] != model_key or not r["payload"]:
                    raise AskwellError(f"{path}: a row of another model or without its analysis; "
                                       "the output is not one job's, run it again")
                payload = json.loads(r["payload"])
                payload["source"] = "precomputed"
                chunk[r["input_hash"]] = {"model_key": model_key, "input_hash": r["input_hash"],
                                          "payload": json.dumps(payload, separators=(",", ":")),
                                          "batch": batch, "loaded_at": at}
                if len(chunk) >= LOAD_CHUNK:
                    _upsert(engine, list(chunk.values()))
                    loaded += len(chunk)
                    chunk = {}
    if chunk:
        _upsert(engine, list(chunk.values()))
        loaded += len(chunk)
    return {"path": str(folder), "model_key": model_key, "loaded": loaded,
            "entries": Precomputed(engine).count(model_key),
            "skipped_author_context": skipped_author,
            "serving": serving_key == model_key if serving_key is not None else None}
