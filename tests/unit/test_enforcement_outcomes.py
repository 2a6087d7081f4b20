"""EnforcementAction after the response: decision within the cap, payment or collection,
close; withdrawal before a decision; a change of culpability; the final states.

The default penalty is 15 000.00 on a negligence basis whose cap is 20 000.00
(min(domestic 500 000.00, 2 x loss 10 000.00)).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from domain.enforcement_action import (
    EnforcementAction,
    EnforcementState,
)
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.penalties import CapPolicy, Culpability

from .builders import (
    CAPS,
    MANAGER,
    OFFICER,
    REASON,
    TODAY,
    approved_action,
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
from .enforcement_support import (
    FIRST,
    LATER,
    NON_MONETARY,
    SECOND,
    THIRD,
    last_event,
)

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
