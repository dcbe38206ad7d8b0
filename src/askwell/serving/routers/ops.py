"""``/healthz``, ``/readyz`` and ``/metrics``: for the platform, not rate limited."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from askwell.serving.deps import get_manager, get_metrics, get_store
from askwell.serving.lifecycle import ModelManager
from askwell.serving.metrics import Metrics
from askwell.serving.schemas import HealthResponse
from askwell.serving.store import Store

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=HealthResponse, summary="The process is up")
async def healthz() -> HealthResponse:
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=HealthResponse, responses={503: {"model": HealthResponse}},
            summary="Ready only when a model is loaded; otherwise the reason")
async def readyz(response: Response, manager: ModelManager = Depends(get_manager)) -> HealthResponse:
    served = manager.current
    if served is None:
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return HealthResponse(status="not_ready", model=None, detail=manager.not_ready_reason())
    return HealthResponse(status="ready", model=asdict(served.ref), detail=served.source)  # type: ignore[arg-type]


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics_route(metrics: Metrics = Depends(get_metrics),
                        store: Store = Depends(get_store)) -> Response:
    metrics.log_queue.set(store.queue_depth())
    body = await run_in_threadpool(metrics.render)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
