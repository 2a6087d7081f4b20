"""`compliance enforcement ...`: the interventions ladder, reviewed before issue."""

from __future__ import annotations

from typing import Any

import click

from application.compliance_cases import ComplianceCases
from application.queries import enforcement_summary
from domain.enforcement_action import EnforcementKind, EnforcementState, ResponseKind, Vote
from domain.penalties import Culpability
from interfaces.cli.context import (
    actor_option,
    case_list,
    case_show,
    case_step,
    cli_context,
    common,
    emit_json,
    idempotency_option,
    json_option,
    reason_option,
    recorded,
    run_guarded,
    to_plain,
)

_CULPABILITY = click.Choice([c.value for c in Culpability])


@click.group()
def enforcement() -> None:
    """Enforcement actions: propose, review, issue, respond, decide, pay, close."""


@enforcement.command()
@click.argument("importer_number")
@click.option("--kind", required=True, type=click.Choice([k.value for k in EnforcementKind]))
@click.option("--legal-basis", required=True, help="e.g. 19 U.S.C. 1592.")
@click.option("--facts", required=True, help="The facts the action rests on.")
@click.option("--culpability", type=_CULPABILITY, default=None, help="For penalties.")
@click.option("--revenue-loss", default=None)
@click.option("--domestic-value", default=None)
@click.option("--dutiable-value", default=None)
@click.option("--prior-disclosure", is_flag=True)
@click.option("--amount", default=None, help="Proposed penalty amount (within the cap).")
@click.option("--examinations-until", default=None, help="ISO date, for increased exams.")
@click.option("--source-case", default=None, help="The case that led to it.")
@actor_option
@reason_option
@click.option("--expected-version", type=int, default=None,
              help="Refuse if the importer account has changed since this version.")
@idempotency_option
@json_option
def propose(importer_number: str, kind: str, legal_basis: str, facts: str,
            culpability: str | None, revenue_loss: str | None, domestic_value: str | None,
            dutiable_value: str | None, prior_disclosure: bool, amount: str | None,
            examinations_until: str | None, source_case: str | None, actor: str, reason: str,
            expected_version: int | None, idempotency_key: str | None, as_json: bool) -> None:
    """Propose an enforcement action on an importer."""
    def action() -> None:
        app = cli_context().app
        number = app.propose_enforcement(
            importer_number, kind=kind, legal_basis=legal_basis, facts=facts,
            culpability=culpability, revenue_loss=revenue_loss, domestic_value=domestic_value,
            dutiable_value=dutiable_value, prior_disclosure=prior_disclosure, amount=amount,
            examinations_until=examinations_until, source_case=source_case, actor=actor,
            reason=reason, expected_version=expected_version, idempotency_key=idempotency_key)
        if as_json:
            emit_json(enforcement_summary(app.get_enforcement(number)))
        else:
            click.echo(f"proposed {number} ({kind}) on importer {importer_number.upper()}")
    run_guarded(action)


def _enforcement_details(app: ComplianceCases, number: str) -> dict[str, Any]:
    found = app.get_enforcement(number)
    return {**enforcement_summary(found), "legal_basis": found.legal_basis,
            "facts": found.facts, "vote_list": to_plain(found.votes)}


enforcement.add_command(case_list(
    "List enforcement actions.", "enforcement_action", [s.value for s in EnforcementState],
    lambda r: (f"{r['number']}  {r['importer_number']}  {r['district']}  {r['kind']:<30} "
               f"{r['state']:<24} {r['decided_amount'] or r['proposed_amount'] or ''}"),
    "enforcement action(s)"))
enforcement.add_command(case_show("Show an enforcement action with its review votes.",
                                  _enforcement_details))


def _culpability(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.change_culpability(number, o["culpability"], amount=o["amount"],
                                  prior_disclosure=o["prior_disclosure"], **common(o))


def _issue(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.issue_enforcement(number, response_due_on=o["response_due_on"], **common(o))


def _notice(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.issue_penalty_notice(number, response_due_on=o["response_due_on"], **common(o))


def _response(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.record_enforcement_response(number, o["kind"], o["summary"], **common(o))


def _review(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.record_review_vote(number, o["vote"], **common(o))


def _pay(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.record_payment(number, o["amount"], o["paid_on"], **common(o))


_DUE = click.option("--response-due-on", default=None, help="ISO date the response is due.")
_steps = [
    case_step("change-culpability", "Change the culpability; the amount is re-checked.",
              _culpability, recorded,
              (click.option("--culpability", required=True, type=_CULPABILITY),
               click.option("--amount", default=None),
               click.option("--prior-disclosure/--no-prior-disclosure", default=None))),
    case_step("review", "Record an evaluation-team reviewer's vote (not the proposer).",
              _review, recorded,
              (click.option("--vote", required=True,
                            type=click.Choice([v.value for v in Vote])),)),
    case_step("conclude-review", "Conclude the review: approved on a majority.",
              lambda app, n, o: app.conclude_review(n, **common(o)),
              lambda n, r: f"{n}: review concluded, {'approved' if r else 'rejected'}"),
    case_step("issue", "Issue (for penalties: the pre-penalty notice).", _issue, recorded,
              (_DUE,)),
    case_step("penalty-notice", "Issue the penalty notice.", _notice, recorded, (_DUE,)),
    case_step("respond", "Record the importer's response or petition.", _response, recorded,
              (click.option("--kind", required=True,
                            type=click.Choice([k.value for k in ResponseKind])),
               click.option("--summary", required=True))),
    case_step("decide", "Decide the (mitigated) amount.",
              lambda app, n, o: app.decide_enforcement(n, o["amount"], **common(o)), recorded,
              (click.option("--amount", required=True),)),
    case_step("pay", "Record payment of the decided amount.", _pay, recorded,
              (click.option("--amount", required=True),
               click.option("--paid-on", required=True, help="ISO date."))),
    case_step("refer-collection", "Refer an unpaid decision for collection.",
              lambda app, n, o: app.refer_for_collection(n, **common(o)), recorded),
    case_step("withdraw", "Withdraw before a decision.",
              lambda app, n, o: app.withdraw_enforcement(n, **common(o)), recorded),
    case_step("close", "Close a completed action.",
              lambda app, n, o: app.close_enforcement(n, **common(o)), recorded),
]
for _step in _steps:
    enforcement.add_command(_step)
