"""A batch job's output folder: partitioned Parquet, rejects, a sidecar per partition, the
manifest.

::

    OUT/manifest.json              written last, atomically: the job, the model, the figures
    OUT/parts/part-00012.parquet   the analyses of partition 12
    OUT/done/part-00012.json       its sidecar: the job's fingerprint, rows, sha256 of files
    OUT/rejects/part-00012.parquet rows that could not be scored, with their reason
    OUT/rejects.csv                all rejects in one file (written at the end)

Every file is written under a temporary name and renamed into place; the sidecar goes
last and is the partition's commit mark. A partition counts as done only when its
sidecar names this job's fingerprint and every file it lists has the sha256 it records,
so a job killed at any instant leaves nothing a rerun would trust, and a rerun rewrites
(never appends to) a partition it does not trust: no duplicated rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from askwell.batch.analysis import Reject
from askwell.errors import AskwellError

MANIFEST = "manifest.json"
PARTS = "parts"
REJECTS = "rejects"
DONE = "done"
REJECTS_CSV = "rejects.csv"

#: Output columns and their Arrow types (one schema for every partition, even empty ones).
def _schema() -> Any:
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("site", pa.string()), ("title", pa.string()),
        ("input_hash", pa.string()), ("model_key", pa.string()),
        ("score", pa.float64()), ("verdict", pa.string()), ("confidence", pa.float64()),
        ("threshold", pa.float64()), ("abstained", pa.bool_()), ("low_confidence", pa.bool_()),
        ("fallback", pa.bool_()), ("warnings", pa.list_(pa.string())),
        ("n_suggestions", pa.int32()), ("top_suggestion", pa.string()),
        ("top_suggestion_message", pa.string()), ("top_gain", pa.float64()),
        ("author_context", pa.bool_()), ("payload", pa.string()),
    ])


def _rejects_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("reason", pa.string()), ("message", pa.string())])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def part_name(index: int) -> str:
    return f"part-{index:05d}"


def _atomic_parquet(table: Any, target: Path) -> None:
    import pyarrow.parquet as pq

    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_text(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_partition(out: Path, index: int, fingerprint: str, rows: list[dict[str, Any]],
                    rejects: list[Reject], source: dict[str, Any]) -> dict[str, Any]:
    """Write one partition (data, rejects, then its sidecar) and return the sidecar."""
    import pyarrow as pa

    out = Path(out)
    name = part_name(index)
    data = out / PARTS / f"{name}.parquet"
    _atomic_parquet(pa.Table.from_pylist(rows, schema=_schema()), data)
    files = {f"{PARTS}/{name}.parquet": sha256_file(data)}
    if rejects:
        rej = out / REJECTS / f"{name}.parquet"
        _atomic_parquet(pa.Table.from_pylist(
            [{"id": r.row_id, "reason": r.reason, "message": r.message} for r in rejects],
            schema=_rejects_schema()), rej)
        files[f"{REJECTS}/{name}.parquet"] = sha256_file(rej)
    else:
        (out / REJECTS / f"{name}.parquet").unlink(missing_ok=True)
    verdicts: dict[str, int] = {}
    for r in rows:
        verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
    sidecar = {"index": index, "fingerprint": fingerprint, "rows": len(rows),
               "rejects": len(rejects), "verdicts": verdicts, "files": files, "source": source}
    atomic_text(out / DONE / f"{name}.json", json.dumps(sidecar, indent=1, sort_keys=True))
    return sidecar


def verified(out: Path, index: int, fingerprint: str) -> dict[str, Any] | None:
    """The partition's sidecar when it belongs to this job and its files are intact."""
    side = Path(out) / DONE / f"{part_name(index)}.json"
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("fingerprint") != fingerprint or meta.get("index") != index:
        return None
    for rel, sha in (meta.get("files") or {}).items():
        path = Path(out) / rel
        if not path.is_file() or sha256_file(path) != sha:
            return None
    return meta


def prepare(out: Path, fingerprint: str, *, overwrite: bool) -> None:
    """Make the folder ready: refuse another job's output unless told to replace it; clear
    temporary files a killed run left behind."""
    out = Path(out)
    manifest = out / MANIFEST
    if manifest.is_file() or (out / DONE).is_dir():
        other = _job_fingerprint(out)
        if other is not None and other != fingerprint:
            if not overwrite:
                raise AskwellError(
                    f"{out} holds the output of another job (other input, model or options); "
                    "choose another --out, or pass --overwrite to replace it")
            for sub in (PARTS, REJECTS, DONE):
                for p in (out / sub).glob("*") if (out / sub).is_dir() else ():
                    p.unlink()
            manifest.unlink(missing_ok=True)
            (out / REJECTS_CSV).unlink(missing_ok=True)
    for sub in (PARTS, REJECTS, DONE):
        (out / sub).mkdir(parents=True, exist_ok=True)
        for tmp in (out / sub).glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
    manifest.unlink(missing_ok=True)  # it describes a finished job; this one is not


def _job_fingerprint(out: Path) -> str | None:
    try:
        return json.loads((out / MANIFEST).read_text())["job"]["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    for side in sorted((out / DONE).glob("part-*.json")) if (out / DONE).is_dir() else ():
        try:
            return json.loads(side.read_text())["fingerprint"]
        except (OSError, ValueError, KeyError):
            continue
    return None


def write_rejects_csv(out: Path, partitions: list[dict[str, Any]]) -> int:
    """All rejects in one CSV (streamed partition by partition), atomically."""
    import csv

    import pyarrow.parquet as pq

    target = Path(out) / REJECTS_CSV
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    n = 0
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "reason", "message"])
            for side in partitions:
                rel = f"{REJECTS}/{part_name(side['index'])}.parquet"
                if rel not in side["files"]:
                    continue
                for row in pq.read_table(Path(out) / rel).to_pylist():
                    writer.writerow([row["id"], row["reason"], row["message"]])
                    n += 1
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return n


def read_manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise AskwellError(f"{out}: no {MANIFEST}; not a finished `askwell batch score` output "
                           "(run it again to finish the job)") from None
    except ValueError as exc:
        raise AskwellError(f"{path}: unreadable ({exc})") from exc


def part_files(out: Path, manifest: dict[str, Any]) -> Iterator[Path]:
    """The data files the manifest lists, in partition order."""
    for p in manifest.get("partitions", []):
        yield Path(out) / PARTS / f"{part_name(p['index'])}.parquet"
