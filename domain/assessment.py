"""Assessment: a compliance assessment (company audit) of one importer.

Lifecycle: opened -> officer assigned -> internal-control survey -> sample tests per area
-> findings (rate with a 95% interval per area, revenue loss, outcome) -> closed.
Cancellation is possible until findings are issued.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.assessment_rules import (
    DiscrepanciesDoNotExceedLinesTested,
    DiscrepancyFreeSampleHasNoErrorValue,
    FindingsNeedATestInEveryScopedArea,
    PeriodUnderReviewEndsBeforeOpening,
    SampleHasAtLeastOneLine,
    ScopeNamesAtLeastOneArea,
    SurveyRatesEveryScopedArea,
    TestedAreaIsInScope,
    ValueInErrorDoesNotExceedValueTested,
)
from domain.base import CaseAggregate, StepRule, require_aware
from domain.case_numbers import case_id, parse_case_number
from domain.date_rules import business_date_rules
from domain.reference import ComplianceArea, ControlRating
from domain.rules import check
from domain.statistics import wilson_interval
from domain.values import (
    Period,
    parse_actor,
    parse_count,
    parse_date,
    parse_enum,
    parse_money,
    parse_reason,
)

_RATE = Decimal("0.0001")


class AssessmentOrigin(StrEnum):
    RISK_SELECTION = "risk_selection"
    NATIONAL_CRITERIA = "national_criteria"
    REFERRAL = "referral"
    RANDOM = "random"


class AssessmentState(StrEnum):
    OPENED = "opened"
    ASSIGNED = "assigned"
    SURVEYED = "surveyed"
    TESTING = "testing"
    FINDINGS_ISSUED = "findings_issued"
    CLOSED = "closed"
    CANCELLED = "cancelled"


FINAL_STATES = (AssessmentState.CLOSED, AssessmentState.CANCELLED)


class Outcome(StrEnum):
    ACCEPTABLE = "acceptable"
    IMPROVEMENT_PLAN_REQUIRED = "improvement_plan_required"
    REFERRAL_FOR_ENFORCEMENT = "referral_for_enforcement"


@dataclass(frozen=True)
class SampleTest:
    """One sample tested in one area; several samples per area add up."""

    area: ComplianceArea
    lines_tested: int
    discrepancies: int
    value_tested: Decimal
    value_in_error: Decimal
    revenue_loss: Decimal

    @classmethod
    def parse(cls, area: ComplianceArea | str, lines_tested: int | str,
              discrepancies: int | str, value_tested: Decimal | str,
              value_in_error: Decimal | str, revenue_loss: Decimal | str) -> SampleTest:
        test = cls(
            area=parse_enum(ComplianceArea, area, "area"),
            lines_tested=parse_count(lines_tested, "lines_tested"),
            discrepancies=parse_count(discrepancies, "discrepancies"),
            value_tested=parse_money(value_tested, "value_tested"),
            value_in_error=parse_money(value_in_error, "value_in_error"),
            revenue_loss=parse_money(revenue_loss, "revenue_loss"),
        )
        test.check_rules()
        return test

    def check_rules(self) -> None:
        test = self
        check(
            SampleHasAtLeastOneLine(test.lines_tested),
            DiscrepanciesDoNotExceedLinesTested(test.discrepancies, test.lines_tested),
            ValueInErrorDoesNotExceedValueTested(test.value_in_error, test.value_tested),
            DiscrepancyFreeSampleHasNoErrorValue(test.discrepancies, test.value_in_error,
                                                 test.revenue_loss),
        )


@dataclass(frozen=True)
class FindingsPolicy:
    """When an area is acceptable (domain.md defaults; configurable in settings)."""

    minimum_lower_bound: Decimal = Decimal("0.95")
    material_loss: Decimal = Decimal("50000.00")
    material_loss_share_of_duty: Decimal = Decimal("0.01")

    def is_material(self, loss: Decimal, duty_paid: Decimal | None) -> bool:
        if loss >= self.material_loss:
            return True
        return bool(duty_paid and loss > 0 and loss >= duty_paid * self.material_loss_share_of_duty)


@dataclass(frozen=True)
class AreaFinding:
    area: ComplianceArea
    lines_tested: int
    discrepancies: int
    compliance_rate: Decimal
    rate_lower: Decimal
    rate_upper: Decimal
    revenue_loss: Decimal
    control_rating: ControlRating | None
    acceptable: bool


def evaluate_area(area: ComplianceArea, tests: Iterable[SampleTest],
                  rating: ControlRating | None, policy: FindingsPolicy,
                  duty_paid: Decimal | None) -> AreaFinding:
    """Pool an area's samples, estimate its rate with a 95% interval, judge acceptability."""
    lines = discrepancies = 0
    loss = Decimal("0.00")
    for test in tests:
        lines += test.lines_tested
        discrepancies += test.discrepancies
        loss += test.revenue_loss
    estimate = wilson_interval(lines - discrepancies, lines)
    lower = Decimal(str(estimate.lower)).quantize(_RATE)
    acceptable = lower >= policy.minimum_lower_bound and not policy.is_material(loss, duty_paid)
    return AreaFinding(
        area=area, lines_tested=lines, discrepancies=discrepancies,
        compliance_rate=Decimal(str(estimate.rate)).quantize(_RATE), rate_lower=lower,
        rate_upper=Decimal(str(estimate.upper)).quantize(_RATE), revenue_loss=loss,
        control_rating=rating, acceptable=acceptable,
    )


def decide_outcome(findings: Iterable[AreaFinding], policy: FindingsPolicy,
                   duty_paid: Decimal | None, fraud_indicators: bool) -> Outcome:
    """Referral for fraud indicators, or a material total loss arising where controls are
    weak or absent; an improvement plan for any deficient area or a material total loss
    (losses that are each immaterial can add up); otherwise acceptable."""
    all_findings = tuple(findings)
    deficient = [f for f in all_findings if not f.acceptable]
    total_loss = sum((f.revenue_loss for f in all_findings), Decimal("0.00"))
    material_total = policy.is_material(total_loss, duty_paid)
    weak = {ControlRating.WEAK, ControlRating.NONE}
    if fraud_indicators:
        return Outcome.REFERRAL_FOR_ENFORCEMENT
    if material_total and any(f.control_rating in weak and (f in deficient or f.revenue_loss > 0)
                              for f in all_findings):
        return Outcome.REFERRAL_FOR_ENFORCEMENT
    if deficient or material_total:
        return Outcome.IMPROVEMENT_PLAN_REQUIRED
    return Outcome.ACCEPTABLE


class Assessment(CaseAggregate):
    number: str
    importer_id: UUID
    importer_number: str
    district: str
    origin: AssessmentOrigin
    period: Period
    scope: tuple[ComplianceArea, ...]
    state: AssessmentState
    officer: str | None
    survey: dict[ComplianceArea, ControlRating]
    tests: tuple[SampleTest, ...]
    findings: tuple[AreaFinding, ...]
    outcome: Outcome | None
    fraud_indicators: bool

    STEPS = {
        "assign_officer": StepRule.of("assign an officer", AssessmentState.OPENED,
                                      AssessmentState.ASSIGNED, AssessmentState.SURVEYED,
                                      AssessmentState.TESTING),
        "record_survey": StepRule.of("record the internal-control survey",
                                     AssessmentState.ASSIGNED, AssessmentState.SURVEYED),
        "record_test": StepRule.of("record a sample test", AssessmentState.SURVEYED,
                                   AssessmentState.TESTING),
        "issue_findings": StepRule.of("issue findings", AssessmentState.SURVEYED,
                                      AssessmentState.TESTING),
        "close_assessment": StepRule.of("close", AssessmentState.FINDINGS_ISSUED),
        "cancel_assessment": StepRule.of("cancel", AssessmentState.OPENED,
                                         AssessmentState.ASSIGNED, AssessmentState.SURVEYED,
                                         AssessmentState.TESTING),
    }

    def __init__(self) -> None:
        """State is set by the Opened event's apply."""

    @property
    def label(self) -> str:
        return f"assessment {self.number}"

    class Opened(CaseAggregate.Created):
        number: str
        importer_id: UUID
        importer_number: str
        district: str
        origin: AssessmentOrigin
        period_start: date
        period_end: date
        scope: tuple[ComplianceArea, ...]

        def apply(self, aggregate: Assessment) -> None:
            aggregate.number = self.number
            aggregate.importer_id = self.importer_id
            aggregate.importer_number = self.importer_number
            aggregate.district = self.district
            aggregate.origin = self.origin
            aggregate.period = Period(self.period_start, self.period_end)
            aggregate.scope = self.scope
            aggregate.state = AssessmentState.OPENED
            aggregate.officer = None
            aggregate.survey = {}
            aggregate.tests = ()
            aggregate.findings = ()
            aggregate.outcome = None
            aggregate.fraud_indicators = False

    @classmethod
    def open(cls, *, number: str, importer_id: UUID, importer_number: str, district: str,
             origin: AssessmentOrigin | str, period: Period,
             scope: Iterable[ComplianceArea | str], actor: str, reason: str,
             at: datetime) -> Assessment:
        areas = tuple(sorted({parse_enum(ComplianceArea, a, "scope") for a in scope},
                             key=lambda a: list(ComplianceArea).index(a)))
        check(ScopeNamesAtLeastOneArea(areas),
              PeriodUnderReviewEndsBeforeOpening(period.end, require_aware(at).date()))
        return cls._create(
            cls.Opened, id=case_id(number), timestamp=at, actor=parse_actor(actor),
            reason=parse_reason(reason), number=parse_case_number(number), importer_id=importer_id,
            importer_number=importer_number, district=district,
            origin=parse_enum(AssessmentOrigin, origin, "origin"),
            period_start=period.start, period_end=period.end, scope=areas,
        )

    class OfficerAssigned(CaseAggregate.Event):
        officer: str

        def apply(self, aggregate: Assessment) -> None:
            aggregate.officer = self.officer
            if aggregate.state is AssessmentState.OPENED:
                aggregate.state = AssessmentState.ASSIGNED

    def assign_officer(self, officer: str, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("assign_officer")
        self._record(self.OfficerAssigned, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), officer=parse_actor(officer, "officer"))

    class SurveyRecorded(CaseAggregate.Event):
        ratings: dict[ComplianceArea, ControlRating]
        surveyed_on: date

        def apply(self, aggregate: Assessment) -> None:
            aggregate.survey = dict(self.ratings)
            aggregate.state = AssessmentState.SURVEYED

    def record_survey(self, ratings: Mapping[ComplianceArea, ControlRating] | Mapping[str, str],
                      surveyed_on: date | str, *, actor: str, reason: str,
                      at: datetime) -> None:
        self._refuse_unless_step("record_survey")
        parsed = {
            parse_enum(ComplianceArea, area, "ratings.area"): parse_enum(
                ControlRating, rating, f"ratings.{area}")
            for area, rating in ratings.items()
        }
        day = parse_date(surveyed_on, "surveyed_on")
        check(SurveyRatesEveryScopedArea(self.scope, parsed),
              *business_date_rules("surveyed_on", day, today=require_aware(at).date(),
                                   created_on=self.created_on.date(), case="assessment"))
        self._record(self.SurveyRecorded, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), ratings=parsed, surveyed_on=day)

    class SampleTestRecorded(CaseAggregate.Event):
        test: SampleTest

        def apply(self, aggregate: Assessment) -> None:
            aggregate.tests = (*aggregate.tests, self.test)
            aggregate.state = AssessmentState.TESTING

    def record_test(self, test: SampleTest, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("record_test")
        check(TestedAreaIsInScope(test.area, self.scope))
        test.check_rules()
        self._record(self.SampleTestRecorded, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), test=test)

    class FindingsIssued(CaseAggregate.Event):
        findings: tuple[AreaFinding, ...]
        outcome: Outcome
        duty_paid: Decimal | None
        fraud_indicators: bool

        def apply(self, aggregate: Assessment) -> None:
            aggregate.findings = self.findings
            aggregate.outcome = self.outcome
            aggregate.fraud_indicators = self.fraud_indicators
            aggregate.state = AssessmentState.FINDINGS_ISSUED

    def issue_findings(self, *, policy: FindingsPolicy, duty_paid: Decimal | str | None,
                       fraud_indicators: bool, actor: str, reason: str,
                       at: datetime) -> Outcome:
        self._refuse_unless_step("issue_findings")
        check(FindingsNeedATestInEveryScopedArea(self.scope, {t.area for t in self.tests}))
        duty = None if duty_paid is None else parse_money(duty_paid, "duty_paid")
        findings = tuple(
            evaluate_area(area, [t for t in self.tests if t.area is area], self.survey[area],
                          policy, duty)
            for area in self.scope
        )
        outcome = decide_outcome(findings, policy, duty, fraud_indicators)
        self._record(self.FindingsIssued, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), findings=findings, outcome=outcome,
                     duty_paid=duty, fraud_indicators=fraud_indicators)
        return outcome

    class Closed(CaseAggregate.Event):
        def apply(self, aggregate: Assessment) -> None:
            aggregate.state = AssessmentState.CLOSED

    def close(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("close_assessment")
        self._record(self.Closed, at, actor=parse_actor(actor), reason=parse_reason(reason))

    class Cancelled(CaseAggregate.Event):
        def apply(self, aggregate: Assessment) -> None:
            aggregate.state = AssessmentState.CANCELLED

    def cancel(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("cancel_assessment")
        self._record(self.Cancelled, at, actor=parse_actor(actor), reason=parse_reason(reason))
