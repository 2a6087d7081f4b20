"""Use cases of compliance assessments, including the first workflow step: findings that
require a plan draft it, findings referred for enforcement propose it, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from eventsourcing.domain import Aggregate

from application.assignees import Assignees
from application.workflow_steps import WorkflowSteps
from domain.assessment import FINAL_STATES, Assessment, AssessmentOrigin, Outcome, SampleTest
from domain.assessment_rules import OneOpenAssessmentPerImporterAndPeriod
from domain.case_file import CaseRef
from domain.case_numbers import case_id, parse_case_number
from domain.reference import ComplianceArea, ControlRating
from domain.rules import check
from domain.values import Period, parse_actor, parse_reason


@dataclass(frozen=True)
class FindingsResult:
    outcome: Outcome
    plan_number: str | None = None
    enforcement_number: str | None = None


class AssessmentCommands(WorkflowSteps, Assignees):
    def open_assessment(self, importer_number: str, *, origin: AssessmentOrigin | str,
                        period: Period, scope: Iterable[ComplianceArea | str], actor: str,
                        reason: str, expected_version: int | None = None,
                        idempotency_key: str | None = None) -> str:
        """Open an assessment, take its number and file it on the importer's case file,
        all in one transaction. `expected_version` is the importer account's."""
        def run() -> str:
            account = self.get_importer(importer_number)
            self._expect_version(account, expected_version)
            account.ensure_open_for_cases()
            parse_actor(actor)
            parse_reason(reason)
            at = self.clock()
            case_file = self._case_file(account.importer_number, actor, at)
            candidates = [ref for ref in case_file.cases_of_kind("assessment")
                          if ref.period_start and ref.period_end
                          and period.overlaps(Period(ref.period_start, ref.period_end))]
            self._before_filing("CA", at, account.importer_number,
                                more=[ref.case_id for ref in candidates])
            overlapping = [
                ref.number for ref in candidates
                if self._load(ref.case_id, Assessment, "assessment", ref.number).state
                not in FINAL_STATES
            ]
            check(OneOpenAssessmentPerImporterAndPeriod(account.importer_number, overlapping))
            sequence, number = self._take_number(
                "CA", at, f"assessment of importer {account.importer_number}")
            assessment = Assessment.open(
                number=number, importer_id=account.id, importer_number=account.importer_number,
                district=account.district, origin=origin, period=period, scope=scope,
                actor=actor, reason=reason, at=at)
            case_file.add(CaseRef("assessment", number, assessment.id, period.start,
                                  period.end), actor=actor, at=at)
            self._save(f"importer {account.importer_number}", sequence, case_file, assessment,
                       result=number)
            return number
        return self._once("open_assessment", idempotency_key, actor, str, run,
                          self._importer_loads(importer_number, "CA"))

    def get_assessment(self, number: str) -> Assessment:
        canonical = parse_case_number(number)
        return self._load(case_id(canonical), Assessment, "assessment", canonical)

    def _assessment_command(self, command: str, number: str, actor: str,
                            expected_version: int | None, idempotency_key: str | None,
                            decide: Callable[[Assessment], None]) -> int:
        return self._step(command, lambda: self.get_assessment(number), actor,
                          expected_version, idempotency_key, decide, self._case_loads(number))

    def assign_officer(self, number: str, officer: str, *, actor: str, reason: str,
                       expected_version: int | None = None,
                       idempotency_key: str | None = None) -> int:
        """Assign (or reassign) the officer: an enabled officer (or supervisor) of the
        assessment's district, or a national one (application.assignees)."""
        def decide(assessment: Assessment) -> None:
            self._check_assignee("officer", officer, assessment.district)
            assessment.assign_officer(officer, actor=actor, reason=reason, at=self.clock())
        return self._step("assign_officer", lambda: self.get_assessment(number), actor,
                          expected_version, idempotency_key, decide,
                          [*self._case_loads(number), *self._assignee_loads(officer)])

    def record_survey(self, number: str,
                      ratings: Mapping[ComplianceArea, ControlRating] | Mapping[str, str],
                      surveyed_on: date | str, *, actor: str, reason: str,
                      expected_version: int | None = None,
                      idempotency_key: str | None = None) -> int:
        return self._assessment_command(
            "record_survey", number, actor, expected_version, idempotency_key,
            lambda a: a.record_survey(ratings, surveyed_on, actor=actor, reason=reason,
                                      at=self.clock()))

    def record_test(self, number: str, test: SampleTest, *, actor: str, reason: str,
                    expected_version: int | None = None,
                    idempotency_key: str | None = None) -> int:
        return self._assessment_command(
            "record_test", number, actor, expected_version, idempotency_key,
            lambda a: a.record_test(test, actor=actor, reason=reason, at=self.clock()))

    def issue_findings(self, number: str, *, duty_paid: Decimal | str | None = None,
                       fraud_indicators: bool = False, actor: str, reason: str,
                       expected_version: int | None = None,
                       idempotency_key: str | None = None) -> FindingsResult:
        """Issue findings; the plan or enforcement proposal they call for is created in
        the same transaction, so findings never exist without their follow-on case."""
        def run() -> FindingsResult:
            return self._decide_and_save_inside(self.get_assessment(number), expected_version,
                                                decide)

        def decide(assessment: Assessment) -> FindingsResult:
            at = self.clock()
            outcome = assessment.issue_findings(
                policy=self.workflow.findings, duty_paid=duty_paid,
                fraud_indicators=fraud_indicators, actor=actor, reason=reason, at=at)
            follow_on: list[Aggregate] = []
            result = FindingsResult(outcome)
            if outcome is Outcome.IMPROVEMENT_PLAN_REQUIRED:
                follow_on, plan = self._draft_plan(assessment, actor=actor, at=at)
                result = FindingsResult(outcome, plan_number=plan.number)
            elif outcome is Outcome.REFERRAL_FOR_ENFORCEMENT:
                follow_on, action = self._referral_from_findings(assessment, actor=actor, at=at)
                result = FindingsResult(outcome, enforcement_number=action.number)
            self._save(assessment.label, assessment, *follow_on, result=result)
            return result
        return self._once("issue_findings", idempotency_key, actor, FindingsResult, run,
                          self._case_loads(number, "IP"))

    def close_assessment(self, number: str, *, actor: str, reason: str,
                         expected_version: int | None = None,
                         idempotency_key: str | None = None) -> int:
        return self._assessment_command(
            "close_assessment", number, actor, expected_version, idempotency_key,
            lambda a: a.close(actor=actor, reason=reason, at=self.clock()))

    def cancel_assessment(self, number: str, *, actor: str, reason: str,
                          expected_version: int | None = None,
                          idempotency_key: str | None = None) -> int:
        return self._assessment_command(
            "cancel_assessment", number, actor, expected_version, idempotency_key,
            lambda a: a.cancel(actor=actor, reason=reason, at=self.clock()))
