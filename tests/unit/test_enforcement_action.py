"""EnforcementAction: propose within the culpability cap, team review, issue, penalty notice,
response, decision, payment or collection, close; withdrawal before a decision.

The default penalty is 15 000.00 on a negligence basis whose cap is 20 000.00
(min(domestic 500 000.00, 2 x loss 10 000.00)).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.case_numbers import case_id
from domain.enforcement_action import (
    MONETARY,
    EnforcementAction,
    EnforcementKind,
    EnforcementState,
    ResponseKind,
    ReviewVote,
    Vote,
)
from domain.errors import DomainError, InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.penalties import CapPolicy, Culpability

from .builders import (
    CAPS,
    ENFORCEMENT_NUMBER,
    IMPORTER_ID,
    MANAGER,
    NUMBER,
    OFFICER,
    REASON,
    REVIEWERS,
    T0,
    TODAY,
    approved_action,
    assert_names,
    assert_refused,
    at,
    decided_penalty,
    issued_action,
    noticed_penalty,
    penalty_basis,
    proposed_action,
    responded_penalty,
    vote,
)

NON_MONETARY = [k.value for k in EnforcementKind if k not in MONETARY]
LATER = at(30)
YESTERDAY = TODAY - timedelta(days=1)
FIRST, SECOND, THIRD = REVIEWERS


def refused_proposal(error: type[DomainError], **overrides: Any) -> DomainError:
    kind = overrides.pop("kind", "penalty")
    with pytest.raises(error) as excinfo:
        proposed_action(kind, **overrides)
    return excinfo.value


def last_event(action: EnforcementAction) -> Any:
    return action.pending_events[-1]


# -- proposing ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k.value for k in EnforcementKind])
def test_every_kind_of_action_can_be_proposed(kind: str) -> None:
    action = proposed_action(kind)

    assert action.id == case_id(ENFORCEMENT_NUMBER)
    assert action.label == f"enforcement action {ENFORCEMENT_NUMBER}"
    assert action.kind is EnforcementKind(kind)
    assert (action.importer_id, action.source_case) == (IMPORTER_ID, NUMBER)
    assert action.state is EnforcementState.PROPOSED
    assert action.proposer == OFFICER
    assert action.votes == ()
    assert (action.decided_amount, action.paid_amount, action.response_due_on) == (
        None, None, None)
    assert action.is_monetary is (EnforcementKind(kind) in MONETARY)
    assert action.created_on == T0
    assert action.version == 1


@pytest.mark.parametrize("kind", ["penalty", "liquidated_damages"])
def test_a_monetary_action_records_its_basis_and_amount(kind: str) -> None:
    action = proposed_action(kind)
    assert action.basis == penalty_basis()
    assert action.proposed_amount == Decimal("15000.00")


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_a_non_monetary_action_keeps_no_penalty_basis(kind: str) -> None:
    action = proposed_action(kind, basis=penalty_basis())
    assert action.basis is None
    assert not action.is_monetary


def test_increased_examinations_record_when_they_end() -> None:
    until = TODAY + timedelta(days=90)
    action = proposed_action("increased_examinations", examinations_until=until.isoformat())
    assert action.examinations_until == until


def test_increased_examinations_without_an_end_date_are_refused() -> None:
    refusal = refused_proposal(InvalidValueError, kind="increased_examinations",
                               examinations_until=None)
    assert_names(refusal, field="examinations_until")


@pytest.mark.parametrize("kind", ["penalty", "liquidated_damages"])
@pytest.mark.parametrize("missing", ["basis", "proposed_amount"])
def test_a_monetary_action_without_an_amount_and_basis_is_refused(kind: str,
                                                                  missing: str) -> None:
    refusal = refused_proposal(InvalidValueError, kind=kind, **{missing: None})
    assert_names(refusal, field="proposed_amount", mentions=[kind])


@pytest.mark.parametrize("kind", ["penalty", "liquidated_damages"])
def test_a_monetary_amount_above_the_culpability_cap_is_refused(kind: str) -> None:
    refusal = refused_proposal(RuleViolationError, kind=kind, proposed_amount="20000.01")
    assert_names(refusal, rule="AmountIsWithinTheCulpabilityCap",
                 mentions=["proposed_amount 20000.01", "cap of 20000.00", "negligence",
                           "revenue loss 10000.00"])


def test_a_monetary_amount_at_exactly_the_cap_is_accepted() -> None:
    assert proposed_action(proposed_amount="20000.00").proposed_amount == Decimal("20000.00")


def test_the_cap_refusal_mentions_a_prior_disclosure() -> None:
    refusal = refused_proposal(RuleViolationError,
                               basis=penalty_basis(prior_disclosure=True),
                               proposed_amount="800.01")
    assert_names(refusal, rule="AmountIsWithinTheCulpabilityCap",
                 mentions=["cap of 800.00", "negligence with prior disclosure"])


def test_the_cap_follows_the_policy_given() -> None:
    basis = penalty_basis(prior_disclosure=True)
    refusal = refused_proposal(RuleViolationError, basis=basis, proposed_amount="600.00",
                               cap_policy=CapPolicy(interest_rate=Decimal("0.05")))
    assert_names(refusal, rule="AmountIsWithinTheCulpabilityCap", mentions=["cap of 500.00"])


@pytest.mark.parametrize(("overrides", "field"), [
    ({"kind": "fine"}, "kind"),
    ({"proposed_amount": "100.001"}, "proposed_amount"),
    ({"proposed_amount": "-1"}, "proposed_amount"),
    ({"legal_basis": " "}, "legal_basis"),
    ({"facts": ""}, "facts"),
    ({"number": "EA-2026-1"}, "case_number"),
    ({"reason": " "}, "reason"),
    ({"actor": "officer"}, "actor"),
])
def test_a_proposal_with_a_malformed_field_is_refused(overrides: dict[str, str],
                                                      field: str) -> None:
    assert_names(refused_proposal(InvalidValueError, **overrides), field=field)


# -- review ---------------------------------------------------------------------------------


def test_a_review_vote_records_the_reviewer_their_vote_and_why() -> None:
    action = proposed_action()
    action.record_review_vote(" APPROVE ", actor=FIRST, reason=" loss well documented ",
                              at=LATER)
    assert action.votes == (ReviewVote(FIRST, Vote.APPROVE, "loss well documented"),)
    assert action.state is EnforcementState.PROPOSED


def test_the_proposer_cannot_review_their_own_action() -> None:
    action = proposed_action()
    assert_refused(action, lambda: vote(action, "approve", OFFICER, 30), RuleViolationError,
                   rule="ReviewerIsNotTheProposer", mentions=[OFFICER])


def test_each_reviewer_votes_once() -> None:
    action = proposed_action()
    vote(action, "approve", FIRST, 30)
    assert_refused(action, lambda: vote(action, "reject", FIRST, 31), RuleViolationError,
                   rule="EachReviewerVotesOnce", mentions=[FIRST])


def test_an_unknown_vote_is_refused() -> None:
    action = proposed_action()
    assert_refused(action, lambda: vote(action, "abstain", FIRST, 30), InvalidValueError,
                   field="vote")


@pytest.mark.parametrize("voters", [0, 1])
def test_a_review_needs_two_reviewers_to_conclude(voters: int) -> None:
    action = proposed_action()
    for minute, reviewer in enumerate(REVIEWERS[:voters], start=30):
        vote(action, "approve", reviewer, minute)
    assert_refused(action, lambda: action.conclude_review(actor=MANAGER, reason=REASON,
                                                          at=LATER),
                   RuleViolationError, rule="ReviewNeedsTwoReviewers",
                   mentions=[f"{voters} voted so far"])


@pytest.mark.parametrize(("votes", "approved"), [
    (("approve", "approve"), True),
    (("approve", "approve", "reject"), True),
    (("approve", "reject"), False),
    (("reject", "approve", "reject"), False),
    (("reject", "reject"), False),
])
def test_the_team_approves_by_majority_and_a_tie_rejects(votes: tuple[str, ...],
                                                         approved: bool) -> None:
    action = proposed_action()
    for minute, (reviewer, choice) in enumerate(zip(REVIEWERS, votes, strict=False), start=30):
        vote(action, choice, reviewer, minute)

    assert action.conclude_review(actor=MANAGER, reason="team decided", at=at(40)) is approved

    assert action.state is (EnforcementState.APPROVED_FOR_ISSUE if approved
                            else EnforcementState.REJECTED)
    assert last_event(action).approved is approved


def test_the_proposer_cannot_conclude_the_review_of_their_own_action() -> None:
    action = proposed_action()
    vote(action, "approve", FIRST, 30)
    vote(action, "approve", SECOND, 31)
    assert_refused(action, lambda: action.conclude_review(actor=OFFICER, reason=REASON,
                                                          at=at(32)),
                   RuleViolationError, rule="ReviewConcluderIsNotTheProposer",
                   mentions=[OFFICER, "proposed this action", "conclude its review"])


def test_someone_other_than_the_proposer_concludes_the_review() -> None:
    action = proposed_action()
    vote(action, "approve", FIRST, 30)
    vote(action, "approve", SECOND, 31)
    assert action.conclude_review(actor=MANAGER, reason=REASON, at=at(32)) is True
    assert last_event(action).actor == MANAGER
    assert action.proposer == OFFICER


def test_no_vote_is_taken_after_the_review_concluded() -> None:
    action = approved_action()
    assert_refused(action, lambda: vote(action, "reject", THIRD, 30), InvalidTransitionError,
                   mentions=["is approved_for_issue"])


# -- issue and penalty notice ---------------------------------------------------------------


def test_issuing_a_penalty_sends_the_pre_penalty_notice_with_a_response_date() -> None:
    action = approved_action()
    due = TODAY + timedelta(days=30)
    action.issue(response_due_on=due.isoformat(), today=TODAY, actor=OFFICER, reason=REASON,
                 at=LATER)
    assert action.state is EnforcementState.ISSUED
    assert action.response_due_on == due
    assert last_event(action).notice == "pre_penalty_notice"


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_a_non_monetary_action_is_issued_without_a_response_date(kind: str) -> None:
    action = approved_action(kind)
    action.issue(response_due_on=None, today=TODAY, actor=OFFICER, reason=REASON, at=LATER)
    assert action.state is EnforcementState.ISSUED
    assert action.response_due_on is None
    assert last_event(action).notice == "notice"


def test_a_penalty_cannot_be_issued_without_a_response_date() -> None:
    action = approved_action()
    assert_refused(action, lambda: action.issue(response_due_on=None, today=TODAY,
                                                actor=OFFICER, reason=REASON, at=LATER),
                   InvalidValueError, field="response_due_on")


@pytest.mark.parametrize("kind", ["penalty", "informed_compliance"])
def test_a_response_date_in_the_past_is_refused_but_today_is_fine(kind: str) -> None:
    action = approved_action(kind)
    assert_refused(action, lambda: action.issue(response_due_on=YESTERDAY, today=TODAY,
                                                actor=OFFICER, reason=REASON, at=LATER),
                   InvalidValueError, field="response_due_on", mentions=["in the past"])
    action.issue(response_due_on=TODAY, today=TODAY, actor=OFFICER, reason=REASON, at=LATER)
    assert action.response_due_on == TODAY


def test_an_action_is_not_issued_before_the_team_approved_it() -> None:
    action = proposed_action()
    assert_refused(action, lambda: action.issue(response_due_on=TODAY, today=TODAY,
                                                actor=OFFICER, reason=REASON, at=LATER),
                   InvalidTransitionError, mentions=["only allowed when approved_for_issue"])


def test_the_penalty_notice_follows_the_pre_penalty_notice_with_a_new_response_date() -> None:
    action = issued_action()
    due = TODAY + timedelta(days=45)
    action.issue_penalty_notice(response_due_on=due, today=TODAY, actor=OFFICER, reason=REASON,
                                at=LATER)
    assert action.state is EnforcementState.PENALTY_NOTICE_ISSUED
    assert action.response_due_on == due


def test_a_penalty_notice_due_in_the_past_is_refused() -> None:
    action = issued_action()
    assert_refused(action, lambda: action.issue_penalty_notice(
        response_due_on=YESTERDAY, today=TODAY, actor=OFFICER, reason=REASON, at=LATER),
        InvalidValueError, field="response_due_on")


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_only_monetary_actions_get_a_penalty_notice(kind: str) -> None:
    action = issued_action(kind)
    assert_refused(action, lambda: action.issue_penalty_notice(
        response_due_on=TODAY, today=TODAY, actor=OFFICER, reason=REASON, at=LATER),
        InvalidValueError, field="kind", mentions=["only penalties have notices"])


def test_a_penalty_notice_needs_an_issued_action() -> None:
    action = approved_action()
    assert_refused(action, lambda: action.issue_penalty_notice(
        response_due_on=TODAY, today=TODAY, actor=OFFICER, reason=REASON, at=LATER),
        InvalidTransitionError)


# -- response -------------------------------------------------------------------------------


def test_the_importers_petition_is_recorded_and_a_further_response_may_follow() -> None:
    action = noticed_penalty()
    action.record_response("PETITION", "asks for mitigation", actor=OFFICER, reason=REASON,
                           at=at(30))
    assert action.state is EnforcementState.RESPONSE_RECEIVED
    assert last_event(action).response_kind is ResponseKind.PETITION
    action.record_response("response", "adds invoices", actor=OFFICER, reason=REASON,
                           at=at(31))
    assert last_event(action).summary == "adds invoices"


@pytest.mark.parametrize(("kind", "summary", "field"), [
    ("appeal", "x", "response_kind"), ("response", " ", "summary")])
def test_a_malformed_response_is_refused(kind: str, summary: str, field: str) -> None:
    action = noticed_penalty()
    assert_refused(action, lambda: action.record_response(kind, summary, actor=OFFICER,
                                                          reason=REASON, at=LATER),
                   InvalidValueError, field=field)


def test_no_response_is_recorded_before_the_action_is_issued() -> None:
    action = approved_action()
    assert_refused(action, lambda: action.record_response("response", "x", actor=OFFICER,
                                                          reason=REASON, at=LATER),
                   InvalidTransitionError)


# -- decision, payment, collection ----------------------------------------------------------


def decide(action: EnforcementAction, amount: str, policy: CapPolicy = CAPS) -> None:
    action.decide(amount, cap_policy=policy, actor=MANAGER, reason="mitigated", at=LATER)


@pytest.mark.parametrize("build", [noticed_penalty, responded_penalty])
def test_a_decision_may_mitigate_the_proposed_amount(
        build: Callable[[], EnforcementAction]) -> None:
    action = build()
    decide(action, "9000.50")
    assert action.state is EnforcementState.DECIDED
    assert action.decided_amount == Decimal("9000.50")


def test_a_decision_may_keep_the_proposed_amount() -> None:
    action = responded_penalty()
    decide(action, "15000")
    assert action.decided_amount == Decimal("15000.00")


def test_a_decision_above_the_proposed_amount_is_refused() -> None:
    action = responded_penalty()
    assert_refused(action, lambda: decide(action, "15000.01"), RuleViolationError,
                   rule="MitigatedAmountDoesNotExceedProposed",
                   mentions=["15000.01", "15000.00"])


def test_a_decision_is_checked_against_the_cap_again() -> None:
    # Proposed at the 8% interest cap (800.00); by the decision the policy rate is 5%, so
    # the cap is 10 000.00 x 5% = 500.00 and 700.00 is refused though below the proposal.
    action = responded_penalty(basis=penalty_basis(prior_disclosure=True),
                               proposed_amount="800.00")
    assert_refused(action, lambda: decide(action, "700.00",
                                          CapPolicy(interest_rate=Decimal("0.05"))),
                   RuleViolationError, rule="AmountIsWithinTheCulpabilityCap",
                   mentions=["decided_amount 700.00", "cap of 500.00"])


def test_the_proposer_cannot_decide_their_own_penalty() -> None:
    action = responded_penalty()
    assert_refused(action, lambda: action.decide("9000.00", cap_policy=CAPS, actor=OFFICER,
                                                 reason="mitigated", at=LATER),
                   RuleViolationError, rule="PenaltyDeciderIsNotTheProposer",
                   mentions=[OFFICER, "proposed this penalty", "decide it"])


def test_someone_other_than_the_proposer_decides_the_penalty() -> None:
    action = responded_penalty()
    action.decide("9000.00", cap_policy=CAPS, actor=FIRST, reason="mitigated", at=LATER)
    assert action.state is EnforcementState.DECIDED
    assert last_event(action).actor == FIRST


def test_a_malformed_decided_amount_is_refused() -> None:
    action = responded_penalty()
    assert_refused(action, lambda: decide(action, "ten"), InvalidValueError,
                   field="decided_amount")


def test_a_penalty_is_not_decided_before_its_notice() -> None:
    action = issued_action()
    assert_refused(action, lambda: decide(action, "100.00"), InvalidTransitionError,
                   mentions=["is issued"])


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_a_non_monetary_action_is_never_decided(kind: str) -> None:
    action = issued_action(kind)
    action.record_response("response", "will comply", actor=OFFICER, reason=REASON, at=at(29))
    assert action.state is EnforcementState.RESPONSE_RECEIVED
    assert_refused(action, lambda: decide(action, "0.00"), InvalidValueError, field="kind",
                   mentions=["only penalties are decided"])


def test_a_payment_of_the_decided_amount_settles_the_penalty() -> None:
    action = decided_penalty("12000.00")
    action.record_payment("12000", "2026-03-02", actor=OFFICER, reason="paid", at=LATER)
    assert action.state is EnforcementState.PAID
    assert action.paid_amount == Decimal("12000.00")
    assert last_event(action).paid_on.isoformat() == "2026-03-02"


@pytest.mark.parametrize("amount", ["11999.99", "12000.01", "0.00"])
def test_a_payment_must_be_the_decided_amount(amount: str) -> None:
    action = decided_penalty("12000.00")
    assert_refused(action, lambda: action.record_payment(amount, TODAY, actor=OFFICER,
                                                         reason=REASON, at=LATER),
                   RuleViolationError, rule="PaymentIsTheDecidedAmount",
                   mentions=[amount, "12000.00"])


def test_a_payment_with_a_malformed_date_is_refused() -> None:
    action = decided_penalty("12000.00")
    assert_refused(action, lambda: action.record_payment("12000.00", "01/03/2026",
                                                         actor=OFFICER, reason=REASON,
                                                         at=LATER),
                   InvalidValueError, field="paid_on")


def test_no_payment_is_recorded_before_a_decision() -> None:
    action = responded_penalty()
    assert_refused(action, lambda: action.record_payment("15000.00", TODAY, actor=OFFICER,
                                                         reason=REASON, at=LATER),
                   InvalidTransitionError)


def test_an_unpaid_decision_is_referred_for_collection() -> None:
    action = decided_penalty()
    action.refer_for_collection(actor=OFFICER, reason="unpaid after 30 days", at=LATER)
    assert action.state is EnforcementState.REFERRED_FOR_COLLECTION
    assert_refused(action, lambda: action.record_payment("12000.00", TODAY, actor=OFFICER,
                                                         reason=REASON, at=at(31)),
                   InvalidTransitionError)


def test_only_a_decided_penalty_is_referred_for_collection() -> None:
    action = responded_penalty()
    assert_refused(action, lambda: action.refer_for_collection(actor=OFFICER, reason=REASON,
                                                               at=LATER),
                   InvalidTransitionError)


# -- closing --------------------------------------------------------------------------------


def paid_penalty() -> EnforcementAction:
    action = decided_penalty("12000.00")
    action.record_payment("12000.00", TODAY, actor=OFFICER, reason="paid", at=at(20))
    return action


def referred_penalty() -> EnforcementAction:
    action = decided_penalty()
    action.refer_for_collection(actor=OFFICER, reason="unpaid", at=at(20))
    return action


def close(action: EnforcementAction) -> None:
    action.close(actor=MANAGER, reason="settled", at=LATER)


@pytest.mark.parametrize("build", [paid_penalty, referred_penalty])
def test_a_penalty_closes_once_paid_or_referred_for_collection(
        build: Callable[[], EnforcementAction]) -> None:
    action = build()
    close(action)
    assert action.state is EnforcementState.CLOSED


@pytest.mark.parametrize("build", [approved_action, issued_action, noticed_penalty,
                                   responded_penalty, decided_penalty])
def test_a_penalty_does_not_close_before_it_is_paid_or_referred(
        build: Callable[[], EnforcementAction]) -> None:
    action = build()
    assert_refused(action, lambda: close(action), InvalidTransitionError,
                   mentions=["only allowed when paid, referred_for_collection"])


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_a_non_monetary_action_closes_once_issued(kind: str) -> None:
    action = issued_action(kind)
    close(action)
    assert action.state is EnforcementState.CLOSED


def test_a_non_monetary_action_closes_after_the_importers_response() -> None:
    action = issued_action("informed_compliance")
    action.record_response("response", "training booked", actor=OFFICER, reason=REASON,
                           at=at(20))
    close(action)
    assert action.state is EnforcementState.CLOSED


def test_a_non_monetary_action_does_not_close_before_it_is_issued() -> None:
    action = approved_action("seizure_referral")
    assert_refused(action, lambda: close(action), InvalidTransitionError,
                   mentions=["only allowed when issued, response_received"])


# -- withdrawal -----------------------------------------------------------------------------


@pytest.mark.parametrize("build", [proposed_action, approved_action, issued_action,
                                   noticed_penalty, responded_penalty])
def test_an_action_may_be_withdrawn_before_a_decision(
        build: Callable[[], EnforcementAction]) -> None:
    action = build()
    action.withdraw(actor=MANAGER, reason="new facts", at=LATER)
    assert action.state is EnforcementState.WITHDRAWN
    assert last_event(action).reason == "new facts"


@pytest.mark.parametrize("build", [decided_penalty, paid_penalty, referred_penalty])
def test_an_action_cannot_be_withdrawn_after_a_decision(
        build: Callable[[], EnforcementAction]) -> None:
    action = build()
    assert_refused(action, lambda: action.withdraw(actor=MANAGER, reason=REASON, at=LATER),
                   InvalidTransitionError)


# -- change of culpability ------------------------------------------------------------------


def fraud_penalty(amount: str = "100000.00") -> EnforcementAction:
    """Fraud caps at the domestic value (500 000.00), so 100 000.00 is within it."""
    return proposed_action(basis=penalty_basis("fraud"), proposed_amount=amount)


def change_culpability(action: EnforcementAction, culpability: str, *,
                       amount: str | None = None, prior_disclosure: bool | None = None) -> None:
    action.change_culpability(culpability, proposed_amount=amount,
                              prior_disclosure=prior_disclosure, cap_policy=CAPS,
                              actor=MANAGER, reason="intent not shown", at=LATER)


def test_lowering_the_culpability_re_checks_the_amount_against_the_new_cap() -> None:
    action = fraud_penalty("100000.00")
    # negligence: min(500 000.00, 2 x 10 000.00) = 20 000.00 < 100 000.00
    assert_refused(action, lambda: change_culpability(action, "negligence"),
                   RuleViolationError, rule="AmountIsWithinTheCulpabilityCap",
                   mentions=["cap of 20000.00", "negligence"])
    assert action.basis is not None
    assert action.basis.culpability is Culpability.FRAUD


def test_a_change_of_culpability_may_bring_the_amount_within_the_new_cap() -> None:
    action = fraud_penalty("100000.00")

    change_culpability(action, "gross_negligence", amount="40000.00")

    assert action.basis == penalty_basis("gross_negligence")
    assert action.proposed_amount == Decimal("40000.00")
    event = last_event(action)
    assert (event.actor, event.reason) == (MANAGER, "intent not shown")


def test_a_change_of_culpability_keeps_the_amount_when_none_is_given() -> None:
    action = fraud_penalty("15000.00")
    change_culpability(action, "negligence")
    assert action.proposed_amount == Decimal("15000.00")
    assert action.basis is not None
    assert action.basis.culpability is Culpability.NEGLIGENCE


def test_a_prior_disclosure_given_with_the_change_lowers_the_cap() -> None:
    action = proposed_action()
    # negligence with prior disclosure: 10 000.00 x 8% = 800.00 < 15 000.00
    assert_refused(action, lambda: change_culpability(action, "negligence",
                                                      prior_disclosure=True),
                   RuleViolationError, rule="AmountIsWithinTheCulpabilityCap",
                   mentions=["cap of 800.00", "with prior disclosure"])
    change_culpability(action, "negligence", amount="800.00", prior_disclosure=True)
    assert action.basis == penalty_basis(prior_disclosure=True)


def test_an_earlier_prior_disclosure_is_kept_when_the_change_does_not_mention_it() -> None:
    action = proposed_action(basis=penalty_basis(prior_disclosure=True),
                             proposed_amount="800.00")
    change_culpability(action, "gross_negligence")
    assert action.basis == penalty_basis("gross_negligence", prior_disclosure=True)


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_a_non_monetary_action_has_no_culpability_to_change(kind: str) -> None:
    action = proposed_action(kind)
    assert_refused(action, lambda: change_culpability(action, "negligence"), InvalidValueError,
                   field="culpability", mentions=[f"a {kind} action has no culpability"])


def test_an_unknown_culpability_is_refused() -> None:
    action = proposed_action()
    assert_refused(action, lambda: change_culpability(action, "recklessness"),
                   InvalidValueError, field="culpability")


@pytest.mark.parametrize("build", [decided_penalty, paid_penalty])
def test_the_culpability_is_not_changed_after_the_decision(
        build: Callable[[], EnforcementAction]) -> None:
    action = build()
    assert_refused(action, lambda: change_culpability(action, "negligence"),
                   InvalidTransitionError)


# -- final states ---------------------------------------------------------------------------


def rejected_action() -> EnforcementAction:
    action = proposed_action()
    vote(action, "reject", FIRST, 1)
    vote(action, "reject", SECOND, 2)
    action.conclude_review(actor=MANAGER, reason="not supported", at=at(3))
    return action


def withdrawn_action() -> EnforcementAction:
    action = issued_action()
    action.withdraw(actor=MANAGER, reason="new facts", at=at(20))
    return action


def closed_action() -> EnforcementAction:
    action = paid_penalty()
    action.close(actor=MANAGER, reason="settled", at=at(21))
    return action


FINAL_ACTION_COMMANDS: list[Callable[[EnforcementAction], object]] = [
    lambda a: vote(a, "approve", THIRD, 30),
    lambda a: a.conclude_review(actor=MANAGER, reason=REASON, at=LATER),
    lambda a: a.issue(response_due_on=TODAY, today=TODAY, actor=OFFICER, reason=REASON,
                      at=LATER),
    lambda a: a.issue_penalty_notice(response_due_on=TODAY, today=TODAY, actor=OFFICER,
                                     reason=REASON, at=LATER),
    lambda a: a.record_response("response", "x", actor=OFFICER, reason=REASON, at=LATER),
    lambda a: decide(a, "1.00"),
    lambda a: a.record_payment("12000.00", TODAY, actor=OFFICER, reason=REASON, at=LATER),
    lambda a: a.refer_for_collection(actor=OFFICER, reason=REASON, at=LATER),
    lambda a: a.withdraw(actor=OFFICER, reason=REASON, at=LATER),
    lambda a: close(a),
    lambda a: change_culpability(a, "negligence"),
]


@pytest.mark.parametrize("command", FINAL_ACTION_COMMANDS)
@pytest.mark.parametrize("build", [rejected_action, withdrawn_action, closed_action])
def test_a_rejected_withdrawn_or_closed_action_takes_no_command(
        build: Callable[[], EnforcementAction],
        command: Callable[[EnforcementAction], object]) -> None:
    action = build()
    assert_refused(action, lambda: command(action), InvalidTransitionError,
                   mentions=[f"is {action.state.value}"])


def test_the_whole_penalty_path_records_one_event_per_step() -> None:
    action = closed_action()
    assert [type(e).__name__ for e in action.pending_events] == [
        "Proposed", "ReviewVoteRecorded", "ReviewVoteRecorded", "ReviewConcluded", "Issued",
        "PenaltyNoticeIssued", "ResponseRecorded", "Decided", "PaymentRecorded", "Closed"]
    assert all(e.actor and e.reason for e in action.pending_events)
