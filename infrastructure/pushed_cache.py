"""A process-local cache whose entries the database drops by push (infrastructure.
change_feed), safe against the race every such cache has: a reader reads the database,
a writer commits and its announcement drops the (not yet present) entry, and then the
reader stores what it read, stale, with nothing left to drop it.

So a reader takes a *mark* (the feed's count of announcements handled) before it reads
the database, and the entry is stored only if, since that mark, no announcement named any
of the entry's dependencies and the cache was not flushed (the feed lost or regained its
connection). An entry that cannot be stored is simply not cached: the next read goes to
the database again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_DROPPED = 50_000
"""Dependencies whose last drop is remembered; past it the memory starts over and every
read begun before then may not store its entry (costs a miss, never a stale hit)."""


class PushedCache(Generic[K, V]):
    def __init__(self, max_entries: int = 20_000, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries, self.clock = max_entries, clock
        self._entries: dict[K, tuple[V, tuple[str, ...], float]] = {}
        self._by_dependency: dict[str, set[K]] = {}
        self._dropped: dict[str, int] = {}
        self._floor = 0  # puts marked before this may have missed a drop: refused
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        value, _, deadline = found
        return value if self.clock() < deadline else None

    def put(self, key: K, value: V, dependencies: Iterable[str], mark: int | None,
            seconds: float) -> bool:
        """Store unless something it depends on changed since `mark` (None: the feed is
        not live, nothing is stored)."""
        if mark is None:
            return False
        deps = tuple(dependencies)
        with self._lock:
            if mark < self._floor or any(self._dropped.get(d, -1) > mark for d in deps):
                return False
            if len(self._entries) >= self.max_entries:
                self._clear()
            self._remove(key)
            self._entries[key] = (value, deps, self.clock() + seconds)
            for dep in deps:
                self._by_dependency.setdefault(dep, set()).add(key)
        return True

    def drop(self, dependencies: Iterable[str], epoch: int) -> None:
        """Announcement number `epoch` named these: their entries go, and a put marked
        before it is refused."""
        with self._lock:
            for dep in dependencies:
                for key in self._by_dependency.pop(dep, ()):
                    self._remove(key)
                self._dropped[dep] = epoch
            if len(self._dropped) > MAX_DROPPED:
                self._dropped.clear()
                self._floor = epoch

    def flush(self, epoch: int) -> None:
        with self._lock:
            self._clear()
            self._dropped.clear()
            self._floor = epoch

    def forget(self, key: K) -> None:
        with self._lock:
            self._remove(key)

    def __len__(self) -> int:
        return len(self._entries)

    def _remove(self, key: K) -> None:
        found = self._entries.pop(key, None)
        if found is None:
            return
        for dep in found[1]:
            keys = self._by_dependency.get(dep)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_dependency[dep]

    def _clear(self) -> None:
        self._entries.clear()
        self._by_dependency.clear()
