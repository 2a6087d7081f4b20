"""Enforcement actions on the real stores: a penalty from proposal through review, notices
and decision to payment or collection; withdrawal, a change of culpability, a tied
review; a refused step names its rule, writes nothing and takes no number."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from application.compliance_cases import ComplianceCases
from application.history import history
from domain.case_numbers import case_id
from domain.enforcement_action import EnforcementAction, EnforcementState, Vote
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.penalties import Culpability
from tests.builders import (
    ACTOR,
    ENFORCER,
    REVIEWERS,
    SUPERVISOR,
    FakeClock,
    propose_penalty,
    register_importer,
    walk_enforcement,
)
from tests.integration.workflow_support import (
    assert_refused,
    filed,
    last_serial,
)

# -- enforcement actions ------------------------------------------------------------------


def test_a_penalty_goes_from_proposal_through_review_notices_and_decision_to_payment(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    number = propose_penalty(app, importer, amount="1500.00")  # negligence cap 2000.00
    assert number == "EA-2026-00001"
    first, second = REVIEWERS

    def vote(reviewer: str, choice: str = "approve") -> object:
        return app.record_review_vote(number, choice, actor=reviewer, reason="facts hold")

    assert_refused(app, lambda: vote(ENFORCER), RuleViolationError, rule="ReviewerIsNotTheProposer")
    vote(first)
    assert_refused(app, lambda: vote(first), RuleViolationError, rule="EachReviewerVotesOnce")
    assert_refused(app, lambda: app.conclude_review(number, actor=SUPERVISOR, reason="done"),
                   RuleViolationError, rule="ReviewNeedsTwoReviewers")
    vote(second)
    assert_refused(app, lambda: app.conclude_review(number, actor=ENFORCER,
                                                    reason="my own proposal"),
                   RuleViolationError, rule="ReviewConcluderIsNotTheProposer",
                   mentions=(ENFORCER,))
    assert app.conclude_review(number, actor=SUPERVISOR, reason="team approved") is True
    assert app.get_enforcement(number).state is EnforcementState.APPROVED_FOR_ISSUE
    assert_refused(app, lambda: app.issue_enforcement(number, actor=ENFORCER,
                                                      reason="no due date"),
                   InvalidValueError, field="response_due_on")

    due = clock.now.date() + timedelta(days=30)
    app.issue_enforcement(number, response_due_on=due, actor=ENFORCER,
                          reason="pre-penalty notice sent")
    [issued] = app.events.get(case_id(number), desc=True, limit=1)
    assert isinstance(issued, EnforcementAction.Issued)
    assert issued.notice == "pre_penalty_notice"
    app.record_enforcement_response(number, "response", "disputes the loss computed",
                                    actor=ENFORCER, reason="reply to the pre-penalty notice")
    assert_refused(app, lambda: app.decide_enforcement(number, "1200.00", actor=SUPERVISOR,
                                                       reason="too early"),
                   RuleViolationError, rule="DecisionFollowsAPenaltyNotice")
    app.issue_penalty_notice(number, response_due_on=due + timedelta(days=30),
                             actor=ENFORCER, reason="reply considered; loss stands")
    assert app.get_enforcement(number).response_due_on == due + timedelta(days=30)
    app.record_enforcement_response(number, "petition", "first offence, controls improved",
                                    actor=ENFORCER, reason="petition received")
    assert_refused(app, lambda: app.issue_penalty_notice(
        number, response_due_on=due + timedelta(days=40), actor=ENFORCER,
        reason="second notice"), RuleViolationError, rule="PenaltyNoticeIsIssuedOnce")
    assert_refused(app, lambda: app.decide_enforcement(number, "1600.00", actor=SUPERVISOR,
                                                       reason="aggravated"),
                   RuleViolationError, rule="MitigatedAmountDoesNotExceedProposed")
    assert_refused(app, lambda: app.decide_enforcement(number, "1200.00", actor=ENFORCER,
                                                       reason="my own proposal"),
                   RuleViolationError, rule="PenaltyDeciderIsNotTheProposer",
                   mentions=(ENFORCER,))
    app.decide_enforcement(number, "1200.00", actor=SUPERVISOR, reason="mitigated")
    assert_refused(app, lambda: app.withdraw_enforcement(number, actor=ENFORCER,
                                                         reason="too late"),
                   InvalidTransitionError, mentions=("decided", "withdraw"))
    assert_refused(app, lambda: app.record_payment(number, "1000.00", clock.now.date(),
                                                   actor=ENFORCER, reason="part paid"),
                   RuleViolationError, rule="PaymentIsTheDecidedAmount", mentions=("1200.00",))
    app.record_payment(number, "1200.00", clock.now.date(), actor=ENFORCER, reason="paid")
    app.close_enforcement(number, actor=ENFORCER, reason="paid in full")

    action = app.get_enforcement(number)
    assert action.state is EnforcementState.CLOSED
    assert (action.proposed_amount, action.decided_amount, action.paid_amount) == (
        Decimal("1500.00"), Decimal("1200.00"), Decimal("1200.00"))
    assert [(v.reviewer, v.vote) for v in action.votes] == [(first, Vote.APPROVE),
                                                            (second, Vote.APPROVE)]
    assert [e.event for e in history(app, action.id)] == [
        "EnforcementAction.Proposed", "EnforcementAction.ReviewVoteRecorded",
        "EnforcementAction.ReviewVoteRecorded", "EnforcementAction.ReviewConcluded",
        "EnforcementAction.Issued", "EnforcementAction.ResponseRecorded",
        "EnforcementAction.PenaltyNoticeIssued", "EnforcementAction.ResponseRecorded",
        "EnforcementAction.Decided",
        "EnforcementAction.PaymentRecorded", "EnforcementAction.Closed"]
    assert filed(app, importer) == [("enforcement_action", number)]


def test_a_decided_penalty_referred_for_collection_can_be_closed(
        app: ComplianceCases, clock: FakeClock) -> None:
    number = propose_penalty(app, register_importer(app))
    walk_enforcement(app, number, "decided", clock=clock)
    assert_refused(app, lambda: app.close_enforcement(number, actor=ENFORCER,
                                                      reason="not yet"),
                   InvalidTransitionError, mentions=("decided", "close"))

    app.refer_for_collection(number, actor=ENFORCER, reason="unpaid after 60 days")
    assert app.get_enforcement(number).state is EnforcementState.REFERRED_FOR_COLLECTION
    assert_refused(app, lambda: app.record_payment(number, "1200.00", clock.now.date(),
                                                   actor=ENFORCER, reason="late payment"),
                   InvalidTransitionError, mentions=("referred_for_collection",))
    app.close_enforcement(number, actor=ENFORCER, reason="handed to collections")

    action = app.get_enforcement(number)
    assert action.state is EnforcementState.CLOSED
    assert action.paid_amount is None


def test_a_tied_review_rejects_the_proposal(app: ComplianceCases) -> None:
    number = propose_penalty(app, register_importer(app))
    for reviewer, choice in zip(REVIEWERS, ("approve", "reject"), strict=True):
        app.record_review_vote(number, choice, actor=reviewer, reason="my view")

    assert app.conclude_review(number, actor=SUPERVISOR, reason="team split") is False
    assert app.get_enforcement(number).state is EnforcementState.REJECTED
    assert_refused(app, lambda: app.issue_enforcement(
        number, response_due_on="2026-12-31", actor=ENFORCER, reason="issue anyway"),
        InvalidTransitionError, mentions=("rejected",))


@pytest.mark.parametrize("step", ["proposed", "reviewed", "issued", "penalty_notice_issued",
                                  "response_received"])
def test_a_penalty_can_be_withdrawn_until_it_is_decided(app: ComplianceCases,
                                                        clock: FakeClock, step: str) -> None:
    number = propose_penalty(app, register_importer(app))
    walk_enforcement(app, number, step, clock=clock)

    app.withdraw_enforcement(number, actor=ENFORCER, reason="importer made a disclosure")

    assert app.get_enforcement(number).state is EnforcementState.WITHDRAWN
    assert_refused(app, lambda: app.close_enforcement(number, actor=ENFORCER,
                                                      reason="close it"),
                   InvalidTransitionError, mentions=("withdrawn",))
    assert_refused(app, lambda: app.withdraw_enforcement(number, actor=ENFORCER,
                                                         reason="again"),
                   InvalidTransitionError, mentions=("withdrawn",))


def test_changing_culpability_re_checks_the_amount_against_the_new_cap(
        app: ComplianceCases, clock: FakeClock) -> None:
    """Revenue loss 1000.00, domestic value 50,000.00: gross negligence caps at 4000.00,
    negligence at 2000.00, negligence with prior disclosure at 80.00 (8% interest)."""
    number = propose_penalty(app, register_importer(app), culpability="gross_negligence",
                             amount="3500.00")
    app.record_review_vote(number, "approve", actor=REVIEWERS[0], reason="facts hold")

    assert_refused(app, lambda: app.change_culpability(number, "negligence", actor=ENFORCER,
                                                       reason="no gross negligence"),
                   RuleViolationError, rule="AmountIsWithinTheCulpabilityCap",
                   mentions=("3500.00", "2000.00", "negligence"))
    app.change_culpability(number, "negligence", amount="1800.00", actor=ENFORCER,
                           reason="no gross negligence")
    action = app.get_enforcement(number)
    assert action.basis is not None
    assert (action.basis.culpability, action.proposed_amount) == (Culpability.NEGLIGENCE,
                                                                  Decimal("1800.00"))
    assert action.votes == ()  # the team reviews what will be issued
    assert_refused(app, lambda: app.change_culpability(
        number, "negligence", prior_disclosure=True, actor=ENFORCER,
        reason="disclosure found"), RuleViolationError, rule="AmountIsWithinTheCulpabilityCap",
        mentions=("80.00", "prior disclosure"))
    app.change_culpability(number, "negligence", amount="80.00", prior_disclosure=True,
                           actor=ENFORCER, reason="disclosure found")
    walk_enforcement(app, number, "reviewed", clock=clock)
    assert_refused(app, lambda: app.change_culpability(number, "fraud", actor=ENFORCER,
                                                       reason="after the review"),
                   InvalidTransitionError, mentions=("approved_for_issue", "culpability"))
    walk_enforcement(app, number, "response_received", start="reviewed", clock=clock)
    assert_refused(app, lambda: app.decide_enforcement(number, "80.01", actor=SUPERVISOR,
                                                       reason="decide"),
                   RuleViolationError, rule="MitigatedAmountDoesNotExceedProposed")
    app.decide_enforcement(number, "80.00", actor=SUPERVISOR, reason="decide")
    assert_refused(app, lambda: app.change_culpability(number, "fraud", actor=ENFORCER,
                                                       reason="after the decision"),
                   InvalidTransitionError, mentions=("decided",))


def test_a_proposal_above_the_cap_or_on_a_closed_importer_takes_no_number(
        app: ComplianceCases) -> None:
    importer = register_importer(app)
    assert_refused(app, lambda: propose_penalty(app, importer, amount="2000.01"),
                   RuleViolationError, rule="AmountIsWithinTheCulpabilityCap",
                   mentions=("2000.00",))
    assert_refused(app, lambda: app.propose_enforcement(
        importer, kind="increased_examinations", legal_basis="port instruction",
        facts="misdeclared origin", culpability=None, actor=ENFORCER, reason="risk"),
        InvalidValueError, field="examinations_until")
    closed = register_importer(app)
    app.close_importer(closed, actor=ACTOR, reason="ceased trading")
    assert_refused(app, lambda: propose_penalty(app, closed), InvalidTransitionError,
                   mentions=(f"importer {closed} is closed", "open a case"))

    assert last_serial(app, "EA") == 0
    assert propose_penalty(app, importer) == "EA-2026-00001"


def test_a_non_monetary_action_is_issued_answered_and_closed_without_a_decision(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    number = app.propose_enforcement(importer, kind="informed_compliance",
                                     legal_basis="informed compliance letter",
                                     facts="misclassified fasteners", culpability=None,
                                     actor=ENFORCER, reason="outreach first")
    assert_refused(app, lambda: app.change_culpability(number, "fraud", actor=ENFORCER,
                                                       reason="culpability"),
                   InvalidValueError, field="culpability")
    walk_enforcement(app, number, "reviewed", clock=clock)
    app.issue_enforcement(number, actor=ENFORCER, reason="letter sent")
    assert_refused(app, lambda: app.issue_penalty_notice(
        number, response_due_on="2026-12-31", actor=ENFORCER, reason="notice"),
        InvalidValueError, field="kind")
    app.record_enforcement_response(number, "response", "will reclassify", actor=ENFORCER,
                                    reason="reply received")
    assert_refused(app, lambda: app.decide_enforcement(number, "0.00", actor=ENFORCER,
                                                       reason="decide"),
                   InvalidValueError, field="kind")
    app.close_enforcement(number, actor=ENFORCER, reason="importer complied")
    assert app.get_enforcement(number).state is EnforcementState.CLOSED
