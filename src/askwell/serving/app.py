"""The FastAPI app: ``create_app(settings)`` builds it; nothing happens at import time.

Routes are thin: parse (pydantic), call :class:`~askwell.serving.service.AnalysisService`,
shape the response. Shared resources (model manager, cache, store, metrics, rate limiter)
live on ``app.state`` and reach routes through dependencies, so tests can hand in their
own. One pure-ASGI middleware gives every request its id, enforces the per-client rate
limit and the body size limits, times it for /metrics, and turns any failure into a clean
JSON error carrying the request id while the process keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
import uuid
from base64 import b64encode
from collections.abc import AsyncIterator, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from askwell import __version__
from askwell.config import Settings
from askwell.explain.pipeline import resolve_filter
from askwell.serving.cache import Cache, make_cache
from askwell.serving.config import ServiceSettings, service_settings
from askwell.serving.http import ApiError, error_response, request_id_of
from askwell.serving.lifecycle import (
    AnalyzerLike,
    Loader,
    ModelManager,
    PipelineOptions,
    ReloadJobs,
    Served,
    settings_loader,
)
from askwell.serving.metrics import Metrics
from askwell.serving.ratelimit import RateLimited, RateLimiter
from askwell.serving.routers import admin, analysis, feedback, models, ops
from askwell.serving.safeguards import Declined
from askwell.serving.service import AnalysisService, Busy, NotReady
from askwell.serving.store import Store

log = logging.getLogger("askwell.serving")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


# ---------------------------------------------------------------------- middleware
#: A body cut off mid-stream leaves the rest unread on the connection: close it after the
#: answer (uvicorn does on this header), or a client that keeps trickling bytes holds its
#: connection and a file descriptor for as long as it likes.
_CLOSE = {"Connection": "close"}


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI re-raises HTTPException untouched."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit:,} bytes. Send one question "
                              "of at most 30,000 characters (a batch within its limit).",
                         headers=_CLOSE)


class Guard:
    """Request id, rate limit, size limit, metrics and last-resort error handling."""

    def __init__(self, app: Any, *, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        metrics: Metrics = self.state.metrics
        settings: ServiceSettings = self.state.settings
        # The request id is always the service's own (unique: it keys the prediction log);
        # a sane client X-Request-ID is kept beside it for correlation, never as the key.
        client_rid = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                client_rid = candidate if _REQUEST_ID.match(candidate) else None
                break
        rid = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        scope["state"]["client_request_id"] = client_rid
        scope["state"]["started"] = started
        status = [500]
        responded = [False]

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                responded[0] = True
                headers = MutableHeaders(scope=message)
                headers.append("x-request-id", rid)
                if client_rid is not None:
                    headers.append("x-client-request-id", client_rid)
            await send(message)

        async def reply(resp: Response) -> None:
            await resp(scope, receive, send_with_id)

        path, method = scope["path"], scope["method"]
        try:
            limiter: RateLimiter = self.state.limiter
            if limiter.enabled and path.startswith("/v1/"):
                client = scope.get("client")
                ok, wait = await limiter.allow(client[0] if client else "unknown")
                if not ok:
                    metrics.rate_limited.inc()
                    await reply(_rate_limited(limiter, wait, rid))
                    return
            if method in ("POST", "PUT", "PATCH"):
                limit = settings.max_batch_bytes if path == "/v1/analyze/batch" else settings.max_body_bytes
                length = None
                for name, value in scope.get("headers", ()):
                    if name == b"content-length":
                        length = int(value) if value.isdigit() else None
                        break
                if length is not None and length > limit:
                    await reply(error_response(413, "too_large", BodyTooLarge(limit).detail, rid))
                    return
                receive = _limited(receive, limit, settings.body_timeout_seconds)
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            metrics.errors.labels(_route(scope)).inc()
            log.exception("request %s %s failed (request %s)", method, path, rid)
            if not responded[0]:
                await reply(error_response(500, "internal", f"Something went wrong on our side "
                                           f"(request {rid}); it has been logged. Try again.", rid))
            elif not isinstance(exc, OSError):  # pragma: no cover - failed mid-response
                raise
        finally:
            route = _route(scope)
            metrics.requests.labels(route, method, str(status[0])).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - started)


API_PATHS = frozenset({"/v1/analyze", "/v1/analyze/batch", "/v1/feedback", "/v1/models",
                       "/v1/admin/reload", "/v1/admin/rollback", "/v1/admin/events",
                       "/v1/admin/precomputed"})


def _route(scope: dict[str, Any]) -> str:
    """The route's path template (bounded label values), or ``unmatched``."""
    route = scope.get("route")
    if route is not None:
        return getattr(route, "path", None) or "unmatched"
    return scope["path"] if scope["path"] in API_PATHS else "unmatched"


class BodyTimeout(HTTPException):
    """The client sent its body too slowly (a slow-body connection holds a worker slot)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"The request body did not arrive within {seconds:g} s. Send it at once.",
                         headers=_CLOSE)


def _limited(receive: Callable, limit: int, timeout: float) -> Callable:
    """``receive`` with the size limit, and a deadline for the whole body."""
    seen = 0
    deadline = time.monotonic() + timeout

    async def wrapped() -> dict[str, Any]:
        nonlocal seen
        try:
            message = await asyncio.wait_for(receive(), max(deadline - time.monotonic(), 0.001))
        except TimeoutError as exc:
            raise BodyTimeout(timeout) from exc
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped


def _rate_limited(limiter: RateLimiter, wait: float, rid: str | None) -> JSONResponse:
    retry = max(1, math.ceil(wait))
    return error_response(
        429, "rate_limited", f"Too many requests: at most {limiter.rate:g} a second on average "
        f"(bursts of {limiter.burst:g}; long questions and batches count more). Try again in "
        f"{retry} s.", rid, headers={"Retry-After": str(retry)})


# ---------------------------------------------------------------------- factory
def create_app(
    settings: Settings | None = None,
    *,
    analyzer: AnalyzerLike | None = None,
    loader: Loader | None = None,
    cache: Cache | None = None,
    store: Store | None = None,
) -> FastAPI:
    """Build the service. ``analyzer`` serves a ready model; ``loader`` replaces how models
    are (re)loaded (default: from the settings: model path, registry name, or packaged)."""
    s = service_settings(settings)
    metrics = Metrics()
    cache = cache if cache is not None else make_cache(s.cache, s.cache_size, s.cache_ttl_seconds,
                                                       s.cache_secret)
    store = store if store is not None else Store(
        s.db_url, metrics=metrics, queue_size=s.log_queue_size, batch_size=s.log_batch_size,
        flush_seconds=s.log_flush_seconds, retry_seconds=s.log_retry_seconds)
    store.metrics = metrics

    def on_swap(old: Served | None, new: Served) -> None:
        if old is not None and old.key != new.key:
            cache.clear(old.key)

    if loader is None and analyzer is None:
        loader = settings_loader(s)
    options = PipelineOptions(question_filter=resolve_filter(s.question_filter),
                              settings_abstain=s.abstain_below,
                              ood_threshold=s.ood_threshold)
    manager = ModelManager(loader, options=options, store=store, metrics=metrics,
                           on_swap=on_swap)
    service = AnalysisService(manager, cache, store, metrics,
                              chars_in_flight=s.chars_in_flight, busy_wait_seconds=s.busy_wait_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.start)
        await run_in_threadpool(enable_precomputed, service, store)
        if analyzer is not None:
            served = await run_in_threadpool(manager.build, analyzer, "injected")
            await run_in_threadpool(manager.install, served, "load", "startup")
        else:
            await run_in_threadpool(manager.load_initial)
        if manager.current is None:
            metrics.model_ready.set(0)
        log.info("%s", start_line(manager, store, cache, app.state.limiter))
        manager.start_following(s.sync_seconds)
        try:
            yield
        finally:
            manager.stop_following()
            await run_in_threadpool(store.close)
            cache.close()

    app = FastAPI(
        title="askwell", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Score a Stack Exchange question and get ranked, verified edits. "
                    "See docs/api.md for the contract.",
    )
    app.state.settings = s
    app.state.metrics = metrics
    app.state.cache = cache
    app.state.store = store
    app.state.manager = manager
    app.state.service = service
    app.state.limiter = RateLimiter(s.rate_limit, s.rate_burst, s.rate_limit_storage or s.cache)
    app.state.jobs = ReloadJobs(manager)
    app.add_middleware(Guard, state=app.state)
    _install_error_handlers(app)
    for router in (analysis.router, feedback.router, models.router, ops.router):
        app.include_router(router)
    if s.admin_token:  # no token: the admin routes do not exist
        app.include_router(admin.router)
    _install_docs(app)
    try:
        from askwell.serving.web import mount
    except ImportError:  # pragma: no cover - the editor is optional
        log.info("web editor not available")
    else:
        mount(app)
    return app


def start_line(manager: ModelManager, store: Store, cache: Cache, limiter: RateLimiter) -> str:
    """The one line ``askwell serve`` logs at start: what it serves, from where, with what."""
    served = manager.current
    what = (f"serving {served.ref.name} version {served.ref.version} ({served.ref.family}) from "
            f"{served.source}" if served is not None
            else f"NOT READY (no model: {manager.not_ready_reason()})")
    where = getattr(cache, "url", None)
    cache_desc = f"{cache.backend} {where}" if where else cache.backend
    limit = (f"{limiter.rate:g}/s, burst {limiter.burst:g}, {'shared (redis)' if limiter.shared else 'per worker'}"
             if limiter.enabled else "off")
    return f"askwell {__version__}: {what}; database {store.safe_url()}; cache {cache_desc}; rate limit {limit}"


def enable_precomputed(service: AnalysisService, store: Store) -> None:
    """Look answers up in the precomputed table when it holds any (no extra read otherwise)."""
    from askwell.serving.precomputed import Precomputed

    try:
        if Precomputed(store.engine).count() > 0:
            service.precomputed = Precomputed(store.engine)
    except Exception as exc:  # the database may be away at startup: serve without them
        log.warning("precomputed answers not checked (%s)", type(exc).__name__)



# ---------------------------------------------------------------------- errors
def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                   for e in exc.errors()][:20]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        # tags that split into too many: valid shape, refused for content (code "tags")
        code = "tags" if details and all(d["type"] == "tags" for d in details) else "invalid_request"
        return error_response(422, code, f"Invalid request: {where}: {first['msg']}. "
                              "See /docs for the request format.", request_id_of(request), details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"No such endpoint: {request.method} {request.url.path}. See /docs."
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}. See /docs."
        return error_response(exc.status_code, None, message, request_id_of(request),
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(Declined)
    async def _declined(request: Request, exc: Declined) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, request_id_of(request))

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return error_response(503, "not_ready", f"No model is serving yet: {exc}",
                              request_id_of(request), headers={"Retry-After": "5"})

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, request_id_of(request),
                              headers=exc.headers)

    @app.exception_handler(RateLimited)
    async def _limited_cost(request: Request, exc: RateLimited) -> JSONResponse:
        request.app.state.metrics.rate_limited.inc()
        return _rate_limited(request.app.state.limiter, exc.retry_after, request_id_of(request))

    @app.exception_handler(Busy)
    async def _busy(request: Request, exc: Busy) -> JSONResponse:
        return error_response(503, "busy", f"The service is at its bound of analysis work ({exc}); "
                              "try again in a few seconds.", request_id_of(request),
                              headers={"Retry-After": "2"})


def _install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc from assets shipped in a Python package (no CDN)."""
    try:
        import fastapi_offline
    except ImportError:  # pragma: no cover - docs are optional
        return
    from pathlib import Path

    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return _with_csp(get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json", title="askwell API",
            swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs-assets/favicon.png"))

    # ReDoc's bundle draws its sidebar logo from cdn.redoc.ly: served here with that one
    # address pointed at the local favicon, so /redoc, like /docs, fetches nothing outside.
    redoc_js: dict[str, bytes] = {}

    @app.get("/docs-local/redoc.js", include_in_schema=False)
    async def redoc_bundle(request: Request) -> Response:
        if "js" not in redoc_js:
            root = request.scope.get("root_path", "")
            text = (assets / "redoc.standalone.js").read_text(encoding="utf-8")
            redoc_js["js"] = text.replace("https://cdn.redoc.ly/redoc/logo-mini.svg",
                                          f"{root}/docs-assets/favicon.png").encode("utf-8")
        return Response(redoc_js["js"], media_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return _with_csp(get_redoc_html(
            openapi_url=f"{root}/openapi.json", title="askwell API",
            redoc_js_url=f"{root}/docs-local/redoc.js",
            redoc_favicon_url=f"{root}/docs-assets/favicon.png",
            with_google_fonts=False))  # nothing fetched from the internet


_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)


def _with_csp(page: Response) -> Response:
    """The docs pages with a strict CSP: their own origin only, and their one inline script
    allowed by its sha256 (Swagger UI and ReDoc need inline styles and, ReDoc, a worker)."""
    hashes = " ".join(f"'sha256-{b64encode(hashlib.sha256(body).digest()).decode()}'"
                      for body in _INLINE_SCRIPT.findall(bytes(page.body)))
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page
