"""What every HTTP handler shares, built once per process from the one composition root:
the application (access control on), the views, the session store and the password
hasher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from application.compliance_cases import ComplianceCases
from application.ports import Clock, PasswordHasher
from infrastructure import change_feed_sql
from infrastructure.change_feed import ChangeFeed
from infrastructure.passwords import Argon2Hasher
from infrastructure.pushed_cache import PushedCache
from infrastructure.session_store import SqlSessionStore
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from infrastructure.stores import postgres_conninfo
from interfaces.composition import build_application, utc_now
from interfaces.http.caller_cache import CallerCache
from projections.worker import Projections

SERVER_CACHE_SIZE = 20_000
"""Aggregates a server process keeps in memory (users read on every request, busy
cases); each is brought up to date from the log with one query before use."""


@dataclass
class HttpServices:
    settings: Settings
    app: ComplianceCases
    sessions: SqlSessionStore
    hasher: PasswordHasher
    clock: Clock = utc_now
    feed: ChangeFeed | None = None
    """PostgreSQL: the change feed that keeps the caches below current (None: SQLite)."""
    projections: Projections = field(init=False)
    callers: CallerCache = field(init=False)
    reads: PushedCache[tuple[str, UUID], Any] | None = field(default=None, init=False)
    """Case reads as sent (interfaces.http.reads), while the feed is live."""
    analysis: object | None = field(default=None, init=False, repr=False)
    reports: object | None = field(default=None, init=False, repr=False)
    """The report service (interfaces.report_service), on first use."""
    """Ingest, risk and targeting services: interfaces.http.analysis_services, on first use."""

    def __post_init__(self) -> None:
        self.projections = Projections(self.app)
        self.callers = CallerCache(self.settings.caller_cache_seconds, feed=self.feed)
        if self.feed is not None:
            self.reads = PushedCache(SERVER_CACHE_SIZE)
            self.feed.subscribers.append(self.reads)
            self.feed.start()

    def now(self) -> datetime:
        return self.clock()

    def forget_cached(self) -> None:
        """Everything this process remembers goes (its feed could not confirm a write)."""
        self.callers.clear()
        if self.reads is not None and self.feed is not None:
            self.reads.flush(self.feed.epoch)

    def close(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        self.app.close()


def build_http_services(settings: Settings, clock: Clock = utc_now) -> HttpServices:
    app = build_application(settings, clock, cache_size=SERVER_CACHE_SIZE)
    sessions = SqlSessionStore(SqlTables(app.recorder),
                               idle=timedelta(minutes=settings.session_idle_minutes),
                               absolute=timedelta(hours=settings.session_absolute_hours))
    hasher = Argon2Hasher(time_cost=settings.argon2_time_cost,
                          memory_cost=settings.argon2_memory_kib)
    feed = None
    if settings.database_url is not None:
        feed = ChangeFeed(postgres_conninfo(settings), settings.postgres_schema,
                          lambda: _position(app, settings.postgres_schema))
    return HttpServices(settings, app, sessions, hasher, clock, feed)


def _position(app: ComplianceCases, schema: str) -> int:
    datastore: Any = getattr(app.recorder, "datastore")  # noqa: B009 - PostgreSQL only
    with datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(change_feed_sql.position_sql(schema))
        row = cursor.fetchone()
    if row is None:
        return 0
    value = row[0] if isinstance(row, tuple | list) else next(iter(row.values()))
    return int(value)
