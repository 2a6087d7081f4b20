"""Replay of the case aggregates added with improvement plans: applying the collected
events, in order, to nothing rebuilds an equal aggregate that keeps taking commands."""

from __future__ import annotations

from decimal import Decimal

from domain.enforcement_action import EnforcementState
from domain.follow_up_verification import VerificationState
from domain.improvement_plan import PlanState

from .builders import (
    CAPS,
    ENFORCEMENT_NUMBER,
    IMPORTER_STAFF,
    MANAGER,
    OFFICER,
    POLICY,
    REASON,
    TODAY,
    approved_plan,
    at,
    closed_plan,
    decided_penalty,
    drafted_plan,
    evidence,
    issued_action,
    plan_with_actions,
    proposed_action,
    sample,
    verification_in_testing,
)
from .test_replay import assert_replays_equal, replay


def test_replaying_a_closed_improvement_plan_rebuilds_it() -> None:
    plan = closed_plan()
    rebuilt = assert_replays_equal(plan)
    assert rebuilt.state is PlanState.CLOSED_EFFECTIVE
    assert rebuilt.actions == plan.actions
    assert all(a.evidence is not None for a in rebuilt.actions)


def test_replaying_a_plan_with_changes_removals_send_back_and_amendments_rebuilds_it() -> None:
    plan = plan_with_actions()
    plan.change_action("A1", area="value", description="reconcile monthly",
                       owner=IMPORTER_STAFF, due_on=TODAY, today=TODAY, actor=IMPORTER_STAFF,
                       reason=REASON, at=at(20))
    plan.remove_action("A2", actor=IMPORTER_STAFF, reason=REASON, at=at(21))
    plan.add_action(area="classification", description="ruling requests",
                    owner=IMPORTER_STAFF, due_on=TODAY, today=TODAY, actor=IMPORTER_STAFF,
                    reason=REASON, at=at(22))
    plan.submit(actor=IMPORTER_STAFF, reason=REASON, at=at(23))
    plan.send_back(actor=MANAGER, reason="too vague", at=at(24))
    plan.submit(actor=IMPORTER_STAFF, reason=REASON, at=at(25))
    plan.approve(actor=MANAGER, reason=REASON, at=at(26))
    plan.amend_action("A3", description="binding ruling requests", owner=IMPORTER_STAFF,
                      due_on=TODAY, today=TODAY, actor=OFFICER, reason="clarified",
                      at=at(27))
    plan.complete_action("A1", evidence=evidence(), completed_on=TODAY, today=TODAY,
                         actor=IMPORTER_STAFF, reason=REASON, at=at(28))

    rebuilt = assert_replays_equal(plan)
    assert [a.action_id for a in rebuilt.actions] == ["A1", "A3"]
    assert rebuilt.next_action_serial == 4
    assert rebuilt.state is PlanState.APPROVED


def test_replaying_an_escalated_plan_rebuilds_it() -> None:
    plan = approved_plan()
    plan.escalate(ENFORCEMENT_NUMBER, actor=OFFICER, reason=REASON, at=at(20))
    assert assert_replays_equal(plan).enforcement_number == ENFORCEMENT_NUMBER


def test_a_replayed_plan_keeps_taking_commands() -> None:
    plan = drafted_plan()
    rebuilt = replay(plan.collect_events())
    assert rebuilt.add_action(area="value", description="retrain", owner=IMPORTER_STAFF,
                              due_on=TODAY, today=TODAY, actor=IMPORTER_STAFF, reason=REASON,
                              at=at(20)) == "A1"
    assert rebuilt.version == 2


def test_replaying_a_closed_penalty_rebuilds_it() -> None:
    action = decided_penalty("12000.00")
    action.record_payment("12000.00", TODAY, actor=OFFICER, reason=REASON, at=at(20))
    action.close(actor=MANAGER, reason=REASON, at=at(21))
    rebuilt = assert_replays_equal(action)
    assert rebuilt.state is EnforcementState.CLOSED
    assert (rebuilt.decided_amount, rebuilt.paid_amount) == (Decimal("12000.00"),) * 2
    assert rebuilt.votes == action.votes
    assert rebuilt.basis == action.basis


def test_replaying_a_penalty_whose_culpability_changed_rebuilds_it() -> None:
    action = proposed_action()
    action.change_culpability("gross_negligence", proposed_amount="30000.00",
                              prior_disclosure=None, cap_policy=CAPS,
                              actor=MANAGER, reason=REASON, at=at(20))
    action.withdraw(actor=MANAGER, reason=REASON, at=at(21))
    rebuilt = assert_replays_equal(action)
    assert rebuilt.proposed_amount == Decimal("30000.00")
    assert rebuilt.state is EnforcementState.WITHDRAWN


def test_replaying_an_issued_non_monetary_action_rebuilds_it() -> None:
    action = issued_action("increased_examinations")
    rebuilt = assert_replays_equal(action)
    assert rebuilt.examinations_until == action.examinations_until
    assert rebuilt.basis is None


def test_replaying_a_concluded_verification_rebuilds_it() -> None:
    verification = verification_in_testing(sample("value", 100, 3, "100.00", "3.00", "0.00"),
                                           sample("classification", 300))
    verification.conclude(policy=POLICY, actor=OFFICER, reason=REASON, at=at(40))
    rebuilt = assert_replays_equal(verification)
    assert rebuilt.state is VerificationState.CONCLUDED_NOT_EFFECTIVE
    assert rebuilt.findings == verification.findings
    assert rebuilt.verified_rate == Decimal("0.9925")


def test_replaying_a_cancelled_verification_rebuilds_it() -> None:
    verification = verification_in_testing()
    verification.cancel(actor=OFFICER, reason=REASON, at=at(40))
    assert assert_replays_equal(verification).state is VerificationState.CANCELLED
