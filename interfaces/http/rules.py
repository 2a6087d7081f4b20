"""/api/rules: national targeting criteria — draft, approve (never by the drafter of the
version), publish, amend, retire; every rule with its state; one rule; a rule's backtest
on the loaded samples. What `compliance rules …` offers, as the authenticated caller."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import msgspec
from litestar import Request, get

from application.access import acting_as
from application.compliance_cases import ComplianceCases
from domain.targeting_rule import RuleDefinition, TargetingRule
from domain.values import parse_reason
from interfaces.http.analysis_services import analysis, checked
from interfaces.http.auth import services_of
from interfaces.http.case_lists import one_route
from interfaces.http.commands import CommandSpec, Common, ReasonOnly, build_command_handler
from interfaces.http.params import Caller, CaseNumber
from interfaces.http.reads import PageOf, build_case_read
from interfaces.http.targeting import HitRateOut

RESOURCE = "rules"
READ = "read:rules"

ConditionValue = str | int | list[str | int]


class RuleBody(msgspec.Struct, forbid_unknown_fields=True):
    """A rule's definition, as `rules draft|amend` takes it. `conditions` maps each of
    hs_prefix, origin, tier, compliance_class, risk_category (a value or a list: any of
    them), min_risk_score and min_value (amounts) to what a declaration must match; all
    given conditions must hold. `districts` empty: every district."""

    name: str
    conditions: dict[str, ConditionValue]
    channel: str
    effective_from: str
    reason: str
    districts: list[str] = msgspec.field(default_factory=list)
    effective_to: str | None = None



class Backtest(msgspec.Struct):
    """The rule's hit rate on the loaded samples: every line it selects, only the random
    lines it selects (the unbiased estimate), and the random lines it misses (the
    baseline it must beat)."""

    rule: str
    version: int
    matched: HitRateOut
    matched_random: HitRateOut
    all_random: HitRateOut


def _definition(body: RuleBody) -> RuleDefinition:
    """The definition and the reason checked together, each bad field named as the
    domain names it (conditions.origin, effective_to, ...)."""
    definition, _ = checked(
        lambda: RuleDefinition.parse(
            name=body.name, conditions=body.conditions, channel=body.channel,
            districts=body.districts, effective_from=body.effective_from,
            effective_to=body.effective_to),
        lambda: parse_reason(body.reason))
    assert isinstance(definition, RuleDefinition)
    return definition


def rule_document(rule: TargetingRule) -> dict[str, Any]:
    """As `rules show --json`, with `version` the case's version (its ETag) and
    `rule_version` the definition's version that approvals and channel runs name."""
    def definition(value: RuleDefinition | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return {**asdict(value), "describe": value.conditions.describe()}
    return {"number": rule.number, "version": int(rule.version), "state": rule.state.value,
            "rule_version": rule.rule_version, "in_force_version": rule.in_force_version,
            "author": rule.author, "definition": definition(rule.definition),
            "in_force": definition(rule.in_force)}


def load(app: ComplianceCases, number: str) -> TargetingRule:
    return app.get_rule(number)


def _draft(app: ComplianceCases, _: str, body: RuleBody, common: Common) -> str:
    return app.draft_rule(_definition(body), **common.without_version())


def _amend(app: ComplianceCases, number: str, body: RuleBody,
           common: Common) -> dict[str, Any]:
    app.amend_rule(number, _definition(body), **common.kwargs())
    return rule_document(app.get_rule(number))


def _step(verb: str) -> Any:
    def call(app: ComplianceCases, number: str, _body: ReasonOnly,
             common: Common) -> dict[str, Any]:
        getattr(app, f"{verb}_rule")(number, **common.kwargs())
        return rule_document(app.get_rule(number))
    return call


SPECS = [
    CommandSpec(RESOURCE, "draft", RuleBody, "draft_rule", _draft,
                "Draft a rule; it fires once someone else approves it and it is published",
                creates=True),
    CommandSpec(RESOURCE, "approve", ReasonOnly, "approve_rule", _step("approve"),
                "Approve the drafted version (never by the one who drafted it)"),
    CommandSpec(RESOURCE, "publish", ReasonOnly, "publish_rule", _step("publish"),
                "Put the approved version in force"),
    CommandSpec(RESOURCE, "amend", RuleBody, "amend_rule", _amend,
                "A new version; the published one stays in force until this one is"),
    CommandSpec(RESOURCE, "retire", ReasonOnly, "retire_rule", _step("retire"),
                "Stop the rule firing"),
]


@get("/api/rules", sync_to_thread=True, tags=[RESOURCE], operation_id="rules-list",
     summary="Every rule with its state, oldest first (as `compliance rules list`)")
def list_rules(request: Request[Any, Any, Any], caller: Caller) -> PageOf:
    caller.require(READ)
    app = services_of(request).app
    with acting_as(caller):
        return PageOf(items=[rule_document(rule) for rule in app.rules()])


@get("/api/rules/{number:str}/backtest", sync_to_thread=True, tags=[RESOURCE],
     operation_id="rules-backtest",
     summary="The rule's hit rate on the loaded samples against the random lines it misses")
def backtest(request: Request[Any, Any, Any], caller: Caller, number: CaseNumber) -> Backtest:
    caller.require(READ)
    services = analysis(request)
    app = services_of(request).app
    with acting_as(caller):
        result = services.effectiveness.backtest(app.get_rule(number))
    return msgspec.convert(result, Backtest, from_attributes=True)


def _describe(app: ComplianceCases, number: str) -> dict[str, Any]:
    return rule_document(app.get_rule(number))


ROUTES: list[Any] = [build_command_handler(spec, load) for spec in SPECS if not spec.creates]
ROUTES += [backtest, build_case_read(RESOURCE, READ, _describe), one_route(
    # POST and GET /api/rules: one path, registered together
    build_command_handler(SPECS[0], load, lambda result, _: str(result)), list_rules)]
