"""/api/enforcement: enforcement actions — proposed on an importer, reviewed by the
evaluation team (votes, then a conclusion), issued, penalty notice, the importer's
response, the decision, payment or referral for collection, withdrawal, closure; one
action with its votes; the list (from the work list).

Who may do what is the application's (access.PERMISSIONS) and the domain's four eyes: the
proposer neither reviews, concludes the review nor decides. An importer's representative
only records its importer's response."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec

from application.compliance_cases import ComplianceCases
from application.queries import enforcement_summary
from domain.case_numbers import case_id, parse_case_number
from domain.enforcement_action import EnforcementKind, ResponseKind, Vote
from domain.penalties import Culpability
from domain.values import (
    parse_date,
    parse_enum,
    parse_importer_number,
    parse_money,
    parse_name,
    parse_reason,
)
from interfaces.http.case_lists import build_case_list, one_route
from interfaces.http.commands import (
    CommandSpec,
    Common,
    ReasonOnly,
    build_command_handler,
    checked,
    reason_only_step,
)
from interfaces.http.reads import build_case_read

RESOURCE = "enforcement"


class ProposeEnforcement(msgspec.Struct, forbid_unknown_fields=True):
    """As `compliance enforcement propose`. A penalty (or liquidated damages) needs the
    culpability, the revenue loss, the values and an amount within the cap; increased
    examinations need `examinations_until`. `importer_version`: refuse (409) if the
    importer's account is no longer at this version."""

    importer_number: str
    kind: str
    legal_basis: str
    facts: str
    reason: str
    culpability: str | None = None
    revenue_loss: str | None = None
    domestic_value: str | None = None
    dutiable_value: str | None = None
    prior_disclosure: bool = False
    amount: str | None = None
    examinations_until: str | None = None
    source_case: str | None = None
    importer_version: int | None = None


class ChangeCulpability(msgspec.Struct, forbid_unknown_fields=True):
    """`amount` and `prior_disclosure` left out keep what was proposed."""

    culpability: str
    reason: str
    amount: str | None = None
    prior_disclosure: bool | None = None


class ReviewVote(msgspec.Struct, forbid_unknown_fields=True):
    vote: str
    reason: str


class IssueNotice(msgspec.Struct, forbid_unknown_fields=True):
    """`response_due_on` is required for a penalty (its pre-penalty notice)."""

    reason: str
    response_due_on: str | None = None


class PenaltyNotice(msgspec.Struct, forbid_unknown_fields=True):
    response_due_on: str
    reason: str


class RecordResponse(msgspec.Struct, forbid_unknown_fields=True):
    kind: str
    summary: str
    reason: str


class Decide(msgspec.Struct, forbid_unknown_fields=True):
    amount: str
    reason: str


class RecordPayment(msgspec.Struct, forbid_unknown_fields=True):
    amount: str
    paid_on: str
    reason: str


def load(app: ComplianceCases, number: str) -> Any:
    return app.get_enforcement(number)


def describe(app: ComplianceCases, number: str) -> dict[str, Any]:
    """As `compliance enforcement show --json`: the summary, the legal basis and facts,
    and every review vote."""
    found = app.get_enforcement(number)
    return {**enforcement_summary(found), "legal_basis": found.legal_basis,
            "facts": found.facts, "vote_list": msgspec.to_builtins(found.votes),
            "response_due_on": _day(found.response_due_on),
            "penalty_notice_on": _day(found.penalty_notice_on),
            "examinations_until": _day(found.examinations_until)}


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()



def _optional(parse: Callable[[str], Any], value: str | None) -> Callable[[], Any]:
    return lambda: None if value is None else parse(value)


def _money(field: str, value: str | None) -> Callable[[], Any]:
    return _optional(lambda v: parse_money(v, field), value)


def _propose(app: ComplianceCases, _: str, body: ProposeEnforcement, common: Common) -> str:
    checked(body.reason,
             importer_number=lambda: parse_importer_number(body.importer_number),
             kind=lambda: parse_enum(EnforcementKind, body.kind, "kind"),
             legal_basis=lambda: parse_name(body.legal_basis, "legal_basis"),
             facts=lambda: parse_reason(body.facts, "facts"),
             culpability=_optional(lambda v: parse_enum(Culpability, v, "culpability"),
                                   body.culpability),
             revenue_loss=_money("revenue_loss", body.revenue_loss),
             domestic_value=_money("domestic_value", body.domestic_value),
             dutiable_value=_money("dutiable_value", body.dutiable_value),
             amount=_money("amount", body.amount),
             examinations_until=_optional(lambda v: parse_date(v, "examinations_until"),
                                          body.examinations_until),
             source_case=_optional(lambda v: parse_case_number(v, "source_case"),
                                   body.source_case))
    return app.propose_enforcement(
        body.importer_number, kind=body.kind, legal_basis=body.legal_basis, facts=body.facts,
        culpability=body.culpability, revenue_loss=body.revenue_loss,
        domestic_value=body.domestic_value, dutiable_value=body.dutiable_value,
        prior_disclosure=body.prior_disclosure, amount=body.amount,
        examinations_until=body.examinations_until, source_case=body.source_case,
        expected_version=body.importer_version, **common.without_version())


def _culpability(app: ComplianceCases, number: str, body: ChangeCulpability,
                 common: Common) -> int:
    checked(body.reason,
             culpability=lambda: parse_enum(Culpability, body.culpability, "culpability"),
             amount=_money("amount", body.amount))
    return app.change_culpability(number, body.culpability, amount=body.amount,
                                  prior_disclosure=body.prior_disclosure, **common.kwargs())


def _review(app: ComplianceCases, number: str, body: ReviewVote, common: Common) -> int:
    checked(body.reason, vote=lambda: parse_enum(Vote, body.vote, "vote"))
    return app.record_review_vote(number, body.vote, **common.kwargs())


def _due(value: str | None) -> Callable[[], Any]:
    return _optional(lambda v: parse_date(v, "response_due_on"), value)


def _issue(app: ComplianceCases, number: str, body: IssueNotice, common: Common) -> int:
    checked(body.reason, response_due_on=_due(body.response_due_on))
    return app.issue_enforcement(number, response_due_on=body.response_due_on,
                                 **common.kwargs())


def _notice(app: ComplianceCases, number: str, body: PenaltyNotice, common: Common) -> int:
    checked(body.reason, response_due_on=_due(body.response_due_on))
    return app.issue_penalty_notice(number, response_due_on=body.response_due_on,
                                    **common.kwargs())


def _respond(app: ComplianceCases, number: str, body: RecordResponse, common: Common) -> int:
    checked(body.reason, kind=lambda: parse_enum(ResponseKind, body.kind, "kind"),
             summary=lambda: parse_reason(body.summary, "summary"))
    return app.record_enforcement_response(number, body.kind, body.summary, **common.kwargs())


def _decide(app: ComplianceCases, number: str, body: Decide, common: Common) -> int:
    checked(body.reason, amount=_money("amount", body.amount))
    return app.decide_enforcement(number, body.amount, **common.kwargs())


def _pay(app: ComplianceCases, number: str, body: RecordPayment, common: Common) -> int:
    checked(body.reason, amount=_money("amount", body.amount),
             paid_on=lambda: parse_date(body.paid_on, "paid_on"))
    return app.record_payment(number, body.amount, body.paid_on, **common.kwargs())



SPECS = [
    CommandSpec(RESOURCE, "propose", ProposeEnforcement, "propose_enforcement", _propose,
                "Propose an enforcement action on an importer", creates=True),
    CommandSpec(RESOURCE, "change-culpability", ChangeCulpability, "change_culpability",
                _culpability, "Change the culpability; the amount is re-checked"),
    CommandSpec(RESOURCE, "review", ReviewVote, "record_review_vote", _review,
                "Record an evaluation-team reviewer's vote (not the proposer)"),
    CommandSpec(RESOURCE, "conclude-review", ReasonOnly, "conclude_review",
                reason_only_step("conclude_review"),
                "Conclude the review; the result is true when approved (a majority)"),
    CommandSpec(RESOURCE, "issue", IssueNotice, "issue_enforcement", _issue,
                "Issue (for penalties: the pre-penalty notice)"),
    CommandSpec(RESOURCE, "penalty-notice", PenaltyNotice, "issue_penalty_notice", _notice,
                "Issue the penalty notice"),
    CommandSpec(RESOURCE, "respond", RecordResponse, "record_enforcement_response",
                _respond, "Record the importer's response or petition"),
    CommandSpec(RESOURCE, "decide", Decide, "decide_enforcement", _decide,
                "Decide the (mitigated) amount (a supervisor, not the proposer)"),
    CommandSpec(RESOURCE, "pay", RecordPayment, "record_payment", _pay,
                "Record payment of the decided amount"),
    CommandSpec(RESOURCE, "refer-collection", ReasonOnly, "refer_for_collection",
                reason_only_step("refer_for_collection"),
                "Refer an unpaid decision for collection"),
    CommandSpec(RESOURCE, "withdraw", ReasonOnly, "withdraw_enforcement",
                reason_only_step("withdraw_enforcement"), "Withdraw before a decision"),
    CommandSpec(RESOURCE, "close", ReasonOnly, "close_enforcement",
                reason_only_step("close_enforcement"), "Close a completed action"),
]

COLUMNS = ("id", "number", "importer_number", "district", "kind", "state", "culpability",
           "revenue_loss", "proposed_amount", "decided_amount", "paid_amount",
           "source_case", "votes", "version")
"""The list's CSV header: the keys of application.queries.enforcement_summary."""

CREATE = next(spec for spec in SPECS if spec.creates)
ROUTES: list[Any] = [build_command_handler(spec, load) for spec in SPECS if not spec.creates]
ROUTES += [build_case_read(RESOURCE, "read:enforcement", describe, case_id),
           one_route(build_command_handler(CREATE, load, lambda result, _: str(result)),
                     build_case_list(RESOURCE, "enforcement_action", "read:enforcement",
                                     COLUMNS))]
