"""Event-store configuration for the embedded default (SQLite) and production (PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import psycopg
from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper
from psycopg import sql

from application.event_rows import EventRows
from infrastructure.bulk_events import DirectEventRows
from infrastructure.event_store import ChainedEventStore, ChainHeadCache
from infrastructure.mapper import MsgspecMapper, MsgspecTranscoder
from infrastructure.settings import Settings
from infrastructure.signing_keys import LazySigner


class DatabaseUnavailableError(RuntimeError):
    """The configured database cannot be reached; says which and why."""


class ChainedStorage:
    """Fills the application's EventStorage port: msgspec encoding plus the hash chain."""

    def __init__(self, signer: LazySigner) -> None:
        self.heads = ChainHeadCache()
        self.signer = signer

    def mapper(self) -> Mapper[UUID]:
        return MsgspecMapper(transcoder=MsgspecTranscoder())

    def event_store(self, mapper: Mapper[UUID], recorder: AggregateRecorder) -> EventStore[UUID]:
        assert isinstance(mapper, MsgspecMapper)
        return ChainedEventStore(mapper, recorder, self.signer, self.heads)

    def event_rows(self, events: EventStore[UUID]) -> EventRows:
        """The bulk row path (application.event_rows) over the same event store."""
        return DirectEventRows(events)


def store_environment(settings: Settings) -> dict[str, str]:
    """The eventsourcing library's environment for the chosen store. The library never
    creates tables: only initialise_store does (interfaces.composition), so commands run no
    DDL and a role that can only SELECT can read."""
    if settings.database_url is None:
        return {
            "CREATE_TABLE": "n",
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.sqlite_path),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC":
                "infrastructure.sqlite_recorder:PollingSQLiteApplicationRecorder",
        }
    params = settings.postgres
    return {
        "CREATE_TABLE": "n",
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": params.dbname,
        "POSTGRES_HOST": params.host,
        "POSTGRES_PORT": str(params.port),
        "POSTGRES_USER": params.user,
        "POSTGRES_PASSWORD": params.password,
        "POSTGRES_SCHEMA": settings.postgres_schema,
        # The library's default of 0 waits forever for the table lock.
        "POSTGRES_LOCK_TIMEOUT": str(settings.postgres_lock_timeout_s),
        "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
        # One round trip per save, with the events-table lock kept (see postgres_recorder).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
        "APPLICATION_RECORDER_TOPIC":
            "infrastructure.postgres_recorder:LockingFunctionApplicationRecorder",
    }


def postgres_conninfo(settings: Settings) -> str:
    params = settings.postgres
    return psycopg.conninfo.make_conninfo(host=params.host, port=params.port,
                                          dbname=params.dbname, user=params.user,
                                          password=params.password or None, connect_timeout=10)


def prepare_database(settings: Settings) -> None:
    """Create what must exist before initialise_store creates the tables."""
    if settings.database_url is None:
        try:
            settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseUnavailableError(
                f"cannot create {settings.sqlite_path.parent}: {error}") from error
        return
    try:
        with psycopg.connect(postgres_conninfo(settings), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(settings.postgres_schema)))
    except psycopg.OperationalError as error:
        raise DatabaseUnavailableError(
            f"cannot reach {settings.describe}: {str(error).strip()}") from error


@contextmanager
def table_creation_lock(settings: Settings) -> Iterator[None]:
    """Held by initialise_store only (compliance init, migrate, demo): two of them
    starting together each create the library's tables and functions, and PostgreSQL
    refuses concurrent CREATE OR REPLACE ("tuple concurrently updated"), so they take
    turns under an advisory lock. Other commands run no DDL and never wait here."""
    if settings.database_url is None:
        yield
        return
    key = int.from_bytes(hashlib.sha256(settings.postgres_schema.encode()).digest()[:4],
                         "big")
    try:
        conn = psycopg.connect(postgres_conninfo(settings), autocommit=True)
    except psycopg.OperationalError as error:
        raise DatabaseUnavailableError(
            f"cannot reach {settings.describe}: {str(error).strip()}") from error
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
