"""Composition of the analysis services: ingest, risk runs, channel decisions, selection
plans and targeting effectiveness, over the application's own database. Each service that
records events for an actor gets the application's `authorise`, so its actor is checked
like a command's."""

from __future__ import annotations

from application.compliance_cases import ComplianceCases
from application.ingest.ingestion import Ingestion
from application.risk.risk_run import RiskRun
from application.targeting.channel import ChannelDecisions
from application.targeting.effectiveness import TargetingEffectiveness
from application.targeting.selection import SelectionPlanner
from infrastructure.account_directory import AccountDirectory
from infrastructure.ingest_integrity import IngestIntegrity
from infrastructure.ingest_tables import IngestTables
from infrastructure.risk_tables import RiskTables
from infrastructure.sql_tables import SqlTables
from infrastructure.targeting_tables import TargetingTables


def build_ingestion(app: ComplianceCases) -> Ingestion:
    return Ingestion(IngestTables(SqlTables(app.recorder)), AccountDirectory(app.recorder),
                     app.save, app.clock, authorise=app.authorise)


def build_risk_run(app: ComplianceCases) -> RiskRun:
    # The run computes while its input check runs: one scan at a time leaves it a
    # processor (RiskRun.assess).
    return RiskRun(risk_tables(app), AccountDirectory(app.recorder), app.save, app.clock,
                   check_inputs=IngestIntegrity(app.recorder, scans_at_once=1).require_intact,
                   authorise=app.authorise, event_rows=app.event_rows())


def risk_tables(app: ComplianceCases) -> RiskTables:
    """The risk tables (created by initialise_store, like every table)."""
    return RiskTables(SqlTables(app.recorder))


def build_channel(app: ComplianceCases) -> ChannelDecisions:
    return ChannelDecisions(targeting_tables(app), AccountDirectory(app.recorder), app.rules,
                            app.save, app.clock,
                            check_inputs=IngestIntegrity(app.recorder).require_intact,
                            authorise=app.authorise)


def targeting_tables(app: ComplianceCases) -> TargetingTables:
    return TargetingTables(SqlTables(app.recorder))


def build_selection(app: ComplianceCases) -> SelectionPlanner:
    return SelectionPlanner(risk_tables(app), AccountDirectory(app.recorder), app.save,
                            app.open_assessment, app.clock, authorise=app.authorise)


def build_effectiveness(app: ComplianceCases) -> TargetingEffectiveness:
    return TargetingEffectiveness(targeting_tables(app), AccountDirectory(app.recorder))
