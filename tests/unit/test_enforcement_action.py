"""EnforcementAction up to the importer's response: propose within the culpability cap,
team review, issue, penalty notice, response (what follows, in test_enforcement_outcomes).

The default penalty is 15 000.00 on a negligence basis whose cap is 20 000.00
(min(domestic 500 000.00, 2 x loss 10 000.00)).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.case_numbers import case_id
from domain.enforcement_action import (
    MONETARY,
    EnforcementKind,
    EnforcementState,
    ResponseKind,
    ReviewVote,
    Vote,
)
from domain.errors import DomainError, InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.penalties import CapPolicy

from .builders import (
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
    issued_action,
    noticed_penalty,
    penalty_basis,
    proposed_action,
    vote,
)
from .enforcement_support import (
    FIRST,
    LATER,
    NON_MONETARY,
    SECOND,
    THIRD,
    YESTERDAY,
    last_event,
)


def refused_proposal(error: type[DomainError], **overrides: Any) -> DomainError:
    kind = overrides.pop("kind", "penalty")
    with pytest.raises(error) as excinfo:
        proposed_action(kind, **overrides)
    return excinfo.value



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
