"""The values of the enforcement ladder (domain.enforcement_action): the kinds of action,
their states, a review vote and the kinds of an importer's answer to a penalty notice. Kept
apart from the aggregate so that views, policies and interfaces can name them without the
aggregate's rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EnforcementKind(StrEnum):
    INFORMED_COMPLIANCE = "informed_compliance"
    INCREASED_EXAMINATIONS = "increased_examinations"
    PENALTY = "penalty"
    LIQUIDATED_DAMAGES = "liquidated_damages"
    SEIZURE_REFERRAL = "seizure_referral"
    ENFORCED_COMPLIANCE_PROGRAMME = "enforced_compliance_programme"


MONETARY = (EnforcementKind.PENALTY, EnforcementKind.LIQUIDATED_DAMAGES)


class EnforcementState(StrEnum):
    PROPOSED = "proposed"
    APPROVED_FOR_ISSUE = "approved_for_issue"
    REJECTED = "rejected"
    ISSUED = "issued"
    PENALTY_NOTICE_ISSUED = "penalty_notice_issued"
    RESPONSE_RECEIVED = "response_received"
    RESPONSE_OVERDUE = "response_overdue"
    """A penalty notice's response window closed unanswered: the action awaits decision."""
    DECIDED = "decided"
    PAID = "paid"
    REFERRED_FOR_COLLECTION = "referred_for_collection"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


ENFORCEMENT_FINAL_STATES = (EnforcementState.REJECTED, EnforcementState.WITHDRAWN,
                            EnforcementState.CLOSED)


class Vote(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ResponseKind(StrEnum):
    RESPONSE = "response"
    PETITION = "petition"


@dataclass(frozen=True)
class ReviewVote:
    reviewer: str
    vote: Vote
    reason: str
