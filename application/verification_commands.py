"""Use cases of follow-up verifications. The conclusion decides the plan's fate in the same
transaction: effective closes the plan and updates the importer's compliance class; not
effective proposes enforcement and escalates the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from eventsourcing.domain import Aggregate

from application.assignees import Assignees
from application.histories import HistoryRequest
from application.workflow_steps import WorkflowSteps, importer_loads
from domain.assessment import SampleTest
from domain.case_numbers import case_id, parse_case_number
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import AccountStatus
from domain.improvement_plan import ImprovementPlan
from domain.penalties import Culpability, PenaltyBasis
from domain.workflow_policy import class_for_rate


@dataclass(frozen=True)
class VerificationResult:
    effective: bool
    verified_rate: Decimal
    compliance_class: str | None = None
    enforcement_number: str | None = None


class VerificationCommands(WorkflowSteps, Assignees):
    def get_verification(self, number: str) -> FollowUpVerification:
        canonical = parse_case_number(number)
        return self._load(case_id(canonical), FollowUpVerification,
                          "follow-up verification", canonical)

    def assign_verification_officer(self, number: str, officer: str, *, actor: str,
                                    reason: str, expected_version: int | None = None,
                                    idempotency_key: str | None = None) -> int:
        """Assign (or reassign) the officer responsible for the re-tests: an enabled
        officer (or supervisor) of the verification's district, or a national one
        (application.assignees)."""
        def decide(verification: FollowUpVerification) -> None:
            self._check_assignee("officer", officer, verification.district)
            verification.assign_officer(officer, actor=actor, reason=reason, at=self.clock())
        return self._step("assign_verification_officer",
                          lambda: self.get_verification(number), actor, expected_version,
                          idempotency_key, decide,
                          [*self._case_loads(number), *self._assignee_loads(officer)])

    def record_retest(self, number: str, test: SampleTest, *, actor: str, reason: str,
                      expected_version: int | None = None,
                      idempotency_key: str | None = None) -> int:
        return self._step("record_retest", lambda: self.get_verification(number), actor,
                          expected_version, idempotency_key, lambda v: v.record_retest(
                              test, actor=actor, reason=reason, at=self.clock()),
                          self._case_loads(number))

    def conclude_verification(self, number: str, *, actor: str, reason: str,
                              expected_version: int | None = None,
                              idempotency_key: str | None = None) -> VerificationResult:
        def run() -> VerificationResult:
            return self._decide_and_save_inside(self.get_verification(number),
                                                expected_version, decide)

        def decide(verification: FollowUpVerification) -> VerificationResult:
            at = self.clock()
            effective = verification.conclude(policy=self.workflow.findings, actor=actor,
                                              reason=reason, at=at)
            rate = verification.verified_rate or Decimal(0)
            self._before_deciding_the_plan(verification, effective=effective, at=at)
            plan = self._load(case_id(verification.plan_number), ImprovementPlan,
                              "improvement plan", verification.plan_number)
            changed: list[Aggregate]
            if effective:
                account = self.get_importer(verification.importer_number)
                new_class = class_for_rate(rate)
                plan.close_effective(verification_number=verification.number,
                                     concluded_effective=True, verified_rate=rate, actor=actor,
                                     reason=f"{verification.number} concluded effective",
                                     at=at)
                changed = [plan]
                if account.status is not AccountStatus.CLOSED:
                    # A closed account keeps its last class; the plan still closes.
                    account.set_compliance_class(
                        new_class, actor=actor,
                        reason=f"verified compliance rate {rate} in {verification.number}",
                        at=at)
                    changed.append(account)
                result = VerificationResult(True, rate, compliance_class=new_class.value)
            else:
                failed = [f.area for f in verification.findings if not f.acceptable]
                loss = sum((f.revenue_loss for f in verification.findings), Decimal("0.00"))
                in_error = sum((t.value_in_error for t in verification.tests),
                               Decimal("0.00"))
                tested = sum((t.value_tested for t in verification.tests), Decimal("0.00"))
                changed, action = self._escalation(
                    plan, failed, source_case=verification.number, actor=actor,
                    reason=f"{verification.number} concluded not effective", at=at,
                    loss_basis=PenaltyBasis(Culpability.NEGLIGENCE, loss, max(in_error, loss),
                                            tested, False))
                result = VerificationResult(False, rate, enforcement_number=action.number)
            self._save(verification.label, verification, *changed, result=result)
            return result
        return self._once("conclude_verification", idempotency_key, actor,
                          VerificationResult, run,
                          self._case_loads(number, account=True, plan=True))

    def _before_deciding_the_plan(self, verification: FollowUpVerification, *,
                                  effective: bool, at: datetime) -> None:
        """Fetch in one query what the conclusion loads next and the step has not fetched
        yet: the plan and the account, and, when not effective, what proposing
        enforcement loads."""
        plan = case_id(verification.plan_number)
        if effective:
            self._ensure_loaded([HistoryRequest.full(plan), *importer_loads(
                verification.importer_number, case_file=False, account=True)])
        else:
            self._before_filing("EA", at, verification.importer_number, account=True,
                                more=[plan])

    def cancel_verification(self, number: str, *, actor: str, reason: str,
                            expected_version: int | None = None,
                            idempotency_key: str | None = None) -> int:
        return self._step("cancel_verification", lambda: self.get_verification(number), actor,
                          expected_version, idempotency_key, lambda v: v.cancel(
                              actor=actor, reason=reason, at=self.clock()),
                          self._case_loads(number))
