"""The service's settings: the project's one :class:`~askwell.config.Settings`, plus the
knobs only the service reads (same env prefix, ``ASKWELL_``).

``ServiceSettings`` *is* a ``Settings`` (a subclass), so there is still one settings
object per process; ``create_app(Settings(...))`` upgrades a plain one, reading the
serving fields from the environment or their defaults.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from askwell.config import Settings


class ServiceSettings(Settings):
    """Everything ``askwell serve`` can be told (env ``ASKWELL_<NAME>``, or CLI flags)."""

    # -- what to serve ------------------------------------------------------------
    model: str | None = Field(
        default=None,
        description="Registered model NAME[:ALIAS|VERSION] to serve (alias champion by default). "
                    "Unset: the packaged default model, unless model_path is set.",
    )
    model_path: Path | None = Field(default=None, description="Serve the model in this folder.")
    tracking_uri: str | None = Field(default=None, description="MLflow tracking URI of the registry.")
    sync_seconds: float = Field(
        default=5.0, ge=0,
        description="How often each worker checks the event log for a swap made by another "
                    "worker and follows it (0: never).",
    )

    # -- storage ------------------------------------------------------------------
    db: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the prediction log / feedback store "
                    "(default: SQLite at <home>/askwell.db; postgresql+psycopg://... at scale).",
    )
    log_queue_size: int = Field(default=20_000, ge=10, description="Log records buffered in memory.")
    log_batch_size: int = Field(default=500, ge=1, description="Log records per insert.")
    log_flush_seconds: float = Field(default=0.1, gt=0, description="Longest wait before a write.")
    log_retry_seconds: float = Field(
        default=30.0, ge=0,
        description="How long a batch is retried while the database is unreachable before its "
                    "records are counted as dropped.",
    )

    # -- cache --------------------------------------------------------------------
    cache: str | None = Field(
        default=None,
        description="'memory' (default), 'off', or redis://host:port/db (shared by workers).",
    )
    cache_size: int = Field(default=4096, ge=0, description="Analyses kept by the in-process LRU.")
    cache_ttl_seconds: int = Field(default=3600, ge=1, description="Lifetime of a Redis entry.")
    cache_secret: str | None = Field(
        default=None,
        description="Secret the Redis cache keys are HMAC-ed with (so a reader of Redis can't test "
                    "whether a given question was asked). Unset: askwell serve makes a random one "
                    "per start, shared by its workers.",
    )

    # -- limits and safeguards ----------------------------------------------------
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="Largest request body.")
    max_batch: int = Field(default=32, ge=1, description="Most questions in one batch request.")
    max_batch_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest batch body.")
    rate_limit: float = Field(
        default=20.0, ge=0, description="Requests per second per client (token bucket); 0: off."
    )
    rate_burst: int = Field(default=60, ge=1, description="Cost units allowed at once (the window).")
    rate_limit_storage: str | None = Field(
        default=None,
        description="Where the rate-limit windows live: redis://... (shared by every worker) or "
                    "'memory' (per worker). Unset: the cache's Redis when the cache is on Redis, "
                    "else memory.",
    )
    chars_in_flight: int = Field(
        default=40_000, ge=1000,
        description="Characters analysed at once in worker threads, per worker (long questions "
                    "and batch items wait for room; a wait over busy_wait_seconds is a 503).",
    )
    busy_wait_seconds: float = Field(default=10.0, gt=0, description="Longest wait for that room.")
    body_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A request body must arrive within this (else 408).")
    abstain_below: float | None = Field(
        default=None, ge=0, le=1,
        description="Abstain (no verdict) when the model's confidence is below this. Unset: the "
                    "model's own serving.abstain_below, else 0.05.",
    )
    ood_threshold: float = Field(
        default=0.06, ge=0, le=1,
        description="Share of features far outside the training range above which a question is "
                    "flagged as unlike the training data.",
    )

    # -- admin --------------------------------------------------------------------
    admin_token: str | None = Field(
        default=None,
        description="Bearer token for /v1/admin/*. Unset: the admin routes do not exist (404).",
    )

    @property
    def db_url(self) -> str:
        if self.db:
            return self.db
        return f"sqlite:///{(Path(self.home) / 'askwell.db').resolve().as_posix()}"


def service_settings(settings: Settings | None = None, **overrides: object) -> ServiceSettings:
    """A ``ServiceSettings`` from a plain ``Settings`` (its values kept), env and overrides."""
    if isinstance(settings, ServiceSettings) and not overrides:
        return settings
    base = settings.model_dump() if settings is not None else {}
    return ServiceSettings(**{**base, **overrides})
