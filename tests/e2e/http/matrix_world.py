"""What the authorisation matrix and the schema fuzz ask about: a case of every kind in
districts 11 and 12 (and the national things: a rule, a user, a token), which path
parameter names which, and request bodies shaped right for any command's Struct.

The bodies only need to get past decoding to the handler, where authorisation is decided;
the domain may still refuse them (409, 422), which the matrix accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import msgspec
import msgspec.inspect as mi

from application.compliance_cases import ComplianceCases
from domain.reference import ComplianceArea
from domain.targeting_rule import RuleDefinition
from domain.values import parse_period
from infrastructure.settings import Settings
from interfaces.composition import build_application
from interfaces.report_service import ReportRequest, ReportService
from tests.builders import (
    OFFICER,
    deficient_test,
    propose_penalty,
    unique_importer_number,
    walk_assessment,
    walk_plan,
)
from tests.e2e.http.analysis_data import seed_world
from tests.e2e.http.conftest import PASSWORD

PATH_TARGETS: dict[tuple[str, str], str] = {
    ("assessments", "number"): "assessment", ("plans", "number"): "plan",
    ("verifications", "number"): "verification", ("enforcement", "number"): "enforcement",
    ("accounts", "number"): "importer", ("history", "number"): "assessment",
    ("risk", "importer_number"): "importer",
    ("rules", "number"): "rule", ("users", "username"): "user",
    ("tokens", "username"): "user", ("tokens", "token_id"): "token",
    ("imports", "kind"): "import_kind", ("reports", "sha256"): "report",
}
"""What each path parameter names: (resource, parameter) -> a key of the world's cases."""

SCOPED_KEYS = frozenset({"assessment", "plan", "verification", "enforcement", "importer",
                         "report"})
"""What belongs to a district and an importer (the rest is national: rules, users...)."""


# -- what exists to ask about ------------------------------------------------------------

@dataclass
class Target:
    """The cases of one district (all of one importer), or the national things."""

    district: str | None
    importer: str | None
    names: dict[str, str] = field(default_factory=dict)
    """A key of PATH_TARGETS' values -> what a path parameter names."""
    action_id: str = ""
    officer: str = "user:officer11"


@dataclass
class World:
    by_district: dict[str, Target]
    national: Target


def build_world(settings: Settings, importer11: str, importer12: str,
                analyst: Callable[[], Any]) -> World:
    """A case of each kind in districts 11 (`importer11`) and 12 (`importer12`); a rule, a
    user and a token to act on. Built without access control (the builders' actors are
    not users); then analysis data is loaded and `analyst()` (a logged-in national
    analyst's HTTP client) scores risk, so that scores exist to read."""
    app = build_application(settings, access_control=False)
    try:
        by_district = {"11": _district_cases(app, importer11, "11"),
                       "12": _district_cases(app, importer12, "12")}
        rule = app.draft_rule(RuleDefinition.parse(
            name="matrix rule", conditions={"origin": "CN"}, channel="amber",
            districts=[], effective_from="2026-01-01", effective_to=None),
            actor=OFFICER, reason="a rule to ask about")
        app.add_user("matrix.target", roles=["officer"], districts=["11"],
                     actor="system:test-setup", reason="a user for admins to act on")
        token = app.create_token("matrix.target", "matrix", roles=["officer"], districts=None,
                                 expires_at=app.clock() + timedelta(days=30),
                                 actor="system:test-setup", reason="a token to revoke")
        national = Target(None, None, {"rule": rule, "user": "matrix.target",
                                       "token": token.token_id, "import_kind": "accounts"})
        reports = ReportService(app, settings)
        for target in by_district.values():
            issued, _ = reports.issue(ReportRequest("dossier",
                                                    subject=target.names["assessment"]),
                                      actor="system:test-setup", reason="a report to read")
            target.names["report"] = issued.report.sha256
    finally:
        app.close()
    seed_world(settings, entries=True)  # trade, samples, declarations: data to analyse
    scored = analyst().post("/api/risk/runs", json={"reason": "scores to read"})
    assert scored.status_code == 201, scored.text
    return World(by_district, national)


def _findings_with_plan(app: ComplianceCases, importer: str, year: int) -> str:
    period = parse_period(f"{year}-01-01", f"{year}-12-31")
    number = walk_assessment(app, importer, "testing", period=period)
    app.record_test(number, deficient_test(ComplianceArea.VALUE), actor=OFFICER,
                    reason="second sample of value lines")
    result = app.issue_findings(number, duty_paid="250000.00", actor=OFFICER,
                                reason="testing complete")
    assert result.plan_number is not None, result
    return result.plan_number


def _district_cases(app: ComplianceCases, importer: str, district: str) -> Target:
    plan = _findings_with_plan(app, importer, 2023)
    walk_plan(app, plan, "actions_added")
    action_id = app.get_plan(plan).actions[0].action_id
    verification = walk_plan(app, _findings_with_plan(app, importer, 2022))
    assert verification is not None
    names = {"assessment": walk_assessment(app, importer, "assigned"), "plan": plan,
             "verification": verification, "enforcement": propose_penalty(app, importer),
             "importer": importer}
    return Target(district, importer, names, action_id=action_id,
                  officer=f"user:officer{district}")


# -- bodies shaped right -----------------------------------------------------------------

HINTS: dict[str, Any] = {
    "reason": "authorisation matrix check",
    "importer_number": lambda t: t.importer or "00-0000000AA",
    "district": lambda t: t.district or "11",
    "officer": lambda t: t.officer, "manager": lambda t: t.officer,
    "owner": "user:importer.broker", "origin": "risk_selection", "scope": ["value"],
    "period_start": "2027-01-01", "period_end": "2027-12-31",
    "ratings": {"value": "adequate", "classification": "adequate"},
    "area": "value", "action_id": lambda t: t.action_id,
    "lines_tested": "200", "discrepancies": "2", "value_tested": "100000.00",
    "value_in_error": "1500.50", "revenue_loss": "120.25", "duty_paid": "250000.00",
    "username": "matrix.target", "password": PASSWORD,
    "old_password": "not the password", "new_password": "x",
    "name": "matrix rule", "conditions": {"origin": "CN"}, "channel": "amber",
    "effective_from": "2026-01-01", "legal_name": "Matrix Imports Ltd", "industry": "73",
    "roles": ["officer"], "capacity": 1, "kind": "penalty", "legal_basis": "19 U.S.C. 1592",
    "facts": "undervaluation", "culpability": "negligence", "amount": "1500.00",
    "domestic_value": "50000.00", "dutiable_value": "40000.00",
}
"""Values by field name (or how to make one from the target), so that a body reaches the
handler and often the domain; what is not named here is made up from the field's type."""

OVERRIDES: dict[tuple[str, str], Callable[[str | None], dict[str, Any]]] = {
    ("POST", "/api/auth/login"): lambda user: {"username": user or "officer11",
                                               "password": PASSWORD},
    ("POST", "/api/accounts"): lambda _: {"importer_number": unique_importer_number()},
    ("POST", "/api/enforcement/{number:str}/respond"): lambda _: {"kind": "petition"},
    # A district's plan: the district comes from the target, as for every scoped body.
    ("POST", "/api/reports"): lambda _: {"kind": "plan", "period": "2026-Q1"},
}
"""Fields that depend on who asks, or must be new every time."""

DATE = "2026-06-01"


def body_for(struct: type[msgspec.Struct], key: tuple[str, str], target: Target,
             username: str | None) -> dict[str, Any]:
    """A body of `struct` for the endpoint `key` (method, path), about `target`, sent by
    `username`."""
    document: dict[str, Any] = {}
    for item in msgspec.structs.fields(struct):
        if item.encode_name in HINTS:
            document[item.encode_name] = _hint(item.encode_name, target)
        elif item.required:
            document[item.encode_name] = _sample(mi.type_info(item.type), item.encode_name,
                                                 target)
    override = OVERRIDES.get(key)
    return {**document, **override(username)} if override else document


def _hint(name: str, target: Target) -> Any:
    value = HINTS[name]
    return value(target) if callable(value) else value


def _sample(info: mi.Type, name: str, target: Target) -> Any:
    if isinstance(info, mi.UnionType):
        real = [t for t in info.types if not isinstance(t, mi.NoneType)]
        return _sample(real[0], name, target) if real else None
    if isinstance(info, mi.StrType):
        if name.endswith(("_on", "_date", "_from", "_to", "_at")):
            return DATE
        return "x" * max(info.min_length or 1, 1)
    if isinstance(info, mi.BoolType):
        return False
    if isinstance(info, mi.IntType):
        return info.ge if info.ge is not None else (info.gt + 1 if info.gt is not None else 1)
    if isinstance(info, mi.FloatType | mi.DecimalType):
        return 1
    if isinstance(info, mi.DateType):
        return DATE
    if isinstance(info, mi.DateTimeType):
        return f"{DATE}T00:00:00Z"
    if isinstance(info, mi.LiteralType):
        return info.values[0]
    if isinstance(info, mi.EnumType):
        return next(iter(info.cls)).value
    if isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return [_sample(info.item_type, name, target)]
    if isinstance(info, mi.DictType):
        return {}
    if isinstance(info, mi.StructType):
        return {f.encode_name: _hint(f.encode_name, target) if f.encode_name in HINTS
                else _sample(f.type, f.encode_name, target) for f in info.fields}
    return "x"
