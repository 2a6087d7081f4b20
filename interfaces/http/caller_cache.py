"""A process's memory of the callers it has already checked.

Finding the caller costs two database round trips (the session row, then the user), more
than the case read they guard. Two ways to remember, one per store:

- PostgreSQL (a change feed, infrastructure.change_feed): a caller is remembered until
  the database announces a change to its user (roles, districts, tokens, disabling: all
  events of the user) or the end of any session, at most PUSHED_SECONDS (so that a
  session in use is marked used, see session_store.MARK_EVERY), and never past its
  session's or token's end. Nothing is remembered while the feed is down.
- SQLite (no feed): for `COMPLIANCE_CALLER_CACHE_SECONDS` (default 2). A user disabled,
  or a session ended, by another process stops working there within that many seconds;
  by this process, at once, because every change to people or tokens and every logout
  clears this memory.

Only a digest of the credential is kept, so a memory dump holds no usable secret.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from application.access import Principal
from infrastructure.change_feed import ChangeFeed
from infrastructure.pushed_cache import PushedCache

MAX_ENTRIES = 10_000
"""Callers remembered at most; beyond it the memory starts over (a burst of new sessions
costs one check each, as without the cache)."""
PUSHED_SECONDS = 55.0
"""Under a live feed: a session is checked (and its use marked) about once a minute."""


def _key(credential: str) -> bytes:
    return hashlib.sha256(credential.encode("utf-8", "surrogatepass")).digest()


class CallerCache:
    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_ENTRIES, feed: ChangeFeed | None = None) -> None:
        if seconds < 0:
            raise ValueError(f"seconds must not be negative: {seconds}")
        self.seconds, self.clock, self.max_entries = seconds, clock, max_entries
        self.feed = feed
        self._entries: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()
        self.pushed: PushedCache[bytes, tuple[Principal, datetime | None]] | None = None
        if feed is not None:
            self.pushed = PushedCache(max_entries, clock=clock)
            feed.subscribers.append(self.pushed)

    def get(self, credential: str, now: datetime) -> Principal | None:
        if self.pushed is not None:
            found = self.pushed.get(_key(credential))
            if found is None:
                return None
            principal, not_after = found
            if not_after is not None and now >= not_after:
                return None
            return principal if _unexpired(principal, now) else None
        if self.seconds == 0:
            return None
        entry = self._entries.get(_key(credential))
        if entry is None:
            return None
        until, principal = entry
        return principal if self.clock() < until and _unexpired(principal, now) else None

    def put(self, credential: str, principal: Principal, *, mark: int | None = None,
            dependencies: Iterable[str] = (), not_after: datetime | None = None) -> None:
        """`mark` and `dependencies` (pushed_cache): taken before the check, and what
        the answer depends on; `not_after`: the session's end."""
        if self.pushed is not None:
            self.pushed.put(_key(credential), (principal, not_after), dependencies, mark,
                            PUSHED_SECONDS)
            return
        if self.seconds == 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[_key(credential)] = (self.clock() + self.seconds, principal)

    def forget(self, credential: str) -> None:
        if self.pushed is not None:
            self.pushed.forget(_key(credential))
        with self._lock:
            self._entries.pop(_key(credential), None)

    def clear(self) -> None:
        if self.pushed is not None and self.feed is not None:
            self.pushed.flush(self.feed.epoch)
        with self._lock:
            self._entries.clear()


def _unexpired(principal: Principal, now: datetime) -> bool:
    return principal.valid_until is None or now < principal.valid_until
