"""The process half of the change feed: one LISTEN connection, in a thread of its own,
that hands each announcement (infrastructure.change_feed_sql) to the process's caches.

The feed is *live* while that connection is up. Only then may a cache answer: when the
connection is lost every cache is flushed and stays off (reads go to the database) until
the connection is back. `seen` is the position of the last announcement handled, its
drops done first; a reader told by a write "position p" may use the caches once `seen`
is at least p (every announcement up to p has then been handled, since positions are
handed out and delivered in commit order).

A silently dead connection (no reset, no answer) is found by a query every
HEARTBEAT_SECONDS; until then the caches can be stale by that much for a reader that
carries no position, never for one that does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import psycopg
from psycopg.sql import SQL, Identifier

from infrastructure import change_feed_sql
from infrastructure.sql_tables import SqlTables

LOG = logging.getLogger("compliance.change_feed")
HEARTBEAT_SECONDS = 2.0
RETRY_SECONDS = 0.5

_ANNOUNCING: dict[str, bool] = {}
"""Schemas known to have the announcing function (a store migrated before it existed
announces nothing until `compliance migrate`; its API processes then never go live)."""


def announce_sessions_ended(tables: SqlTables, cursor: Any) -> None:
    """In the transaction that ended one or more sessions: tell every API process to
    forget the sessions it remembers (ending a session is rare; forgetting them all
    costs each live session one check)."""
    if not tables.postgres or tables.schema is None:
        return
    schema = tables.schema
    if not _ANNOUNCING.get(schema):
        cursor.execute(change_feed_sql.function_exists_sql(schema))
        row = cursor.fetchone()
        if not (row and row[0]):
            return
        _ANNOUNCING[schema] = True
    cursor.execute(change_feed_sql.announce_sql(schema), ([change_feed_sql.SESSIONS],))
    row = cursor.fetchone()
    if row:
        change_feed_sql.note_position(int(row[0]))


def application_name(schema: str) -> str:
    """What the LISTEN connection calls itself in pg_stat_activity (one per schema)."""
    return "compliance feed " + change_feed_sql.channel_name(schema)


def _resolve(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)


class Subscriber(Protocol):
    def drop(self, dependencies: Sequence[str], epoch: int) -> None: ...

    def flush(self, epoch: int) -> None: ...


class ChangeFeed:
    """`conninfo` opens the LISTEN connection; `read_position` reads the latest position
    (through the application's pool) for a write's response."""

    def __init__(self, conninfo: str, schema: str, read_position: Callable[[], int], *,
                 heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.conninfo, self.schema, self.read_position = conninfo, schema, read_position
        self.heartbeat = heartbeat
        self.channel = change_feed_sql.channel_name(schema)
        self.application_name = application_name(schema)
        self.subscribers: list[Subscriber] = []
        self.live = False
        self.seen = 0
        self.epoch = 0
        self.connections = 0  # how many times it went live (tests watch it come back)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    # -- what readers ask ----------------------------------------------------------------

    def mark(self) -> int | None:
        """Taken before a database read whose result will be cached (pushed_cache)."""
        return self.epoch if self.live else None

    def covers(self, position: int) -> bool:
        return self.live and self.seen >= position

    async def wait_for(self, position: int, timeout: float) -> bool:
        """True once the feed has handled `position` (False: not within `timeout`, or
        the feed is not live). The listening thread wakes the waiter."""
        if self.covers(position):
            return True
        if not self.live:
            return False
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        waiter = (position, loop, woken)
        with self._lock:
            self._waiters.append(waiter)
        try:
            if not self.covers(position):
                await asyncio.wait_for(asyncio.shield(woken), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        return self.covers(position)

    def _wake(self) -> None:
        """Under the lock: every waiter whose position is handled, or all when lost."""
        keep = []
        for waiter in self._waiters:
            position, loop, woken = waiter
            if self.seen >= position or not self.live:
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits
                    loop.call_soon_threadsafe(_resolve, woken)
            else:
                keep.append(waiter)
        self._waiters = keep

    # -- the listening thread ------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.heartbeat + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as error:  # the database went away: off until it is back
                LOG.warning("change feed lost (%s); caches off until it is back", error)
            finally:
                self._lost()
            self._stop.wait(RETRY_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=10,
                             application_name=self.application_name) as conn:
            conn.execute(SQL("LISTEN {0}").format(Identifier(self.channel)))
            with conn.transaction():  # no announcing transaction in flight: exact
                conn.execute(change_feed_sql.locked_position_sql(self.schema))
                row = conn.execute(change_feed_sql.position_sql(self.schema)).fetchone()
            self._connected(int(row[0]) if row else 0)
            while not self._stop.is_set():
                for notify in conn.notifies(timeout=self.heartbeat):
                    self.handle(notify.payload)
                conn.execute("SELECT 1")

    def _connected(self, position: int) -> None:
        with self._lock:
            self.epoch += 1
            for subscriber in self.subscribers:
                subscriber.flush(self.epoch)
            self.seen = max(self.seen, position)
            self.live = True
            self.connections += 1

    def _lost(self) -> None:
        with self._lock:
            self.live = False
            self.epoch += 1
            for subscriber in self.subscribers:
                subscriber.flush(self.epoch)
            self._wake()

    def handle(self, payload: str) -> None:
        """`<position> <id> <id> ...`, `<position> *` or `<position> sessions`: drops
        first, then `seen` moves, so a reader that sees the position sees the drops."""
        head, _, rest = payload.partition(" ")
        try:
            position = int(head)
        except ValueError:
            LOG.warning("change feed: unreadable announcement %r", payload[:80])
            position = self.seen
            rest = change_feed_sql.EVERYTHING
        names = rest.split()
        with self._lock:
            self.epoch += 1
            for subscriber in self.subscribers:
                if change_feed_sql.EVERYTHING in names:
                    subscriber.flush(self.epoch)
                else:
                    subscriber.drop(names, self.epoch)
            self.seen = max(self.seen, position)
            self._wake()
