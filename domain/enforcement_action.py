"""EnforcementAction: the interventions ladder, from informed-compliance outreach to
penalties and enforced-compliance programmes, reviewed by an enforcement evaluation team
before it is issued.

proposed -> reviewed (approved by the team) -> issued -> [penalty path: penalty notice ->
response/petition -> decided -> paid or referred for collection] -> closed;
withdrawn at any point before a decision; rejected by the team.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar
from uuid import UUID

from domain.base import CaseAggregate, DeadlineCase, StepRule, require_aware
from domain.case_numbers import case_id, parse_case_number
from domain.date_rules import business_date_rules
from domain.enforcement_rules import (
    AmountIsWithinTheCulpabilityCap,
    DecisionFollowsAPenaltyNotice,
    EachReviewerVotesOnce,
    MitigatedAmountDoesNotExceedProposed,
    PaymentIsTheDecidedAmount,
    PenaltyDeciderIsNotTheProposer,
    PenaltyNoticeIsIssuedOnce,
    ReviewConcluderIsNotTheProposer,
    ReviewerIsNotTheProposer,
    ReviewNeedsTwoReviewers,
)
from domain.enforcement_values import (
    ENFORCEMENT_FINAL_STATES,
    MONETARY,
    EnforcementKind,
    EnforcementState,
    ResponseKind,
    ReviewVote,
    Vote,
)
from domain.errors import InvalidValueError, RuleViolationError
from domain.penalties import CapPolicy, Culpability, PenaltyBasis, penalty_cap
from domain.rules import BusinessRule, check
from domain.values import parse_actor, parse_date, parse_enum, parse_money, parse_name, parse_reason

__all__ = ["ENFORCEMENT_FINAL_STATES", "MONETARY", "EnforcementAction", "EnforcementKind",
           "EnforcementState", "ResponseKind", "ReviewVote", "Vote"]


class EnforcementAction(DeadlineCase):
    number: str
    importer_id: UUID
    importer_number: str
    district: str
    kind: EnforcementKind
    legal_basis: str
    facts: str
    source_case: str | None
    basis: PenaltyBasis | None
    proposed_amount: Decimal | None
    proposer: str
    state: EnforcementState
    votes: tuple[ReviewVote, ...]
    decided_amount: Decimal | None
    paid_amount: Decimal | None
    response_due_on: date | None
    examinations_until: date | None
    penalty_notice_on: date | None
    overdue_flags: tuple[tuple[str, date], ...] = ()
    """(item, due date) flagged overdue by the scheduler (see CaseAggregate.flag_overdue)."""

    STEPS = {
        "change_culpability": StepRule.of("change the culpability", EnforcementState.PROPOSED),
        "record_review_vote": StepRule.of("record a review vote", EnforcementState.PROPOSED),
        "conclude_review": StepRule.of("conclude the review", EnforcementState.PROPOSED),
        "issue_enforcement": StepRule.of("issue", EnforcementState.APPROVED_FOR_ISSUE),
        "issue_penalty_notice": StepRule.of("issue the penalty notice", EnforcementState.ISSUED,
                                            EnforcementState.RESPONSE_RECEIVED),
        "record_enforcement_response": StepRule.of(
            "record the importer's response", EnforcementState.ISSUED,
            EnforcementState.PENALTY_NOTICE_ISSUED, EnforcementState.RESPONSE_RECEIVED,
            EnforcementState.RESPONSE_OVERDUE),
        "close_response_window": StepRule.of("close the response window unanswered",
                                             EnforcementState.PENALTY_NOTICE_ISSUED),
        "decide_enforcement": StepRule.of("decide", EnforcementState.PENALTY_NOTICE_ISSUED,
                                          EnforcementState.RESPONSE_RECEIVED,
                                          EnforcementState.RESPONSE_OVERDUE),
        "record_payment": StepRule.of("record payment", EnforcementState.DECIDED),
        "refer_for_collection": StepRule.of("refer for collection", EnforcementState.DECIDED),
        "withdraw_enforcement": StepRule.of(
            "withdraw", EnforcementState.PROPOSED, EnforcementState.APPROVED_FOR_ISSUE,
            EnforcementState.ISSUED, EnforcementState.PENALTY_NOTICE_ISSUED,
            EnforcementState.RESPONSE_RECEIVED, EnforcementState.RESPONSE_OVERDUE),
        "close_enforcement": StepRule.of("close", EnforcementState.PAID,
                                         EnforcementState.REFERRED_FOR_COLLECTION),
    }
    """The steps of a monetary action (a penalty, liquidated damages); the other kinds
    differ as the two tables below say."""

    NON_MONETARY_STATES: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "close_enforcement": (EnforcementState.ISSUED.value,
                              EnforcementState.RESPONSE_RECEIVED.value),
    }
    """Where a non-monetary action's states differ: never decided nor paid, it closes once
    issued (or once the importer has answered)."""

    MONETARY_ONLY: ClassVar[frozenset[str]] = frozenset({
        "change_culpability", "issue_penalty_notice", "decide_enforcement"})
    """Steps only a monetary action has (a culpability, a penalty notice, a decided
    amount): the other kinds refuse them by kind, in whatever state."""

    def __init__(self) -> None:
        """State is set by the Proposed event's apply."""

    @property
    def label(self) -> str:
        return f"enforcement action {self.number}"

    class Proposed(CaseAggregate.Created):
        number: str
        importer_id: UUID
        importer_number: str
        district: str
        kind: EnforcementKind
        legal_basis: str
        facts: str
        source_case: str | None
        basis: PenaltyBasis | None
        proposed_amount: Decimal | None
        examinations_until: date | None

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.number = self.number
            aggregate.importer_id = self.importer_id
            aggregate.importer_number = self.importer_number
            aggregate.district = self.district
            aggregate.kind = self.kind
            aggregate.legal_basis = self.legal_basis
            aggregate.facts = self.facts
            aggregate.source_case = self.source_case
            aggregate.basis = self.basis
            aggregate.proposed_amount = self.proposed_amount
            aggregate.examinations_until = self.examinations_until
            aggregate.proposer = self.actor
            aggregate.state = EnforcementState.PROPOSED
            aggregate.votes = ()
            aggregate.overdue_flags = ()
            aggregate.decided_amount = None
            aggregate.paid_amount = None
            aggregate.response_due_on = None
            aggregate.penalty_notice_on = None

    @classmethod
    def propose(cls, *, number: str, importer_id: UUID, importer_number: str, district: str,
                kind: EnforcementKind | str, legal_basis: str, facts: str,
                source_case: str | None, basis: PenaltyBasis | None,
                proposed_amount: Decimal | str | None, examinations_until: date | str | None,
                cap_policy: CapPolicy, actor: str, reason: str,
                at: datetime) -> EnforcementAction:
        chosen = parse_enum(EnforcementKind, kind, "kind")
        amount = None if proposed_amount is None else parse_money(proposed_amount,
                                                                  "proposed_amount")
        if chosen in MONETARY:
            if basis is None or amount is None:
                raise InvalidValueError("proposed_amount", proposed_amount,
                                        f"a {chosen.value} needs an amount, culpability, "
                                        "revenue loss and values")
            check(AmountIsWithinTheCulpabilityCap("proposed_amount", amount,
                                                  penalty_cap(basis, cap_policy), basis))
        elif amount is not None:
            raise InvalidValueError("proposed_amount", proposed_amount,
                                    f"a {chosen.value} carries no amount")
        until = None if examinations_until is None else parse_date(examinations_until,
                                                                   "examinations_until")
        if until is not None and until <= require_aware(at).date():
            raise InvalidValueError("examinations_until", until.isoformat(),
                                    "must be after the day the action is proposed")
        if chosen is EnforcementKind.INCREASED_EXAMINATIONS and until is None:
            raise InvalidValueError("examinations_until", None,
                                    "increased examinations need an end date")
        return cls._create(
            cls.Proposed, id=case_id(number), timestamp=require_aware(at),
            actor=parse_actor(actor), reason=parse_reason(reason),
            number=parse_case_number(number), importer_id=importer_id,
            importer_number=importer_number, district=district, kind=chosen,
            legal_basis=parse_name(legal_basis, "legal_basis"),
            facts=parse_reason(facts, "facts"), source_case=source_case,
            basis=basis if chosen in MONETARY else None, proposed_amount=amount,
            examinations_until=until)

    @property
    def is_monetary(self) -> bool:
        return self.kind in MONETARY

    def step_states(self, command: str) -> tuple[str, ...]:
        if not self.is_monetary and command in self.NON_MONETARY_STATES:
            return self.NON_MONETARY_STATES[command]
        return super().step_states(command)

    def step_applies(self, command: str) -> bool:
        return super().step_applies(command) and (self.is_monetary
                                                   or command not in self.MONETARY_ONLY)

    def step_preconditions(self, command: str) -> tuple[BusinessRule, ...]:
        """The penalty notice splits the response states: before it, a response answers the
        pre-penalty notice and the notice is still to issue; after it, the notice is not
        issued again and the action can be decided."""
        if command == "issue_penalty_notice":
            return (PenaltyNoticeIsIssuedOnce(self.penalty_notice_on),)
        if command == "decide_enforcement":
            return (DecisionFollowsAPenaltyNotice(self.penalty_notice_on),)
        return ()

    class CulpabilityChanged(CaseAggregate.Event):
        basis: PenaltyBasis
        proposed_amount: Decimal

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.basis = self.basis
            aggregate.proposed_amount = self.proposed_amount
            aggregate.votes = ()

    def change_culpability(self, culpability: Culpability | str, *,
                           proposed_amount: Decimal | str | None, prior_disclosure: bool | None,
                           cap_policy: CapPolicy, actor: str, reason: str,
                           at: datetime) -> None:
        """A change of culpability re-checks the amount against the new cap. It is only
        possible before the evaluation team concludes, and it clears the votes cast so far:
        the team must review the facts and amount that will be issued."""
        self._refuse_unless_step("change_culpability")
        if (not self.step_applies("change_culpability") or self.basis is None
                or self.proposed_amount is None):
            raise InvalidValueError("culpability", culpability,
                                    f"a {self.kind.value} action has no culpability")
        basis = PenaltyBasis(parse_enum(Culpability, culpability, "culpability"),
                             self.basis.revenue_loss, self.basis.domestic_value,
                             self.basis.dutiable_value,
                             self.basis.prior_disclosure if prior_disclosure is None
                             else prior_disclosure)
        amount = (self.proposed_amount if proposed_amount is None
                  else parse_money(proposed_amount, "proposed_amount"))
        check(AmountIsWithinTheCulpabilityCap("proposed_amount", amount,
                                              penalty_cap(basis, cap_policy), basis))
        self._record(self.CulpabilityChanged, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), basis=basis, proposed_amount=amount)

    class ReviewVoteRecorded(CaseAggregate.Event):
        vote: ReviewVote

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.votes = (*aggregate.votes, self.vote)

    def record_review_vote(self, vote: Vote | str, *, actor: str, reason: str,
                           at: datetime) -> None:
        self._refuse_unless_step("record_review_vote")
        reviewer = parse_actor(actor)
        check(ReviewerIsNotTheProposer(reviewer, self.proposer),
              EachReviewerVotesOnce(reviewer, self.votes))
        why = parse_reason(reason)
        self._record(self.ReviewVoteRecorded, at, actor=reviewer, reason=why,
                     vote=ReviewVote(reviewer, parse_enum(Vote, vote, "vote"), why))

    class ReviewConcluded(CaseAggregate.Event):
        approved: bool

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.state = (EnforcementState.APPROVED_FOR_ISSUE if self.approved
                               else EnforcementState.REJECTED)

    def conclude_review(self, *, actor: str, reason: str, at: datetime) -> bool:
        """Approved by a majority of the team; a tie is not an approval."""
        self._refuse_unless_step("conclude_review")
        concluder = parse_actor(actor)
        check(ReviewConcluderIsNotTheProposer(concluder, self.proposer, "conclude its review"),
              ReviewNeedsTwoReviewers(self.votes))
        approvals = sum(1 for v in self.votes if v.vote is Vote.APPROVE)
        approved = approvals * 2 > len(self.votes)
        self._record(self.ReviewConcluded, at, actor=concluder,
                     reason=parse_reason(reason), approved=approved)
        return approved

    class Issued(CaseAggregate.Event):
        notice: str
        response_due_on: date | None

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.response_due_on = self.response_due_on
            aggregate.state = EnforcementState.ISSUED

    def issue(self, *, response_due_on: date | str | None, today: date, actor: str,
              reason: str, at: datetime) -> None:
        """Issue the action; for a penalty this is the pre-penalty notice."""
        self._refuse_unless_step("issue_enforcement")
        due = self._response_due(response_due_on, today)
        self._record(self.Issued, at, actor=parse_actor(actor), reason=parse_reason(reason),
                     notice="pre_penalty_notice" if self.is_monetary else "notice",
                     response_due_on=due)

    def _response_due(self, response_due_on: date | str | None, today: date) -> date | None:
        if response_due_on is None:
            if self.is_monetary:
                raise InvalidValueError("response_due_on", None,
                                        "a penalty notice needs a response due date")
            return None
        due = parse_date(response_due_on, "response_due_on")
        if due < today:
            raise InvalidValueError("response_due_on", due.isoformat(),
                                    "a due date cannot be set in the past")
        return due

    class PenaltyNoticeIssued(CaseAggregate.Event):
        response_due_on: date

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.response_due_on = self.response_due_on
            aggregate.penalty_notice_on = self.timestamp.date()
            aggregate.state = EnforcementState.PENALTY_NOTICE_ISSUED

    def issue_penalty_notice(self, *, response_due_on: date | str, today: date, actor: str,
                             reason: str, at: datetime) -> None:
        self._refuse_unless_step("issue_penalty_notice")
        check(*self.step_preconditions("issue_penalty_notice"))
        if not self.step_applies("issue_penalty_notice"):
            raise InvalidValueError("kind", self.kind.value, "only penalties have notices")
        due = self._response_due(response_due_on, today)
        assert due is not None
        self._record(self.PenaltyNoticeIssued, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), response_due_on=due)

    class ResponseRecorded(CaseAggregate.Event):
        response_kind: ResponseKind
        summary: str

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.state = EnforcementState.RESPONSE_RECEIVED

    def record_response(self, response_kind: ResponseKind | str, summary: str, *, actor: str,
                        reason: str, at: datetime) -> None:
        self._refuse_unless_step("record_enforcement_response")
        self._record(self.ResponseRecorded, at, actor=parse_actor(actor),
                     reason=parse_reason(reason),
                     response_kind=parse_enum(ResponseKind, response_kind, "response_kind"),
                     summary=parse_reason(summary, "summary"))

    def open_due_items(self) -> dict[str, date]:
        """The importer's response to a notice, while the action waits for it."""
        waiting = self.state in (EnforcementState.ISSUED,
                                 EnforcementState.PENALTY_NOTICE_ISSUED)
        if waiting and self.response_due_on is not None:
            return {"response": self.response_due_on}
        return {}

    class ResponseWindowClosed(CaseAggregate.Event):
        """A penalty notice went unanswered past its date: the action moves to decision
        (a late response may still be recorded before the decision)."""

        due_on: date

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.state = EnforcementState.RESPONSE_OVERDUE

    def close_response_window(self, *, today: date, actor: str, reason: str,
                              at: datetime) -> None:
        self._refuse_unless_step("close_response_window")
        assert self.response_due_on is not None  # a penalty notice always sets one
        if self.response_due_on >= today:
            raise RuleViolationError(
                "ResponseWindowHasPassed",
                f"{self.label}: the response is due {self.response_due_on}; the window is "
                f"still open on {today}")
        self._record(self.ResponseWindowClosed, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), due_on=self.response_due_on)

    class Decided(CaseAggregate.Event):
        decided_amount: Decimal

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.decided_amount = self.decided_amount
            aggregate.state = EnforcementState.DECIDED

    def decide(self, decided_amount: Decimal | str, *, cap_policy: CapPolicy, actor: str,
               reason: str, at: datetime) -> None:
        self._refuse_unless_step("decide_enforcement")
        if not self.step_applies("decide_enforcement"):
            # A non-monetary action reaches response_received too; refuse it as a domain
            # error instead of failing the asserts below.
            raise InvalidValueError("kind", self.kind.value, "only penalties are decided")
        decider = parse_actor(actor)
        check(PenaltyDeciderIsNotTheProposer(decider, self.proposer, "decide it"),
              *self.step_preconditions("decide_enforcement"))
        amount = parse_money(decided_amount, "decided_amount")
        assert self.basis is not None
        assert self.proposed_amount is not None
        check(MitigatedAmountDoesNotExceedProposed(amount, self.proposed_amount),
              AmountIsWithinTheCulpabilityCap("decided_amount", amount,
                                              penalty_cap(self.basis, cap_policy), self.basis))
        self._record(self.Decided, at, actor=decider, reason=parse_reason(reason),
                     decided_amount=amount)

    class PaymentRecorded(CaseAggregate.Event):
        amount: Decimal
        paid_on: date

        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.paid_amount = self.amount
            aggregate.state = EnforcementState.PAID

    def record_payment(self, amount: Decimal | str, paid_on: date | str, *, actor: str,
                       reason: str, at: datetime) -> None:
        self._refuse_unless_step("record_payment")
        paid = parse_money(amount, "amount")
        assert self.decided_amount is not None
        check(PaymentIsTheDecidedAmount(paid, self.decided_amount))
        day = parse_date(paid_on, "paid_on")
        check(*business_date_rules("paid_on", day, today=require_aware(at).date(),
                                   created_on=self.created_on.date(),
                                   case="enforcement action"))
        self._record(self.PaymentRecorded, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), amount=paid, paid_on=day)

    class ReferredForCollection(CaseAggregate.Event):
        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.state = EnforcementState.REFERRED_FOR_COLLECTION

    def refer_for_collection(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("refer_for_collection")
        self._record(self.ReferredForCollection, at, actor=parse_actor(actor),
                     reason=parse_reason(reason))

    class Withdrawn(CaseAggregate.Event):
        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.state = EnforcementState.WITHDRAWN

    def withdraw(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("withdraw_enforcement")
        self._record(self.Withdrawn, at, actor=parse_actor(actor), reason=parse_reason(reason))

    class Closed(CaseAggregate.Event):
        def apply(self, aggregate: EnforcementAction) -> None:
            aggregate.state = EnforcementState.CLOSED

    def close(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("close_enforcement")
        self._record(self.Closed, at, actor=parse_actor(actor), reason=parse_reason(reason))
