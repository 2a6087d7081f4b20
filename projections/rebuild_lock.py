"""One rebuild at a time per store.

A rebuild drops, fills and renames the views' shadow tables (projections.rebuild_views):
two at once on the same store would drop or fill each other's tables. An explicit rebuild
(`compliance views rebuild`, a catch-up of views far behind: projections.worker) waits for
the lock.

PostgreSQL: a session advisory lock, held on a connection of its own for the rebuild's
duration (released if the process dies, with its connection). SQLite: a lock in the
process (an in-memory database is only ever seen by one process) and, for a database file,
an flock on a file beside it (released when the process dies, with its descriptor).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from projections.stores import PostgresViewStore, SQLiteViewStore, ViewStore

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def rebuild_lock(store: ViewStore, wait: bool = True) -> Iterator[bool]:
    """Holds the store's rebuild lock for the block; yields False (holding nothing) when
    `wait` is False and another rebuild holds it."""
    if isinstance(store, PostgresViewStore):
        with _postgres_lock(store, wait) as held:
            yield held
    elif isinstance(store, SQLiteViewStore):
        with _sqlite_lock(store, wait) as held:
            yield held
    else:  # pragma: no cover - every store is one of the two
        raise TypeError(f"no rebuild lock for {type(store).__name__}")


@contextlib.contextmanager
def _postgres_lock(store: PostgresViewStore, wait: bool) -> Iterator[bool]:
    key = f"{store.schema}/{store.app_name}/view rebuild"
    with store.datastore.get_connection() as conn:  # autocommit: a session lock
        if wait:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        else:
            row = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS held",
                               (key,)).fetchone()
            if not row or not row["held"]:
                yield False
                return
        try:
            yield True
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


@contextlib.contextmanager
def _sqlite_lock(store: SQLiteViewStore, wait: bool) -> Iterator[bool]:
    pool = store.datastore.pool
    name = str(pool.db_name)
    with _LOCKS_GUARD:
        local = _LOCKS.setdefault(name, threading.Lock())
    if not local.acquire(blocking=wait):
        yield False
        return
    try:
        if pool.is_sqlite_memory_mode or name.startswith("file:"):
            yield True
            return
        descriptor = _lock_file(f"{name}-rebuild.lock")
        if descriptor is None:  # a directory this process cannot write: its lock only
            yield True
            return
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(descriptor)  # releases the flock
    finally:
        local.release()


def _lock_file(path: str) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
