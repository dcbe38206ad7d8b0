"""FastAPI dependencies: how routes get the service's resources.

The resources are built once by ``create_app`` and kept on ``app.state``; only these
functions read it, so a route declares what it needs (typed) and tests can override any
of them with ``app.dependency_overrides`` (``/v1/analyze``, the hottest route, calls them
directly). They are ``async`` because they only read
attributes: FastAPI runs a plain ``def`` dependency in its thread pool, a hop that cost
more than a cached answer itself (three or four per request, measured with cProfile).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Depends, Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from askwell.serving.config import ServiceSettings
from askwell.serving.lifecycle import ModelManager, ReloadJobs
from askwell.serving.metrics import Metrics
from askwell.serving.ratelimit import RateLimiter
from askwell.serving.service import AnalysisService
from askwell.serving.store import Store


@dataclass(frozen=True)
class RequestContext:
    """Per-request facts the Guard middleware established."""

    request_id: str
    client_request_id: str | None
    started: float
    client: str


async def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


async def get_service(request: Request) -> AnalysisService:
    return request.app.state.service


async def get_manager(request: Request) -> ModelManager:
    return request.app.state.manager


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_limiter(request: Request) -> RateLimiter:
    return request.app.state.limiter


async def get_jobs(request: Request) -> ReloadJobs:
    return request.app.state.jobs


async def get_context(request: Request) -> RequestContext:
    state = request.scope.get("state", {})
    return RequestContext(request_id=state.get("request_id", ""),
                          client_request_id=state.get("client_request_id"),
                          started=state.get("started", 0.0),
                          client=request.client.host if request.client else "unknown")


async def require_admin(request: Request, settings: ServiceSettings = Depends(get_settings)) -> str:
    """The admin's name for the event log, after checking the bearer token."""
    token = settings.admin_token
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise StarletteHTTPException(401, "Admin routes need 'Authorization: Bearer <token>' "
                                          "(the ASKWELL_ADMIN_TOKEN the service was started with).",
                                     headers={"WWW-Authenticate": "Bearer"})
    if token is None or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise StarletteHTTPException(403, "That admin token is not valid for this service.")
    client = request.client.host if request.client else "unknown"
    who = request.headers.get("x-askwell-actor", "").strip()[:100]
    return f"{who or 'admin'}@{client}"
