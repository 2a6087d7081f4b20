"""What the lists and `show` print of a case or an account. The lists find their rows in
the views (projections.listing) and complete each row of a page here, from its case."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from domain.assessment import Assessment
from domain.enforcement_action import EnforcementAction
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import ImprovementPlan


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


def register_summary(row: Mapping[str, Any], version: int) -> dict[str, Any]:
    """An account as `importer_summary` gives it, from its account-register row (what the
    account list reads) and its version."""
    return {
        "id": row["importer_id"], "number": row["importer_number"],
        "importer_number": row["importer_number"], "legal_name": row["legal_name"],
        "district": row["district"], "industry": row["industry"], "state": row["status"],
        "tier": row["tier"], "compliance_class": row["compliance_class"],
        "account_manager": row["manager"], "partnerships": list(row["partnerships"]),
        "version": version,
    }


SUMMARIES: dict[type[Any], Callable[[Any], dict[str, Any]]] = {
    Assessment: assessment_summary, ImprovementPlan: plan_summary,
    EnforcementAction: enforcement_summary, FollowUpVerification: verification_summary,
    ImporterAccount: importer_summary,
}


def case_summaries(app: ComplianceCases, case_ids: Iterable[UUID]) -> list[dict[str, Any]]:
    """Each case's summary, in the order given: the rows of one page of a list, which the
    views found but do not hold all of (outcome, scope, votes, areas...). Each case is
    replayed from its own events, not from its snapshot, as the whole-log lists did: a
    page costs one read per case, and a case whose history is damaged is reported as
    DamagedHistoryError naming it, as every path that replays events reports it."""
    rows = []
    for case_id in case_ids:
        latest: Any = None
        for _, aggregate in app.replay_history(case_id):
            latest = aggregate
        if latest is None:
            raise NotFoundError("case", case_id)
        rows.append(SUMMARIES[type(latest)](latest))
    return rows
