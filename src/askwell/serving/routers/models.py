"""``GET /v1/models``: what serves (champion, previous, fallback) with the cards. The
served model's other views (e.g. its sites) belong here too."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends

from askwell.serving.deps import get_manager
from askwell.serving.http import V1_ERRORS, ApiError
from askwell.serving.lifecycle import ModelManager, Served
from askwell.serving.schemas import ModelOut, ModelsResponse, ServedModel, SiteOut, SitesResponse

router = APIRouter(tags=["models"])


def model_out(ref: Any) -> ModelOut | None:
    return None if ref is None else ModelOut(**asdict(ref))


def served_out(role: str, served: Served | None, card: bool = True) -> ServedModel | None:
    if served is None:
        return None
    return ServedModel(role=role, model=model_out(served.ref), source=served.source,  # type: ignore[arg-type]
                       loaded_at=served.loaded_at, threshold=served.threshold,
                       abstain_below=served.abstain_below, card=served.card if card else {})


@router.get("/v1/models", response_model=ModelsResponse, responses=V1_ERRORS,
            summary="What is serving: champion, previous, fallback, with their cards")
async def models(manager: ModelManager = Depends(get_manager)) -> ModelsResponse:
    return ModelsResponse(
        champion=served_out("champion", manager.current),
        previous=served_out("previous", manager.previous, card=False),
        challenger=None,
        fallback=served_out("fallback", manager.fallback),  # type: ignore[arg-type]
        error=manager.error if manager.current is None else None,
    )


@router.get("/v1/sites", response_model=SitesResponse, responses=V1_ERRORS,
            summary="Sites the serving model knows (base rates), for a site picker")
async def sites(manager: ModelManager = Depends(get_manager)) -> SitesResponse:
    served = manager.current
    if served is None:
        raise ApiError(503, "not_ready", manager.error or "the model is loading")
    table = served.pipeline.sites
    known = table.sites() if table is not None else []
    return SitesResponse(model=model_out(served.ref), sites=[  # type: ignore[arg-type]
        SiteOut(name=c.name, known=True, kind=c.kind, base_rate=c.base_rate, questions=c.questions)
        for c in known])
