"""The prediction log, the feedback store and the model event log (SQLAlchemy 2.0).

SQLite under ``settings.home`` by default (WAL, so several workers can share it),
PostgreSQL with ``--db postgresql+psycopg://...``. Nothing is written on the request
path: requests put rows on a bounded queue, and one writer thread inserts them in
batches, each batch in one transaction (a batch is written whole or not at all, so a
crash or a lost database never leaves half a batch). When the database is unreachable
the writer retries a batch for ``log_retry_seconds``, then counts its rows as dropped
(``askwell_log_dropped_total``) and warns; requests are served all along. A row the
database refuses (a data error, not a connection error) is never retried: the batch is
written row by row, that row alone is dropped and counted (reason ``bad_row``), the
innocent rows are kept. A clean shutdown drains the queue before the process exits and
logs the total dropped since start.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from askwell.errors import AskwellError

log = logging.getLogger("askwell.serving")

#: The tables as the newest migration leaves them (``askwell/serving/migrations``): a
#: change here needs a migration too (a test compares the two).
metadata = sa.MetaData()

predictions = sa.Table(
    "predictions", metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),  # made by the service: unique
    sa.Column("client_request_id", sa.String(64), index=True),  # the client's X-Request-ID
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("model_family", sa.String(32)),
    sa.Column("model_name", sa.String(200)),
    sa.Column("model_version", sa.String(64)),
    sa.Column("dataset_id", sa.String(64)),
    sa.Column("input_hash", sa.String(64), index=True),
    sa.Column("input_chars", sa.Integer),
    sa.Column("site", sa.String(200)),
    sa.Column("score", sa.Float),
    sa.Column("verdict", sa.String(16)),
    sa.Column("confidence", sa.Float),
    sa.Column("suggestions", sa.JSON),
    sa.Column("warnings", sa.JSON),
    sa.Column("fallback", sa.Boolean, nullable=False, default=False),
    sa.Column("abstained", sa.Boolean, nullable=False, default=False),
    sa.Column("low_confidence", sa.Boolean, nullable=False, default=False),
    sa.Column("cached", sa.Boolean, nullable=False, default=False),
    sa.Column("latency_ms", sa.Float),
    sa.Column("source", sa.String(16)),  # computed | precomputed (NULL: logged before 0004)
)

feedback = sa.Table(
    "feedback", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(64), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("suggestion_id", sa.String(100)),
    sa.Column("value", sa.Float),
    sa.Column("comment", sa.Text),
)

model_events = sa.Table(
    "model_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),  # load | swap | rollback | reload_failed
    sa.Column("actor", sa.String(200)),
    sa.Column("from_name", sa.String(200)),
    sa.Column("from_version", sa.String(64)),
    sa.Column("to_name", sa.String(200)),
    sa.Column("to_version", sa.String(64)),
    sa.Column("to_source", sa.String(1000)),
    sa.Column("detail", sa.Text),
)

#: Analyses computed ahead of time by ``askwell batch score --suggestions`` (the hybrid
#: service, :mod:`askwell.serving.precomputed`): served when the model key and the
#: normalised input hash both match.
precomputed = sa.Table(
    "precomputed", metadata,
    sa.Column("model_key", sa.String(400), primary_key=True),
    sa.Column("input_hash", sa.String(64), primary_key=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("batch", sa.String(64)),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
)

TABLES = {t.name: t for t in (predictions, feedback, model_events)}


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives back the UTC times it was given without their zone: put it back."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so workers can share it."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(con: Any, _record: Any) -> None:  # pragma: no cover - trivial
            cur = con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4,
                            connect_args={"connect_timeout": 5} if "psycopg" in url else {})


def ensure_schema(engine: Engine) -> None:
    """Bring the tables to the newest schema with Alembic, keeping their rows
    (``askwell.serving.migrate``; two workers may race: the loser retries once)."""
    from askwell.serving.migrate import upgrade

    upgrade(engine)


@dataclass
class _Item:
    table: str
    row: dict[str, Any]


_STOP = object()


class Store:
    """The database behind the service, with its off-request-path writer."""

    def __init__(self, url: str, *, metrics: Any = None, queue_size: int = 20_000,
                 batch_size: int = 500, flush_seconds: float = 0.1, retry_seconds: float = 30.0) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.metrics = metrics
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.retry_seconds = retry_seconds
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._schema_ready = False
        self._warned_at = 0.0
        self.dropped = 0
        self.dropped_by: dict[tuple[str, str], int] = {}
        self._drop_lock = threading.Lock()
        self.written = 0
        self.healthy = True

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> Store:
        self._try_schema()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="askwell-log-writer", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued (a clean shutdown loses nothing), then stop the writer."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None
        self.engine.dispose()
        self.log_totals()

    def log_totals(self) -> None:
        """One line with every row this process dropped (the running warnings are throttled
        to one per 30 s, so they undercount): the total, by table and reason."""
        with self._drop_lock:
            dropped, by = self.dropped, dict(self.dropped_by)
        if dropped:
            parts = ", ".join(f"{n} {table} ({reason})" for (table, reason), n in sorted(by.items()))
            log.warning("prediction log: %d rows dropped in total since start: %s; %d written",
                        dropped, parts, self.written)
        else:
            log.info("prediction log: 0 rows dropped since start; %d written", self.written)

    def _try_schema(self) -> bool:
        if self._schema_ready:
            return True
        try:
            ensure_schema(self.engine)
        except Exception as exc:
            self._warn(f"prediction log database {self.safe_url()} unreachable ({_short(exc)}); "
                       "requests are served, log rows are retried and then dropped")
            self.healthy = False
            return False
        self._schema_ready = True
        self.healthy = True
        return True

    def safe_url(self) -> str:
        """The database URL without its password (for logs)."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def _warn(self, message: str) -> None:
        now_s = time.monotonic()
        if now_s - self._warned_at > 30:
            self._warned_at = now_s
            log.warning(message)

    # -- the request path: enqueue only -----------------------------------------
    def submit(self, table: str, row: dict[str, Any]) -> bool:
        """Queue one row; never blocks. False (and counted as dropped) when the queue is full."""
        try:
            self._queue.put_nowait(_Item(table, {k: clean_text(v) for k, v in row.items()}))
        except queue.Full:
            self._count_dropped(table, 1, "queue_full")
            self._warn("prediction log queue full: rows are being dropped (is the database slow?)")
            return False
        if self.metrics is not None:
            self.metrics.log_queue.set(self._queue.qsize())
        return True

    def queue_depth(self) -> int:
        return self._queue.qsize()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued row has been written (or dropped). For tests and shutdown."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    # -- the writer thread ------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            batch: list[_Item] = []
            taken = 1
            if first is _STOP:
                stopping = True
            else:
                batch.append(first)
            deadline = time.monotonic() + self.flush_seconds
            while not stopping and len(batch) < self.batch_size:
                remaining = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=max(remaining, 0)) if remaining > 0 \
                        else self._queue.get_nowait()
                except queue.Empty:
                    break
                taken += 1
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
            if stopping:  # drain everything left, then stop
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    taken += 1
                    if item is not _STOP:
                        batch.append(item)
            try:
                for start in range(0, len(batch), self.batch_size):
                    self._write_with_retry(batch[start:start + self.batch_size], final=stopping)
            except Exception:  # pragma: no cover - the writer must never die
                log.exception("prediction log writer: unexpected error")
            finally:
                for _ in range(taken):
                    self._queue.task_done()
                if self.metrics is not None:
                    self.metrics.log_queue.set(self._queue.qsize())

    def _write_with_retry(self, batch: list[_Item], final: bool) -> None:
        """Write ``batch``; retry only while the *database* is away, never for a bad row.

        A connection error (database down, network, pool timeout, SQLite busy) retries the
        rows still pending with back-off for ``retry_seconds``, then drops and counts them.
        Any other error is about the data (psycopg refuses a NUL, a value too long for its
        column, a constraint): the batch is then written row by row, so only the offending
        row is dropped (counted as ``bad_row``) and every innocent row is kept.
        """
        pending = list(batch)
        started = time.monotonic()
        delay = 0.05
        attempts = 0
        while pending:
            try:
                if not self._try_schema():
                    raise ConnectionError("schema not created")
                try:
                    self._write(pending)
                    pending = []
                except Exception as exc:
                    if is_connection_error(exc):
                        raise
                    pending = self._write_rows(pending, retried=attempts > 0)
                if not pending:
                    if not self.healthy:
                        log.warning("prediction log database %s is back", self.safe_url())
                    self.healthy = True
                    return
                raise ConnectionError("the database went away while writing row by row")
            except Exception as exc:
                if not is_connection_error(exc):  # pragma: no cover - _write_rows sorts these out
                    raise
                attempts += 1
                self.healthy = False
                if self.metrics is not None:
                    self.metrics.log_retries.inc()
                waited = time.monotonic() - started
                if final or waited >= self.retry_seconds:
                    self._drop(pending, "unreachable")
                    self._warn(f"prediction log: dropped {len(pending)} rows after {waited:.1f} s; "
                               f"database {self.safe_url()} unreachable ({_short(exc)})")
                    return
                time.sleep(min(delay, max(self.retry_seconds - waited, 0.01)))
                delay = min(delay * 2, 2.0)

    def _write(self, batch: list[_Item]) -> None:
        """The whole batch in one transaction (all rows or none)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for item in batch:
            grouped.setdefault(item.table, []).append(item.row)
        with self.engine.begin() as con:
            for table, rows in grouped.items():
                con.execute(TABLES[table].insert(), rows)
        for table, rows in grouped.items():
            self._count_written(table, len(rows))

    def _write_rows(self, batch: list[_Item], *, retried: bool) -> list[_Item]:
        """Write row by row; returns the rows left when the connection failed midway.

        A duplicate key after a retry is a batch that had in fact been committed before its
        connection broke: that row is written. A duplicate on a first attempt, or any other
        data error, drops that row alone (counted, and warned with the reason).
        """
        for i, item in enumerate(batch):
            try:
                with self.engine.begin() as con:
                    con.execute(TABLES[item.table].insert(), [item.row])
            except Exception as exc:
                if is_connection_error(exc):
                    return batch[i:]
                duplicate = is_duplicate_key(exc)
                if retried and duplicate:
                    self._count_written(item.table, 1)
                    continue
                reason = "duplicate" if duplicate else "bad_row"
                self._drop([item], reason)
                self._warn(f"prediction log: a {item.table} row was refused by the database "
                           f"({reason}: {_short(exc)}); the other rows are written")
            else:
                self._count_written(item.table, 1)
        return []

    def _count_written(self, table: str, n: int) -> None:
        self.written += n
        if self.metrics is not None:
            self.metrics.log_written.labels(table).inc(n)

    def _drop(self, items: list[_Item], reason: str) -> None:
        by_table: dict[str, int] = {}
        for item in items:
            by_table[item.table] = by_table.get(item.table, 0) + 1
        for table, n in by_table.items():
            self._count_dropped(table, n, reason)

    def _count_dropped(self, table: str, n: int, reason: str) -> None:
        with self._drop_lock:
            self.dropped += n
            key = (table, reason)
            self.dropped_by[key] = self.dropped_by.get(key, 0) + n
        if self.metrics is not None:
            self.metrics.log_dropped.labels(table, reason).inc(n)

    # -- reads (admin, feedback, sync) ---------------------------------------------
    def has_request(self, request_id: str) -> bool:
        with self.engine.connect() as con:
            got = con.execute(sa.select(predictions.c.request_id)
                              .where(predictions.c.request_id == request_id).limit(1)).first()
        return got is not None

    def record_event(self, row: dict[str, Any]) -> None:
        """Write an event now (it is rare and important); queue it if the database is down."""
        row = {"created_at": now(), **row}
        try:
            self._try_schema()
            with self.engine.begin() as con:
                con.execute(model_events.insert(), [row])
            if self.metrics is not None:
                self.metrics.log_written.labels("model_events").inc()
        except Exception as exc:
            log.warning("could not record model event now (%s); queued", _short(exc))
            self.submit("model_events", row)

    def events(self, limit: int = 50, after_id: int = 0) -> list[dict[str, Any]]:
        with self.engine.connect() as con:
            rows = con.execute(sa.select(model_events).where(model_events.c.id > after_id)
                               .order_by(model_events.c.id.desc()).limit(limit))
            return [{**r._mapping, "created_at": as_utc(r.created_at)} for r in rows]

    def last_event_id(self) -> int:
        with self.engine.connect() as con:
            got = con.execute(sa.select(sa.func.max(model_events.c.id))).scalar()
        return int(got or 0)


#: Errors that mean "the database can't be reached now": retry. Everything else a write
#: raises is about the rows themselves.
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.DisconnectionError,
    sa.exc.TimeoutError, ConnectionError, TimeoutError, OSError)


def is_connection_error(exc: BaseException) -> bool:
    """True for an unreachable/busy database (retry), False for a data error (isolate the row)."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _CONNECTION_ERRORS)


def is_duplicate_key(exc: BaseException) -> bool:
    """A unique/primary-key violation (not NOT NULL or another constraint)."""
    if not isinstance(exc, IntegrityError):
        return False
    if getattr(exc.orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    text = str(exc.orig)
    return "UNIQUE constraint failed" in text or "duplicate key" in text


def clean_text(value: Any) -> Any:
    """``value`` with NUL characters replaced (PostgreSQL text columns refuse them).

    The HTTP schemas already refuse control characters in stored fields; this is the
    store's own boundary, for every row whatever its origin (strings in JSON lists too).
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [clean_text(v) for v in value]
    if isinstance(value, dict):
        return {k: clean_text(v) for k, v in value.items()}
    return value


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


# ---------------------------------------------------------------------- export
FEEDBACK_LABELS = {"helpful": 1, "applied": 1, "not_helpful": 0, "verdict_wrong": 0}


def feedback_frame(url: str) -> Any:
    """Feedback joined to the prediction it is about: one row per feedback, as labelled data.

    ``label`` is 1 for helpful/applied, 0 for not_helpful/verdict_wrong, empty for implicit
    signals (reanalyzed, time_to_next) whose ``value`` carries the measurement.
    """
    import pandas as pd

    engine = make_engine(url)
    try:
        ensure_schema(engine)
        f, p = feedback, predictions
        query = (
            sa.select(
                f.c.id.label("feedback_id"), f.c.request_id, f.c.created_at.label("feedback_at"),
                f.c.kind, f.c.suggestion_id, f.c.value, f.c.comment,
                p.c.created_at.label("predicted_at"), p.c.model_family, p.c.model_name,
                p.c.model_version, p.c.dataset_id, p.c.input_hash, p.c.input_chars, p.c.site,
                p.c.score, p.c.verdict, p.c.confidence, p.c.suggestions, p.c.fallback,
                p.c.abstained, p.c.cached, p.c.source,
            )
            .select_from(f.outerjoin(p, f.c.request_id == p.c.request_id))
            .order_by(f.c.id)
        )
        with engine.connect() as con:
            frame = pd.DataFrame([dict(r._mapping) for r in con.execute(query)])
    finally:
        engine.dispose()
    columns = ["feedback_id", "request_id", "feedback_at", "kind", "suggestion_id", "value", "comment",
               "predicted_at", "model_family", "model_name", "model_version", "dataset_id",
               "input_hash", "input_chars", "site", "score", "verdict", "confidence",
               "suggestions", "fallback", "abstained", "cached", "source"]
    frame = frame.reindex(columns=columns)
    frame.insert(4, "label", frame["kind"].map(FEEDBACK_LABELS).astype("Int64"))
    frame["suggestions"] = frame["suggestions"].map(
        lambda v: ",".join(v) if isinstance(v, list) else (v if isinstance(v, str) else None))
    return frame


def export_feedback(url: str, out: Path) -> tuple[Path, int]:
    """Write the labelled feedback to ``out`` (.parquet, .csv or .jsonl), atomically."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv", ".jsonl"):
        raise AskwellError(f"{out}: choose a .parquet, .csv or .jsonl file")
    frame = feedback_frame(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    if suffix == ".parquet":
        frame.to_parquet(tmp, index=False)
    elif suffix == ".csv":
        frame.to_csv(tmp, index=False)
    else:
        frame.to_json(tmp, orient="records", lines=True, date_format="iso")
    tmp.replace(out)
    return out, len(frame)
