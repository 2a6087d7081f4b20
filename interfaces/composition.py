"""The one composition root: settings -> database -> application."""

from __future__ import annotations

from datetime import UTC, datetime

from application.compliance_cases import ComplianceCases
from application.ingest.ingestion import Ingestion
from application.ports import Clock
from application.risk.risk_run import RiskRun
from application.targeting.channel import ChannelDecisions
from application.targeting.effectiveness import TargetingEffectiveness
from application.targeting.selection import SelectionPlanner
from infrastructure.account_directory import AccountDirectory
from infrastructure.ingest_tables import IngestTables
from infrastructure.risk_tables import RiskTables
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from infrastructure.stores import (
    ChainedStorage,
    DatabaseUnavailableError,
    prepare_database,
    store_environment,
    table_creation_lock,
)
from infrastructure.targeting_tables import TargetingTables


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_application(settings: Settings, clock: Clock = utc_now) -> ComplianceCases:
    prepare_database(settings)
    try:
        with table_creation_lock(settings):
            return ComplianceCases(store_environment(settings), storage=ChainedStorage(),
                                   clock=clock, workflow=settings.workflow,
                                   snapshot_interval=settings.snapshot_interval)
    except Exception as error:
        if type(error).__module__.startswith(("psycopg", "eventsourcing", "sqlite3")):
            raise DatabaseUnavailableError(
                f"cannot open the event store ({settings.describe}): {error}") from error
        raise


def build_ingestion(app: ComplianceCases) -> Ingestion:
    return Ingestion(IngestTables(SqlTables(app.recorder)), AccountDirectory(app.recorder),
                     app.save, app.clock)


def build_risk_run(app: ComplianceCases) -> RiskRun:
    return RiskRun(risk_tables(app), AccountDirectory(app.recorder), app.save, app.clock)


def risk_tables(app: ComplianceCases) -> RiskTables:
    """The risk tables, and the ingestion tables a run reads (created if missing)."""
    IngestTables(SqlTables(app.recorder))
    return RiskTables(SqlTables(app.recorder))


def build_channel(app: ComplianceCases) -> ChannelDecisions:
    return ChannelDecisions(targeting_tables(app), AccountDirectory(app.recorder), app.rules,
                            app.save, app.clock)


def targeting_tables(app: ComplianceCases) -> TargetingTables:
    risk_tables(app)  # the decisions join the risk scores and the ingested entries
    return TargetingTables(SqlTables(app.recorder))


def build_selection(app: ComplianceCases) -> SelectionPlanner:
    return SelectionPlanner(risk_tables(app), AccountDirectory(app.recorder), app.save,
                            app.open_assessment, app.clock)


def build_effectiveness(app: ComplianceCases) -> TargetingEffectiveness:
    return TargetingEffectiveness(targeting_tables(app), AccountDirectory(app.recorder))
