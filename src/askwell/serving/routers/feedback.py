"""``POST /v1/feedback``: feedback on an analysis, joined to it by request id."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from askwell.serving.deps import get_service
from askwell.serving.http import BODY_ERRORS, ApiError, error_responses
from askwell.serving.schemas import FeedbackRequest, FeedbackResponse
from askwell.serving.service import AnalysisService

router = APIRouter(tags=["feedback"])


@router.post("/v1/feedback", status_code=201, response_model=FeedbackResponse,
             responses={**BODY_ERRORS, **error_responses(404)},
             summary="Feedback on an analysis (explicit or implicit)")
async def feedback(req: FeedbackRequest, svc: AnalysisService = Depends(get_service)) -> FeedbackResponse:
    if not await svc.known_request(req.request_id):
        raise ApiError(404, "unknown_request", f"No analysis with request id {req.request_id!r}: "
                                               "send the request_id an analysis returned.")
    svc.feedback(req.model_dump())
    return FeedbackResponse(ok=True)
