"""The case read's fast path: a read this process can answer from its caches is answered
before the rest of the stack runs (dependencies, handler, response building).

It answers only when everything the full path would check is already known here, and
known current: the change feed is live and has handled the position the caller sends
(interfaces.http.freshness), the caller's credential is one the process checked and the
feed has not since invalidated (caller_cache), the caller's roles allow the read, and the
case's cached answer (reads.build_case_read) is in the caller's scope. Anything else,
including anything unusual about the request, goes down the full path, which gives the
same answer or the right error; so this path can only be faster, never different. Its
answer carries the same headers as the full path's (the request id, the security
headers, the ETag).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from interfaces.http.auth import SESSION_COOKIE
from interfaces.http.freshness import POSITION_COOKIE, POSITION_HEADER
from interfaces.http.problems import REQUEST_ID_HEADER
from interfaces.web.security import SECURITY_HEADERS

if TYPE_CHECKING:
    from interfaces.http.reads import CachedRead
    from interfaces.http.services import HttpServices

CACHED_READ = "cached_read"
"""Route handler `opt` key: (resource, permission, case_key) of a cacheable case read."""

_ID_HEADER = REQUEST_ID_HEADER.lower().encode()
_POSITION = POSITION_HEADER.lower().encode()
_JSON = (b"content-type", b"application/json")


def request_id(scope: Scope) -> str:
    """The caller's request id if it sent a sane one, else a new one (as the full path's
    RequestIdMiddleware)."""
    for name, value in scope.get("headers", ()):
        if name == _ID_HEADER:
            sent = value.decode("latin-1")
            if sent.isalnum() and len(sent) <= 64:
                return sent
            break
    return uuid.uuid4().hex


class CachedReadMiddleware(ASGIMiddleware):
    def __init__(self, services: HttpServices) -> None:
        self.services = services

    async def handle(self, scope: Scope, receive: Receive, send: Send,
                     next_app: ASGIApp) -> None:
        answer = self._cached(scope) if scope["type"] == ScopeType.HTTP else None
        if answer is None:
            await next_app(scope, receive, send)
            return
        headers = [_JSON, (b"content-length", str(len(answer.body)).encode()),
                   (b"etag", answer.etag.encode()),
                   (_ID_HEADER, request_id(scope).encode()), *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})

    def _cached(self, scope: Scope) -> CachedRead | None:
        services = self.services
        reads, feed = services.reads, services.feed
        if reads is None or feed is None or scope.get("method") != "GET":
            return None
        handler = scope.get("route_handler")
        spec: tuple[str, str, Callable[[str], UUID]] | None = (
            handler.opt.get(CACHED_READ) if handler is not None else None)
        if spec is None:
            return None
        resource, permission, case_key = spec
        authorization = cookie = position = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"cookie":
                if cookie is not None:
                    return None  # several Cookie headers: the full path decides
                cookie = value
            elif name == _POSITION:
                position = value
        cookies = _cookies(cookie)
        wanted = _position(position if position is not None
                           else cookies.get(POSITION_COOKIE))
        if wanted is None or not feed.covers(wanted):
            return None
        credential = _credential(authorization, cookies)
        if not credential:
            return None
        caller = services.callers.get(credential, services.now())
        if caller is None or not caller.may(permission):
            return None
        try:
            key = case_key(str(scope["path_params"]["number"]))
        except Exception:  # not a number of ours: the full path says so
            return None
        hit: CachedRead | None = reads.get((resource, key))
        if hit is None or (hit.scope is not None and not caller.sees(*hit.scope)):
            return None
        return hit


def _cookies(header: bytes | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if header is None:
        return found
    for part in header.decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name in found:
            found[name] = None  # a name twice: ambiguous, so no credential from it
        else:
            found[name] = value
    return found


def _credential(authorization: bytes | None, cookies: dict[str, Any]) -> str | None:
    if authorization is not None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None
    value = cookies.get(SESSION_COOKIE)
    return value if isinstance(value, str) and value and '"' not in value else None


def _position(value: Any) -> int | None:
    """0 for none sent; None for something that is not a position (full path)."""
    if value is None:
        return 0
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 19 else None
