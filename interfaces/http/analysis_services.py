"""The analysis services the HTTP resources share (ingest, risk runs, channel decisions,
selection plans, targeting effectiveness), built once per process on first use and kept on
HttpServices: they hold no per-request state, only the application's tables, so one set
serves every request thread.

They are composed as interfaces.analysis_composition composes them for the CLI, with one
difference: a selection plan draws only from the risk scores the caller may see (see
ScopedScores), so a district analyst plans for its districts and never learns another
district's ranking from a plan's picks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request

from application.access import current_caller
from application.compliance_cases import ComplianceCases
from application.ingest.ingestion import Ingestion
from application.risk.risk_run import RiskRun
from application.targeting.channel import ChannelDecisions
from application.targeting.effectiveness import TargetingEffectiveness
from application.targeting.selection import SelectionPlanner
from domain.errors import InvalidValueError
from infrastructure.account_directory import AccountDirectory
from infrastructure.ingest_tables import IngestTables
from infrastructure.risk_tables import RiskTables
from infrastructure.sql_tables import SqlTables
from interfaces.analysis_composition import (
    build_channel,
    build_effectiveness,
    build_ingestion,
    build_risk_run,
    risk_tables,
)
from interfaces.http.auth import services_of
from interfaces.http.problems import InvalidParam, InvalidRequestError
from interfaces.http.services import HttpServices


class ScopedScores:
    """The risk scores a selection plan draws from, narrowed to the caller's scope (the
    plan runs inside `acting_as(caller)`); unscoped outside a request."""

    def __init__(self, tables: RiskTables) -> None:
        self.tables = tables

    def all_scores(self) -> list[dict[str, Any]]:
        rows = self.tables.all_scores()
        caller = current_caller()
        if caller is None:
            return rows
        return [row for row in rows if caller.sees(row["district"], row["importer_number"])]


@dataclass(frozen=True)
class AnalysisServices:
    ingestion: Ingestion
    ingest_tables: IngestTables
    risk_run: RiskRun
    risk_tables: RiskTables
    channel: ChannelDecisions
    selection: SelectionPlanner
    effectiveness: TargetingEffectiveness


def build_analysis(app: ComplianceCases) -> AnalysisServices:
    scores = risk_tables(app)
    return AnalysisServices(
        ingestion=build_ingestion(app),
        ingest_tables=IngestTables(SqlTables(app.recorder)),
        risk_run=build_risk_run(app),
        risk_tables=scores,
        channel=build_channel(app),
        selection=SelectionPlanner(ScopedScores(scores), AccountDirectory(app.recorder),
                                   app.save, app.open_assessment, app.clock,
                                   authorise=app.authorise),
        effectiveness=build_effectiveness(app))


_BUILDING = threading.Lock()


def analysis_of(services: HttpServices) -> AnalysisServices:
    found = services.analysis
    if isinstance(found, AnalysisServices):
        return found
    with _BUILDING:  # two first requests at once build one set, not two
        if not isinstance(services.analysis, AnalysisServices):
            services.analysis = build_analysis(services.app)
        built = services.analysis
    assert isinstance(built, AnalysisServices)
    return built


def analysis(request: Request[Any, Any, Any]) -> AnalysisServices:
    return analysis_of(services_of(request))


def checked(*checks: Callable[[], Any]) -> list[Any]:
    """Runs every parser and refuses with all the bad fields at once, each named as the
    domain names it (period_end, conditions.origin, ...), unlike parse_fields, which
    names them by the body field that was parsed."""
    values: list[Any] = []
    problems: list[InvalidParam] = []
    for check in checks:
        try:
            values.append(check())
        except InvalidValueError as error:
            problems.append(InvalidParam(error.field, error.reason))
    if problems:
        raise InvalidRequestError(problems)
    return values
