"""Who is calling: a person's session cookie (server-side, in the database, so several
API processes share it) or a system's bearer token; and the login, logout and "me"
endpoints. The principal found here is the only actor any handler records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from application.access import Principal
from application.identity import AuthenticationError, principal_of
from domain.password_policy import check_password
from domain.user import user_id
from infrastructure.change_feed_sql import SESSIONS
from interfaces.http.freshness import caches_fresh_for
from interfaces.http.params import Caller
from interfaces.http.query_checks import check_query
from interfaces.http.services import HttpServices

SESSION_COOKIE = "cl_session"


def services_of(request: Request[Any, Any, Any]) -> HttpServices:
    services = request.app.state.services
    assert isinstance(services, HttpServices)
    return services


async def resolve_caller(request: Request[Any, Any, Any]) -> Principal:
    """A bearer token when one is sent, else the session cookie; 401 otherwise. A caller
    this process checked before is taken from its memory (interfaces.http.caller_cache:
    no thread, no database) when that memory is current for this request (interfaces.
    http.freshness; the answer is kept in `request.state` for the case reads); otherwise
    the session row and the user are read in a worker thread, so a disabled user's
    sessions and tokens stop working. The query is then checked in plain words
    (interfaces.http.query_checks), for every endpoint that has a caller."""
    principal = await _authenticated(request)
    check_query(request)  # once the caller is known: an anonymous request is a 401
    return principal


async def _authenticated(request: Request[Any, Any, Any]) -> Principal:
    services = services_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send Authorization: Bearer <token>")
        credential = token.strip()
        check: Callable[[HttpServices, str], Checked] = _check_token
    else:
        credential = request.cookies.get(SESSION_COOKIE) or ""
        if not credential:
            raise AuthenticationError(_LOG_IN)
        check = _check_session
    fresh = await caches_fresh_for(services, request)
    request.state[FRESH] = fresh
    if fresh or services.feed is None:
        known = services.callers.get(credential, services.now())
        if known is not None:
            return known
    mark = services.feed.mark() if fresh and services.feed is not None else None
    checked = await anyio.to_thread.run_sync(check, services, credential)
    if services.feed is None or mark is not None:
        services.callers.put(credential, checked.principal, mark=mark,
                             dependencies=checked.dependencies, not_after=checked.not_after)
    return checked.principal


FRESH = "caches_fresh"
"""request.state key: may this request be answered from the pushed caches?"""
_LOG_IN = "log in (POST /api/auth/login) or send a bearer token"


class Checked(NamedTuple):
    """A caller as the database says it is now, with what that answer depends on."""

    principal: Principal
    dependencies: tuple[str, ...]
    not_after: datetime | None


def _check_token(services: HttpServices, token: str) -> Checked:
    principal = services.app.authenticate_token(token, services.now())
    return Checked(principal, (str(user_id(principal.username)),), principal.valid_until)


def _check_session(services: HttpServices, secret: str) -> Checked:
    found = services.sessions.find_until(secret, services.now())
    user = services.app.find_user(found[0]) if found else None
    if found is None or user is None or not user.enabled:
        raise AuthenticationError(_LOG_IN)
    principal = principal_of(user)
    return Checked(principal, (str(user_id(principal.username)), SESSIONS), found[1])


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    password: str


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    old_password: str
    new_password: str


class Me(msgspec.Struct):
    """The caller as the ledger sees it now: `districts` null means national."""

    username: str
    actor: str
    roles: list[str]
    districts: list[str] | None
    importers: list[str] | None
    token_id: str | None = None


def me_of(principal: Principal) -> Me:
    return Me(username=principal.username, actor=principal.actor,
              roles=sorted(principal.roles),
              districts=None if principal.districts is None else sorted(principal.districts),
              importers=None if principal.importers is None else sorted(principal.importers),
              token_id=principal.token_id)


def login_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    return Cookie(key=SESSION_COOKIE, value=value, path="/", httponly=True,
                  samesite="strict", secure=request.url.scheme == "https", max_age=max_age)


@post("/api/auth/login", sync_to_thread=True, tags=["auth"], status_code=200,
      summary="Log in with a username and password; sets the session cookie")
def login(request: Request[Any, Any, Any], data: JSONBody[LoginRequest]) -> Response[Me]:
    services = services_of(request)
    principal = services.app.authenticate_password(
        data.username, data.password, services.hasher,
        max_failures=services.settings.login_max_failures)
    secret = services.sessions.create(principal.username, services.now())
    lifetime = services.settings.session_absolute_hours * 3600
    return Response(me_of(principal), cookies=[login_cookie(request, secret, lifetime)],
                    headers={"Cache-Control": "no-store"})


@post("/api/auth/logout", sync_to_thread=True, tags=["auth"], status_code=204,
      summary="End this session")
def logout(request: Request[Any, Any, Any]) -> Response[None]:
    end_session(request)
    return Response(None, status_code=204, cookies=[login_cookie(request, "", 0)])


def end_session(request: Request[Any, Any, Any]) -> None:
    """The request's session ends here and in this process's memory of callers (the web
    page's logout too)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        services = services_of(request)
        services.sessions.revoke(secret)
        services.callers.forget(secret)


@get("/api/me", sync_to_thread=True, tags=["auth"], summary="Who the caller is")
def me(caller: Caller) -> Me:
    return me_of(caller)


@post("/api/me/password", sync_to_thread=True, tags=["auth"], status_code=204,
      summary="Change one's own password (the old one proves it is you)")
def change_password(request: Request[Any, Any, Any], caller: Caller,
                    data: JSONBody[PasswordChange]) -> Response[None]:
    services = services_of(request)
    if caller.token_id is not None:
        raise AuthenticationError("a password is changed in a session, not with a token")
    check_password(data.new_password, username=caller.username, field="new_password")
    services.app.change_own_password(caller, data.old_password,
                                     services.hasher.hash(data.new_password), services.hasher)
    services.callers.clear()
    return Response(None, status_code=204)


ROUTES = [login, logout, me, change_password]
