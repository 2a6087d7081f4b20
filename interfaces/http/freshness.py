"""Read-your-writes across API processes, without a database round trip per read.

Every write (any request that is not GET, HEAD or OPTIONS) answers with the change feed's
position after it (header `Ledger-Seen`, and cookie `ledger_seen` for browsers). A read
that sends a position back (the header, else the cookie) is served from this process's
caches only once its feed has handled that position; it waits up to WAIT_SECONDS for it,
and past that reads the database. A write made through this process waits (up to
OWN_WRITE_SECONDS) until its own feed has handled it before answering, so that the
writer's next read here is fresh whether it sends the position or not; if the feed does
not get there, the process forgets everything it cached.

On SQLite there is no feed: nothing here applies (the caches work as before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio.to_thread
from litestar import Request
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from interfaces.http.services import HttpServices

POSITION_HEADER = "Ledger-Seen"
POSITION_COOKIE = "ledger_seen"
WAIT_SECONDS = 0.2
OWN_WRITE_SECONDS = 2.0
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
_MAX_DIGITS = 19
_HEADER_NAME = POSITION_HEADER.lower().encode()


def _position(text: str | None) -> int:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) <= _MAX_DIGITS else 0


def wanted_position(request: Request[Any, Any, Any]) -> int:
    """The position the caller says it has seen: the header, else the cookie (0: none,
    or not a number)."""
    header = request.headers.get(POSITION_HEADER)
    if header is not None:
        return _position(header)
    return _position(request.cookies.get(POSITION_COOKIE))


async def caches_fresh_for(services: HttpServices, request: Request[Any, Any, Any]) -> bool:
    """May this request be answered from the pushed caches? (False without a feed: the
    callers then use their own timed memory, and case reads the database.)"""
    feed = services.feed
    if feed is None:
        return False
    wanted = wanted_position(request)
    return feed.covers(wanted) or await feed.wait_for(wanted, WAIT_SECONDS)


class WritePositionMiddleware(ASGIMiddleware):
    """Adds the position to the answer of every write, after the process's own feed has
    handled it."""

    def __init__(self, services: HttpServices) -> None:
        self.services = services

    async def handle(self, scope: Scope, receive: Receive, send: Send,
                     next_app: ASGIApp) -> None:
        feed = self.services.feed
        if feed is None or scope["type"] != ScopeType.HTTP or scope.get("method") in _SAFE:
            await next_app(scope, receive, send)
            return

        async def send_with_position(message: Message) -> None:
            if message["type"] == "http.response.start" and feed is not None:
                message["headers"] = await self._with_position(
                    list(message.get("headers", [])))
            await send(message)

        await next_app(scope, receive, send_with_position)

    async def _with_position(self, headers: list[tuple[bytes, bytes]],
                             ) -> list[tuple[bytes, bytes]]:
        """The position the handler found its writes announced at (commands), else the
        latest one; the answer waits until this process's feed has handled it."""
        feed = self.services.feed
        assert feed is not None
        told = [value for name, value in headers if name == _HEADER_NAME]
        if told:
            position = _position(told[0].decode("latin-1"))
        else:
            try:
                position = await anyio.to_thread.run_sync(feed.read_position)
            except Exception:  # the database is gone: forget, say nothing
                self.services.forget_cached()
                return headers
            headers.append((_HEADER_NAME, str(position).encode()))
        if not await feed.wait_for(position, OWN_WRITE_SECONDS):
            self.services.forget_cached()
        headers.append((b"set-cookie", f"{POSITION_COOKIE}={position}; Path=/; HttpOnly; "
                        f"SameSite=Strict".encode()))
        return headers
