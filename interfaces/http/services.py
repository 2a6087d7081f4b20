"""What every HTTP handler shares, built once per process from the one composition root:
the application (access control on), the views, the session store and the password
hasher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from application.compliance_cases import ComplianceCases
from application.ports import Clock, PasswordHasher
from infrastructure.passwords import Argon2Hasher
from infrastructure.session_store import SqlSessionStore
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
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
    projections: Projections = field(init=False)
    callers: CallerCache = field(init=False)
    analysis: object | None = field(default=None, init=False, repr=False)
    reports: object | None = field(default=None, init=False, repr=False)
    """The report service (interfaces.report_service), on first use."""
    """Ingest, risk and targeting services: interfaces.http.analysis_services, on first use."""

    def __post_init__(self) -> None:
        self.projections = Projections(self.app)
        self.callers = CallerCache(self.settings.caller_cache_seconds)

    def now(self) -> datetime:
        return self.clock()

    def close(self) -> None:
        self.app.close()


def build_http_services(settings: Settings, clock: Clock = utc_now) -> HttpServices:
    app = build_application(settings, clock, cache_size=SERVER_CACHE_SIZE)
    sessions = SqlSessionStore(SqlTables(app.recorder),
                               idle=timedelta(minutes=settings.session_idle_minutes),
                               absolute=timedelta(hours=settings.session_absolute_hours))
    hasher = Argon2Hasher(time_cost=settings.argon2_time_cost,
                          memory_cost=settings.argon2_memory_kib)
    return HttpServices(settings, app, sessions, hasher, clock)
