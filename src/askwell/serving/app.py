"""The FastAPI app: ``create_app(settings)`` builds it; nothing happens at import time.

Routes are thin: parse (pydantic), call :class:`~askwell.serving.service.AnalysisService`,
shape the response. Shared resources (model manager, cache, store, metrics, rate limiter)
live on ``app.state`` and reach routes through dependencies, so tests can hand in their
own. One pure-ASGI middleware gives every request its id, enforces the per-client rate
limit and the body size limits, times it for /metrics, and turns any failure into a clean
JSON error carrying the request id while the process keeps serving.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from askwell import __version__
from askwell.config import Settings
from askwell.question import Question
from askwell.serving.cache import Cache, make_cache
from askwell.serving.config import ServiceSettings, service_settings
from askwell.serving.lifecycle import (
    AnalyzerLike,
    Loader,
    ModelManager,
    ReloadError,
    Served,
    settings_loader,
)
from askwell.serving.metrics import Metrics
from askwell.serving.ratelimit import RateLimiter
from askwell.serving.safeguards import Declined
from askwell.serving.schemas import (
    AdminResponse,
    AnalyzeRequest,
    AnalyzeResponse,
    BatchRequest,
    BatchResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    HealthResponse,
    ModelOut,
    ModelsResponse,
    PrecomputedLoad,
    PrecomputedLoaded,
    ServedModel,
)
from askwell.serving.service import AnalysisService, NotReady
from askwell.serving.store import Store

log = logging.getLogger("askwell.serving")

#: Questions up to this many characters are analysed on the event loop (a few ms); longer
#: ones in a worker thread, so a 30,000-character body never stalls other requests.
INLINE_CHARS = 4000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
ERRORS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
          422: "invalid_request", 429: "rate_limited", 500: "internal", 503: "not_ready"}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (413, 422, 429, 500, 503)}


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


# ---------------------------------------------------------------------- middleware
class BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI re-raises HTTPException untouched."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit:,} bytes. Send one question "
                              "of at most 30,000 characters (a batch within its limit).")


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

        async def send_with_id(message: dict[str, Any]) -> None:
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
                ok, wait = limiter.allow(client[0] if client else "unknown")
                if not ok:
                    metrics.rate_limited.inc()
                    retry = max(1, math.ceil(wait))
                    await reply(error_response(
                        429, "rate_limited", f"Too many requests: at most {limiter.rate:g} a second "
                        f"(bursts of {limiter.burst:g}). Try again in {retry} s.", rid,
                        headers={"Retry-After": str(retry)}))
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
                receive = _limited(receive, limit)
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


def _limited(receive: Callable, limit: int) -> Callable:
    seen = 0

    async def wrapped() -> dict[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped


# ---------------------------------------------------------------------- dependencies
def get_service(request: Request) -> AnalysisService:
    return request.app.state.service


def get_manager(request: Request) -> ModelManager:
    return request.app.state.manager


def require_admin(request: Request) -> str:
    """The admin's name for the event log, after checking the bearer token."""
    token: str | None = request.app.state.settings.admin_token
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
    cache = cache if cache is not None else make_cache(s.cache, s.cache_size, s.cache_ttl_seconds)
    store = store if store is not None else Store(
        s.db_url, metrics=metrics, queue_size=s.log_queue_size, batch_size=s.log_batch_size,
        flush_seconds=s.log_flush_seconds, retry_seconds=s.log_retry_seconds)
    store.metrics = metrics

    def on_swap(old: Served | None, new: Served) -> None:
        if old is not None and old.key != new.key:
            cache.clear(old.key)

    if loader is None and analyzer is None:
        loader = settings_loader(s)
    manager = ModelManager(loader, settings_abstain=s.abstain_below, store=store, metrics=metrics,
                           on_swap=on_swap)
    service = AnalysisService(manager, cache, store, metrics, ood_threshold=s.ood_threshold)

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
    app.state.limiter = RateLimiter(s.rate_limit, s.rate_burst)
    app.add_middleware(Guard, state=app.state)
    _install_error_handlers(app)
    _install_routes(app)
    if s.admin_token:
        _install_admin(app)
    _install_docs(app)
    try:
        from askwell.serving.web import mount
    except ImportError:  # pragma: no cover - the editor is optional
        log.info("web editor not available")
    else:
        mount(app)
    return app


# ---------------------------------------------------------------------- errors
def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                   for e in exc.errors()][:20]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return error_response(422, "invalid_request", f"Invalid request: {where}: {first['msg']}. "
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


# ---------------------------------------------------------------------- routes
def _model_out(ref: Any) -> ModelOut | None:
    return None if ref is None else ModelOut(**asdict(ref))


def _served_out(role: str, served: Served | None, card: bool = True) -> ServedModel | None:
    if served is None:
        return None
    return ServedModel(role=role, model=_model_out(served.ref), source=served.source,
                       loaded_at=served.loaded_at, threshold=served.threshold,
                       abstain_below=served.abstain_below, card=served.card if card else {})


def _question(req: AnalyzeRequest) -> Question:
    return Question(title=req.title, body=req.body, tags=tuple(req.tags), site=req.site or None)


def _install_routes(app: FastAPI) -> None:
    @app.post("/v1/analyze", response_model=AnalyzeResponse, responses=ERROR_RESPONSES,
              tags=["analysis"], summary="Score one question and suggest verified edits")
    async def analyze(req: AnalyzeRequest, request: Request,
                      svc: AnalysisService = Depends(get_service)) -> Response:
        started = request.scope["state"].get("started", time.perf_counter())
        rid = request.scope["state"]["request_id"]
        q = _question(req)
        if svc.cache.backend == "redis" or svc.precomputed is not None:  # I/O: off the event loop
            served, key, hit = await run_in_threadpool(svc.lookup, q)
        else:
            served, key, hit = svc.lookup(q)
        if hit is not None:
            payload = hit
        elif len(q.title) + len(q.body) <= INLINE_CHARS:
            # a typical question takes ~1-3 ms: computing it on the event loop is faster
            # than a thread hop and avoids waiting on the GIL behind other threads
            payload = svc.compute(served, key, q)
        else:
            payload = await run_in_threadpool(svc.compute, served, key, q)
        out = svc.finish(payload, request_id=rid, served=served, key=key, question=q,
                         cached=hit is not None, started=started,
                         client_request_id=request.scope["state"].get("client_request_id"))
        return JSONResponse(out)

    @app.post("/v1/analyze/batch", response_model=BatchResponse, responses=ERROR_RESPONSES,
              tags=["analysis"], summary="Score up to max_batch questions")
    async def analyze_batch(req: BatchRequest, request: Request,
                            svc: AnalysisService = Depends(get_service)) -> Response:
        limit = request.app.state.settings.max_batch
        rid = request.scope["state"]["request_id"]
        client_rid = request.scope["state"].get("client_request_id")
        if len(req.questions) > limit:
            return error_response(422, "too_many", f"{len(req.questions)} questions in one batch; the "
                                  f"limit is {limit}. Split the batch.", rid)

        def run() -> list[dict[str, Any]]:
            results = []
            for i, item in enumerate(req.questions):
                item_id = f"{rid}-{i}"
                try:
                    results.append(svc.analyze(_question(item), item_id, client_rid))
                except Declined as exc:
                    results.append(error_body(exc.status, exc.code, exc.message, item_id))
            return results

        return JSONResponse({"results": await run_in_threadpool(run)})

    @app.post("/v1/feedback", status_code=201, response_model=FeedbackResponse,
              responses={404: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
              tags=["feedback"], summary="Feedback on an analysis (explicit or implicit)")
    async def feedback(req: FeedbackRequest, request: Request,
                       svc: AnalysisService = Depends(get_service)) -> Response:
        if not await run_in_threadpool(svc.known_request, req.request_id):
            return error_response(404, "unknown_request", f"No analysis with request id "
                                  f"{req.request_id!r}: send the request_id an analysis returned.",
                                  request_id_of(request))
        svc.feedback(req.model_dump())
        return JSONResponse({"ok": True}, status_code=201)

    @app.get("/v1/models", response_model=ModelsResponse, tags=["models"],
             summary="What is serving: champion, previous, fallback, with their cards")
    def models(manager: ModelManager = Depends(get_manager)) -> ModelsResponse:
        return ModelsResponse(
            champion=_served_out("champion", manager.current),
            previous=_served_out("previous", manager.previous, card=False),
            challenger=None,
            fallback=_served_out("fallback", manager.fallback),  # type: ignore[arg-type]
            error=manager.error if manager.current is None else None,
        )

    @app.get("/healthz", response_model=HealthResponse, tags=["ops"], summary="The process is up")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/readyz", response_model=HealthResponse, responses={503: {"model": HealthResponse}},
             tags=["ops"], summary="Ready only when a model is loaded")
    async def readyz(manager: ModelManager = Depends(get_manager)) -> Response:
        served = manager.current
        if served is None:
            return JSONResponse({"status": "not_ready", "model": None,
                                 "detail": manager.error or "the model is loading"}, status_code=503)
        return JSONResponse({"status": "ready", "model": asdict(served.ref), "detail": served.source})

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics",
             response_class=Response)
    async def metrics_route(request: Request) -> Response:
        metrics: Metrics = request.app.state.metrics
        store: Store = request.app.state.store
        metrics.log_queue.set(store._queue.qsize())
        body = await run_in_threadpool(metrics.render)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


def _install_admin(app: FastAPI) -> None:
    jobs: dict[str, Any] = {"thread": None, "last": None}

    @app.post("/v1/admin/reload", response_model=AdminResponse, tags=["admin"],
              responses={202: {"model": AdminResponse}, 401: {"model": ErrorResponse},
                         403: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
              summary="Load the champion again; swap when it changed")
    async def reload(request: Request, wait: bool = False, actor: str = Depends(require_admin),
                     manager: ModelManager = Depends(get_manager)) -> Response:
        rid = request_id_of(request)
        if wait:
            try:
                result = await run_in_threadpool(manager.reload, actor)
            except ReloadError as exc:
                status = 409 if "already running" in str(exc) else 500
                return error_response(status, "reload_failed" if status == 500 else "conflict",
                                      f"{exc}. The current model keeps serving.", rid)
            return _admin(result)

        def job() -> None:
            try:
                jobs["last"] = manager.reload(actor)
            except ReloadError as exc:
                jobs["last"] = {"status": "failed", "detail": str(exc)}
                log.error("reload failed: %s", exc)

        running = jobs["thread"]
        if running is not None and running.is_alive():
            return error_response(409, "conflict", "A reload is already running.", rid)
        thread = threading.Thread(target=job, name="askwell-reload", daemon=True)
        jobs["thread"] = thread
        thread.start()
        current = manager.current
        return JSONResponse({"status": "started", "from_model": asdict(current.ref) if current else None,
                             "to_model": None, "detail": "loading and verifying in the background; "
                             "GET /v1/models shows when it serves"}, status_code=202)

    @app.post("/v1/admin/rollback", response_model=AdminResponse, tags=["admin"],
              responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                         409: {"model": ErrorResponse}},
              summary="Serve the previous model again")
    async def rollback(request: Request, actor: str = Depends(require_admin),
                       manager: ModelManager = Depends(get_manager)) -> Response:
        try:
            result = await run_in_threadpool(manager.rollback, actor)
        except ReloadError as exc:
            return error_response(409, "conflict", str(exc), request_id_of(request))
        return _admin(result)

    @app.get("/v1/admin/events", tags=["admin"], summary="Model events: loads, swaps, rollbacks")
    async def events(request: Request, limit: int = 50, actor: str = Depends(require_admin)) -> Response:
        store: Store = request.app.state.store
        rows = await run_in_threadpool(store.events, min(max(limit, 1), 500))
        for r in rows:
            r["created_at"] = r["created_at"].isoformat() if r.get("created_at") else None
        return JSONResponse({"events": rows})


    @app.post("/v1/admin/precomputed", response_model=PrecomputedLoaded, tags=["admin"],
              responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse},
                         422: {"model": ErrorResponse}},
              summary="Load a batch output as precomputed answers (the hybrid service)")
    async def load_precomputed(req: PrecomputedLoad, request: Request,
                               actor: str = Depends(require_admin),
                               svc: AnalysisService = Depends(get_service)) -> Response:
        from askwell.errors import AskwellError

        try:
            result = await run_in_threadpool(load_precomputed_into, svc, request.app.state.store,
                                             request.app.state.settings, req.path)
        except AskwellError as exc:
            return error_response(422, "precomputed_refused", str(exc), request_id_of(request))
        log.info("%s loaded %s precomputed answers from %s", actor, result["loaded"], req.path)
        return JSONResponse(result)


def enable_precomputed(service: AnalysisService, store: Store) -> None:
    """Look answers up in the precomputed table when it holds any (no extra read otherwise)."""
    from askwell.serving.precomputed import Precomputed

    try:
        if Precomputed(store.engine).count() > 0:
            service.precomputed = Precomputed(store.engine)
    except Exception as exc:  # the database may be away at startup: serve without them
        log.warning("precomputed answers not checked (%s)", type(exc).__name__)


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


def _admin(result: dict[str, Any]) -> JSONResponse:
    return JSONResponse({
        "status": result["status"],
        "from_model": asdict(result["from"]) if result.get("from") is not None else None,
        "to_model": asdict(result["to"]) if result.get("to") is not None else None,
        "detail": result.get("detail"),
    })


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
        return get_swagger_ui_html(openapi_url=f"{root}/openapi.json", title="askwell API",
                                   swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/docs-assets/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return get_redoc_html(openapi_url=f"{root}/openapi.json", title="askwell API",
                              redoc_js_url=f"{root}/docs-assets/redoc.standalone.js",
                              redoc_favicon_url=f"{root}/docs-assets/favicon.png")
