"""A process's short memory of the callers it has already checked.

Finding the caller costs two database round trips (the session row, then the user), more
than the case read they guard. A session or token checked within the last few seconds
(`COMPLIANCE_CALLER_CACHE_SECONDS`, default 2) is trusted again without them. The price
is bounded and stated: a user disabled, or a session ended, by another API process stops
working there within that many seconds; by this process, at once, because every change
to people or tokens and every logout clears this memory. A token is never trusted past
its own expiry."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import datetime

from application.access import Principal

MAX_ENTRIES = 10_000
"""Callers remembered at most; beyond it the memory starts over (a burst of new sessions
costs one check each, as without the cache)."""


class CallerCache:
    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_ENTRIES) -> None:
        if seconds < 0:
            raise ValueError(f"seconds must not be negative: {seconds}")
        self.seconds, self.clock, self.max_entries = seconds, clock, max_entries
        self._entries: dict[bytes, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(credential: str) -> bytes:
        # Only a digest is kept, so a memory dump holds no usable secret.
        return hashlib.sha256(credential.encode("utf-8", "surrogatepass")).digest()

    def get(self, credential: str, now: datetime) -> Principal | None:
        if self.seconds == 0:
            return None
        found = self._entries.get(self._key(credential))
        if found is None:
            return None
        until, principal = found
        if self.clock() >= until or (principal.valid_until is not None
                                     and now >= principal.valid_until):
            return None
        return principal

    def put(self, credential: str, principal: Principal) -> None:
        if self.seconds == 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[self._key(credential)] = (self.clock() + self.seconds, principal)

    def forget(self, credential: str) -> None:
        with self._lock:
            self._entries.pop(self._key(credential), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
