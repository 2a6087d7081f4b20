"""The case workflow after findings, on the real stores: every step that opens or decides a
follow-on case does it in the same save as the decision that called for it; numbers stay
gap-free per type; a refused step names its rule and writes nothing."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from application.compliance_cases import ComplianceCases, FindingsResult, VerificationResult
from domain.assessment import Outcome
from domain.enforcement_action import EnforcementKind, EnforcementState
from domain.errors import InvalidTransitionError, RuleViolationError
from domain.follow_up_verification import VerificationState
from domain.importer_account import ComplianceClass
from domain.improvement_plan import PlanState
from domain.penalties import Culpability
from domain.reference import ComplianceArea
from domain.workflow_policy import class_for_rate
from tests.builders import (
    ACTOR,
    DUTY_PAID,
    OFFICER,
    SUPERVISOR,
    FakeClock,
    evidence,
    ready_for_findings,
    record_retests,
    register_importer,
    walk_assessment,
    walk_plan,
    walk_to_findings,
)
from tests.integration.workflow_support import (
    SaveSpy,
    assert_refused,
    filed,
    last_serial,
    same_save,
)

# -- findings -----------------------------------------------------------------------------


@pytest.mark.parametrize("deficient", [
    (ComplianceArea.VALUE,), (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION),
], ids=["one deficient area", "two deficient areas"])
def test_findings_that_require_a_plan_draft_it_in_the_same_save(
        app: ComplianceCases, clock: FakeClock,
        deficient: tuple[ComplianceArea, ...]) -> None:
    importer = register_importer(app)
    number = ready_for_findings(app, importer, deficient=deficient, clock=clock)
    spy = SaveSpy(app)
    clock.advance()

    result = app.issue_findings(number, duty_paid=DUTY_PAID, actor=OFFICER,
                                reason="testing complete")

    assert result == FindingsResult(Outcome.IMPROVEMENT_PLAN_REQUIRED,
                                    plan_number="IP-2026-00001")
    assert spy.one_save() == same_save(
        "Assessment.FindingsIssued", "CaseNumberSequence.Started",
        "CaseNumberSequence.NumberIssued", "ImporterCaseFile.CaseAdded",
        "ImprovementPlan.Drafted")
    assessment = app.get_assessment(number)
    plan = app.get_plan("IP-2026-00001")
    assert plan.state is PlanState.DRAFT
    assert plan.deficient_areas == tuple(
        f.area for f in assessment.findings if not f.acceptable) == deficient
    assert (plan.assessment_number, plan.importer_number, plan.district) == (
        number, importer, assessment.district)
    assert plan.target_rate == app.workflow.plan_target_rate
    assert plan.proposal_due_on == clock.now.date() + timedelta(
        days=app.workflow.plan_proposal_days)
    assert plan.actions == ()
    assert filed(app, importer) == [("assessment", number),
                                    ("improvement_plan", "IP-2026-00001")]
    assert app.get_case_file(importer)[-1].case_id == plan.id


def test_a_material_total_loss_without_a_deficient_area_plans_for_every_area(
        app: ComplianceCases, clock: FakeClock) -> None:
    """Two immaterial losses (120.25 each) add up to more than 1% of 20,000 duty."""
    importer = register_importer(app)
    number = walk_assessment(app, importer, "testing", clock=clock)

    result = app.issue_findings(number, duty_paid="20000.00", actor=OFFICER,
                                reason="testing complete")

    assert result.outcome is Outcome.IMPROVEMENT_PLAN_REQUIRED
    assert all(f.acceptable for f in app.get_assessment(number).findings)
    assert result.plan_number is not None
    assert app.get_plan(result.plan_number).deficient_areas == (
        ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION)


def test_findings_referred_for_enforcement_propose_a_penalty_in_the_same_save(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    number = ready_for_findings(app, importer, clock=clock)
    spy = SaveSpy(app)
    clock.advance()

    result = app.issue_findings(number, duty_paid=DUTY_PAID, fraud_indicators=True,
                                actor=OFFICER, reason="testing complete")

    assert result == FindingsResult(Outcome.REFERRAL_FOR_ENFORCEMENT,
                                    enforcement_number="EA-2026-00001")
    assert spy.one_save() == same_save(
        "Assessment.FindingsIssued", "CaseNumberSequence.Started",
        "CaseNumberSequence.NumberIssued", "ImporterCaseFile.CaseAdded",
        "EnforcementAction.Proposed")
    assessment = app.get_assessment(number)
    action = app.get_enforcement("EA-2026-00001")
    loss = sum((f.revenue_loss for f in assessment.findings), Decimal("0.00"))
    assert (action.kind, action.state) == (EnforcementKind.PENALTY, EnforcementState.PROPOSED)
    assert action.source_case == number
    assert action.proposer == OFFICER
    assert action.basis is not None
    assert action.basis.culpability is Culpability.FRAUD
    assert action.basis.revenue_loss == action.proposed_amount == loss == Decimal("940.50")
    assert "value" in action.facts
    assert number in action.facts
    assert filed(app, importer) == [("assessment", number),
                                    ("enforcement_action", "EA-2026-00001")]
    assert last_serial(app, "IP") == 0


def test_acceptable_findings_open_no_follow_on_case(app: ComplianceCases,
                                                    clock: FakeClock) -> None:
    importer = register_importer(app)
    number, result = walk_to_findings(app, importer, "acceptable", clock=clock)

    assert result == FindingsResult(Outcome.ACCEPTABLE)
    assert filed(app, importer) == [("assessment", number)]
    assert (last_serial(app, "IP"), last_serial(app, "EA")) == (0, 0)


# -- improvement plans and follow-up verification -----------------------------------------


def test_a_plan_is_carried_out_and_reporting_it_schedules_the_verification_in_the_same_save(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    assessment, findings = walk_to_findings(app, importer, clock=clock)
    plan_number = findings.plan_number
    assert plan_number is not None
    walk_plan(app, plan_number, "actions_completed", clock=clock)
    plan = app.get_plan(plan_number)
    assert plan.state is PlanState.APPROVED
    assert [(a.action_id, a.area, a.completed_on, a.evidence) for a in plan.actions] == [
        ("A1", ComplianceArea.VALUE, clock.now.date(), evidence("A1"))]
    spy = SaveSpy(app)
    clock.advance()

    verification_number = app.report_implementation(plan_number, actor=ACTOR,
                                                     reason="importer reports it done")

    assert verification_number == "FV-2026-00001"
    assert spy.one_save() == same_save(
        "ImprovementPlan.ImplementationReported", "ImprovementPlan.VerificationScheduled",
        "CaseNumberSequence.Started", "CaseNumberSequence.NumberIssued",
        "ImporterCaseFile.CaseAdded", "FollowUpVerification.Scheduled")
    due = clock.now.date() + timedelta(days=app.workflow.verification_after_days)
    verification = app.get_verification(verification_number)
    assert verification.state is VerificationState.SCHEDULED
    assert verification.due_on == due
    assert (verification.plan_number, verification.importer_number) == (plan_number, importer)
    assert verification.areas == plan.deficient_areas
    assert verification.target_rate == plan.target_rate
    plan = app.get_plan(plan_number)
    assert plan.state is PlanState.VERIFICATION_SCHEDULED
    assert (plan.verification_number, plan.verification_due_on) == (verification_number, due)
    assert filed(app, importer) == [("assessment", assessment),
                                    ("improvement_plan", plan_number),
                                    ("follow_up_verification", verification_number)]


def test_plan_steps_out_of_order_are_refused_by_rule_and_take_no_number(
        app: ComplianceCases, clock: FakeClock) -> None:
    _, findings = walk_to_findings(app, register_importer(app), clock=clock)
    plan = findings.plan_number
    assert plan is not None
    today = clock.now.date()

    assert_refused(app, lambda: app.submit_plan(plan, actor=ACTOR, reason="too early"),
                   RuleViolationError, rule="PlanNeedsAtLeastOneAction")
    assert_refused(app, lambda: app.add_plan_action(
        plan, area="origin", description="check origin", owner="user:broker",
        due_on=today + timedelta(days=5), actor=ACTOR, reason="proposed"),
        RuleViolationError, rule="ActionAddressesADeficientArea", mentions=("origin", "value"))
    assert_refused(app, lambda: app.add_plan_action(
        plan, area="value", description="retrain", owner="user:broker",
        due_on=today - timedelta(days=1), actor=ACTOR, reason="proposed"),
        RuleViolationError, rule="DueDateIsNotInThePast")
    assert_refused(app, lambda: app.approve_plan(plan, actor=OFFICER, reason="approve"),
                   InvalidTransitionError, mentions=("draft", "approve"))
    walk_plan(app, plan, "approved", clock=clock)
    assert_refused(app, lambda: app.report_implementation(plan, actor=ACTOR, reason="done"),
                   RuleViolationError, rule="ImplementationNeedsEveryActionCompleted",
                   mentions=("A1",))
    assert_refused(app, lambda: app.complete_plan_action(
        plan, "A1", evidence=evidence(), completed_on=clock.now.date() + timedelta(days=1),
        actor=ACTOR, reason="done"), RuleViolationError, rule="CompletedOnIsNotInTheFuture",
        mentions=("completed_on",))
    assert_refused(app, lambda: app.complete_plan_action(
        plan, "A1", evidence=evidence(), completed_on="2025-01-03", actor=ACTOR,
        reason="done"), RuleViolationError, rule="CompletedOnIsNotBeforeThePlanExisted",
        mentions=("completed_on: 2025-01-03 is before the plan existed",))
    assert_refused(app, lambda: app.change_plan_action(
        plan, "A1", area="value", description="changed", owner="user:broker",
        due_on=today + timedelta(days=9), actor=ACTOR, reason="change"),
        InvalidTransitionError, mentions=("approved", "amended"))
    assert last_serial(app, "FV") == 0


def test_a_plan_is_approved_or_sent_back_neither_by_its_submitter_nor_by_its_drafter(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    """Four eyes: the plan drafted from OFFICER's findings and submitted by the importer's
    ACTOR is decided by a third person; the refusals name their rule and write nothing."""
    _, findings = walk_to_findings(app, register_importer(app), clock=clock)
    plan = findings.plan_number
    assert plan is not None
    walk_plan(app, plan, "submitted", clock=clock)
    clock.advance()
    loaded = make_app().get_plan(plan)  # as stored: another process remembers the actors
    assert (loaded.drafted_by, loaded.submitted_by) == (OFFICER, ACTOR)

    assert_refused(app, lambda: app.approve_plan(plan, actor=ACTOR, reason="our own plan"),
                   RuleViolationError, rule="PlanReviewerIsNotTheSubmitter",
                   mentions=(ACTOR, "submitted this plan", "approve it"))
    assert_refused(app, lambda: app.send_back_plan(plan, actor=ACTOR, reason="rework"),
                   RuleViolationError, rule="PlanReviewerIsNotTheSubmitter",
                   mentions=("send it back",))
    assert_refused(app, lambda: app.approve_plan(plan, actor=OFFICER, reason="my findings"),
                   RuleViolationError, rule="PlanReviewerIsNotTheDrafter",
                   mentions=(OFFICER, "drafted this plan"))
    assert app.get_plan(plan).state is PlanState.SUBMITTED

    app.approve_plan(plan, actor=SUPERVISOR, reason="actions address the findings")
    assert app.get_plan(plan).state is PlanState.APPROVED


def test_a_verification_is_not_concluded_by_whoever_reported_the_implementation(
        app: ComplianceCases, clock: FakeClock) -> None:
    _, findings = walk_to_findings(app, register_importer(app), clock=clock)
    assert findings.plan_number is not None
    verification_number = walk_plan(app, findings.plan_number, clock=clock)  # by ACTOR
    assert verification_number is not None
    assert app.get_verification(verification_number).implementation_reported_by == ACTOR
    record_retests(app, verification_number, effective=True, clock=clock)
    clock.advance()

    assert_refused(app, lambda: app.conclude_verification(
        verification_number, actor=ACTOR, reason="we say it worked"), RuleViolationError,
        rule="VerifierIsNotTheImplementationReporter",
        mentions=(ACTOR, "reported the plan's implementation"))
    assert app.conclude_verification(verification_number, actor=OFFICER,
                                     reason="re-tests complete").effective


def test_an_effective_verification_closes_the_plan_and_sets_the_class_from_the_verified_rate(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    _, findings = walk_to_findings(app, importer, clock=clock)
    plan_number = findings.plan_number
    assert plan_number is not None
    verification_number = walk_plan(app, plan_number, clock=clock)
    assert verification_number is not None
    assert_refused(app, lambda: app.conclude_verification(
        verification_number, actor=OFFICER, reason="nothing re-tested yet"),
        InvalidTransitionError, mentions=("scheduled", "conclude"))
    record_retests(app, verification_number, effective=True, clock=clock)
    spy = SaveSpy(app)
    clock.advance()

    result = app.conclude_verification(verification_number, actor=OFFICER,
                                       reason="re-tests complete")

    rate = Decimal("0.9800")  # 490 of 500 re-tested lines compliant
    assert result == VerificationResult(True, rate,
                                        compliance_class=class_for_rate(rate).value)
    assert result.compliance_class == "a"  # 98% earns A, not AA
    assert spy.one_save() == same_save("FollowUpVerification.Concluded",
                                       "ImprovementPlan.ClosedEffective",
                                       "ImporterAccount.ComplianceClassSet")
    verification = app.get_verification(verification_number)
    assert verification.state is VerificationState.CONCLUDED_EFFECTIVE
    assert verification.verified_rate == rate
    assert app.get_plan(plan_number).state is PlanState.CLOSED_EFFECTIVE
    assert app.get_importer(importer).compliance_class is ComplianceClass.A
    assert last_serial(app, "EA") == 0


@pytest.mark.parametrize(("revenue_loss", "kind"), [
    ("0.00", EnforcementKind.ENFORCED_COMPLIANCE_PROGRAMME),
    ("300.00", EnforcementKind.PENALTY),
], ids=["errors without loss: enforced programme", "revenue still lost: penalty"])
def test_an_ineffective_verification_proposes_enforcement_and_escalates_the_plan(
        app: ComplianceCases, clock: FakeClock, revenue_loss: str,
        kind: EnforcementKind) -> None:
    importer = register_importer(app)
    _, findings = walk_to_findings(app, importer, clock=clock)
    plan_number = findings.plan_number
    assert plan_number is not None
    verification_number = walk_plan(app, plan_number, clock=clock)
    assert verification_number is not None
    record_retests(app, verification_number, effective=False, revenue_loss=revenue_loss,
                   clock=clock)
    spy = SaveSpy(app)
    clock.advance()

    result = app.conclude_verification(verification_number, actor=OFFICER,
                                       reason="re-tests complete")

    assert result == VerificationResult(False, Decimal("0.8500"),
                                        enforcement_number="EA-2026-00001")
    assert spy.one_save() == same_save(
        "FollowUpVerification.Concluded", "CaseNumberSequence.Started",
        "CaseNumberSequence.NumberIssued", "ImporterCaseFile.CaseAdded",
        "EnforcementAction.Proposed", "ImprovementPlan.Escalated")
    assert app.get_verification(verification_number).state is (
        VerificationState.CONCLUDED_NOT_EFFECTIVE)
    action = app.get_enforcement("EA-2026-00001")
    assert (action.kind, action.state) == (kind, EnforcementState.PROPOSED)
    assert action.source_case == verification_number
    assert plan_number in action.facts
    assert "value" in action.facts
    if kind is EnforcementKind.PENALTY:
        assert action.basis is not None
        assert action.basis.culpability is Culpability.NEGLIGENCE
        assert action.basis.revenue_loss == action.proposed_amount == Decimal(revenue_loss)
    else:
        assert (action.basis, action.proposed_amount) == (None, None)
    plan = app.get_plan(plan_number)
    assert (plan.state, plan.enforcement_number) == (PlanState.ESCALATED, "EA-2026-00001")
    assert app.get_importer(importer).compliance_class is None
    assert filed(app, importer)[-1] == ("enforcement_action", "EA-2026-00001")


def test_a_plan_escalated_by_hand_proposes_an_enforced_programme_once(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    _, findings = walk_to_findings(app, importer, clock=clock)
    plan_number = findings.plan_number
    assert plan_number is not None
    walk_plan(app, plan_number, "approved", clock=clock)
    spy = SaveSpy(app)
    clock.advance()

    number = app.escalate_plan(plan_number, actor=OFFICER,
                               reason="actions overdue beyond the grace period")

    assert number == "EA-2026-00001"
    assert spy.one_save() == same_save(
        "CaseNumberSequence.Started", "CaseNumberSequence.NumberIssued",
        "ImporterCaseFile.CaseAdded", "EnforcementAction.Proposed",
        "ImprovementPlan.Escalated")
    plan = app.get_plan(plan_number)
    assert (plan.state, plan.enforcement_number) == (PlanState.ESCALATED, number)
    action = app.get_enforcement(number)
    assert (action.kind, action.source_case) == (
        EnforcementKind.ENFORCED_COMPLIANCE_PROGRAMME, plan_number)
    assert_refused(app, lambda: app.escalate_plan(plan_number, actor=OFFICER,
                                                  reason="escalate again"),
                   InvalidTransitionError, mentions=("escalated", "escalate"))
    assert last_serial(app, "EA") == 1
