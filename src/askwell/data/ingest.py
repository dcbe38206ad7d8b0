"""Ingest Stack Exchange dumps into one versioned question dataset.

Two passes, each with bounded memory:

1. *Stream* every dump file row by row and stage slim Parquet tables (questions with their
   parsed bodies, every post's owner and date, history events, users, duplicate links),
   writing in batches.
2. *Join*: DuckDB (which spills to disk under a memory limit) computes each question's
   outcomes and its author's history *before* the question from the small staged
   columns; then the question text streams from the staged files and is zipped with
   them, in site and post id order. The bodies never pass through DuckDB's sorts or hash
   tables, whose memory would otherwise grow with the dump.

The result is written to a temporary folder and renamed into place, so a failed run never
leaves a half-written dataset behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from askwell.data import dumpfiles
from askwell.data.document import parse_html
from askwell.data.dumpfiles import DumpError, ReadStats, SiteSource
from askwell.data.sitekind import site_kind, site_kind_sql
from askwell.data.store import Dataset, DatasetStore

#: Bump when the dataset's columns or their meaning change: it is part of the dataset id.
SCHEMA_VERSION = 1
#: PostHistory types kept: initial title/body, edits, close, reopen.
_HISTORY_TYPES = {1, 2, 4, 5, 6, 10, 11}
#: Close reasons meaning "duplicate" (old numbering 1, new numbering 101).
DUPLICATE_CLOSE_REASONS = ("1", "101")

Progress = Callable[[str, int, int], None]
"""Called as ``progress(site, bytes_read_delta, rows_delta)``."""

_QUESTION_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("post_id", pa.int64()),
        ("title", pa.string()),
        ("body_html", pa.string()),
        ("body_text", pa.string()),
        ("structure", pa.string()),
        ("n_code_blocks", pa.int32()),
        ("n_inline_code", pa.int32()),
        ("n_links", pa.int32()),
        ("n_images", pa.int32()),
        ("n_lists", pa.int32()),
        ("n_list_items", pa.int32()),
        ("n_blockquotes", pa.int32()),
        ("n_headings", pa.int32()),
        ("code_chars", pa.int32()),
        ("tags", pa.list_(pa.string())),
        ("creation_date", pa.string()),
        ("owner_user_id", pa.int64()),
        ("score", pa.int64()),
        ("view_count", pa.int64()),
        ("answer_count", pa.int64()),
        ("comment_count", pa.int64()),
        ("favorite_count", pa.int64()),
        ("accepted_answer_id", pa.int64()),
        ("closed_date", pa.string()),
        ("content_license", pa.string()),
    ]
)
_POST_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("post_id", pa.int64()),
        ("post_type", pa.int32()),
        ("owner_user_id", pa.int64()),
        ("creation_date", pa.string()),
    ]
)
_HISTORY_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("post_id", pa.int64()),
        ("type", pa.int32()),
        ("creation_date", pa.string()),
        ("comment", pa.string()),
        ("text", pa.string()),
    ]
)
_USER_SCHEMA = pa.schema(
    [("site", pa.string()), ("user_id", pa.int64()), ("creation_date", pa.string())]
)
_LINK_SCHEMA = pa.schema(
    [("site", pa.string()), ("post_id", pa.int64()), ("link_type", pa.int32())]
)


@dataclass
class SiteReport:
    """What ingest did with one site."""

    site: str
    origin: str
    files: list[str]
    rows_read: int = 0
    questions: int = 0
    bytes_read: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    """The dataset produced (or found already built) and what happened on the way."""

    dataset: Dataset
    sites: list[SiteReport]
    reused: bool
    seconds: float

    @property
    def rows_read(self) -> int:
        return sum(s.rows_read for s in self.sites)

    @property
    def rejected(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for s in self.sites:
            total.update(s.rejected)
        return total


def parse_tags(raw: str | None) -> list[str]:
    """Tags in either dump format: ``<a><b>`` (older) or ``|a|b|`` (newer)."""
    if not raw:
        return []
    if raw.startswith("<"):
        return [t for t in raw.strip("<>").split("><") if t]
    return [t for t in raw.strip("|").split("|") if t]


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    number = int(value)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise ValueError(f"number out of range: {value[:30]}")
    return number


def _id(attrs: Mapping[str, str], key: str) -> int:
    """A required integer attribute (``KeyError`` when absent, ``ValueError`` when bad)."""
    number = _int(attrs[key])
    if number is None:
        raise ValueError(f"invalid literal for int(): {key} is empty")
    return number


def _date(value: str | None) -> str | None:
    """Validate an ISO timestamp and return it in the dumps' own form
    (``2014-01-21T20:26:05.383``, UTC, no zone), which DuckDB casts later. Other ISO
    forms Python accepts (``20140121T202605``, week dates, offsets) are normalised to it,
    so one odd value cannot break the join."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:  # "month must be in 1..12", "Invalid isoformat string", ...
        raise ValueError(f"bad date: {value[:40]!r}") from exc
    if parsed.tzinfo is not None:
        try:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        except OverflowError as exc:
            raise ValueError(f"bad date: {value[:40]!r} out of range") from exc
    return parsed.isoformat(timespec="milliseconds")


class _BatchWriter:
    """Append rows to one Parquet file, a batch at a time."""

    def __init__(self, path: Path, schema: pa.Schema, batch_rows: int) -> None:
        self.path, self.schema, self.batch_rows = path, schema, batch_rows
        self.rows: list[dict[str, object]] = []
        self.writer: pq.ParquetWriter | None = None
        self.count = 0

    def add(self, row: dict[str, object]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self.writer is None:
            # Staged files are read once, soon after: no compression, and dictionaries only
            # where values repeat (trying them on bodies costs more than it saves).
            self.writer = pq.ParquetWriter(
                self.path, self.schema, compression="none",
                use_dictionary=[n for n in ("site", "content_license") if n in self.schema.names],
            )
        self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.count += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self.writer is None:  # keep an empty, typed file so the SQL always finds it
            pq.write_table(self.schema.empty_table(), self.path)
        else:
            self.writer.close()


def _question_row(site: str, attrs: Mapping[str, str]) -> dict[str, object]:
    title = (attrs.get("Title") or "").strip()
    if not title:
        raise ValueError("question without a title")
    body_html = attrs.get("Body") or ""
    doc = parse_html(body_html)
    counts = doc.counts()
    return {
        "site": site,
        "post_id": _id(attrs, "Id"),
        "title": title,
        "body_html": body_html,
        "body_text": doc.text,
        "structure": json.dumps(doc.spans_json(), separators=(",", ":")),
        "n_code_blocks": counts["code_block"],
        "n_inline_code": counts["inline_code"],
        "n_links": counts["link"],
        "n_images": counts["image"],
        "n_lists": counts["list"],
        "n_list_items": counts["list_item"],
        "n_blockquotes": counts["blockquote"],
        "n_headings": counts["heading"],
        "code_chars": doc.code_chars,
        "tags": parse_tags(attrs.get("Tags")),
        "creation_date": _date(attrs.get("CreationDate")),
        "owner_user_id": _int(attrs.get("OwnerUserId")),
        "score": _int(attrs.get("Score")) or 0,
        "view_count": _int(attrs.get("ViewCount")),
        "answer_count": _int(attrs.get("AnswerCount")) or 0,
        "comment_count": _int(attrs.get("CommentCount")) or 0,
        "favorite_count": _int(attrs.get("FavoriteCount")),
        "accepted_answer_id": _int(attrs.get("AcceptedAnswerId")),
        "closed_date": _date(attrs.get("ClosedDate")),
        "content_license": attrs.get("ContentLicense"),
    }


def _stage_posts(
    src: SiteSource, staging: Path, batch_rows: int, report: SiteReport, progress: Progress | None
) -> None:
    key = report_key(src.site)
    questions = _BatchWriter(staging / f"questions-{key}.parquet", _QUESTION_SCHEMA, batch_rows)
    posts = _BatchWriter(staging / f"posts-{key}.parquet", _POST_SCHEMA, batch_rows)
    stats = ReadStats()
    last_bytes = 0
    last_id = -(2**63)
    ascending = True  # as Stack Exchange writes Posts.xml; then staged rows need no sort
    try:
        for attrs in dumpfiles.iter_rows(src.posts, "posts", stats):
            try:
                post_id = _id(attrs, "Id")
                if post_id <= last_id:
                    if post_id == last_id:
                        raise ValueError("duplicate Id")
                    ascending = False
                post_type = _id(attrs, "PostTypeId")
                if not 0 <= post_type < 2**31:
                    raise ValueError(f"number out of range: PostTypeId={post_type}")
                created = _date(attrs.get("CreationDate"))
                if created is None:
                    raise ValueError("post without a CreationDate")
                # A rejected question is left out everywhere, author history included.
                question = _question_row(src.site, attrs) if post_type == 1 else None
                posts.add(
                    {
                        "site": src.site,
                        "post_id": post_id,
                        "post_type": post_type,
                        "owner_user_id": _int(attrs.get("OwnerUserId")),
                        "creation_date": created,
                    }
                )
                if question is not None:
                    questions.add(question)
                last_id = post_id
            except KeyError as exc:
                report.rejected[f"missing {exc.args[0]}"] += 1
            except ValueError as exc:
                report.rejected[_reason(exc)] += 1
            if progress and stats.rows % 2000 == 0:
                progress(src.site, stats.bytes - last_bytes, 2000)
                last_bytes = stats.bytes
    finally:
        questions.close()
        posts.close()
    if progress:
        progress(src.site, stats.bytes - last_bytes, stats.rows % 2000)
    report.rows_read += stats.rows
    report.bytes_read += stats.bytes
    report.questions = questions.count
    report.rejected.update(stats.skipped)
    if not ascending:  # the posts are sorted here, the questions while joining
        dropped = _sort_staged(posts.path)
        if dropped:
            report.rejected["duplicate Id"] += dropped
        import pyarrow.compute as pc

        question_ids = pq.read_table(questions.path, columns=["post_id"]).column(0)
        report.questions = len(pc.unique(question_ids))
    if stats.truncated:
        report.warnings.append(
            "Posts.xml ends before its closing </posts> tag (truncated file?); "
            "kept the rows read before the break"
        )


def _sorted_tables(path: Path, bucket_bytes: int = 24 * 2**20) -> Iterator[pa.Table]:
    """A staged file's rows in post id order, a table at a time, without the rows that
    repeat an earlier row's id (the first in file order is kept).

    A file already in strictly ascending id order (as Stack Exchange writes Posts.xml) is
    streamed as it is. Otherwise memory stays bounded whatever the file size: rows are
    first distributed into buckets of consecutive id ranges holding about
    ``bucket_bytes`` each, then each bucket is sorted on its own.
    """
    import numpy as np
    import pyarrow.compute as pc

    source = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering keeps every batch read
    meta = source.metadata
    if meta.num_rows == 0:
        return
    if _ascending(path):
        for batch in source.iter_batches(batch_size=10_000):
            yield pa.Table.from_batches([batch])
        return
    ids = np.sort(source.read(columns=["post_id"]).column(0).to_numpy())
    # Size in memory, not on disk (dictionary-encoded columns are far smaller there).
    sample = source.read_row_group(0)
    size = sample.nbytes * meta.num_rows // max(sample.num_rows, 1)
    del sample
    n_buckets = max(1, -(-size // bucket_bytes))
    # Bucket b holds ids in (bounds[b-1], bounds[b]]: equal ids always share a bucket.
    bounds = np.unique(ids[[len(ids) * (b + 1) // n_buckets - 1 for b in range(n_buckets)]])
    del ids
    work = Path(tempfile.mkdtemp(prefix="sort-", dir=path.parent))
    try:
        writers: dict[int, pq.ParquetWriter] = {}
        for batch in source.iter_batches(batch_size=10_000):
            where = np.searchsorted(bounds, batch.column("post_id").to_numpy(), side="left")
            for b in np.unique(where):
                if b not in writers:
                    writers[b] = pq.ParquetWriter(work / f"{b}.parquet", source.schema_arrow,
                                                  compression="lz4", use_dictionary=False)
                writers[b].write_batch(batch.filter(pa.array(where == b)))
        for w in writers.values():
            w.close()
        for b in sorted(writers):
            table = pq.read_table(work / f"{b}.parquet")
            table = table.take(pc.sort_indices(table, [("post_id", "ascending")]))  # stable
            sorted_ids = table.column("post_id").to_numpy()
            keep = np.ones(len(sorted_ids), dtype=bool)
            keep[1:] = sorted_ids[1:] != sorted_ids[:-1]
            if not keep.all():
                table = table.filter(pa.array(keep))
            (work / f"{b}.parquet").unlink()
            for start in range(0, table.num_rows, 10_000):
                yield table.slice(start, 10_000)
            del table
    finally:
        shutil.rmtree(work, ignore_errors=True)
        pa.default_memory_pool().release_unused()  # give the buckets' memory back


def _sort_staged(path: Path, bucket_bytes: int = 24 * 2**20) -> int:
    """Rewrite a staged file in post id order without repeated ids (see
    :func:`_sorted_tables`); return how many rows were dropped."""
    before = pq.ParquetFile(path).metadata.num_rows
    out_path = path.with_name(path.name + ".sorted")
    after = 0
    with pq.ParquetWriter(out_path, pq.read_schema(path), compression="zstd") as out:
        for table in _sorted_tables(path, bucket_bytes):
            out.write_table(table)
            after += table.num_rows
    os.replace(out_path, path)
    return before - after


def _reason(exc: ValueError) -> str:
    text = str(exc)
    if text.startswith("bad date"):
        return "bad date"
    if "invalid literal for int" in text or "out of range" in text:
        return "bad number"
    return text


def report_key(site: str) -> str:
    """A file-name-safe key for a site."""
    return hashlib.sha1(site.encode()).hexdigest()[:12]


def _stage_companion(
    src: SiteSource,
    name: str,
    staging: Path,
    schema: pa.Schema,
    convert: Callable[[Mapping[str, str]], dict[str, object] | None],
    batch_rows: int,
    report: SiteReport,
) -> None:
    """Stage one optional companion file (history, users, links) through ``convert``."""
    out = _BatchWriter(staging / f"{name}-{report_key(src.site)}.parquet", schema, batch_rows)
    file_name = _FILE_OF[name]
    path = src.files.get(file_name)
    try:
        if path is None:
            return
        stats = ReadStats()
        for attrs in dumpfiles.iter_rows(path, dumpfiles.DUMP_FILES[file_name], stats):
            try:
                row = convert(attrs)
            except (KeyError, ValueError):
                report.rejected[f"{file_name}: malformed row"] += 1
                continue
            if row is not None:
                row["site"] = src.site
                out.add(row)
        report.rejected.update({f"{file_name}: {k}": v for k, v in stats.skipped.items()})
        if stats.truncated:
            report.warnings.append(f"{file_name} is truncated; kept the rows before the break")
    finally:
        out.close()


_FILE_OF = {"history": "PostHistory.xml", "users": "Users.xml", "links": "PostLinks.xml"}


def _history_row(attrs: Mapping[str, str]) -> dict[str, object] | None:
    kind = _id(attrs, "PostHistoryTypeId")
    if kind not in _HISTORY_TYPES:
        return None
    return {
        "post_id": _id(attrs, "PostId"),
        "type": kind,
        "creation_date": _date(attrs.get("CreationDate")),
        "comment": attrs.get("Comment"),
        "text": attrs.get("Text") if kind in (1, 2) else None,
    }


def _user_row(attrs: Mapping[str, str]) -> dict[str, object] | None:
    return {"user_id": _id(attrs, "Id"), "creation_date": _date(attrs.get("CreationDate"))}


def _link_row(attrs: Mapping[str, str]) -> dict[str, object] | None:
    link_type = _id(attrs, "LinkTypeId")
    if link_type != 3:  # 3 = duplicate
        return None
    return {"post_id": _id(attrs, "PostId"), "link_type": link_type}


def hash_file(path: Path, chunk: int = 4 * 1024 * 1024) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def dataset_id(inputs: Iterable[tuple[str, dict[str, str]]]) -> str:
    """Content hash of the inputs (site name + each file's sha256) and the schema version."""
    digest = hashlib.sha256(f"askwell-dataset-v{SCHEMA_VERSION}".encode())
    for site, files in sorted(inputs):
        digest.update(site.encode())
        for name, sha in sorted(files.items()):
            digest.update(f"{name}={sha}".encode())
    return digest.hexdigest()[:16]


#: Everything about a question except its staged text, one row per question, in dataset
#: order. The heavy columns (bodies, structure) never pass through DuckDB's sort or
#: hash tables: :func:`_join` zips these rows with the staged question files instead.
_OUTCOMES_SQL = """
WITH q AS ({questions}),
posts AS (SELECT * FROM read_parquet('{staging}/posts-*.parquet')),
author AS (
    SELECT site, post_id,
      SUM(CASE WHEN post_type = 1 THEN 1 ELSE 0 END) OVER w AS prior_q,
      SUM(CASE WHEN post_type = 2 THEN 1 ELSE 0 END) OVER w AS prior_a
    FROM posts WHERE owner_user_id IS NOT NULL AND owner_user_id > 0
    WINDOW w AS (PARTITION BY site, owner_user_id
                 ORDER BY CAST(creation_date AS TIMESTAMP), post_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
),
h AS (SELECT * FROM read_parquet('{staging}/history-*.parquet')),
hist AS (
    SELECT site, post_id,
      arg_min(text, creation_date) FILTER (WHERE type = 1) AS first_title,
      arg_min(text, creation_date) FILTER (WHERE type = 2) AS first_body_html,
      count(*) FILTER (WHERE type IN (4, 5, 6)) AS edit_count,
      count(*) FILTER (WHERE type = 10) AS close_events,
      count(*) FILTER (WHERE type = 11) AS reopen_count,
      arg_max(comment, creation_date) FILTER (WHERE type = 10) AS last_close_comment
    FROM h SEMI JOIN q USING (site, post_id)  -- answers' revisions are never used
    GROUP BY site, post_id
),
has_hist AS (SELECT DISTINCT site FROM h),
dup AS (SELECT DISTINCT site, post_id FROM read_parquet('{staging}/links-*.parquet')),
users AS (SELECT site, user_id, min(creation_date) AS created
          FROM read_parquet('{staging}/users-*.parquet') GROUP BY site, user_id)
SELECT
  q.site,
  q.post_id,
  {site_kind} AS site_kind,
  q.site || ':' || CAST(q.post_id AS VARCHAR) AS question_id,
  CAST(q.creation_date AS TIMESTAMP) AS creation_date,
  CAST(q.closed_date AS TIMESTAMP) AS closed_date,
  CASE
    WHEN q.closed_date IS NULL THEN NULL
    WHEN dup.post_id IS NOT NULL OR hist.last_close_comment IN ({duplicate_reasons}) THEN 'duplicate'
    WHEN hist.last_close_comment IS NOT NULL OR has_hist.site IS NOT NULL THEN 'other'
    ELSE 'unknown'
  END AS close_reason,
  has_hist.site IS NOT NULL AS has_history,
  hist.first_title, hist.first_body_html,
  CASE WHEN has_hist.site IS NULL THEN NULL ELSE coalesce(hist.edit_count, 0) END AS edit_count,
  CASE WHEN has_hist.site IS NULL THEN NULL ELSE coalesce(hist.reopen_count, 0) END AS reopen_count,
  CAST(CASE WHEN q.owner_user_id IS NULL OR q.owner_user_id <= 0 THEN NULL
       ELSE coalesce(author.prior_q, 0) END AS DOUBLE) AS author_prior_questions,
  CAST(CASE WHEN q.owner_user_id IS NULL OR q.owner_user_id <= 0 THEN NULL
       ELSE coalesce(author.prior_a, 0) END AS DOUBLE) AS author_prior_answers,
  CASE WHEN users.created IS NULL THEN NULL ELSE
    date_diff('second', CAST(users.created AS TIMESTAMP), CAST(q.creation_date AS TIMESTAMP))
      / 86400.0 END AS author_account_age_days
FROM q
LEFT JOIN author USING (site, post_id)
LEFT JOIN hist USING (site, post_id)
LEFT JOIN has_hist ON has_hist.site = q.site
LEFT JOIN dup ON dup.site = q.site AND dup.post_id = q.post_id
LEFT JOIN users ON users.site = q.site AND users.user_id = q.owner_user_id
ORDER BY q.site, q.post_id
"""

#: Staged questions, from files in ascending id order (no repeated ids) ...
_ORDERED_QUESTIONS = """
    SELECT site, post_id, creation_date, owner_user_id, closed_date FROM read_parquet({files})
"""
#: ... or not: a Posts.xml out of id order may repeat an id, and the first row counts.
_UNORDERED_QUESTIONS = """
    SELECT site, post_id,
      arg_min(creation_date, file_row_number) AS creation_date,
      arg_min(owner_user_id, file_row_number) AS owner_user_id,
      arg_min(closed_date, file_row_number) AS closed_date
    FROM read_parquet({files}, file_row_number = true) GROUP BY site, post_id
"""

#: The dataset's columns, in order, and their types.
DATASET_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("site_kind", pa.string()),
        ("post_id", pa.int64()),
        ("question_id", pa.string()),
        *[(f.name, f.type) for f in _QUESTION_SCHEMA if f.name not in (
            "site", "post_id", "creation_date", "owner_user_id", "score", "view_count",
            "answer_count", "comment_count", "favorite_count", "accepted_answer_id",
            "closed_date", "content_license")],
        ("creation_date", pa.timestamp("us")),
        ("owner_user_id", pa.int64()),
        ("score", pa.int64()),
        ("view_count", pa.int64()),
        ("answer_count", pa.int64()),
        ("comment_count", pa.int64()),
        ("favorite_count", pa.int64()),
        ("accepted_answer_id", pa.int64()),
        ("closed_date", pa.timestamp("us")),
        ("close_reason", pa.string()),
        ("has_history", pa.bool_()),
        ("first_title", pa.string()),
        ("first_body_html", pa.string()),
        ("edit_count", pa.int64()),
        ("reopen_count", pa.int64()),
        ("author_prior_questions", pa.float64()),
        ("author_prior_answers", pa.float64()),
        ("author_account_age_days", pa.float64()),
        ("content_license", pa.string()),
    ]
)


class _Rows:
    """Hands out the rows of a stream of record batches in slices of any length."""

    def __init__(self, batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> None:
        self.batches, self.schema = batches, schema
        self.pending: list[pa.RecordBatch] = []
        self.available = 0

    def take(self, n: int) -> pa.Table:
        while self.available < n:
            batch = next(self.batches, None)
            if batch is None:
                break
            self.pending.append(batch)
            self.available += batch.num_rows
        table = pa.Table.from_batches(self.pending, schema=self.schema)
        head, rest = table.slice(0, n), table.slice(n)
        self.pending = rest.to_batches()
        self.available = rest.num_rows
        return head


def _site_of(path: Path) -> str | None:
    """The site a staged questions file belongs to (None when it has no rows)."""
    staged = pq.ParquetFile(path)
    if staged.metadata.num_rows == 0:
        return None
    return str(staged.read_row_group(0, columns=["site"]).column(0)[0])


def _ascending(path: Path) -> bool:
    """Whether a staged file's post ids are strictly ascending (so none repeats)."""
    ids = pq.read_table(path, columns=["post_id"]).column(0).to_numpy()
    return bool((ids[1:] > ids[:-1]).all())


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + p.as_posix().replace("'", "''") + "'" for p in paths) + "]"


def _outcomes(staging: Path, files: list[Path], out_file: Path, memory_limit: str) -> None:
    """Compute the outcome columns with DuckDB into ``out_file``, in dataset order."""
    import duckdb

    ordered = [p for p in files if _ascending(p)]
    unordered = [p for p in files if p not in ordered]
    parts = [_ORDERED_QUESTIONS.format(files=_sql_list(ordered))] if ordered else []
    if unordered:
        parts.append(_UNORDERED_QUESTIONS.format(files=_sql_list(unordered)))
    sql = _OUTCOMES_SQL.format(
        staging=staging.as_posix(), questions=" UNION ALL ".join(parts),
        site_kind=site_kind_sql("q.site"),
        duplicate_reasons=", ".join(f"'{r}'" for r in DUPLICATE_CLOSE_REASONS),
    )
    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": 1,
                                 "temp_directory": str(staging / "duck-tmp")})
    try:
        con.execute(f"COPY ({sql}) TO '{out_file.as_posix()}' (FORMAT PARQUET)")
    finally:
        con.close()


def _join(staging: Path, out_file: Path, memory_limit: str) -> int:
    """Write the dataset: each staged question, in site and post id order, with the
    outcomes DuckDB computes from all the staged tables.

    Memory stays bounded and the two halves never hold memory at the same time: DuckDB
    sees only the small columns (it spills under ``memory_limit``) and is closed before
    the question text streams from the staged files, a batch at a time."""
    import pyarrow.compute as pc

    files = sorted(
        (site, path)
        for path in staging.glob("questions-*.parquet")
        if (site := _site_of(path)) is not None
    )
    outcomes_file = staging / "outcomes.parquet"
    _outcomes(staging, [path for _, path in files], outcomes_file, memory_limit)
    computed = pq.ParquetFile(outcomes_file, pre_buffer=False)
    outcomes = _Rows(computed.iter_batches(batch_size=10_000), computed.schema_arrow)
    rows = 0
    with pq.ParquetWriter(out_file, DATASET_SCHEMA, compression="zstd") as writer:
        for _site, path in files:
            for batch in _sorted_tables(path):
                extra = outcomes.take(batch.num_rows)
                if extra.num_rows != batch.num_rows or not (
                    pc.all(pc.equal(extra.column("post_id"), batch.column("post_id"))).as_py()
                    and pc.all(pc.equal(extra.column("site"), batch.column("site"))).as_py()
                ):
                    raise RuntimeError(
                        f"ingest: staged questions and outcomes are out of step in {path.name}"
                    )
                columns = {name: batch.column(name) for name in batch.schema.names}
                columns.update({name: extra.column(name) for name in extra.column_names})
                writer.write_table(
                    pa.Table.from_arrays(
                        [columns[f.name].cast(f.type) for f in DATASET_SCHEMA],
                        schema=DATASET_SCHEMA,
                    )
                )
                rows += batch.num_rows
    if outcomes.take(1).num_rows:
        raise RuntimeError("ingest: outcomes left over after the last staged question")
    return rows


def ingest(
    paths: list[Path],
    store: DatasetStore,
    *,
    site: str | None = None,
    batch_rows: int = 5000,
    memory_limit: str = "256MB",
    force: bool = False,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest one or more site dumps into one dataset and return it.

    Re-running on the same inputs finds the dataset by its id and returns at once.
    """
    if not paths:
        raise DumpError("no dump given: pass one or more site folders, Posts.xml files or .7z archives")
    if site and len(paths) > 1:
        raise DumpError("--site names one site; give one input with it, or let folder names name the sites")
    started = time.perf_counter()
    store.root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="ingest-", dir=store.root))
    try:
        with _Sites(paths, site, scratch / "unpacked") as sources:
            names = [s.site for s in sources]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise DumpError(f"site given twice: {', '.join(dupes)}")
            hashes = [
                (s.site, {name: hash_file(p) for name, p in s.files.items()}) for s in sources
            ]
            ds_id = dataset_id(hashes)
            existing = store.get(ds_id)
            if existing is not None and not force:
                return IngestResult(existing, [], True, time.perf_counter() - started)
            staging = scratch / "staging"
            staging.mkdir()
            reports = []
            for src in sources:
                report = SiteReport(src.site, str(src.origin), sorted(src.files))
                _stage_posts(src, staging, batch_rows, report, progress)
                _stage_companion(src, "history", staging, _HISTORY_SCHEMA, _history_row, batch_rows, report)
                _stage_companion(src, "users", staging, _USER_SCHEMA, _user_row, batch_rows, report)
                _stage_companion(src, "links", staging, _LINK_SCHEMA, _link_row, batch_rows, report)
                if report.questions == 0:
                    report.warnings.append("no questions found (PostTypeId=1) in Posts.xml")
                reports.append(report)
            if sum(r.questions for r in reports) == 0:
                raise DumpError("no questions found in any input; nothing to write")
            build = scratch / "build"
            build.mkdir()
            n_rows = _join(staging, build / "questions.parquet", memory_limit)
            meta = {
                "id": ds_id,
                "schema_version": SCHEMA_VERSION,
                "created": datetime.now().astimezone().isoformat(timespec="seconds"),
                "rows": n_rows,
                "sites": [
                    {
                        "site": r.site,
                        "kind": site_kind(r.site),
                        "origin": r.origin,
                        "files": dict(h[1]),
                        "rows_read": r.rows_read,
                        "questions": r.questions,
                        "rejected": dict(r.rejected),
                        "warnings": r.warnings,
                    }
                    for r, h in zip(reports, hashes, strict=True)
                ],
                "license": "Stack Exchange data dump, CC BY-SA; user contributions licensed under CC BY-SA",
            }
            dataset = store.commit(build, meta, replace=force)
            return IngestResult(dataset, reports, False, time.perf_counter() - started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Sites:
    """Open every input (unpacking archives) for the duration of an ingest."""

    def __init__(self, paths: list[Path], site: str | None, scratch: Path) -> None:
        self.paths, self.site, self.scratch = paths, site, scratch

    def __enter__(self) -> list[SiteSource]:
        from contextlib import ExitStack

        self._exit = ExitStack()
        try:
            return [
                self._exit.enter_context(dumpfiles.opened_site(Path(p), self.site, self.scratch))
                for p in self.paths
            ]
        except BaseException:
            self._exit.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self._exit.close()
