"""Lists and counts read by replaying the log once (read models replace this later)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from application.compliance_cases import ALL_TYPES, ComplianceCases
from application.log_replay import replay
from domain.assessment import Assessment
from domain.importer_account import ImporterAccount
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
    wanted_district = parse_district(district) if district else None
    rows = [assessment_summary(a) for a in replay(app.recorder, app.mapper,
                                                  [Assessment]).values()]
    return sorted(
        (r for r in rows if (wanted_district is None or r["district"] == wanted_district)
         and (state is None or r["state"] == state)
         and (importer_number is None or r["importer_number"] == importer_number.upper())),
        key=lambda r: str(r["number"]))


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
