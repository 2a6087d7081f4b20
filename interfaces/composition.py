"""The one composition root: settings -> database -> application. The analysis services
(ingest, risk, targeting) are composed in interfaces.analysis_composition, which loads
numpy, scipy and pyarrow: commands that do not need them start faster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from application.compliance_cases import ComplianceCases
from application.ports import Clock, PasswordHasher, SessionStore
from infrastructure.hash_chain import CHAIN_SCHEME
from infrastructure.schema import (
    CHAIN_SCHEME_KEY,
    META_TABLE,
    SCHEMA_VERSION,
    SCHEMA_VERSION_KEY,
    UPSERT_META,
    LedgerUnavailableError,
    StoreState,
    check_ledger,
    check_schema_version,
    inspect_store,
    meta_ddl,
    older_scheme,
    version_of,
)
from infrastructure.settings import Settings
from infrastructure.signing_keys import LazySigner, ensure_key
from infrastructure.stores import (
    ChainedStorage,
    DatabaseUnavailableError,
    prepare_database,
    store_environment,
    table_creation_lock,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_application(settings: Settings, clock: Clock = utc_now, *,
                      access_control: bool = True, cache_size: int = 0) -> ComplianceCases:
    """The application on an initialised ledger. No DDL and no lock: a role that can only
    SELECT can read, and commands never queue behind one another at start-up. Without a
    ledger this version can open: LedgerUnavailableError (exit 6) saying what to run.

    Every interface gets access control (each command's actor must be a user holding a
    role for it); only the demo and benchmark loaders, which create the users their
    actors name, and the application's own tests switch it off.

    `cache_size`: a long-running server keeps up to this many aggregates in memory and
    brings a cached one up to date with one query for the events after it (the library's
    fast-forwarding cache; each caller gets a copy, so a refused command leaves the cache
    untouched). A one-shot CLI process gains nothing from it."""
    check_ledger(settings)
    app = _open_application(settings, clock, access_control, cache_size)
    app.after_bulk_run = _analyst_figures_after_bulk_runs(app)
    return app


def _analyst_figures_after_bulk_runs(app: ComplianceCases) -> Callable[[int], None]:
    """The analysts' dashboard figures computed when a bulk run this process records ends
    (interfaces.analyst_figures), so that no reader waits for them afterwards."""
    def refresh(position: int) -> None:
        # Imported here: it loads the figure store (numpy, pyarrow) when a bulk run records.
        from interfaces.analyst_refresh import refresh_after_bulk_run

        refresh_after_bulk_run(app, position)
    return refresh


def _open_application(settings: Settings, clock: Clock, access_control: bool = True,
                      cache_size: int = 0) -> ComplianceCases:
    environment = store_environment(settings)
    if cache_size:
        environment["AGGREGATE_CACHE_MAXSIZE"] = str(cache_size)
        environment["AGGREGATE_CACHE_FASTFORWARD"] = "y"
    try:
        return ComplianceCases(environment,
                               storage=ChainedStorage(LazySigner(settings.seal_key_path)),
                               clock=clock, workflow=settings.workflow,
                               snapshot_interval=settings.snapshot_interval,
                               access_control=access_control)
    except Exception as error:
        if _is_database_error(error):
            raise DatabaseUnavailableError(
                f"cannot open the event store ({settings.describe}): {error}") from error
        raise


def _is_database_error(error: BaseException) -> bool:
    return type(error).__module__.startswith(("psycopg", "eventsourcing", "sqlite3"))


@dataclass(frozen=True)
class StoreInitialised:
    """What initialise_store found and did."""

    where: str
    created: list[str]
    """Tables that did not exist before."""
    previous_version: int | None
    """The schema version recorded before (None: the store had no ledger)."""
    reset_views: list[str] = field(default_factory=list)
    """Views whose tables changed: dropped, to be rebuilt from the log."""

    def lines(self) -> list[str]:
        if self.previous_version is None:
            head = f"ledger created at {self.where}"
        elif self.previous_version < SCHEMA_VERSION:
            head = (f"ledger at {self.where} migrated from schema version "
                    f"{self.previous_version}")
        elif self.created or self.reset_views:
            head = f"ledger at {self.where} repaired"
        else:
            head = f"ledger at {self.where} already current: nothing to do"
        lines = [f"{head} (schema version {SCHEMA_VERSION}, chain scheme {CHAIN_SCHEME})"]
        if self.created:
            lines.append(f"created {len(self.created)} table(s): {', '.join(self.created)}")
        if self.reset_views:
            lines.append(f"reset view(s) whose tables changed: {', '.join(self.reset_views)}"
                         "; the next reading command (or compliance project --once) "
                         "rebuilds them from the log")
        return lines


def initialise_store(settings: Settings) -> StoreInitialised:
    """Create everything a ledger needs, or bring an existing one up to the current schema
    (idempotent): the library's event and snapshot tables, types and functions, the
    ingestion, risk and targeting tables, the seal heads and the people's sessions
    (compliance_sessions), every view's tables and the views' tracking table, and the
    compliance_meta rows (schema version, chain scheme).

    The only place that runs DDL and the only place that takes the start-up advisory lock:
    `compliance init`, `compliance migrate`, `compliance demo` and the test fixtures all
    call it. A ledger whose events were written under an older hash-chain scheme is
    refused, untouched."""
    try:
        prepare_database(settings)
        with table_creation_lock(settings):
            before = inspect_store(settings)
            check_schema_version(before)
            if before.has_events and (before.meta or {}).get(CHAIN_SCHEME_KEY) != str(
                    CHAIN_SCHEME):
                raise LedgerUnavailableError(older_scheme(before))
            if not before.has_events:
                # Only a new ledger gets a new key: a ledger with history whose key is
                # missing must not silently start signing with another one.
                ensure_key(settings.seal_key_path, settings.seal_public_key_path)
            app = _open_application(settings, utc_now)
            try:
                reset = _create_everything(app)
            finally:
                app.close()
            after = inspect_store(settings)
    except Exception as error:
        if _is_database_error(error):  # e.g. a role that may not create: exit 6, said why
            raise DatabaseUnavailableError(
                f"cannot initialise the ledger ({settings.describe}): "
                f"{str(error).strip()}") from error
        raise
    return StoreInitialised(after.where, sorted(after.tables - before.tables),
                            _previous_version(before), reset)


def _previous_version(before: StoreState) -> int | None:
    return None if before.meta is None else version_of(before)


def _create_everything(app: ComplianceCases) -> list[str]:
    """Returns the views dropped because their tables changed (rebuilt from the log by
    the next catch-up)."""
    # Imported here: they load pyarrow and numpy, which other commands do without.
    from eventsourcing.postgres import PostgresRecorder
    from eventsourcing.sqlite import SQLiteRecorder

    from infrastructure.evidence_store import evidence_ddl
    from infrastructure.figure_store import figures_ddl
    from infrastructure.ingest_tables import IngestTables
    from infrastructure.outbox import outbox_ddl
    from infrastructure.postgres_recorder import LockingFunctionApplicationRecorder
    from infrastructure.report_archive import report_ddl
    from infrastructure.risk_tables import RiskTables
    from infrastructure.scheduler_state import scheduler_ddl
    from infrastructure.seal import seal_ddl
    from infrastructure.session_store import session_ddl
    from infrastructure.sql_tables import SqlTables
    from infrastructure.targeting_tables import TargetingTables
    from projections.catalogue import VIEWS
    from projections.stores import view_store

    recorders = [app.recorder, *([app.snapshots.recorder] if app.snapshots else [])]
    for recorder in recorders:
        assert isinstance(recorder, SQLiteRecorder | PostgresRecorder), recorder
        recorder.create_table()
    if isinstance(app.recorder, LockingFunctionApplicationRecorder):
        app.recorder.create_histories_function(
            getattr(app.snapshots.recorder, "events_table_name", None)
            if app.snapshots else None)
    tables = SqlTables(app.recorder)
    for kind in (IngestTables, RiskTables, TargetingTables):
        kind.create(tables)
    tables.create(seal_ddl())
    tables.create(session_ddl())
    tables.create(scheduler_ddl())
    tables.create(outbox_ddl())
    tables.create(report_ddl(tables.postgres))
    tables.create(evidence_ddl(tables.postgres))
    tables.create(figures_ddl(tables.postgres))
    views = view_store(app.recorder, app.name)
    views.create_tracking()
    reset = []
    for view in VIEWS.values():
        if views.outdated(view):  # derived data: dropped, then rebuilt from the log
            views.drop(view)
            reset.append(view.name)
        views.create(view)
    tables.create(meta_ddl())
    with tables.transaction() as cursor:
        for key, value in ((SCHEMA_VERSION_KEY, SCHEMA_VERSION),
                           (CHAIN_SCHEME_KEY, CHAIN_SCHEME)):
            tables.execute_in(cursor, UPSERT_META.format(table=tables.name(META_TABLE)),
                              (key, str(value)))
    return reset


def build_password_hasher(settings: Settings) -> PasswordHasher:
    """argon2id with the settings' cost: every interface that hashes or checks a password
    (the CLI's `users`, the demo, the HTTP login) must use the same parameters, or logins
    would rehash back and forth between them."""
    from infrastructure.passwords import Argon2Hasher

    return Argon2Hasher(time_cost=settings.argon2_time_cost,
                        memory_cost=settings.argon2_memory_kib)


def build_session_store(app: ComplianceCases, settings: Settings) -> SessionStore | None:
    """The people's sessions, in the ledger's own database (compliance_sessions, created by
    initialise_store): the CLI ends a user's sessions when it disables them or resets their
    password, so a stolen cookie stops working at once. None for a ledger created before
    sessions existed and not migrated since: it has no session to end."""
    from infrastructure.session_store import SESSIONS_TABLE, SqlSessionStore
    from infrastructure.sql_tables import SqlTables

    if SESSIONS_TABLE not in inspect_store(settings).tables:
        return None
    return SqlSessionStore(SqlTables(app.recorder),
                           idle=timedelta(minutes=settings.session_idle_minutes),
                           absolute=timedelta(hours=settings.session_absolute_hours))
