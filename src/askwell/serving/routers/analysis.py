"""``POST /v1/analyze`` and ``/v1/analyze/batch``: parse, hand to the service, return the
response model (so FastAPI checks every answer against the documented schema)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from askwell.question import Question
from askwell.serving.config import ServiceSettings
from askwell.serving.deps import RequestContext, get_context, get_limiter, get_service, get_settings
from askwell.serving.http import BODY_ERRORS, ApiError
from askwell.serving.ratelimit import RateLimiter, analysis_cost
from askwell.serving.schemas import AnalyzeRequest, AnalyzeResponse, BatchRequest, BatchResponse
from askwell.serving.service import AnalysisService

router = APIRouter(tags=["analysis"])


def question_of(req: AnalyzeRequest) -> Question:
    return Question(title=req.title, body=req.body, tags=tuple(req.tags), site=req.site or None)


async def _charge(limiter: RateLimiter, ctx: RequestContext, questions: list[Question]) -> None:
    """The rate limit counts cost, not requests: the Guard charged 1; the rest is charged here."""
    extra = analysis_cost(questions, limiter.burst) - 1
    if extra > 0:
        await limiter.charge(ctx.client, extra)


@router.post("/v1/analyze", response_model=AnalyzeResponse, responses=BODY_ERRORS,
             summary="Score one question and suggest verified edits")
async def analyze(req: AnalyzeRequest, request: Request) -> dict[str, Any]:
    # The hottest route reads its resources itself: three ``Depends`` cost more than a
    # cached answer's lookup (the same functions, called directly).
    ctx = await get_context(request)
    svc: AnalysisService = await get_service(request)
    q = question_of(req)
    await _charge(await get_limiter(request), ctx, [q])
    return await svc.analyze_request(q, request_id=ctx.request_id,
                                     client_request_id=ctx.client_request_id, started=ctx.started)


@router.post("/v1/analyze/batch", response_model=BatchResponse, responses=BODY_ERRORS,
             summary="Score up to max_batch questions")
async def analyze_batch(req: BatchRequest, ctx: RequestContext = Depends(get_context),
                        svc: AnalysisService = Depends(get_service),
                        settings: ServiceSettings = Depends(get_settings),
                        limiter: RateLimiter = Depends(get_limiter)) -> dict[str, Any]:
    if len(req.questions) > settings.max_batch:
        raise ApiError(422, "too_many", f"{len(req.questions)} questions in one batch; the limit "
                                        f"is {settings.max_batch}. Split the batch.")
    questions = [question_of(item) for item in req.questions]
    await _charge(limiter, ctx, questions)
    results = await svc.analyze_batch(questions, request_id=ctx.request_id,
                                      client_request_id=ctx.client_request_id)
    return {"results": results}
