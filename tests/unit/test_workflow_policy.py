"""Workflow policy defaults and the compliance class a verified rate earns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.assessment import FindingsPolicy
from domain.importer_account import ComplianceClass
from domain.penalties import CapPolicy
from domain.workflow_policy import WorkflowPolicy, class_for_rate

AA, A, B, C, D = (ComplianceClass.AA, ComplianceClass.A, ComplianceClass.B,
                  ComplianceClass.C, ComplianceClass.D)


@pytest.mark.parametrize(("rate", "expected"), [
    ("1.0000", AA), ("0.9901", AA), ("0.99", AA), ("0.9900", AA),
    ("0.9899", A), ("0.9701", A), ("0.97", A),
    ("0.9699", B), ("0.9501", B), ("0.95", B),
    ("0.9499", C), ("0.9001", C), ("0.90", C),
    ("0.8999", D), ("0.5", D), ("0", D),
])
def test_a_verified_rate_earns_the_class_of_the_highest_threshold_it_reaches(
        rate: str, expected: ComplianceClass) -> None:
    assert class_for_rate(Decimal(rate)) is expected


def test_the_workflow_defaults_follow_the_domain_description() -> None:
    policy = WorkflowPolicy()
    assert policy.findings == FindingsPolicy()
    assert policy.caps == CapPolicy()
    assert (policy.plan_proposal_days, policy.verification_after_days) == (60, 182)
    assert policy.plan_target_rate == Decimal("0.95")


def test_the_default_plan_target_earns_class_b() -> None:
    assert class_for_rate(WorkflowPolicy().plan_target_rate) is B
