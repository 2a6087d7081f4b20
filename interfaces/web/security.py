"""What keeps the pages safe in a browser: a CSRF token bound to the session, an Origin
check for the login form (which has no session yet), and the response headers every page
carries (a Content-Security-Policy without inline script or style, no sniffing, no
framing).

The CSRF token is an HMAC of the session's secret, so every server process computes the
same token with no shared key and no stored state, and it dies with the session. The
session cookie itself is HttpOnly and SameSite=Strict; the token is the second line.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.http.auth import SESSION_COOKIE

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'")
"""No 'unsafe-inline' anywhere: templates carry no <script> body, no style attribute and
no on* handler; htmx is configured (meta htmx-config) not to inject its own style."""

SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


DOCS_PAGE = "/schema/swagger"
"""The interactive API documentation (litestar's Swagger UI page) starts with an inline
script of the framework's that holds the schema: it is the one page whose policy allows
inline script and style, still from this site only. It shows no ledger data and takes no
form."""

DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'")


class CsrfError(Exception):
    """A form arrived without the token of the session it claims to come from."""


def csrf_token(session_secret: str) -> str:
    return hmac.new(session_secret.encode(), b"compliance-ledger csrf v1",
                    hashlib.sha256).hexdigest()


def csrf_token_of(request: Request[Any, Any, Any]) -> str:
    secret = request.cookies.get(SESSION_COOKIE) or ""
    return csrf_token(secret) if secret else ""


def check_csrf(request: Request[Any, Any, Any], sent: str | None) -> None:
    """The token a form or an htmx request sent must be this session's."""
    expected = csrf_token_of(request)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfError("the form is from another or an expired session; reload the page "
                        "and send it again")


def check_same_origin(request: Request[Any, Any, Any]) -> None:
    """For the login form: a browser sends Origin (or at least Referer) on a POST; one
    naming another site is a cross-site login attempt."""
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    if not origin:
        return  # not a browser (curl, a test client): nothing cross-site to refuse
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise CsrfError("the login form was sent from another site")


class SecurityHeadersMiddleware(ASGIMiddleware):
    """Every response (pages, assets, API) carries the security headers; a handler that
    set one itself keeps its own."""

    async def handle(self, scope: Scope, receive: Receive, send: Send,
                     next_app: ASGIApp) -> None:
        docs = str(scope.get("path", "")).startswith(DOCS_PAGE)
        wanted = [(name, DOCS_CONTENT_SECURITY_POLICY.encode()
                   if docs and name == b"content-security-policy" else value)
                  for name, value in SECURITY_HEADERS]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in wanted if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await next_app(scope, receive, send_with_headers)
