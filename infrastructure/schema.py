"""What a ledger's database holds, read without writing: whether it was initialised, at
which schema version and with which hash-chain scheme (the `compliance_meta` table).

Every command except `compliance init`, `migrate` and `demo` opens the store read-only as
far as the schema goes: it checks here first and refuses (exit 6) rather than create
anything. The checks connect directly, so a SQLite file that does not exist is never
created and a PostgreSQL role that can only SELECT can run them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from urllib.parse import quote

import psycopg
from psycopg import sql

from infrastructure.hash_chain import CHAIN_SCHEME
from infrastructure.settings import Settings
from infrastructure.stores import DatabaseUnavailableError, postgres_conninfo

META_TABLE = "compliance_meta"
SCHEMA_VERSION = 7
"""Raised whenever `initialise_store` creates or changes something existing stores lack
(tables, columns, indexes); `compliance migrate` brings a store up to it.
2: the work list's due items describe themselves (wl_due.description) and name the officer
responsible; migrate drops the old work-list tables, rebuilt from the log.
3: people's sessions (compliance_sessions) for the HTTP API; users are events, so the
ledger's history needs nothing, but commands now need their actors to be users: migrate,
then create the first admin with `compliance users add ... --actor system:setup`.
4: the scheduler and e-mail: the outbox (compliance_outbox), the scheduler's job runs and
leader (compliance_scheduler_*), and the work list's due items know their last reminder
and overdue flag (the work-list view is rebuilt from the log); the people view; the
register's paging index in code-point order; the report archive
(compliance_report_index, compliance_report_content).
5: the web pages: evidence documents uploaded for plan actions, kept by their SHA-256
(compliance_evidence_documents).
6: the analyst's dashboard figures (picture and charts) per scope and latest bulk run,
computed once and read by every process (compliance_analyst_figures); derived data,
recomputed when missing, so migrate only creates the empty table.
7 (PostgreSQL): the change feed — a sequence and a function that announce, in the
transaction that writes events or ends sessions, what API processes must forget
(infrastructure.change_feed_sql); the insert function calls it. Without them a bulk save
would fail, so a store of version 6 is refused until `compliance migrate`."""
SCHEMA_VERSION_KEY = "schema_version"
CHAIN_SCHEME_KEY = "chain_scheme"

SQLITE_EVENTS_TABLE = "stored_events"
POSTGRES_EVENTS_TABLE = "compliancecases_events"
"""The library names the events table after the application (ComplianceCases)."""


class LedgerUnavailableError(DatabaseUnavailableError):
    """The database answers but holds no ledger this version can open."""


def meta_ddl() -> list[str]:
    """For SqlTables.create ({schema} before table names)."""
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{META_TABLE} "
            "(key TEXT PRIMARY KEY, value TEXT NOT NULL)"]


UPSERT_META = ("INSERT INTO {table} (key, value) VALUES (?, ?) "
               "ON CONFLICT (key) DO UPDATE SET value = excluded.value")


@dataclass
class StoreState:
    """What a store holds, as found."""

    where: str
    """The SQLite path, or the PostgreSQL database and schema."""
    events_table: str
    tables: set[str] = field(default_factory=set)
    meta: dict[str, str] | None = None
    """The compliance_meta rows, or None without that table."""
    has_events: bool = False

    @property
    def has_events_table(self) -> bool:
        return self.events_table in self.tables


def ledger_location(settings: Settings) -> str:
    return str(settings.sqlite_path) if settings.database_url is None else settings.describe


def inspect_store(settings: Settings) -> StoreState:
    """Reads the store's tables and meta rows; creates nothing (not even a SQLite file)."""
    if settings.database_url is None:
        return _inspect_sqlite(settings)
    return _inspect_postgres(settings)


def _inspect_sqlite(settings: Settings) -> StoreState:
    path = settings.sqlite_path
    state = StoreState(str(path), SQLITE_EVENTS_TABLE)
    if not path.is_file():
        return state
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            state.tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if META_TABLE in state.tables:
                state.meta = {str(k): str(v) for k, v in conn.execute(
                    f"SELECT key, value FROM {META_TABLE}")}
            if SQLITE_EVENTS_TABLE in state.tables:
                state.has_events = conn.execute(
                    f"SELECT 1 FROM {SQLITE_EVENTS_TABLE} LIMIT 1").fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise DatabaseUnavailableError(f"cannot read {settings.describe}: {error}") from error
    return state


def _inspect_postgres(settings: Settings) -> StoreState:
    schema = settings.postgres_schema
    state = StoreState(settings.describe, POSTGRES_EVENTS_TABLE)
    try:
        conn = psycopg.connect(postgres_conninfo(settings), autocommit=True)
    except psycopg.OperationalError as error:
        raise DatabaseUnavailableError(
            f"cannot reach {settings.describe}: {str(error).strip()}") from error
    try:
        with conn:
            state.tables = {str(row[0]) for row in conn.execute(
                "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
                (schema,))}
            if META_TABLE in state.tables:
                state.meta = {str(k): str(v) for k, v in conn.execute(
                    sql.SQL("SELECT key, value FROM {}").format(
                        sql.Identifier(schema, META_TABLE)))}
            if POSTGRES_EVENTS_TABLE in state.tables:
                state.has_events = conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(
                    sql.Identifier(schema, POSTGRES_EVENTS_TABLE))).fetchone() is not None
    except psycopg.Error as error:
        raise DatabaseUnavailableError(
            f"cannot read {settings.describe}: {str(error).strip()}") from error
    return state


def older_scheme(state: StoreState) -> str:
    found = (state.meta or {}).get(CHAIN_SCHEME_KEY)
    return (f"the ledger at {state.where} was written with an older, unsigned hash-chain "
            f"scheme (chain_scheme {found or 'not recorded'}; this version writes and "
            f"verifies scheme {CHAIN_SCHEME}) and cannot be opened by this version; "
            "re-create it: make clean && make demo")


def check_ledger(settings: Settings) -> StoreState:
    """The store's state when this version can open it; else LedgerUnavailableError saying
    why and what to run."""
    state = inspect_store(settings)
    if state.meta is None and state.has_events:
        raise LedgerUnavailableError(older_scheme(state))
    if state.meta is None or not state.has_events_table:
        raise LedgerUnavailableError(
            f"no ledger at {ledger_location(settings)}; run compliance init")
    if state.meta.get(CHAIN_SCHEME_KEY) != str(CHAIN_SCHEME):
        raise LedgerUnavailableError(older_scheme(state))
    check_schema_version(state)
    if version_of(state) < SCHEMA_VERSION:
        raise LedgerUnavailableError(
            f"the ledger at {state.where} has schema version {version_of(state)}, older "
            f"than this version's {SCHEMA_VERSION}; run compliance migrate")
    return state


def version_of(state: StoreState) -> int:
    raw = (state.meta or {}).get(SCHEMA_VERSION_KEY, "0")
    return int(raw) if raw.isdigit() else 0


def check_schema_version(state: StoreState) -> None:
    if version_of(state) > SCHEMA_VERSION:
        raise LedgerUnavailableError(
            f"the ledger at {state.where} has schema version {version_of(state)}, newer "
            f"than this version understands ({SCHEMA_VERSION}); upgrade compliance")
