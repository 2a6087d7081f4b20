"""The named rules an enforcement action must respect, each readable as a sentence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.penalties import PenaltyBasis
from domain.rules import BusinessRule, FourEyesRule

if TYPE_CHECKING:
    from domain.enforcement_action import ReviewVote

class AmountIsWithinTheCulpabilityCap(BusinessRule):
    def __init__(self, field: str, amount: Decimal, cap: Decimal, basis: PenaltyBasis) -> None:
        self.field, self.amount, self.cap, self.basis = field, amount, cap, basis

    def is_broken(self) -> bool:
        return self.amount > self.cap

    def message(self) -> str:
        disclosure = " with prior disclosure" if self.basis.prior_disclosure else ""
        return (f"{self.field} {self.amount} exceeds the statutory cap of {self.cap} for "
                f"{self.basis.culpability.value}{disclosure} (revenue loss "
                f"{self.basis.revenue_loss}, domestic value {self.basis.domestic_value}, "
                f"dutiable value {self.basis.dutiable_value})")


class ReviewerIsNotTheProposer(BusinessRule):
    def __init__(self, reviewer: str, proposer: str) -> None:
        self.reviewer, self.proposer = reviewer, proposer

    def is_broken(self) -> bool:
        return self.reviewer == self.proposer

    def message(self) -> str:
        return f"{self.reviewer} proposed this action and cannot also review it"


class EachReviewerVotesOnce(BusinessRule):
    def __init__(self, reviewer: str, votes: tuple[ReviewVote, ...]) -> None:
        self.reviewer, self.votes = reviewer, votes

    def is_broken(self) -> bool:
        return any(v.reviewer == self.reviewer for v in self.votes)

    def message(self) -> str:
        return f"{self.reviewer} has already voted on this action"


class ReviewNeedsTwoReviewers(BusinessRule):
    def __init__(self, votes: tuple[ReviewVote, ...]) -> None:
        self.count = len({v.reviewer for v in votes})

    def is_broken(self) -> bool:
        return self.count < 2

    def message(self) -> str:
        return (f"the enforcement evaluation team needs at least two reviewers besides the "
                f"proposer; {self.count} voted so far")


class PenaltyNoticeIsIssuedOnce(BusinessRule):
    def __init__(self, issued_on: date | None) -> None:
        self.issued_on = issued_on

    def is_broken(self) -> bool:
        return self.issued_on is not None

    def message(self) -> str:
        return f"the penalty notice was already issued on {self.issued_on}"


class DecisionFollowsAPenaltyNotice(BusinessRule):
    def __init__(self, issued_on: date | None) -> None:
        self.issued_on = issued_on

    def is_broken(self) -> bool:
        return self.issued_on is None

    def message(self) -> str:
        return ("a penalty is decided only after the penalty notice; a response to the "
                "pre-penalty notice is followed by the penalty notice first")


class MitigatedAmountDoesNotExceedProposed(BusinessRule):
    def __init__(self, decided: Decimal, proposed: Decimal) -> None:
        self.decided, self.proposed = decided, proposed

    def is_broken(self) -> bool:
        return self.decided > self.proposed

    def message(self) -> str:
        return (f"decided amount {self.decided} exceeds the proposed amount {self.proposed}; "
                "a decision can only mitigate")


class PaymentIsTheDecidedAmount(BusinessRule):
    def __init__(self, paid: Decimal, decided: Decimal) -> None:
        self.paid, self.decided = paid, decided

    def is_broken(self) -> bool:
        return self.paid != self.decided

    def message(self) -> str:
        return f"payment {self.paid} differs from the decided amount {self.decided}"


class ReviewConcluderIsNotTheProposer(FourEyesRule):
    """Whoever proposed the action does not conclude the evaluation team's review of it."""

    first_act = "proposed this action"


class PenaltyDeciderIsNotTheProposer(FourEyesRule):
    """Whoever proposed the penalty does not decide it."""

    first_act = "proposed this penalty"
