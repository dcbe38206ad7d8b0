"""What a batch job reads, planned as partitions each task streams by itself.

The client never loads the input: it reads Parquet metadata (row-group sizes) or scans a
JSON Lines file for line offsets, and sends each task a :class:`Partition` (a path and a
row range). The task streams its rows in small record batches, so a worker holds one
partition at a time whatever the input's size.

Each row becomes the question the service would see: ``title``, ``body`` (or a dataset's
``body_html``), ``tags`` and ``site`` parsed by the API's own request model; the author's
history only with ``with_author`` (the service is never told it, so such answers are not
served as precomputed ones). A row that can't become a question is a reject with its reason.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from askwell.batch.analysis import Item, Reject
from askwell.errors import AskwellError
from askwell.question import Question

#: Columns a task reads from Parquet (those present).
COLUMNS = ("question_id", "id", "title", "body", "body_html", "tags", "site",
           "author_prior_questions", "author_prior_answers", "author_account_age_days")
#: Rows per record batch while streaming a partition.
STREAM_ROWS = 512
#: Longest row id kept (ids come from the input).
MAX_ID_CHARS = 200


@dataclass(frozen=True)
class Partition:
    """Rows ``[start, stop)`` of one input file (row numbers count from 0)."""

    index: int
    path: str
    fmt: Literal["parquet", "jsonl"]
    start: int
    stop: int
    offset: int = 0                     # jsonl: the byte offset of row ``start``
    row_groups: tuple[int, ...] = ()    # parquet: the row groups covering the range
    first_row: int = 0                  # parquet: the row number of the first of them


@dataclass(frozen=True)
class InputPlan:
    kind: Literal["dataset", "parquet", "jsonl"]
    path: Path
    dataset_id: str | None
    rows: int
    fingerprint: str
    partitions: list[Partition]


def plan(source: str | None, datasets_dir: Path, rows_per_partition: int) -> InputPlan:
    """Resolve ``source`` (a dataset id or prefix, a .parquet or .jsonl file, or None: the
    latest ingested dataset) and cut it into partitions of ``rows_per_partition`` rows."""
    if rows_per_partition < 1:
        raise AskwellError("--partition-rows must be at least 1")
    path = Path(source) if source else None
    if path is not None and path.suffix.lower() in (".parquet", ".jsonl", ".json", ".ndjson"):
        if not path.is_file():
            raise AskwellError(f"{path}: no such file")
        if path.suffix.lower() == ".parquet":
            return _plan_parquet("parquet", path.resolve(), None, rows_per_partition)
        return _plan_jsonl(path.resolve(), rows_per_partition)
    from askwell.data.store import DatasetStore

    ds = DatasetStore(datasets_dir).resolve(source)
    return _plan_parquet("dataset", ds.questions_path.resolve(), ds.id, rows_per_partition)


def _fingerprint(path: Path, extra: str = "") -> str:
    st = path.stat()
    raw = f"{path}\x1f{st.st_size}\x1f{st.st_mtime_ns}\x1f{extra}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _plan_parquet(kind: Literal["dataset", "parquet"], path: Path, dataset_id: str | None,
                  per: int) -> InputPlan:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:
        raise AskwellError(f"{path}: not a readable Parquet file ({exc})") from exc
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    total = sum(sizes)
    parts = []
    for index, start in enumerate(range(0, total, per)):
        stop = min(start + per, total)
        groups = tuple(i for i, (s, n) in enumerate(zip(starts, sizes, strict=True))
                       if s < stop and s + n > start)
        parts.append(Partition(index, str(path), "parquet", start, stop, row_groups=groups,
                               first_row=starts[groups[0]] if groups else 0))
    return InputPlan(kind, path, dataset_id, total, _fingerprint(path, dataset_id or ""), parts)


def _plan_jsonl(path: Path, per: int) -> InputPlan:
    """One pass over the bytes to find where every ``per``-th line starts (no parsing)."""
    offsets = [0]
    lines = 0
    pos = 0
    last = b"\n"
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            i = -1
            while (i := block.find(b"\n", i + 1)) != -1:
                lines += 1
                if lines % per == 0:
                    offsets.append(pos + i + 1)
            pos += len(block)
            last = block[-1:]
    if last != b"\n" and pos > 0:
        lines += 1  # a last line without its newline
    parts = []
    for index, start in enumerate(range(0, lines, per)):
        parts.append(Partition(index, str(path), "jsonl", start, min(start + per, lines),
                               offset=offsets[index]))
    return InputPlan("jsonl", path, None, lines, _fingerprint(path), parts)


# ---------------------------------------------------------------------- reading (on workers)
def read_partition(part: Partition, *, with_author: bool = False) -> tuple[list[Item], list[Reject]]:
    """The partition's questions and the rows that could not become one."""
    items: list[Item] = []
    rejects: list[Reject] = []
    rows = _parquet_rows(part) if part.fmt == "parquet" else _jsonl_rows(part)
    for row_no, row in rows:
        got = to_item(row, row_no, with_author=with_author)
        if isinstance(got, Item):
            items.append(got)
        else:
            rejects.append(got)
    return items, rejects


def _parquet_rows(part: Partition) -> Iterator[tuple[int, Any]]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(part.path)
    names = set(pf.schema_arrow.names)
    columns = [c for c in COLUMNS if c in names]
    row_no = part.first_row
    for batch in pf.iter_batches(batch_size=STREAM_ROWS, row_groups=list(part.row_groups),
                                 columns=columns, use_threads=False):
        end = row_no + batch.num_rows
        if end <= part.start:
            row_no = end
            continue
        lo, hi = max(part.start - row_no, 0), min(part.stop - row_no, batch.num_rows)
        for i, row in enumerate(batch.slice(lo, hi - lo).to_pylist()):
            yield row_no + lo + i, row
        row_no = end
        if row_no >= part.stop:
            return


def _jsonl_rows(part: Partition) -> Iterator[tuple[int, Any]]:
    with open(part.path, "rb") as fh:
        fh.seek(part.offset)
        for row_no in range(part.start, part.stop):
            raw = fh.readline()
            if not raw:
                return
            if not raw.strip():
                continue  # a blank line is no row
            try:
                yield row_no, json.loads(raw)
            except ValueError as exc:
                yield row_no, _Malformed(f"line {row_no + 1} is not JSON ({exc})")


@dataclass(frozen=True)
class _Malformed:
    message: str


def _tags(value: Any) -> Any:
    """Dump-style ``<a><b>`` tags as a list; anything else as given (the API parses it)."""
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        return [t for t in value[1:-1].split("><") if t]
    return list(value) if isinstance(value, tuple) else value


def to_item(row: Any, row_no: int, *, with_author: bool = False) -> Item | Reject:
    """One input row as the question the service would analyse, or why it can't be one."""
    from pydantic import ValidationError

    from askwell.question import Question as Q
    from askwell.serving.schemas import AnalyzeRequest

    fallback_id = f"row-{row_no + 1}"
    if isinstance(row, _Malformed):
        return Reject(fallback_id, "malformed", row.message)
    if not isinstance(row, dict):
        return Reject(fallback_id, "malformed", f"row {row_no + 1} is a {type(row).__name__}, "
                      "not an object with title and body")
    raw_id = row.get("question_id") or row.get("id")
    row_id = str(raw_id)[:MAX_ID_CHARS] if raw_id not in (None, "") else fallback_id
    body = row.get("body") if row.get("body") is not None else row.get("body_html")
    request = {"title": row.get("title") if row.get("title") is not None else "",
               "body": body if body is not None else "", "tags": _tags(row.get("tags") or []),
               "site": row.get("site") or None}
    try:
        req = AnalyzeRequest.model_validate(request)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "row"
        return Reject(row_id, "invalid", f"{where}: {first.get('msg', 'invalid')}")
    q: Question = Q(title=req.title, body=req.body, tags=tuple(req.tags), site=req.site or None)
    if not with_author:
        return Item(row_id, q)
    full = Q.from_mapping({**row, "title": q.title, "body": q.body, "tags": q.tags, "site": q.site})
    has = any(v is not None for v in (full.author_prior_questions, full.author_prior_answers,
                                      full.author_account_age_days))
    return Item(row_id, full, author_context=has)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024.0, 1) if os.uname().sysname == "Linux" else round(kb / 2**20, 1)
