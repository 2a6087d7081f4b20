"""Statistics views: compliance rates (per area, industry, district, period, from
assessment findings and verification re-tests), enforcement (by kind, state, district;
amounts proposed, decided, paid; time to decision) and plan progress (actions due,
completed, overdue per plan and district)."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.assessment import Assessment
from domain.enforcement_action import EnforcementAction
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import ImprovementPlan
from projections.rows import Difference, Lookup, OnConflict, Rows
from projections.view import CODE_POINTS, Handler, View, cents

IMPORTERS, CASES, FINDINGS = "cs_importers", "cs_cases", "cs_findings"
RETESTED = OnConflict(update=("lines",))
"""A finding again for the same case and area (a second conclusion): its lines count."""


def _importer(rows: Rows, event: Any, _: int) -> None:
    rows.insert(IMPORTERS, (str(event.originator_id), event.industry))


def _case(source: str) -> Handler:
    def handler(rows: Rows, event: Any, _: int) -> None:
        rows.insert(CASES, (str(event.originator_id), event.number, source,
                            str(event.importer_id), event.district))
    return handler


def _findings(rows: Rows, event: Any, _: int) -> None:
    """Each area's finding, filed under the case's number, source and district and its
    importer's industry ('' when the importer is not known to the view)."""
    case = str(event.originator_id)
    period = event.timestamp.strftime("%Y-%m")
    industry = Lookup(IMPORTERS, Lookup(CASES, case, "importer_id"), "industry", "")
    for f in event.findings:
        rows.insert(FINDINGS, (Lookup(CASES, case, "number"), f.area.value,
                               Lookup(CASES, case, "source"), industry,
                               Lookup(CASES, case, "district"), period, f.lines_tested,
                               f.discrepancies, cents(f.revenue_loss)),
                    requires=(CASES, case), on_conflict=RETESTED)


class ComplianceStatistics(View):
    name = "compliance_statistics"
    tables: ClassVar[dict[str, str]] = {
        "cs_importers": f"importer_id TEXT {CODE_POINTS} PRIMARY KEY, industry TEXT NOT NULL",
        "cs_cases": ("case_id TEXT PRIMARY KEY, number TEXT NOT NULL, source TEXT NOT NULL, "
                     "importer_id TEXT NOT NULL, district TEXT NOT NULL"),
        "cs_findings": ("case_number TEXT NOT NULL, area TEXT NOT NULL, source TEXT NOT NULL, "
                        "industry TEXT NOT NULL, district TEXT NOT NULL, period TEXT NOT NULL, "
                        "lines INTEGER NOT NULL, discrepancies INTEGER NOT NULL, "
                        "loss_cents BIGINT NOT NULL, PRIMARY KEY (case_number, area)"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("cs_findings_district", "cs_findings", "district, period"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {
        ImporterAccount.Registered: _importer,
        Assessment.Opened: _case("assessment"),
        Assessment.FindingsIssued: _findings,
        FollowUpVerification.Scheduled: _case("verification"),
        FollowUpVerification.Concluded: _findings,
    }


ACTIONS = "es_actions"


def _es_set(column: str, value_of: Any) -> Handler:
    def handler(rows: Rows, event: Any, _: int) -> None:
        rows.update(ACTIONS, str(event.originator_id), {column: value_of(event)})
    return handler


def _proposed(rows: Rows, event: Any, _: int) -> None:
    day = event.timestamp.date()
    rows.insert(ACTIONS, (str(event.originator_id), event.number, event.kind.value,
                          "proposed", event.district, cents(event.proposed_amount), None, None,
                          day.isoformat(), day.toordinal(), None, None))


def _decided(rows: Rows, event: Any, _: int) -> None:
    day = event.timestamp.date()
    rows.update(ACTIONS, str(event.originator_id),
                {"state": "decided", "decided_cents": cents(event.decided_amount),
                 "decided_on": day.isoformat(),
                 "days_to_decision": Difference(day.toordinal(), "proposed_day")})


def _paid(rows: Rows, event: Any, _: int) -> None:
    rows.update(ACTIONS, str(event.originator_id),
                {"state": "paid", "paid_cents": cents(event.amount)})


def _state(name: str) -> Handler:
    return _es_set("state", lambda _: name)


class EnforcementStatistics(View):
    name = "enforcement_statistics"
    tables: ClassVar[dict[str, str]] = {
        "es_actions": ("case_id TEXT PRIMARY KEY, number TEXT NOT NULL, kind TEXT NOT NULL, "
                       "state TEXT NOT NULL, district TEXT NOT NULL, proposed_cents BIGINT, "
                       "decided_cents BIGINT, paid_cents BIGINT, proposed_on TEXT NOT NULL, "
                       "proposed_day INTEGER NOT NULL, decided_on TEXT, "
                       "days_to_decision INTEGER"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("es_actions_district", "es_actions", "district, kind, state"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {
        EnforcementAction.Proposed: _proposed,
        EnforcementAction.CulpabilityChanged: _es_set("proposed_cents",
                                                      lambda e: cents(e.proposed_amount)),
        EnforcementAction.ReviewConcluded: _es_set(
            "state", lambda e: "approved_for_issue" if e.approved else "rejected"),
        EnforcementAction.Issued: _state("issued"),
        EnforcementAction.PenaltyNoticeIssued: _state("penalty_notice_issued"),
        EnforcementAction.ResponseRecorded: _state("response_received"),
        EnforcementAction.Decided: _decided,
        EnforcementAction.PaymentRecorded: _paid,
        EnforcementAction.ReferredForCollection: _state("referred_for_collection"),
        EnforcementAction.Withdrawn: _state("withdrawn"),
        EnforcementAction.Closed: _state("closed"),
    }


PLANS, PLAN_ACTIONS = "pp_plans", "pp_actions"
DUE_AGAIN = OnConflict(update=("due_on",))


def _plan(rows: Rows, event: Any, _: int) -> None:
    rows.insert(PLANS, (str(event.originator_id), event.number, event.district, "draft"))


def _plan_action(rows: Rows, event: Any, _: int) -> None:
    """An action of a plan the view knows, placed as the plan is."""
    plan, action = str(event.originator_id), event.action
    rows.insert(PLAN_ACTIONS, (plan, action.action_id, Lookup(PLANS, plan, "number"),
                               Lookup(PLANS, plan, "district"), action.area.value,
                               action.due_on.isoformat(), None),
                requires=(PLANS, plan), on_conflict=DUE_AGAIN)


def _action_removed(rows: Rows, event: Any, _: int) -> None:
    rows.delete(PLAN_ACTIONS, (str(event.originator_id), event.action_id))


def _action_completed(rows: Rows, event: Any, _: int) -> None:
    rows.update(PLAN_ACTIONS, (str(event.originator_id), event.action_id),
                {"completed_on": event.completed_on.isoformat()})


def _plan_state(name: str) -> Handler:
    def handler(rows: Rows, event: Any, _: int) -> None:
        rows.update(PLANS, str(event.originator_id), {"state": name})
    return handler


class PlanProgress(View):
    name = "plan_progress"
    tables: ClassVar[dict[str, str]] = {
        "pp_plans": ("plan_id TEXT PRIMARY KEY, number TEXT NOT NULL, district TEXT NOT NULL, "
                     "state TEXT NOT NULL"),
        "pp_actions": ("plan_id TEXT NOT NULL, action_id TEXT NOT NULL, "
                       "plan_number TEXT NOT NULL, district TEXT NOT NULL, area TEXT NOT NULL, "
                       "due_on TEXT NOT NULL, completed_on TEXT, "
                       "PRIMARY KEY (plan_id, action_id)"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("pp_actions_district", "pp_actions", "district, due_on"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {
        ImprovementPlan.Drafted: _plan,
        ImprovementPlan.ActionAdded: _plan_action,
        ImprovementPlan.ActionChanged: _plan_action,
        ImprovementPlan.ActionAmended: _plan_action,
        ImprovementPlan.ActionRemoved: _action_removed,
        ImprovementPlan.ActionCompleted: _action_completed,
        ImprovementPlan.Submitted: _plan_state("submitted"),
        ImprovementPlan.SentBack: _plan_state("draft"),
        ImprovementPlan.Approved: _plan_state("approved"),
        ImprovementPlan.ImplementationReported: _plan_state("implementation_reported"),
        ImprovementPlan.VerificationScheduled: _plan_state("verification_scheduled"),
        ImprovementPlan.ClosedEffective: _plan_state("closed_effective"),
        ImprovementPlan.Escalated: _plan_state("escalated"),
    }
