"""Builders and assertions shared by the domain unit tests.

Everything here is pure: fixed timezone-aware datetimes, no clock, no I/O.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from domain.assessment import Assessment, FindingsPolicy, SampleTest
from domain.enforcement_action import EnforcementAction
from domain.errors import DomainError, InvalidValueError, RuleViolationError
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount, Registration, importer_account_id
from domain.improvement_plan import Evidence, ImprovementPlan
from domain.penalties import CapPolicy, Culpability, PenaltyBasis
from domain.reference import ComplianceArea, ControlRating
from domain.values import Period

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""'Now' for every test: Monday 2 March 2026, 09:00 UTC."""
TODAY = T0.date()
BEIJING = timezone(timedelta(hours=8))

ACTOR = "user:analyst.wang"
OFFICER = "user:officer.li"
MANAGER = "user:manager.chen"
REASON = "routine compliance review"

IMPORTER_NUMBER = "12-3456789AB"
REGISTERED_ON = date(2020, 1, 15)
NUMBER = "CA-2026-00001"
PERIOD = Period(date(2024, 1, 1), date(2025, 12, 31))
SCOPE = (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION)
POLICY = FindingsPolicy()


def at(minutes: int) -> datetime:
    """A fixed moment `minutes` after T0, so successive events have rising timestamps."""
    return T0 + timedelta(minutes=minutes)


def registration(**overrides: Any) -> Registration:
    fields: dict[str, Any] = {
        "importer_number": IMPORTER_NUMBER,
        "legal_name": "Harbour Fasteners Ltd",
        "district": "11",
        "industry": "73",
        "registered_on": REGISTERED_ON,
    }
    fields.update(overrides)
    return Registration.parse(**fields)


def registered_account(**overrides: Any) -> ImporterAccount:
    return ImporterAccount.register(registration(**overrides), actor=ACTOR, reason=REASON,
                                    at=T0)


def opened_assessment(scope: Iterable[ComplianceArea | str] = SCOPE, *,
                      number: str = NUMBER, period: Period = PERIOD) -> Assessment:
    return Assessment.open(number=number, importer_id=importer_account_id(IMPORTER_NUMBER),
                           importer_number=IMPORTER_NUMBER, district="11", origin="risk_selection",
                           period=period, scope=scope, actor=ACTOR, reason=REASON, at=T0)


def assigned_assessment(scope: Iterable[ComplianceArea | str] = SCOPE) -> Assessment:
    assessment = opened_assessment(scope)
    assessment.assign_officer(OFFICER, actor=ACTOR, reason=REASON, at=at(1))
    return assessment


def surveyed_assessment(
        ratings: Mapping[ComplianceArea | str, ControlRating | str] | None = None,
        scope: Iterable[ComplianceArea | str] = SCOPE) -> Assessment:
    assessment = assigned_assessment(scope)
    chosen = ratings if ratings is not None else dict.fromkeys(assessment.scope, "adequate")
    assessment.record_survey(chosen, TODAY, actor=OFFICER, reason=REASON, at=at(2))
    return assessment


def sample(area: ComplianceArea | str = "value", lines: int | str = 100,
           discrepancies: int | str = 0, value_tested: str = "100000.00",
           value_in_error: str = "0.00", revenue_loss: str = "0.00") -> SampleTest:
    return SampleTest.parse(area, lines, discrepancies, value_tested, value_in_error,
                            revenue_loss)


def assessment_in_testing(*tests: SampleTest,
                      ratings: Mapping[ComplianceArea | str, ControlRating | str] | None = None,
                      scope: Iterable[ComplianceArea | str] = SCOPE) -> Assessment:
    """Surveyed, then one sample per test given (default: a clean sample per scoped area)."""
    assessment = surveyed_assessment(ratings, scope)
    for minute, test in enumerate(tests or [sample(a) for a in assessment.scope], start=3):
        assessment.record_test(test, actor=OFFICER, reason=REASON, at=at(minute))
    return assessment


def assessment_with_findings() -> Assessment:
    assessment = assessment_in_testing()
    assessment.issue_findings(policy=POLICY, duty_paid=None, fraud_indicators=False,
                              actor=OFFICER, reason=REASON, at=at(10))
    return assessment


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


def assert_refused(aggregate: Aggregate, command: Callable[[], object],
                   error: type[DomainError], *, rule: str | None = None,
                   field: str | None = None, mentions: Iterable[str] = ()) -> DomainError:
    """Run a command that must be refused, and check the refusal left no trace: same
    version, same pending events, same state. Returns the error for further checks."""
    version, pending, state = aggregate.version, list(aggregate.pending_events), _state(aggregate)
    with pytest.raises(error) as excinfo:
        command()
    refusal = excinfo.value
    assert_names(refusal, rule=rule, field=field, mentions=mentions)
    assert aggregate.version == version
    assert aggregate.pending_events == pending
    assert _state(aggregate) == state
    return refusal


def assert_names(refusal: DomainError, *, rule: str | None = None, field: str | None = None,
                 mentions: Iterable[str] = ()) -> None:
    """The refusal names the broken rule or bad field, and its message the values involved."""
    if rule is not None:
        assert isinstance(refusal, RuleViolationError)
        assert refusal.rule == rule
    if field is not None:
        assert isinstance(refusal, InvalidValueError)
        assert refusal.field == field
        assert str(refusal).startswith(f"{field}=")
    for text in mentions:
        assert text in str(refusal), f"{text!r} not in {str(refusal)!r}"


# -- improvement plans, enforcement actions, follow-up verifications -------------------------
# Each builder stamps its events at fixed minutes below 20, so a test's own commands can use
# at(20) and later.

PLAN_NUMBER = "IP-2026-00001"
ENFORCEMENT_NUMBER = "EA-2026-00001"
VERIFICATION_NUMBER = "FV-2026-00001"
IMPORTER_ID = importer_account_id(IMPORTER_NUMBER)
IMPORTER_STAFF = "user:compliance.zhao"
"""The importer's employee who owns corrective actions."""
REVIEWERS = ("user:reviewer.he", "user:reviewer.liu", "user:reviewer.sun")
DEFICIENT = SCOPE
TARGET_RATE = Decimal("0.95")
DUE_ON = TODAY + timedelta(days=30)
CAPS = CapPolicy()


def evidence(document: str = "training-log.pdf") -> Evidence:
    """Evidence whose digest is the SHA-256 of the document name (pure; no file is read)."""
    return Evidence.parse(f"signed {document}", f"dms://evidence/{document}",
                          hashlib.sha256(document.encode()).hexdigest())


def drafted_plan(areas: Iterable[ComplianceArea] = DEFICIENT, *,
                 actor: str = OFFICER) -> ImprovementPlan:
    """Drafted by OFFICER (who issued the findings) unless another actor is given."""
    return ImprovementPlan.draft(
        number=PLAN_NUMBER, importer_id=IMPORTER_ID, importer_number=IMPORTER_NUMBER,
        district="11", assessment_number=NUMBER, deficient_areas=areas,
        target_rate=TARGET_RATE, proposal_due_on=TODAY + timedelta(days=60), actor=actor,
        reason="findings require an improvement plan", at=T0)


def plan_with_actions(*, drafted_by: str = OFFICER) -> ImprovementPlan:
    """A draft plan with action A1 for value and A2 for classification, both due DUE_ON."""
    plan = drafted_plan(actor=drafted_by)
    for minute, area in enumerate(DEFICIENT, start=1):
        plan.add_action(area=area, description=f"retrain the {area.value} desk",
                        owner=IMPORTER_STAFF, due_on=DUE_ON, today=TODAY, actor=IMPORTER_STAFF,
                        reason=REASON, at=at(minute))
    return plan


def submitted_plan(*, drafted_by: str = OFFICER) -> ImprovementPlan:
    """Drafted by `drafted_by`, submitted by the importer's IMPORTER_STAFF."""
    plan = plan_with_actions(drafted_by=drafted_by)
    plan.submit(actor=IMPORTER_STAFF, reason="plan proposed", at=at(3))
    return plan


def approved_plan() -> ImprovementPlan:
    """Approved by MANAGER: neither its drafter nor its submitter (four eyes)."""
    plan = submitted_plan()
    plan.approve(actor=MANAGER, reason="actions address every deficiency", at=at(4))
    return plan


def implemented_plan() -> ImprovementPlan:
    """Approved, with every action completed with evidence and implementation reported."""
    plan = approved_plan()
    for minute, action in enumerate(plan.actions, start=5):
        plan.complete_action(action.action_id, evidence=evidence(f"{action.action_id}.pdf"),
                             completed_on=TODAY, today=TODAY, actor=IMPORTER_STAFF,
                             reason=REASON, at=at(minute))
    plan.report_implementation(actor=IMPORTER_STAFF, reason="all actions done", at=at(7))
    return plan


def plan_awaiting_verification() -> ImprovementPlan:
    plan = implemented_plan()
    plan.schedule_verification(VERIFICATION_NUMBER, TODAY + timedelta(days=182),
                               actor="system:workflow", at=at(8))
    return plan


def closed_plan() -> ImprovementPlan:
    plan = plan_awaiting_verification()
    plan.close_effective(verification_number=VERIFICATION_NUMBER, concluded_effective=True,
                         verified_rate=Decimal("0.9900"), actor=OFFICER,
                         reason="verification effective", at=at(9))
    return plan


def escalated_plan() -> ImprovementPlan:
    plan = drafted_plan()
    plan.escalate(ENFORCEMENT_NUMBER, actor=OFFICER, reason="no plan proposed", at=at(1))
    return plan


def penalty_basis(culpability: Culpability | str = Culpability.NEGLIGENCE, *,
                  revenue_loss: str = "10000.00", domestic_value: str = "500000.00",
                  dutiable_value: str = "400000.00",
                  prior_disclosure: bool = False) -> PenaltyBasis:
    """Default cap: negligence, min(500 000, 2 x 10 000) = 20 000.00."""
    return PenaltyBasis(Culpability(culpability), Decimal(revenue_loss), Decimal(domestic_value),
                        Decimal(dutiable_value), prior_disclosure)


def proposed_action(kind: str = "penalty", **overrides: Any) -> EnforcementAction:
    """A proposal by OFFICER; monetary kinds default to 15 000.00 on the negligence basis."""
    monetary = kind in ("penalty", "liquidated_damages")
    fields: dict[str, Any] = {
        "number": ENFORCEMENT_NUMBER, "importer_id": IMPORTER_ID,
        "importer_number": IMPORTER_NUMBER, "district": "11", "kind": kind,
        "legal_basis": "19 U.S.C. 1592", "facts": "undervaluation found in the assessment",
        "source_case": NUMBER, "basis": penalty_basis() if monetary else None,
        "proposed_amount": "15000.00" if monetary else None,
        "examinations_until": (TODAY + timedelta(days=180)
                               if kind == "increased_examinations" else None),
        "cap_policy": CAPS, "actor": OFFICER, "reason": REASON, "at": T0,
    }
    fields.update(overrides)
    return EnforcementAction.propose(**fields)


def vote(action: EnforcementAction, choice: str, reviewer: str, minute: int) -> None:
    action.record_review_vote(choice, actor=reviewer, reason=f"{reviewer} says {choice}",
                              at=at(minute))


def approved_action(kind: str = "penalty", **overrides: Any) -> EnforcementAction:
    action = proposed_action(kind, **overrides)
    vote(action, "approve", REVIEWERS[0], 1)
    vote(action, "approve", REVIEWERS[1], 2)
    action.conclude_review(actor=MANAGER, reason="team approves", at=at(3))
    return action


def issued_action(kind: str = "penalty", **overrides: Any) -> EnforcementAction:
    action = approved_action(kind, **overrides)
    due = TODAY + timedelta(days=30) if action.is_monetary else None
    action.issue(response_due_on=due, today=TODAY, actor=OFFICER, reason=REASON, at=at(4))
    return action


def noticed_penalty(**overrides: Any) -> EnforcementAction:
    action = issued_action("penalty", **overrides)
    action.issue_penalty_notice(response_due_on=TODAY + timedelta(days=60), today=TODAY,
                                actor=OFFICER, reason=REASON, at=at(5))
    return action


def responded_penalty(**overrides: Any) -> EnforcementAction:
    action = noticed_penalty(**overrides)
    action.record_response("petition", "asks for mitigation: first offence", actor=OFFICER,
                           reason=REASON, at=at(6))
    return action


def decided_penalty(amount: str = "12000.00", **overrides: Any) -> EnforcementAction:
    action = responded_penalty(**overrides)
    action.decide(amount, cap_policy=CAPS, actor=MANAGER, reason="mitigated", at=at(7))
    return action


def scheduled_verification(areas: Iterable[ComplianceArea] = DEFICIENT,
                           target_rate: Decimal = TARGET_RATE,
                           due_on: date = TODAY + timedelta(days=182)) -> FollowUpVerification:
    return FollowUpVerification.schedule(
        number=VERIFICATION_NUMBER, importer_id=IMPORTER_ID, importer_number=IMPORTER_NUMBER,
        district="11", plan_number=PLAN_NUMBER, areas=areas, target_rate=target_rate,
        due_on=due_on, implementation_reported_by=IMPORTER_STAFF, actor="system:workflow",
        reason="implementation reported", at=T0)


def verification_in_testing(*tests: SampleTest, target_rate: Decimal = TARGET_RATE,
                            areas: Iterable[ComplianceArea] = DEFICIENT) -> FollowUpVerification:
    """Scheduled, then one re-test per test given (default: 300 clean lines per area)."""
    verification = scheduled_verification(areas, target_rate)
    for minute, test in enumerate(tests or [sample(a, 300) for a in verification.areas],
                                  start=1):
        verification.record_retest(test, actor=OFFICER, reason=REASON, at=at(minute))
    return verification
