"""``askwell serve``: the app under uvicorn, one process or several workers.

With ``--workers N`` uvicorn starts N processes that each build the app from the
environment (``app_from_env``), so the command passes its settings down as ``ASKWELL_*``
variables, and points prometheus-client at a shared folder so /metrics adds up all
workers.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from askwell.config import Settings
from askwell.serving.config import ServiceSettings, service_settings


def settings_env(s: ServiceSettings) -> dict[str, str]:
    """The ``ASKWELL_*`` variables that rebuild ``s`` in a worker process."""
    env: dict[str, str] = {}
    for name, value in s.model_dump().items():
        if value is None:
            continue
        env[f"ASKWELL_{name.upper()}"] = str(value)
    return env


def configure_logging(level: str = "info") -> None:
    """askwell's own log lines (model loads, swaps, database trouble) beside uvicorn's."""
    import logging

    logger = logging.getLogger("askwell")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     [askwell] %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(level.upper())
        logger.propagate = False


def app_from_env() -> Any:
    """uvicorn factory for worker processes."""
    from askwell.serving.app import create_app

    configure_logging(os.environ.get("ASKWELL_LOG_LEVEL", "info"))
    return create_app(ServiceSettings())


def run_server(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
               db: str | None = None, cache: str | None = None, model: str | None = None,
               model_path: Path | None = None, access_log: bool = False,
               log_level: str = "info") -> None:
    import uvicorn

    overrides = {k: v for k, v in {"db": db, "cache": cache, "model": model,
                                   "model_path": model_path}.items() if v is not None}
    s = service_settings(settings, **overrides)
    if s.cache_secret is None:  # one per start, shared by the workers (settings_env)
        s = service_settings(s, cache_secret=secrets.token_hex(32))
    configure_logging(log_level)
    os.environ.setdefault("ASKWELL_LOG_LEVEL", log_level)
    common: dict[str, Any] = {"host": host, "port": port, "log_level": log_level, "access_log": access_log,
              "timeout_graceful_shutdown": 30, "proxy_headers": False}
    if workers <= 1:
        from askwell.serving.app import create_app

        uvicorn.run(create_app(s), **common)
        return
    os.environ.update(settings_env(s))
    metrics_dir = Path(s.home) / "run" / f"metrics-{port}"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    uvicorn.run("askwell.serving.server:app_from_env", factory=True, workers=workers, **common)
