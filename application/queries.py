"""Lists and counts read by replaying the log once (read models replace this later)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from application.compliance_cases import ALL_TYPES, ComplianceCases
from application.log_replay import replay
from domain.assessment import Assessment
from domain.enforcement_action import EnforcementAction
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import ImprovementPlan
from domain.values import parse_district


def importer_summary(account: ImporterAccount) -> dict[str, Any]:
    return {
        "id": str(account.id), "number": account.importer_number,
        "importer_number": account.importer_number, "legal_name": account.legal_name,
        "district": account.district, "industry": account.industry,
        "state": account.status.value, "tier": account.tier,
        "compliance_class": account.compliance_class.value if account.compliance_class else None,
        "account_manager": account.account_manager,
        "partnerships": sorted(account.partnerships), "version": account.version,
    }


def assessment_summary(assessment: Assessment) -> dict[str, Any]:
    return {
        "id": str(assessment.id), "number": assessment.number,
        "importer_number": assessment.importer_number, "district": assessment.district,
        "origin": assessment.origin.value, "state": assessment.state.value,
        "officer": assessment.officer, "period": str(assessment.period),
        "scope": [area.value for area in assessment.scope],
        "outcome": assessment.outcome.value if assessment.outcome else None,
        "opened_on": assessment.created_on.date().isoformat(), "version": assessment.version,
    }


def list_importers(app: ComplianceCases, *, district: str | None = None,
                   state: str | None = None) -> list[dict[str, Any]]:
    wanted_district = parse_district(district) if district else None
    rows = [importer_summary(a) for a in replay(app.recorder, app.mapper,
                                                [ImporterAccount]).values()]
    return sorted(
        (r for r in rows if (wanted_district is None or r["district"] == wanted_district)
         and (state is None or r["state"] == state)),
        key=lambda r: str(r["number"]))


def list_assessments(app: ComplianceCases, *, district: str | None = None,
                     state: str | None = None,
                     importer_number: str | None = None) -> list[dict[str, Any]]:
    return _list(app, Assessment, assessment_summary, district, state, importer_number)


def status_counts(app: ComplianceCases) -> dict[str, Any]:
    """Aggregates by type and state, plus the total number of stored events."""
    by_type: dict[str, Counter[str]] = {}
    for aggregate in replay(app.recorder, app.mapper, ALL_TYPES).values():
        state = getattr(aggregate, "state", None) or getattr(aggregate, "status", None)
        label = state.value if state is not None else "recorded"
        by_type.setdefault(type(aggregate).__name__, Counter())[label] += 1
    return {
        "aggregates": {kind: dict(sorted(counts.items())) for kind, counts in
                       sorted(by_type.items())},
        "totals": {kind: sum(counts.values()) for kind, counts in sorted(by_type.items())},
        "events": app.recorder.max_notification_id() or 0,
    }


def plan_summary(plan: ImprovementPlan) -> dict[str, Any]:
    return {
        "id": str(plan.id), "number": plan.number, "importer_number": plan.importer_number,
        "district": plan.district, "state": plan.state.value,
        "assessment_number": plan.assessment_number,
        "deficient_areas": [a.value for a in plan.deficient_areas],
        "actions": len(plan.actions),
        "actions_completed": sum(1 for a in plan.actions if a.is_completed),
        "proposal_due_on": plan.proposal_due_on.isoformat(),
        "verification_number": plan.verification_number,
        "enforcement_number": plan.enforcement_number, "version": plan.version,
    }


def enforcement_summary(action: EnforcementAction) -> dict[str, Any]:
    basis = action.basis
    return {
        "id": str(action.id), "number": action.number,
        "importer_number": action.importer_number, "district": action.district,
        "kind": action.kind.value, "state": action.state.value,
        "culpability": basis.culpability.value if basis else None,
        "revenue_loss": str(basis.revenue_loss) if basis else None,
        "proposed_amount": _money(action.proposed_amount),
        "decided_amount": _money(action.decided_amount),
        "paid_amount": _money(action.paid_amount), "source_case": action.source_case,
        "votes": len(action.votes), "version": action.version,
    }


def verification_summary(verification: FollowUpVerification) -> dict[str, Any]:
    return {
        "id": str(verification.id), "number": verification.number,
        "importer_number": verification.importer_number, "district": verification.district,
        "state": verification.state.value, "plan_number": verification.plan_number,
        "officer": verification.officer,
        "areas": [a.value for a in verification.areas],
        "due_on": verification.due_on.isoformat(),
        "verified_rate": _money(verification.verified_rate), "version": verification.version,
    }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _list(app: ComplianceCases, kind: type[Any], summary: Callable[[Any], dict[str, Any]],
          district: str | None, state: str | None,
          importer_number: str | None) -> list[dict[str, Any]]:
    wanted_district = parse_district(district) if district else None
    rows = [summary(a) for a in replay(app.recorder, app.mapper, [kind]).values()]
    return sorted(
        (r for r in rows if (wanted_district is None or r["district"] == wanted_district)
         and (state is None or r["state"] == state)
         and (importer_number is None or r["importer_number"] == importer_number.upper())),
        key=lambda r: str(r["number"]))


def list_plans(app: ComplianceCases, *, district: str | None = None, state: str | None = None,
               importer_number: str | None = None) -> list[dict[str, Any]]:
    return _list(app, ImprovementPlan, plan_summary, district, state, importer_number)


def list_enforcement(app: ComplianceCases, *, district: str | None = None,
                     state: str | None = None,
                     importer_number: str | None = None) -> list[dict[str, Any]]:
    return _list(app, EnforcementAction, enforcement_summary, district, state, importer_number)


def list_verifications(app: ComplianceCases, *, district: str | None = None,
                       state: str | None = None,
                       importer_number: str | None = None) -> list[dict[str, Any]]:
    return _list(app, FollowUpVerification, verification_summary, district, state,
                 importer_number)
