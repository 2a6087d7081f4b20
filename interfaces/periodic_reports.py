"""The periodic reports composed over the application's own database: the sources port of
application.reports answered with the views (caught up to the stated position first), the
risk and targeting results tables and the commands' own query functions; and the two
builders with their figures wired in, for the command line, the API and the scheduler.

Composition lives here because the application layer may not import the views or the
tables (tests/test_architecture.py); the builders themselves stay in application.reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from application.compliance_cases import ComplianceCases
from application.reports.annual_report import build_annual
from application.reports.document import ReportDocument
from application.reports.plan_report import build_plan
from application.reports.sources import Row, SampleCell, SelectionPlanFacts
from application.targeting.effectiveness import Effectiveness, effectiveness_of
from domain.errors import InvalidValueError
from domain.targeting_rule import TargetingRule
from interfaces.analysis_composition import risk_tables, targeting_tables
from projections import queries, report_queries
from projections.catalogue import VIEWS
from projections.worker import Projections

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The as-of time of an empty ledger (position 0): a fixed time, never the clock."""


class LedgerSources:
    """The `PeriodicSources` port over one application's database."""

    def __init__(self, app: ComplianceCases) -> None:
        self.app = app
        self.projections = Projections(app)
        self.store = self.projections.store
        self.risk = risk_tables(app)

    def prepare(self, position: int | None) -> int:
        head = self.app.recorder.max_notification_id() or 0
        chosen = head if position is None else int(position)
        if chosen < 0 or chosen > head:
            raise InvalidValueError("position", str(position),
                                    f"the log's positions run from 0 to {head}")
        for view in VIEWS.values():
            at = self.store.position(view) or 0
            if at > chosen:
                raise InvalidValueError(
                    "position", str(position),
                    f"the views already reflect position {at}; a report is computed at or "
                    "after the views' position")
            self.projections.runner(view).catch_up(until=chosen)
        return chosen

    def as_of(self, position: int) -> datetime:
        found = report_queries.recorded_at(self.store, position) if position else None
        if found is None:
            return EPOCH
        moment = datetime.fromisoformat(found)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def today(self) -> date:
        return self.app.clock().date()

    def latest_risk_run(self) -> Row | None:
        return self.risk.latest_run()

    def value_curve(self, district: str | None) -> list[tuple[float, int]]:
        return self.risk.value_curve(district)

    def rates(self, grain: str) -> list[Row]:
        return self.risk.rates(grain)

    def top_risks(self, limit: int, district: str | None) -> list[Row]:
        return self.risk.ranking(limit, district)

    def rules(self) -> list[TargetingRule]:
        return self.app.rules()

    def selection_plan(self, start: date, end: date) -> SelectionPlanFacts | None:
        for plan_id in report_queries.selection_plan_ids(self.store):
            stored = self.app.recorder.select_events(UUID(plan_id), limit=1)
            if not stored:
                continue
            event: Any = self.app.decode_stored_event(stored[0])
            first = date.fromisoformat(event.period_start)
            last = date.fromisoformat(event.period_end)
            if first <= end and last >= start:
                return SelectionPlanFacts(
                    plan_id=plan_id, recorded_at=event.timestamp, period_start=first,
                    period_end=last, capacity=int(event.capacity),
                    random_share=float(event.random_share),
                    exclude_months=int(event.exclude_months), picks=tuple(event.picks),
                    excluded=dict(event.excluded))
        return None

    def effectiveness(self, start: date, end: date) -> Effectiveness:
        return effectiveness_of(targeting_tables(self.app).sample_groups(start, end))

    def plan_progress(self, today: date, district: str | None) -> list[Row]:
        return queries.plan_progress(self.store, today, district=district)

    def enforcement(self, district: str | None) -> list[Row]:
        return queries.enforcement_statistics(self.store, district=district)

    def verifications_due(self, until: date, today: date, district: str | None) -> list[Row]:
        rows = report_queries.verifications_due(self.store, until, district)
        for row in rows:
            due = date.fromisoformat(str(row["due_on"])[:10])
            row["days_overdue"] = max(0, (today - due).days)
        return rows

    def trade_by_year(self, last_year: int) -> list[Row]:
        return report_queries.trade_by_year(self.store, last_year)

    def sample_cells(self, year: int) -> list[SampleCell]:
        return [SampleCell(str(chapter), str(district), str(selection), str(area), int(lines),
                           int(errors or 0), int(loss or 0), int(value or 0))
                for chapter, district, selection, area, lines, errors, loss, value
                in report_queries.sample_cells(self.store, year)]

    def enforcement_in_year(self, year: int) -> list[Row]:
        return report_queries.enforcement_in_year(self.store, year)

    def plan_closures(self, year: int) -> list[Row]:
        return report_queries.plan_closures(self.store, year)

    def district_activity(self, year: int) -> list[Row]:
        return report_queries.district_activity(self.store, year)

    def findings_in_year(self, year: int) -> list[Row]:
        return report_queries.findings_in_year(self.store, year)


def build_plan_report(app: ComplianceCases, period: str, district: str | None, *,
                      position: int | None = None) -> ReportDocument:
    """The Trade Compliance and Enforcement Plan for a year, quarter or month."""
    return build_plan(LedgerSources(app), period, district, position=position)


def build_annual_report(app: ComplianceCases, year: int | str, *,
                        position: int | None = None) -> ReportDocument:
    """The annual report to the oversight body for a calendar year."""
    return build_annual(LedgerSources(app), year, position=position)
