"""The web pages' routes, mounted by interfaces.http.app beside the API: each module in
WEB_MODULES contributes its ROUTES. Every page's caller is the session's (the same
resolution as the API, remembered for the error page's navigation), and every POST but
the login form must carry the session's CSRF token."""

from __future__ import annotations

import importlib
from typing import Any

from litestar import Request, Router
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from application.access import Principal
from interfaces.http.auth import resolve_caller
from interfaces.web.rendering import STATIC
from interfaces.web.security import CSRF_FIELD, CSRF_HEADER, check_csrf

WEB_MODULES = [
    "interfaces.web.session_pages",
    "interfaces.web.dashboard",
    "interfaces.web.chart_routes",
    "interfaces.web.worklist_pages",
    "interfaces.web.case_pages",
    "interfaces.web.account_pages",
    "interfaces.web.history_pages",
    "interfaces.web.audit_pages",
    "interfaces.web.risk_pages",
    "interfaces.web.rule_pages",
    "interfaces.web.selection_pages",
    "interfaces.web.import_pages",
    "interfaces.web.report_pages",
    "interfaces.web.user_pages",
]
"""Each module's ROUTES are pages; a new page module is one more line here."""

UNGUARDED_POSTS = frozenset({"/login"})
"""The login form has no session yet: SameSite and an Origin check guard it instead."""

WEB_PREFIXES_NOT = ("/api/", "/schema", "/healthz", "/readyz")


def wants_page(request: Request[Any, Any, Any]) -> bool:
    """An error on this request is rendered as a page, not as problem+json."""
    return not request.url.path.startswith(WEB_PREFIXES_NOT)


async def web_caller(request: Request[Any, Any, Any]) -> Principal:
    principal = await resolve_caller(request)
    request.scope.setdefault("state", {})["web_caller"] = principal
    return principal


async def require_csrf(request: Request[Any, Any, Any]) -> None:
    if request.method != "POST" or request.url.path in UNGUARDED_POSTS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    check_csrf(request, sent)


def web_router() -> Router:
    handlers: list[Any] = []
    for name in WEB_MODULES:
        handlers.extend(importlib.import_module(name).ROUTES)
    return Router(path="/", route_handlers=handlers,
                  dependencies={"caller": Provide(web_caller)},
                  before_request=require_csrf, include_in_schema=False)


def static_router() -> Router:
    """The app's own assets (htmx is vendored, pinned and licensed there: no CDN)."""
    return create_static_files_router(
        path="/static", directories=[STATIC], include_in_schema=False,
        name="static")
