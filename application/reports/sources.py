"""Where the periodic reports read their figures: the views and the results tables,
never the log. The application layer only states what it needs (this port); the
adapter in interfaces.periodic_reports answers it with the same query functions the
`stats`, `rates`, `tiers`, `risk top`, `rules list` and `effectiveness` commands use, so
a report and a command never disagree about one figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from application.targeting.effectiveness import Effectiveness
from domain.selection_plan import SelectionPick
from domain.targeting_rule import TargetingRule

Row = dict[str, Any]


@dataclass(frozen=True)
class SelectionPlanFacts:
    """The SelectionPlan event of a period, as recorded."""

    plan_id: str
    recorded_at: datetime
    period_start: date
    period_end: date
    capacity: int
    random_share: float
    exclude_months: int
    picks: tuple[SelectionPick, ...]
    excluded: dict[str, int]


@dataclass(frozen=True)
class SampleCell:
    """Examined sample lines of one year at the finest grain the reports need."""

    chapter: str
    district: str
    selection: str
    area: str
    lines: int
    discrepancies: int
    loss_cents: int
    value_cents: int


class PeriodicSources(Protocol):
    def prepare(self, position: int | None) -> int:
        """Catch the views up to `position` (the end of the log when None) and return
        the position the figures are read at."""
        ...

    def as_of(self, position: int) -> datetime:
        """The time of the last event at `position`."""
        ...

    def today(self) -> date:
        """The ledger's date (its clock), for parameter checks and days overdue."""
        ...

    # -- the risk picture (latest risk run) --
    def latest_risk_run(self) -> Row | None: ...

    def value_curve(self, district: str | None) -> list[tuple[float, int]]:
        """(annual value, tier) of every scored importer, highest value first."""
        ...

    def rates(self, grain: str) -> list[Row]: ...

    def top_risks(self, limit: int, district: str | None) -> list[Row]: ...

    # -- targeting --
    def rules(self) -> list[TargetingRule]: ...

    def selection_plan(self, start: date, end: date) -> SelectionPlanFacts | None:
        """The latest selection plan whose period overlaps start..end."""
        ...

    def effectiveness(self, start: date, end: date) -> Effectiveness:
        """Hit rates of the exams dated start..end."""
        ...

    # -- cases (views) --
    def plan_progress(self, today: date, district: str | None) -> list[Row]: ...

    def enforcement(self, district: str | None) -> list[Row]: ...

    def verifications_due(self, until: date, today: date, district: str | None) -> list[Row]: ...

    # -- the year --
    def trade_by_year(self, last_year: int) -> list[Row]: ...

    def sample_cells(self, year: int) -> list[SampleCell]: ...

    def enforcement_in_year(self, year: int) -> list[Row]:
        """Per enforcement action proposed in the year: kind, state, district, amounts."""
        ...

    def plan_closures(self, year: int) -> list[Row]:
        """Per district and outcome (ClosedEffective / Escalated): plans closed in the year."""
        ...

    def district_activity(self, year: int) -> list[Row]:
        """Per district: importers, the year's trade value, assessments opened."""
        ...

    def findings_in_year(self, year: int) -> list[Row]:
        """Assessment and verification findings of the year by source: lines, loss."""
        ...
