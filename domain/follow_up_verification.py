"""FollowUpVerification: re-tests the areas an improvement plan corrected, once the importer
reports implementation, and concludes whether the plan worked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.assessment import AreaFinding, FindingsPolicy, SampleTest, evaluate_area
from domain.assessment_rules import FindingsNeedATestInEveryScopedArea, TestedAreaIsInScope
from domain.base import CaseAggregate, DeadlineCase, StepRule, require_aware
from domain.case_numbers import case_id, parse_case_number
from domain.reference import ComplianceArea
from domain.rules import FourEyesRule, check
from domain.values import parse_actor, parse_reason


class VerificationState(StrEnum):
    SCHEDULED = "scheduled"
    TESTING = "testing"
    CONCLUDED_EFFECTIVE = "concluded_effective"
    CONCLUDED_NOT_EFFECTIVE = "concluded_not_effective"
    CANCELLED = "cancelled"


VERIFICATION_FINAL_STATES = (VerificationState.CONCLUDED_EFFECTIVE,
                             VerificationState.CONCLUDED_NOT_EFFECTIVE,
                             VerificationState.CANCELLED)


class VerifierIsNotTheImplementationReporter(FourEyesRule):
    """Whoever reported the plan implemented does not conclude whether it worked."""

    first_act = "reported the plan's implementation"


class FollowUpVerification(DeadlineCase):
    number: str
    importer_id: UUID
    importer_number: str
    district: str
    plan_number: str
    areas: tuple[ComplianceArea, ...]
    target_rate: Decimal
    due_on: date
    state: VerificationState
    tests: tuple[SampleTest, ...]
    findings: tuple[AreaFinding, ...]
    verified_rate: Decimal | None
    # Default at class level: snapshots taken before it was remembered lack it.
    implementation_reported_by: str | None = None
    """Who reported the plan implemented: not the one to conclude (four eyes)."""
    officer: str | None = None
    """The officer responsible for the re-tests (None until one is assigned); a class
    default, so verifications recorded before assignment existed load unchanged."""
    overdue_flags: tuple[tuple[str, date], ...] = ()
    """(item, due date) flagged overdue by the scheduler (see CaseAggregate.flag_overdue)."""

    STEPS = {
        "assign_verification_officer": StepRule.of("assign an officer",
                                                   VerificationState.SCHEDULED,
                                                   VerificationState.TESTING),
        "record_retest": StepRule.of("record a re-test", VerificationState.SCHEDULED,
                                     VerificationState.TESTING),
        "conclude_verification": StepRule.of("conclude", VerificationState.TESTING),
        "cancel_verification": StepRule.of("cancel", VerificationState.SCHEDULED,
                                           VerificationState.TESTING),
    }

    def __init__(self) -> None:
        """State is set by the Scheduled event's apply."""

    @property
    def label(self) -> str:
        return f"follow-up verification {self.number}"

    def open_due_items(self) -> dict[str, date]:
        """The re-test, until the verification is concluded or cancelled."""
        return {} if self.state in VERIFICATION_FINAL_STATES else {"retest": self.due_on}

    def is_overdue(self, today: date) -> bool:
        return self.state not in VERIFICATION_FINAL_STATES and self.due_on < today

    class Scheduled(CaseAggregate.Created):
        number: str
        importer_id: UUID
        importer_number: str
        district: str
        plan_number: str
        areas: tuple[ComplianceArea, ...]
        target_rate: Decimal
        due_on: date
        implementation_reported_by: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had no reporter: the workflow scheduled the verification with the
            actor who reported the implementation, in the same transaction."""
            state["implementation_reported_by"] = state["actor"]

        def apply(self, aggregate: FollowUpVerification) -> None:
            aggregate.number = self.number
            aggregate.importer_id = self.importer_id
            aggregate.importer_number = self.importer_number
            aggregate.district = self.district
            aggregate.plan_number = self.plan_number
            aggregate.areas = self.areas
            aggregate.target_rate = self.target_rate
            aggregate.due_on = self.due_on
            aggregate.state = VerificationState.SCHEDULED
            aggregate.tests = ()
            aggregate.findings = ()
            aggregate.verified_rate = None
            aggregate.implementation_reported_by = self.implementation_reported_by
            aggregate.officer = None
            aggregate.overdue_flags = ()

    @classmethod
    def schedule(cls, *, number: str, importer_id: UUID, importer_number: str, district: str,
                 plan_number: str, areas: Iterable[ComplianceArea], target_rate: Decimal,
                 due_on: date, implementation_reported_by: str, actor: str, reason: str,
                 at: datetime) -> FollowUpVerification:
        return cls._create(
            cls.Scheduled, id=case_id(number), timestamp=require_aware(at),
            actor=parse_actor(actor), reason=parse_reason(reason),
            number=parse_case_number(number), importer_id=importer_id,
            importer_number=importer_number, district=district, plan_number=plan_number,
            areas=tuple(areas), target_rate=target_rate, due_on=due_on,
            implementation_reported_by=parse_actor(implementation_reported_by,
                                                   "implementation_reported_by"))

    class RetestRecorded(CaseAggregate.Event):
        test: SampleTest

        def apply(self, aggregate: FollowUpVerification) -> None:
            aggregate.tests = (*aggregate.tests, self.test)
            aggregate.state = VerificationState.TESTING

    def record_retest(self, test: SampleTest, *, actor: str, reason: str,
                      at: datetime) -> None:
        self._refuse_unless_step("record_retest")
        check(TestedAreaIsInScope(test.area, self.areas))
        test.check_rules()
        self._record(self.RetestRecorded, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), test=test)

    class Concluded(CaseAggregate.Event):
        effective: bool
        findings: tuple[AreaFinding, ...]
        verified_rate: Decimal

        def apply(self, aggregate: FollowUpVerification) -> None:
            aggregate.findings = self.findings
            aggregate.verified_rate = self.verified_rate
            aggregate.state = (VerificationState.CONCLUDED_EFFECTIVE if self.effective
                               else VerificationState.CONCLUDED_NOT_EFFECTIVE)

    def conclude(self, *, policy: FindingsPolicy, actor: str, reason: str,
                 at: datetime) -> bool:
        """Effective when every re-tested area meets the plan's target rate (its 95% lower
        bound) without a material loss."""
        self._refuse_unless_step("conclude_verification")
        verifier = parse_actor(actor)
        check(VerifierIsNotTheImplementationReporter(verifier, self.implementation_reported_by,
                                                     "conclude its verification"),
              FindingsNeedATestInEveryScopedArea(self.areas, {t.area for t in self.tests}))
        target = replace(policy, minimum_lower_bound=self.target_rate)
        findings = tuple(evaluate_area(area, [t for t in self.tests if t.area is area], None,
                                       target, None) for area in self.areas)
        lines = sum(f.lines_tested for f in findings)
        compliant = lines - sum(f.discrepancies for f in findings)
        rate = (Decimal(compliant) / Decimal(lines)).quantize(Decimal("0.0001"))
        effective = all(f.acceptable for f in findings)
        self._record(self.Concluded, at, actor=verifier, reason=parse_reason(reason),
                     effective=effective, findings=findings, verified_rate=rate)
        return effective

    class OfficerAssigned(CaseAggregate.Event):
        officer: str

        def apply(self, aggregate: FollowUpVerification) -> None:
            aggregate.officer = self.officer

    def assign_officer(self, officer: str, *, actor: str, reason: str, at: datetime) -> None:
        """Assign (or reassign) the officer who re-tests and concludes; not the person who
        reported the plan implemented (four eyes)."""
        self._refuse_unless_step("assign_verification_officer")
        assigned = parse_actor(officer, "officer")
        check(VerifierIsNotTheImplementationReporter(assigned, self.implementation_reported_by,
                                                     "be assigned to verify it"))
        self._record(self.OfficerAssigned, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), officer=assigned)

    class Cancelled(CaseAggregate.Event):
        def apply(self, aggregate: FollowUpVerification) -> None:
            aggregate.state = VerificationState.CANCELLED

    def cancel(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("cancel_verification")
        self._record(self.Cancelled, at, actor=parse_actor(actor), reason=parse_reason(reason))
