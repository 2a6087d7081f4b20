"""The configurable numbers of the case workflow (defaults from domain.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from domain.assessment import FindingsPolicy
from domain.importer_account import ComplianceClass
from domain.penalties import CapPolicy


@dataclass(frozen=True)
class WorkflowPolicy:
    findings: FindingsPolicy = field(default_factory=FindingsPolicy)
    caps: CapPolicy = field(default_factory=CapPolicy)
    plan_proposal_days: int = 60
    """The importer proposes corrective actions within this many days of findings."""
    verification_after_days: int = 182
    """A follow-up verification falls due this long after implementation is reported."""
    plan_target_rate: Decimal = Decimal("0.95")
    """Re-tested areas must reach this 95% lower bound for the plan to be effective."""


CLASS_THRESHOLDS: tuple[tuple[Decimal, ComplianceClass], ...] = (
    (Decimal("0.99"), ComplianceClass.AA), (Decimal("0.97"), ComplianceClass.A),
    (Decimal("0.95"), ComplianceClass.B), (Decimal("0.90"), ComplianceClass.C),
)


def class_for_rate(rate: Decimal) -> ComplianceClass:
    """The compliance class a verified compliance rate earns."""
    for threshold, compliance_class in CLASS_THRESHOLDS:
        if rate >= threshold:
            return compliance_class
    return ComplianceClass.D
