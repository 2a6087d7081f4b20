"""Assigning an officer to many cases at once, as a supervisor does from the work list:
one ordinary assign command per case (assessments: assign_officer; follow-up
verifications: assign_verification_officer), each its own event with the reason given,
each checked and scoped like any command. A refused case does not stop the others: the
outcome of every case is reported, what was done and what was refused and why.

The officer is checked once, before any case (application.assignees): one who is not an
enabled officer (or supervisor) refuses the whole batch, naming the field `officer`, and
nothing is written; each case's command then checks only that its district is one the
officer works in (a case of another district is refused, the others assigned).

Each command carries an idempotency key made of the batch (one per form shown) and the
case number, so a form sent twice (a reload, a double click) assigns each case once and
answers the second time as the first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from application.access import ForbiddenError, UnknownActorError
from application.compliance_cases import ComplianceCases
from application.errors import ConcurrencyConflictError, NotFoundError
from domain.case_numbers import parse_case_number
from domain.errors import DomainError, InvalidValueError

ASSIGNABLE = {"CA": "assessment", "FV": "follow-up verification"}
"""Case-number prefixes of the cases an officer is assigned to."""
REFUSALS = (DomainError, ForbiddenError, UnknownActorError, NotFoundError,
            ConcurrencyConflictError)
"""What refuses one case's command without stopping the batch (anything else, such as the
database going away, stops it)."""
MAX_CASES = 200


@dataclass(frozen=True)
class Outcome:
    number: str
    version: int | None
    """The case's version after the assignment; None when refused."""
    refusal: Exception | None = None

    @property
    def assigned(self) -> bool:
        return self.refusal is None


def assign_each(app: ComplianceCases, numbers: Iterable[str], officer: str, *, actor: str,
                reason: str, batch: str) -> list[Outcome]:
    """Assigns `officer` to each case, in the order given (each number once).
    InvalidValueError, before any case, when `officer` may not be given work at all."""
    chosen = list(dict.fromkeys(numbers))
    if len(chosen) > MAX_CASES:
        raise InvalidValueError("case", f"{len(chosen)} cases",
                                f"at most {MAX_CASES} cases at once")
    outcomes = []
    with app.assigning("officer", officer):
        for number in chosen:
            try:
                outcomes.append(_assign(app, number, officer, actor, reason, batch))
            except REFUSALS as refused:
                outcomes.append(Outcome(number, None, refused))
    return outcomes


def _assign(app: ComplianceCases, number: str, officer: str, actor: str, reason: str,
            batch: str) -> Outcome:
    canonical = parse_case_number(number, "case")
    key = f"assign/{batch}/{canonical}"
    prefix = canonical.split("-", 1)[0]
    if prefix == "CA":
        version = app.assign_officer(canonical, officer, actor=actor, reason=reason,
                                     idempotency_key=key)
    elif prefix == "FV":
        version = app.assign_verification_officer(canonical, officer, actor=actor,
                                                  reason=reason, idempotency_key=key)
    else:
        raise InvalidValueError("case", canonical, "only assessments and follow-up "
                                "verifications are assigned an officer")
    return Outcome(canonical, version)
