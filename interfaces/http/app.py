"""The litestar application: routes, the caller dependency, problem details for every
error, request ids, health and readiness, and the OpenAPI schema at /schema/openapi.json.

`create_app(settings)` is what `compliance serve` runs (through `create_app_from_env`, a
factory uvicorn calls in each worker process) and what the tests start.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import ASGIMiddleware
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.change_feed import ChangeFeed
from infrastructure.settings import Settings, load_settings
from interfaces.http.auth import resolve_caller, services_of
from interfaces.http.cached_reads import CachedReadMiddleware, request_id
from interfaces.http.freshness import WritePositionMiddleware
from interfaces.http.problems import PROBLEM_JSON, REQUEST_ID_HEADER, Problem, handle_error
from interfaces.http.services import HttpServices, build_http_services
from interfaces.web.errors import web_error
from interfaces.web.rendering import template_config
from interfaces.web.routes import static_router, wants_page, web_router
from interfaces.web.security import SECURITY_HEADERS, SecurityHeadersMiddleware

SWAGGER_ASSETS = "/static/vendor/swagger-ui-5.35.0"
"""The interactive API page's assets, served by the app (no CDN), with their licence."""

READY_MAX_LAG = 10_000
"""/readyz fails when a view is further behind the log than this many events."""

RESOURCE_MODULES = [
    "interfaces.http.auth",
    "interfaces.http.assessments",
    "interfaces.http.rules",
    "interfaces.http.imports",
    "interfaces.http.risk",
    "interfaces.http.targeting",
    "interfaces.http.accounts",
    "interfaces.http.plans",
    "interfaces.http.enforcement",
    "interfaces.http.verifications",
    "interfaces.http.worklist",
    "interfaces.http.audit",
    "interfaces.http.integrity",
    "interfaces.http.users",
    "interfaces.http.tokens",
    "interfaces.http.reports",
]
"""Each module's ROUTES are mounted; a new resource is one more line here."""


class RequestIdMiddleware(ASGIMiddleware):
    """Every response carries X-Request-Id (the caller's, if it sent a sane one), and the
    id is in the scope for the error handler and the log."""

    async def handle(self, scope: Scope, receive: Receive, send: Send,
                     next_app: ASGIApp) -> None:
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.lower().encode(), rid.encode()))
                message["headers"] = headers
            await send(message)

        await next_app(scope, receive, send_with_id)


class Health(msgspec.Struct):
    status: str
    detail: str = ""


@get("/healthz", sync_to_thread=False, tags=["operations"], summary="The process is up")
def healthz() -> Health:
    return Health("ok")


@get("/readyz", sync_to_thread=True, tags=["operations"],
     summary="The database answers and the views are caught up within a bound")
def readyz(request: Request[Any, Any, Any]) -> Response[Health]:
    services = services_of(request)
    try:
        head = services.app.recorder.max_notification_id() or 0
        from projections.catalogue import VIEWS
        lag = max((services.projections.lag(view) for view in VIEWS.values()), default=0)
    except Exception as error:  # the database is down: not ready, and say no more
        logging.getLogger("compliance.http").warning("not ready: %s", error)
        return Response(Health("unavailable", "the database does not answer"), status_code=503)
    if lag > READY_MAX_LAG:
        return Response(Health("behind", f"views are {lag} events behind the log"),
                        status_code=503)
    return Response(Health("ok", f"log at {head}, views within {lag} events"
                                 f"{caches_state(services.feed)}"))


def caches_state(feed: ChangeFeed | None) -> str:
    """The caches never serve stale data (they switch off while the change feed is down),
    so a lost LISTEN connection does not make the process unready; the operator still
    wants to know why reads got slower."""
    if feed is None:
        return ""
    if feed.live:
        return "; caches live (change feed listening)"
    return "; caches off (change feed reconnecting: reads go to the database)"


_READ_PROBLEMS = {400: "The request is malformed", 401: "Not authenticated",
                  403: "The caller's roles do not allow this",
                  404: "No such resource, or outside the caller's scope",
                  422: "Invalid input: every bad field in invalid-params",
                  500: "Internal error: quote the request id",
                  503: "The database does not answer"}
_WRITE_PROBLEMS = {**_READ_PROBLEMS,
                   409: "Conflict: the case moved meanwhile, or its state forbids the step",
                   412: "If-Match names a version the case is no longer at",
                   413: "The upload is over the size limit",
                   415: "The body is not of a type this endpoint takes"}


def document_problems(handler: Any) -> None:
    """Every error an /api route can answer is in the schema, as the problem details it
    is (litestar alone documents only a 400 of its own shape, which is never sent); a
    204 is documented without a body."""
    paths: set[str] = getattr(handler, "paths", set())
    if not any(path.startswith("/api/") for path in paths):
        return
    statuses = _WRITE_PROBLEMS if "POST" in (handler.http_methods or ()) else _READ_PROBLEMS
    responses = dict(handler.responses or {})
    for status, description in statuses.items():
        responses.setdefault(status, ResponseSpec(Problem, media_type=PROBLEM_JSON,
                                                  description=description,
                                                  generate_examples=False))
    if handler.status_code == 204:
        responses[204] = ResponseSpec(None, description="Done; no content")
    handler.responses = responses


def any_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A page's error is a page; the API's is problem+json (both decided by one mapping).
    A path no route matches fails before the middleware runs: its headers are set here."""
    response = web_error(request, error) if wants_page(request) else handle_error(request, error)
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name.decode(), value.decode())
    return response


def create_app(settings: Settings, services: HttpServices | None = None) -> Litestar:
    """Services given by the caller (tests, benchmarks) are the caller's to close; those
    built here close when the server shuts down."""
    built = services or build_http_services(settings)
    handlers: list[Any] = [healthz, readyz]
    for name in RESOURCE_MODULES:
        for route in importlib.import_module(name).ROUTES:
            handlers.extend(route if isinstance(route, tuple) else [route])
    for handler in handlers:
        document_problems(handler)
    return Litestar(
        # One router for everything: litestar registers a GET and a POST on one path
        # correctly only when they are registered together.
        route_handlers=[Router(path="/", route_handlers=handlers), web_router(),
                        static_router()],
        template_config=template_config(),
        dependencies={"caller": Provide(resolve_caller)},
        exception_handlers={Exception: any_error},
        middleware=[CachedReadMiddleware(built), RequestIdMiddleware(),
                    SecurityHeadersMiddleware(), WritePositionMiddleware(built)],
        state=State({"services": built}),
        on_shutdown=[] if services is not None else [built.close],
        openapi_config=OpenAPIConfig(
            title="Compliance Ledger API", version="1.0.0", path="/schema",
            description="Every command and query of the ledger, as the authenticated "
                        "caller. Errors are RFC 9457 problem details.",
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin(
                js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                favicon='<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">')]),
        request_max_body_size=64 * 1024 * 1024,
        debug=False,
    )


def create_app_from_env() -> Litestar:
    """The factory `compliance serve` hands to uvicorn: settings from the environment."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return create_app(load_settings(os.environ))
