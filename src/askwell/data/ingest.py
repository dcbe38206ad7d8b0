"""Ingest Stack Exchange dumps into one versioned question dataset.

Two passes, each with bounded memory:

1. *Stream* every dump file row by row and stage slim Parquet tables (questions with their
   parsed bodies, every post's owner and date, history events, users, duplicate links),
   writing in batches.
2. *Join* the staged tables with DuckDB (which spills to disk under a memory limit) into
   one row per question with its outcomes and its author's history *before* the question.

The result is written to a temporary folder and renamed into place, so a failed run never
leaves a half-written dataset behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from askwell.data import dumpfiles
from askwell.data.document import parse_html
from askwell.data.dumpfiles import DumpError, ReadStats, SiteSource
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


def site_kind(site: str) -> str:
    """``meta`` for a site's meta site (``x.meta.stackexchange.com``, ``meta.x.net``)."""
    parts = site.lower().split(".")
    return "meta" if "meta" in parts else "main"


def parse_tags(raw: str | None) -> list[str]:
    """Tags in either dump format: ``<a><b>`` (older) or ``|a|b|`` (newer)."""
    if not raw:
        return []
    if raw.startswith("<"):
        return [t for t in raw.strip("<>").split("><") if t]
    return [t for t in raw.strip("|").split("|") if t]


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _date(value: str | None) -> str | None:
    """Validate an ISO timestamp and return it unchanged (DuckDB casts it later)."""
    if not value:
        return None
    datetime.fromisoformat(value)
    return value


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
            self.writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
        self.count += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self.writer is None:  # keep an empty, typed file so the SQL always finds it
            pq.write_table(self.schema.empty_table(), self.path)
        else:
            self.writer.close()


def _question_row(site: str, attrs: dict[str, str]) -> dict[str, object]:
    title = (attrs.get("Title") or "").strip()
    if not title:
        raise ValueError("question without a title")
    body_html = attrs.get("Body") or ""
    doc = parse_html(body_html)
    counts = doc.counts()
    return {
        "site": site,
        "post_id": int(attrs["Id"]),
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
    try:
        for attrs in dumpfiles.iter_rows(src.posts, "posts", stats):
            try:
                post_id = int(attrs["Id"])
                post_type = int(attrs["PostTypeId"])
                created = _date(attrs.get("CreationDate"))
                if created is None:
                    raise ValueError("post without a CreationDate")
                posts.add(
                    {
                        "site": src.site,
                        "post_id": post_id,
                        "post_type": post_type,
                        "owner_user_id": _int(attrs.get("OwnerUserId")),
                        "creation_date": created,
                    }
                )
                if post_type == 1:
                    questions.add(_question_row(src.site, attrs))
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
    if stats.truncated:
        report.warnings.append(
            "Posts.xml ends before its closing </posts> tag (truncated file?); "
            "kept the rows read before the break"
        )


def _reason(exc: ValueError) -> str:
    text = str(exc)
    if "isoformat" in text or "date" in text.lower():
        return "bad date"
    if "invalid literal for int" in text:
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
    convert: Callable[[dict[str, str]], dict[str, object] | None],
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


def _history_row(attrs: dict[str, str]) -> dict[str, object] | None:
    kind = int(attrs["PostHistoryTypeId"])
    if kind not in _HISTORY_TYPES:
        return None
    return {
        "post_id": int(attrs["PostId"]),
        "type": kind,
        "creation_date": _date(attrs.get("CreationDate")),
        "comment": attrs.get("Comment"),
        "text": attrs.get("Text") if kind in (1, 2) else None,
    }


def _user_row(attrs: dict[str, str]) -> dict[str, object] | None:
    return {"user_id": int(attrs["Id"]), "creation_date": _date(attrs.get("CreationDate"))}


def _link_row(attrs: dict[str, str]) -> dict[str, object] | None:
    link_type = int(attrs["LinkTypeId"])
    if link_type != 3:  # 3 = duplicate
        return None
    return {"post_id": int(attrs["PostId"]), "link_type": link_type}


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


_JOIN_SQL = """
WITH q AS (SELECT * FROM read_parquet('{staging}/questions-*.parquet')),
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
    FROM h GROUP BY site, post_id
),
has_hist AS (SELECT DISTINCT site FROM h),
dup AS (SELECT DISTINCT site, post_id FROM read_parquet('{staging}/links-*.parquet')),
users AS (SELECT site, user_id, min(creation_date) AS created
          FROM read_parquet('{staging}/users-*.parquet') GROUP BY site, user_id)
SELECT
  q.site,
  CASE WHEN list_contains(string_split(lower(q.site), '.'), 'meta') THEN 'meta' ELSE 'main' END
    AS site_kind,
  q.post_id,
  q.site || ':' || CAST(q.post_id AS VARCHAR) AS question_id,
  q.title, q.body_html, q.body_text, q.structure,
  q.n_code_blocks, q.n_inline_code, q.n_links, q.n_images, q.n_lists, q.n_list_items,
  q.n_blockquotes, q.n_headings, q.code_chars, q.tags,
  CAST(q.creation_date AS TIMESTAMP) AS creation_date,
  q.owner_user_id, q.score, q.view_count, q.answer_count, q.comment_count, q.favorite_count,
  q.accepted_answer_id,
  CAST(q.closed_date AS TIMESTAMP) AS closed_date,
  CASE
    WHEN q.closed_date IS NULL THEN NULL
    WHEN dup.post_id IS NOT NULL OR hist.last_close_comment IN ('1', '101') THEN 'duplicate'
    WHEN hist.last_close_comment IS NOT NULL OR has_hist.site IS NOT NULL THEN 'other'
    ELSE 'unknown'
  END AS close_reason,
  has_hist.site IS NOT NULL AS has_history,
  hist.first_title, hist.first_body_html,
  CASE WHEN has_hist.site IS NULL THEN NULL ELSE coalesce(hist.edit_count, 0) END AS edit_count,
  CASE WHEN has_hist.site IS NULL THEN NULL ELSE coalesce(hist.reopen_count, 0) END AS reopen_count,
  CASE WHEN q.owner_user_id IS NULL OR q.owner_user_id <= 0 THEN NULL
       ELSE coalesce(author.prior_q, 0) END AS author_prior_questions,
  CASE WHEN q.owner_user_id IS NULL OR q.owner_user_id <= 0 THEN NULL
       ELSE coalesce(author.prior_a, 0) END AS author_prior_answers,
  CASE WHEN users.created IS NULL THEN NULL ELSE
    date_diff('second', CAST(users.created AS TIMESTAMP), CAST(q.creation_date AS TIMESTAMP))
      / 86400.0 END AS author_account_age_days,
  q.content_license
FROM q
LEFT JOIN author USING (site, post_id)
LEFT JOIN hist USING (site, post_id)
LEFT JOIN has_hist ON has_hist.site = q.site
LEFT JOIN dup ON dup.site = q.site AND dup.post_id = q.post_id
LEFT JOIN users ON users.site = q.site AND users.user_id = q.owner_user_id
ORDER BY q.site, q.post_id
"""


def _join(staging: Path, out_file: Path, memory_limit: str) -> int:
    import duckdb

    con = duckdb.connect(config={"memory_limit": memory_limit, "threads": 1,
                                 "temp_directory": str(staging / "duck-tmp")})
    try:
        sql = _JOIN_SQL.format(staging=staging.as_posix())
        con.execute(f"COPY ({sql}) TO '{out_file.as_posix()}' (FORMAT PARQUET, COMPRESSION ZSTD)")
        return int(con.execute(f"SELECT count(*) FROM read_parquet('{out_file.as_posix()}')").fetchone()[0])
    finally:
        con.close()


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
        self._stack: list = []

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
