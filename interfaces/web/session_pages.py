"""Logging in and out in a browser: the same password check, lockout and server-side
session as POST /api/auth/login, with the session cookie set by the same code."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from application.identity import AuthenticationError
from interfaces.http.auth import end_session, login_cookie, services_of
from interfaces.web.rendering import page
from interfaces.web.security import check_same_origin


class LoginForm(msgspec.Struct):
    username: str = ""
    password: str = ""
    next: str = "/"


def safe_next(target: str) -> str:
    """Only a path on this site: never `//evil.example` or `https://...` (open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return "".join(c for c in target if c.isprintable())[:500] or "/"


@get("/login", sync_to_thread=False, include_in_schema=False)
def login_page(request: Request[Any, Any, Any], next: FromQuery[str] = "/") -> Template:
    return page(request, None, "login.html", next=safe_next(next), error="", username="")


@post("/login", sync_to_thread=True, include_in_schema=False, status_code=303)
def login_submit(request: Request[Any, Any, Any],
                 data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
                 ) -> Response[Any]:
    check_same_origin(request)
    services = services_of(request)
    target = safe_next(data.next)
    try:
        principal = services.app.authenticate_password(
            data.username.strip(), data.password, services.hasher,
            max_failures=services.settings.login_max_failures)
    except AuthenticationError as refused:
        return page(request, None, "login.html", status_code=401, next=target,
                    error=str(refused), username=data.username[:100])
    secret = services.sessions.create(principal.username, services.now())
    lifetime = services.settings.session_absolute_hours * 3600
    return Redirect(target, status_code=303,
                    cookies=[login_cookie(request, secret, lifetime)])


@post("/logout", sync_to_thread=True, include_in_schema=False, status_code=303)
def logout_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    end_session(request)
    return Redirect("/login", status_code=303, cookies=[login_cookie(request, "", 0)])


ROUTES = [login_page, login_submit, logout_submit]
