"""A selection plan previewed before it is committed, narrowed to one district if asked,
and a committed plan read back with the assessments it opened.

Why: the selection use case (application.targeting.selection) records a plan every time
it runs. A page that shows the picks first and opens the assessments only when the
analyst confirms needs the same computation without the record: the preview runs the
same planner with nothing saved and nothing opened, so what it shows is exactly what the
confirmation will pick from the same scores (same seed, same data). The plan's read-back
finds each pick's assessment by the receipt its opening left (the idempotency key the
planner gives each opening), never by scanning the log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.access import Principal
from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.receipts import CommandReceipt, receipt_id
from application.targeting.selection import PlanResult, ScoresPort, SelectionPlanner
from domain.selection_plan import SelectionPick, SelectionPlan
from domain.values import Period


class DistrictScores:
    """The scores a planner draws from, only one district's."""

    def __init__(self, scores: ScoresPort, district: str) -> None:
        self.scores = scores
        self.district = district

    def all_scores(self) -> list[dict[str, Any]]:
        return [row for row in self.scores.all_scores() if row["district"] == self.district]


def _record_nothing(*_aggregates: Any, **_options: Any) -> None:
    """A preview's save: the plan is shown, not recorded."""


def _open_nothing(*_args: Any, **_kwargs: Any) -> str:
    raise AssertionError("a preview never opens an assessment")


def planner_for(base: SelectionPlanner, district: str | None, *,
                preview: bool) -> SelectionPlanner:
    scores: ScoresPort = base.scores if district is None else DistrictScores(base.scores,
                                                                             district)
    return SelectionPlanner(scores, base.accounts,
                            _record_nothing if preview else base.save,
                            _open_nothing if preview else base.open_assessment,
                            base.clock, authorise=base.authorise)


@dataclass(frozen=True)
class PlanRequest:
    period: Period
    capacity: int
    random_share: float
    exclude_months: int
    seed: int
    district: str | None


def preview(base: SelectionPlanner, wanted: PlanRequest, actor: str) -> PlanResult:
    """The picks the plan would make now, with why each: nothing recorded or opened."""
    return planner_for(base, wanted.district, preview=True).plan(
        wanted.period, wanted.capacity, wanted.random_share, actor=actor,
        exclude_months=wanted.exclude_months, seed=wanted.seed, open_cases=False)


def commit(base: SelectionPlanner, wanted: PlanRequest, actor: str) -> PlanResult:
    """The plan recorded and each pick's assessment opened (the period must have ended)."""
    return planner_for(base, wanted.district, preview=False).plan(
        wanted.period, wanted.capacity, wanted.random_share, actor=actor,
        exclude_months=wanted.exclude_months, seed=wanted.seed, open_cases=True)


@dataclass
class RecordedPlan:
    plan_id: str
    period_start: str
    period_end: str
    capacity: int
    random_share: float
    exclude_months: int
    seed: int
    actor: str
    at: Any
    excluded: dict[str, int]
    picks: list[SelectionPick]
    """The picks the caller may see (a district's analyst: its districts' only)."""
    hidden_picks: int
    opened: dict[str, str] = field(default_factory=dict)
    """Importer number -> the assessment its opening recorded."""


def recorded_plan(app: ComplianceCases, caller: Principal, plan_id: str) -> RecordedPlan:
    """A recorded plan and the assessments it opened; not found when it is not a plan or
    none of its picks is within the caller's scope."""
    try:
        identity = UUID(plan_id)
    except ValueError:
        raise NotFoundError("selection plan", plan_id[:60]) from None
    found = app.find_aggregate(identity)
    if not isinstance(found, SelectionPlan):
        raise NotFoundError("selection plan", plan_id)
    planned: Any = next(event for event, _ in app.replay_history(identity))
    picks = [p for p in found.picks if caller.sees(p.district, p.importer_number)]
    if found.picks and not picks:
        raise NotFoundError("selection plan", plan_id)  # another district's: as if none
    plan = RecordedPlan(
        str(identity), planned.period_start, planned.period_end, planned.capacity,
        planned.random_share, planned.exclude_months, planned.seed, planned.actor,
        planned.timestamp, dict(planned.excluded), picks, len(found.picks) - len(picks))
    for pick in picks:
        receipt = app.find_aggregate(receipt_id(
            f"selection:{identity}:{pick.importer_number}"))
        if isinstance(receipt, CommandReceipt):
            plan.opened[pick.importer_number] = str(json.loads(receipt.result))
    return plan
