"""The step scenarios test_next_steps drives: for each case type, how to invoke each step
of its table with valid input (INVOKERS), the states of its lifecycle (STATES) and a way
to reach each of them with the steps it opens (SCENARIOS)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest

from domain.assessment import Assessment, AssessmentState
from domain.base import CaseAggregate
from domain.enforcement_action import (
    MONETARY,
    EnforcementAction,
    EnforcementKind,
    EnforcementState,
)
from domain.follow_up_verification import FollowUpVerification, VerificationState
from domain.importer_account import AccountStatus, ImporterAccount
from domain.improvement_plan import ImprovementPlan, PlanState
from domain.targeting_rule import RuleDefinition, RuleState, TargetingRule

from .builders import (
    ACTOR,
    CAPS,
    ENFORCEMENT_NUMBER,
    IMPORTER_STAFF,
    MANAGER,
    OFFICER,
    POLICY,
    REASON,
    REVIEWERS,
    TODAY,
    VERIFICATION_NUMBER,
    approved_action,
    approved_plan,
    assessment_in_testing,
    assessment_with_findings,
    assigned_assessment,
    at,
    closed_plan,
    escalated_plan,
    evidence,
    implemented_plan,
    issued_action,
    opened_assessment,
    plan_awaiting_verification,
    plan_with_actions,
    proposed_action,
    registered_account,
    sample,
    scheduled_verification,
    submitted_plan,
    surveyed_assessment,
    verification_in_testing,
    vote,
)

LATER = at(30)
WHEN: dict[str, Any] = {"reason": REASON, "at": LATER}
RULE = RuleDefinition.parse(name="Footwear from Viet Nam", channel="red",
                            conditions={"hs_prefix": ["6403"], "origin": ["VN"]},
                            effective_from="2026-01-01")

Invoke = Callable[[Any], object]
INVOKERS: dict[type[CaseAggregate], dict[str, Invoke]] = {
    Assessment: {
        "assign_officer": lambda a: a.assign_officer(OFFICER, actor=MANAGER, **WHEN),
        "record_survey": lambda a: a.record_survey(dict.fromkeys(a.scope, "adequate"), TODAY,
                                                   actor=OFFICER, **WHEN),
        "record_test": lambda a: a.record_test(sample("value"), actor=OFFICER, **WHEN),
        "issue_findings": lambda a: a.issue_findings(policy=POLICY, duty_paid=None,
                                                     fraud_indicators=False, actor=OFFICER,
                                                     **WHEN),
        "close_assessment": lambda a: a.close(actor=OFFICER, **WHEN),
        "cancel_assessment": lambda a: a.cancel(actor=OFFICER, **WHEN),
    },
    ImprovementPlan: {
        "add_plan_action": lambda p: p.add_action(
            area="value", description="retrain", owner=IMPORTER_STAFF,
            due_on=TODAY + timedelta(days=30), today=TODAY, actor=IMPORTER_STAFF, **WHEN),
        "change_plan_action": lambda p: p.change_action(
            "A1", area="value", description="retrain twice", owner=IMPORTER_STAFF,
            due_on=TODAY + timedelta(days=30), today=TODAY, actor=IMPORTER_STAFF, **WHEN),
        "remove_plan_action": lambda p: p.remove_action("A1", actor=IMPORTER_STAFF, **WHEN),
        "submit_plan": lambda p: p.submit(actor=IMPORTER_STAFF, **WHEN),
        "approve_plan": lambda p: p.approve(actor=MANAGER, **WHEN),
        "send_back_plan": lambda p: p.send_back(actor=MANAGER, **WHEN),
        "amend_plan_action": lambda p: p.amend_action(
            "A1", description="retrain later", owner=IMPORTER_STAFF,
            due_on=TODAY + timedelta(days=40), today=TODAY, actor=MANAGER, **WHEN),
        "complete_plan_action": lambda p: p.complete_action(
            "A1", evidence=evidence(), completed_on=TODAY, today=TODAY, actor=IMPORTER_STAFF,
            **WHEN),
        "report_implementation": lambda p: p.report_implementation(actor=IMPORTER_STAFF,
                                                                   **WHEN),
        "schedule_verification": lambda p: p.schedule_verification(
            VERIFICATION_NUMBER, TODAY + timedelta(days=182), actor="system:workflow",
            at=LATER),
        "close_effective": lambda p: p.close_effective(
            verification_number=p.verification_number, concluded_effective=True,
            verified_rate=Decimal("0.9900"), actor=OFFICER, **WHEN),
        "escalate_plan": lambda p: p.escalate(ENFORCEMENT_NUMBER, actor=MANAGER, **WHEN),
    },
    EnforcementAction: {
        "change_culpability": lambda e: e.change_culpability(
            "gross_negligence", proposed_amount=None, prior_disclosure=None, cap_policy=CAPS,
            actor=OFFICER, **WHEN),
        "record_review_vote": lambda e: e.record_review_vote("approve", actor=REVIEWERS[2],
                                                             **WHEN),
        "conclude_review": lambda e: e.conclude_review(actor=MANAGER, **WHEN),
        "issue_enforcement": lambda e: e.issue(
            response_due_on=TODAY + timedelta(days=30) if e.is_monetary else None,
            today=TODAY, actor=OFFICER, **WHEN),
        "issue_penalty_notice": lambda e: e.issue_penalty_notice(
            response_due_on=TODAY + timedelta(days=60), today=TODAY, actor=OFFICER, **WHEN),
        "record_enforcement_response": lambda e: e.record_response(
            "petition", "asks for mitigation", actor=OFFICER, **WHEN),
        "close_response_window": lambda e: e.close_response_window(
            today=TODAY + timedelta(days=365), actor="system:scheduler", **WHEN),
        "decide_enforcement": lambda e: e.decide("12000.00", cap_policy=CAPS, actor=MANAGER,
                                                 **WHEN),
        "record_payment": lambda e: e.record_payment(e.decided_amount or "1.00", TODAY,
                                                     actor=OFFICER, **WHEN),
        "refer_for_collection": lambda e: e.refer_for_collection(actor=OFFICER, **WHEN),
        "withdraw_enforcement": lambda e: e.withdraw(actor=OFFICER, **WHEN),
        "close_enforcement": lambda e: e.close(actor=MANAGER, **WHEN),
    },
    FollowUpVerification: {
        "assign_verification_officer": lambda v: v.assign_officer(OFFICER, actor=MANAGER,
                                                                  **WHEN),
        "record_retest": lambda v: v.record_retest(sample("value", 300), actor=OFFICER, **WHEN),
        "conclude_verification": lambda v: v.conclude(policy=POLICY, actor=OFFICER, **WHEN),
        "cancel_verification": lambda v: v.cancel(actor=OFFICER, **WHEN),
    },
    TargetingRule: {
        "approve_rule": lambda r: r.approve(actor=MANAGER, **WHEN),
        "publish_rule": lambda r: r.publish(actor=MANAGER, **WHEN),
        "amend_rule": lambda r: r.amend(RULE, actor=ACTOR, **WHEN),
        "retire_rule": lambda r: r.retire(actor=MANAGER, **WHEN),
    },
    ImporterAccount: {
        "assign_account_manager": lambda a: a.assign_account_manager(OFFICER, actor=MANAGER,
                                                                     **WHEN),
        "join_partnership": lambda a: a.join_partnership("trusted_trader", TODAY,
                                                         actor=OFFICER, **WHEN),
        "leave_partnership": lambda a: a.leave_partnership("trusted_trader", TODAY,
                                                           actor=OFFICER, **WHEN),
        "set_compliance_class": lambda a: a.set_compliance_class("b", actor=OFFICER, **WHEN),
        "set_tier": lambda a: a.set_tier(2, Decimal("1000.00"), Decimal("0.50"), 2025,
                                         actor=ACTOR, **WHEN),
        "suspend_importer": lambda a: a.suspend(actor=MANAGER, **WHEN),
        "reinstate_importer": lambda a: a.reinstate(actor=MANAGER, **WHEN),
        "close_importer": lambda a: a.close(actor=MANAGER, **WHEN),
        "open_case": lambda a: a.ensure_open_for_cases(),
    },
}
"""Each step of each table, taken with input that is valid for a case that allows it."""

STATES: dict[type[CaseAggregate], type[StrEnum]] = {
    Assessment: AssessmentState, ImprovementPlan: PlanState, EnforcementAction: EnforcementState,
    FollowUpVerification: VerificationState, TargetingRule: RuleState,
    ImporterAccount: AccountStatus}

EARLIER_REFUSALS = {"close_effective": "PlanCannotCloseBeforeVerification"}
"""A rule a method checks before the case's state: a plan refuses to close by naming the
verification it waits for (test_improvement_plan pins that message)."""

WORKFLOW_STEPS = {"schedule_verification", "close_effective", "open_case"}
"""Steps taken only inside another command (reporting implementation, concluding a
verification, opening a case on the importer): granted to no role by these names."""


def then(build: Callable[[], Any], *commands: str) -> Callable[[], Any]:
    """A builder that takes `commands` (by their step names) after `build`."""
    def built() -> Any:
        case = build()
        for command in commands:
            INVOKERS[type(case)][command](case)
        return case
    return built


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[], CaseAggregate]
    state: str
    opens: tuple[str, ...]
    """The steps open in this state: the lifecycle, as a reader checks it."""


def rejected(kind: str) -> EnforcementAction:
    action = proposed_action(kind)
    vote(action, "reject", REVIEWERS[0], 1)
    vote(action, "reject", REVIEWERS[1], 2)
    action.conclude_review(actor=MANAGER, reason="team rejects", at=at(3))
    return action


def enforcement_scenarios(kind: str) -> list[Scenario]:
    """Every state an action of `kind` reaches (a non-monetary one is never noticed,
    decided or paid), by its own steps."""
    state = EnforcementState
    w, answer = "withdraw_enforcement", "record_enforcement_response"

    def proposed() -> EnforcementAction:
        return proposed_action(kind)

    def issued() -> EnforcementAction:
        return issued_action(kind)

    common = [
        Scenario("proposed", proposed, state.PROPOSED,
                 (("change_culpability",) if kind in MONETARY else ())
                 + ("record_review_vote", "conclude_review", w)),
        Scenario("approved", lambda: approved_action(kind), state.APPROVED_FOR_ISSUE,
                 ("issue_enforcement", w)),
        Scenario("rejected", lambda: rejected(kind), state.REJECTED, ()),
        Scenario("withdrawn", then(proposed, w), state.WITHDRAWN, ()),
    ]
    if kind not in MONETARY:
        close = "close_enforcement"
        return [*common,
                Scenario("issued", issued, state.ISSUED, (answer, w, close)),
                Scenario("answered", then(issued, answer), state.RESPONSE_RECEIVED,
                         (answer, w, close)),
                Scenario("closed", then(issued, close), state.CLOSED, ())]
    notice, decide = "issue_penalty_notice", "decide_enforcement"
    noticed, decided = then(issued, notice), then(issued, notice, answer, decide)
    return [*common,
            Scenario("issued", issued, state.ISSUED, (notice, answer, w)),
            Scenario("answered pre-penalty notice", then(issued, answer),
                     state.RESPONSE_RECEIVED, (notice, answer, w)),
            Scenario("noticed", noticed, state.PENALTY_NOTICE_ISSUED,
                     (answer, "close_response_window", decide, w)),
            Scenario("answered penalty notice", then(noticed, answer),
                     state.RESPONSE_RECEIVED, (answer, decide, w)),
            Scenario("unanswered", then(noticed, "close_response_window"),
                     state.RESPONSE_OVERDUE, (answer, decide, w)),
            Scenario("decided", decided, state.DECIDED,
                     ("record_payment", "refer_for_collection")),
            Scenario("paid", then(decided, "record_payment"), state.PAID,
                     ("close_enforcement",)),
            Scenario("referred", then(decided, "refer_for_collection"),
                     state.REFERRED_FOR_COLLECTION, ("close_enforcement",)),
            Scenario("closed", then(decided, "record_payment", "close_enforcement"),
                     state.CLOSED, ())]


def not_effective() -> FollowUpVerification:
    verification = verification_in_testing(sample("value", 300, 30),
                                           sample("classification", 300, 30))
    verification.conclude(policy=POLICY, actor=OFFICER, reason=REASON, at=at(10))
    return verification


ASSESSMENT_WORK = ("assign_officer", "record_survey", "record_test", "issue_findings")
DRAFTING = ("add_plan_action", "change_plan_action", "remove_plan_action", "submit_plan")
RETESTING = ("assign_verification_officer", "record_retest")
SCENARIOS: dict[type[CaseAggregate], list[Scenario]] = {
    Assessment: [
        Scenario("opened", opened_assessment, AssessmentState.OPENED,
                 ("assign_officer", "cancel_assessment")),
        Scenario("assigned", assigned_assessment, AssessmentState.ASSIGNED,
                 ("assign_officer", "record_survey", "cancel_assessment")),
        Scenario("surveyed", surveyed_assessment, AssessmentState.SURVEYED,
                 (*ASSESSMENT_WORK, "cancel_assessment")),
        Scenario("testing", assessment_in_testing, AssessmentState.TESTING,
                 ("assign_officer", "record_test", "issue_findings", "cancel_assessment")),
        Scenario("findings", assessment_with_findings, AssessmentState.FINDINGS_ISSUED,
                 ("close_assessment",)),
        Scenario("closed", then(assessment_with_findings, "close_assessment"),
                 AssessmentState.CLOSED, ()),
        Scenario("cancelled", then(opened_assessment, "cancel_assessment"),
                 AssessmentState.CANCELLED, ()),
    ],
    ImprovementPlan: [
        Scenario("draft", plan_with_actions, PlanState.DRAFT, (*DRAFTING, "escalate_plan")),
        Scenario("sent back", then(submitted_plan, "send_back_plan"), PlanState.DRAFT,
                 (*DRAFTING, "escalate_plan")),
        Scenario("submitted", submitted_plan, PlanState.SUBMITTED,
                 ("approve_plan", "send_back_plan", "escalate_plan")),
        Scenario("approved", approved_plan, PlanState.APPROVED,
                 ("amend_plan_action", "complete_plan_action", "report_implementation",
                  "escalate_plan")),
        Scenario("implemented", implemented_plan, PlanState.IMPLEMENTATION_REPORTED,
                 ("schedule_verification", "escalate_plan")),
        Scenario("verifying", plan_awaiting_verification, PlanState.VERIFICATION_SCHEDULED,
                 ("close_effective", "escalate_plan")),
        Scenario("closed", closed_plan, PlanState.CLOSED_EFFECTIVE, ()),
        Scenario("escalated", escalated_plan, PlanState.ESCALATED, ()),
        Scenario("escalated when verified", then(plan_awaiting_verification, "escalate_plan"),
                 PlanState.ESCALATED, ()),
    ],
    EnforcementAction: [
        Scenario(f"{kind.value} {scenario.name}", scenario.build, scenario.state, scenario.opens)
        for kind in EnforcementKind for scenario in enforcement_scenarios(kind.value)],
    FollowUpVerification: [
        Scenario("scheduled", scheduled_verification, VerificationState.SCHEDULED,
                 (*RETESTING, "cancel_verification")),
        Scenario("testing", verification_in_testing, VerificationState.TESTING,
                 (*RETESTING, "conclude_verification", "cancel_verification")),
        Scenario("effective", then(verification_in_testing, "conclude_verification"),
                 VerificationState.CONCLUDED_EFFECTIVE, ()),
        Scenario("not effective", not_effective, VerificationState.CONCLUDED_NOT_EFFECTIVE, ()),
        Scenario("cancelled", then(scheduled_verification, "cancel_verification"),
                 VerificationState.CANCELLED, ()),
    ],
    TargetingRule: [
        Scenario("drafted", lambda: TargetingRule.draft("TR-2026-00001", RULE, actor=ACTOR,
                                                        reason=REASON, at=at(0)),
                 RuleState.DRAFTED, ("approve_rule", "amend_rule", "retire_rule")),
    ],
    ImporterAccount: [
        Scenario("active", registered_account, AccountStatus.ACTIVE,
                 ("assign_account_manager", "join_partnership", "leave_partnership",
                  "set_compliance_class", "set_tier", "suspend_importer", "close_importer",
                  "open_case")),
        Scenario("suspended", then(registered_account, "suspend_importer"),
                 AccountStatus.SUSPENDED,
                 ("assign_account_manager", "leave_partnership", "set_compliance_class",
                  "set_tier", "reinstate_importer", "close_importer", "open_case")),
        Scenario("closed", then(registered_account, "close_importer"), AccountStatus.CLOSED,
                 ()),
    ],
}
_drafted_rule = SCENARIOS[TargetingRule][0].build
SCENARIOS[TargetingRule] += [
    Scenario("approved", then(_drafted_rule, "approve_rule"), RuleState.APPROVED,
             ("publish_rule", "amend_rule", "retire_rule")),
    Scenario("published", then(_drafted_rule, "approve_rule", "publish_rule"),
             RuleState.PUBLISHED, ("amend_rule", "retire_rule")),
    Scenario("amended", then(_drafted_rule, "approve_rule", "publish_rule", "amend_rule"),
             RuleState.DRAFTED, ("approve_rule", "amend_rule", "retire_rule")),
    Scenario("retired", then(_drafted_rule, "retire_rule"), RuleState.RETIRED, ()),
]
ALL = [pytest.param(case_type, s, id=f"{case_type.__name__}-{s.name}")
       for case_type, scenarios in SCENARIOS.items() for s in scenarios]
