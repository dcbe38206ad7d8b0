"""The HTTP error shape, in one place: ``{"error": {"code", "message", "request_id",
"details"}}`` for every status, and the OpenAPI entries that document it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from askwell.serving.schemas import ErrorResponse

ERRORS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 408: "timeout", 409: "conflict", 413: "too_large",
          415: "unsupported_media_type", 422: "invalid_request", 429: "rate_limited",
          500: "internal", 503: "not_ready"}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries: each status with the error shape."""
    return {code: {"model": ErrorResponse, "description": ERRORS.get(code, "error")} for code in codes}


#: What any route with a JSON body may answer besides its success.
BODY_ERRORS = error_responses(400, 408, 413, 422, 429, 500, 503)
#: What any other /v1 route may answer.
V1_ERRORS = error_responses(429, 500)


def error_body(status: int, code: str | None, message: str, request_id: str | None,
               details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code or ERRORS.get(status, "error"), "message": message,
                           "request_id": request_id}
    if details:
        err["details"] = details
    return {"error": err}


def error_response(status: int, code: str | None, message: str, request_id: str | None,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, code, message, request_id, details), status_code=status,
                        headers=headers)


def request_id_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


class ApiError(Exception):
    """Raised by routes and the service: answered with the error shape by one handler."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers
