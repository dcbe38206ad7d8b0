"""``/v1/admin/*``: reload, rollback, the event log. Mounted only when an admin token is
configured; every route checks it (constant-time)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from askwell.serving.config import ServiceSettings
from askwell.serving.deps import (
    get_jobs,
    get_manager,
    get_service,
    get_settings,
    get_store,
    require_admin,
)
from askwell.serving.http import BODY_ERRORS, ApiError, error_responses
from askwell.serving.lifecycle import ModelManager, ReloadError, ReloadJobs
from askwell.serving.schemas import (
    AdminResponse,
    EventsResponse,
    PrecomputedLoad,
    PrecomputedLoaded,
)
from askwell.serving.service import AnalysisService
from askwell.serving.store import Store

log = logging.getLogger("askwell.serving")

router = APIRouter(tags=["admin"], responses=error_responses(401, 403, 429, 500))


def admin_out(result: dict[str, Any]) -> AdminResponse:
    return AdminResponse(
        status=result["status"],
        from_model=asdict(result["from"]) if result.get("from") is not None else None,  # type: ignore[arg-type]
        to_model=asdict(result["to"]) if result.get("to") is not None else None,  # type: ignore[arg-type]
        detail=result.get("detail"),
    )


def single(name: str) -> Any:
    """A query parameter given at most once (``?limit=abc&limit=5`` is refused, not guessed)."""

    def check(request: Request) -> None:
        if len(request.query_params.getlist(name)) > 1:
            raise ApiError(422, "invalid_request", f"Give the query parameter {name!r} once.")

    return Depends(check)


@router.post("/v1/admin/reload", response_model=AdminResponse,
             responses={202: {"model": AdminResponse}, **error_responses(409)},
             dependencies=[single("wait")], summary="Load the champion again; swap when it changed")
async def reload(response: Response, wait: bool = False, actor: str = Depends(require_admin),
                 manager: ModelManager = Depends(get_manager),
                 jobs: ReloadJobs = Depends(get_jobs)) -> AdminResponse:
    if wait:
        try:
            result = await run_in_threadpool(manager.reload, actor)
        except ReloadError as exc:
            if "already running" in str(exc):
                raise ApiError(409, "conflict", f"{exc}.") from exc
            raise ApiError(500, "reload_failed", f"{exc}. The current model keeps serving.") from exc
        return admin_out(result)
    if not jobs.start(actor):
        raise ApiError(409, "conflict", "A reload is already running.")
    response.status_code = 202
    current = manager.current
    return AdminResponse(status="started", from_model=asdict(current.ref) if current else None,  # type: ignore[arg-type]
                         to_model=None, detail="loading and verifying in the background; "
                                               "GET /v1/models shows when it serves")


@router.post("/v1/admin/rollback", response_model=AdminResponse, responses=error_responses(409),
             summary="Serve the previous model again")
async def rollback(actor: str = Depends(require_admin),
                   manager: ModelManager = Depends(get_manager)) -> AdminResponse:
    try:
        result = await run_in_threadpool(manager.rollback, actor)
    except ReloadError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc
    return admin_out(result)


@router.get("/v1/admin/events", response_model=EventsResponse, responses=error_responses(422),
            dependencies=[single("limit")], summary="Model events: loads, swaps, rollbacks")
async def events(limit: int = Query(50, ge=1, le=500), actor: str = Depends(require_admin),
                 store: Store = Depends(get_store)) -> EventsResponse:
    rows = await run_in_threadpool(store.events, limit)
    return EventsResponse(events=rows)  # type: ignore[arg-type]


@router.post("/v1/admin/precomputed", response_model=PrecomputedLoaded, responses=BODY_ERRORS,
             summary="Load a batch output as precomputed answers (the hybrid service)")
async def load_precomputed(req: PrecomputedLoad, actor: str = Depends(require_admin),
                           svc: AnalysisService = Depends(get_service),
                           store: Store = Depends(get_store),
                           settings: ServiceSettings = Depends(get_settings)) -> dict[str, Any]:
    from askwell.errors import AskwellError

    try:
        result = await run_in_threadpool(load_precomputed_into, svc, store, settings, req.path)
    except (AskwellError, OSError) as exc:  # OSError: a path the file system refuses
        raise ApiError(422, "precomputed_refused", str(exc)[:500]) from exc
    log.info("%s loaded %s precomputed answers from %s", actor, result["loaded"], req.path)
    return result


def load_precomputed_into(service: AnalysisService, store: Store, settings: ServiceSettings,
                          path: str) -> dict[str, Any]:
    """Load a batch output into this service's database and start using it."""
    from pathlib import Path

    from askwell.serving.precomputed import Precomputed, load_batch

    served = service.manager.current
    result = load_batch(store.engine, Path(path), ood_threshold=settings.ood_threshold,
                        abstain_below=settings.abstain_below,
                        serving_key=served.key if served is not None else None)
    service.precomputed = Precomputed(store.engine)
    return result


