"""What the ImprovementPlan tests share: the areas, the days and the plan steps taken
with the usual actor and reason."""


from datetime import date, datetime, timedelta
from decimal import Decimal

from domain.improvement_plan import ImprovementPlan
from domain.reference import ComplianceArea

from .builders import (
    DUE_ON,
    IMPORTER_STAFF,
    OFFICER,
    REASON,
    TODAY,
    VERIFICATION_NUMBER,
    at,
    evidence,
)

VALUE, CLASSIFICATION, ORIGIN = (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION,
                                 ComplianceArea.ORIGIN)
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)
LATER = at(30)


def add(plan: ImprovementPlan, area: ComplianceArea | str = VALUE, *,
        due_on: date | str = DUE_ON, today: date = TODAY, when: datetime = LATER) -> str:
    return plan.add_action(area=area, description="reconcile invoices to declarations",
                           owner=IMPORTER_STAFF, due_on=due_on, today=today,
                           actor=IMPORTER_STAFF, reason=REASON, at=when)


def change(plan: ImprovementPlan, action_id: str = "A1", *,
           area: ComplianceArea | str = VALUE, due_on: date | str = DUE_ON) -> None:
    plan.change_action(action_id, area=area, description="monthly invoice reconciliation",
                       owner="user:compliance.qian", due_on=due_on, today=TODAY,
                       actor=IMPORTER_STAFF, reason="owner changed", at=LATER)


def amend(plan: ImprovementPlan, action_id: str = "A1", *, due_on: date | str = DUE_ON,
          reason: str = "supplier audit moved") -> None:
    plan.amend_action(action_id, description="quarterly supplier audit",
                      owner="user:compliance.qian", due_on=due_on, today=TODAY, actor=OFFICER,
                      reason=reason, at=LATER)


def complete(plan: ImprovementPlan, action_id: str = "A1", *,
             completed_on: date | str = TODAY, today: date = TODAY) -> None:
    plan.complete_action(action_id, evidence=evidence(), completed_on=completed_on,
                         today=today, actor=IMPORTER_STAFF, reason="done", at=LATER)


def close(plan: ImprovementPlan, *, verification_number: str | None = VERIFICATION_NUMBER,
          effective: bool = True) -> None:
    plan.close_effective(verification_number=verification_number,
                         concluded_effective=effective, verified_rate=Decimal("0.9900"),
                         actor=OFFICER, reason="verification effective", at=LATER)


def last_event(plan: ImprovementPlan) -> ImprovementPlan.Event:
    return plan.pending_events[-1]  # type: ignore[return-value]
