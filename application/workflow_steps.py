"""The cross-aggregate steps of the workflow: a new case is numbered, filed on the
importer's case file and returned unsaved, so the caller commits it in the same transaction
as the decision that caused it.

A step names what it will load before loading any of it (`_case_loads`), so the case, the
importer's case file and the year's number sequence come from one query; what it could not
foresee (a process that has not seen the case yet does not know its importer) it fetches
together once the case is loaded (`_ensure_loaded` before numbering and filing): never more
than two round trips, however many aggregates the step touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.case_store import CaseStore
from application.histories import HistoryRequest
from domain.assessment import Assessment
from domain.case_file import case_file_id
from domain.case_numbers import case_id, sequence_id
from domain.enforcement_action import EnforcementAction, EnforcementKind
from domain.errors import DomainError
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount, importer_account_id
from domain.improvement_plan import ImprovementPlan
from domain.penalties import Culpability, PenaltyBasis
from domain.reference import ComplianceArea


def importer_loads(importer_number: str, *, case_file: bool = True,
                   account: bool = False) -> list[HistoryRequest]:
    """The importer's case file (what filing a new case loads) and account."""
    try:
        ids = ([case_file_id(importer_number)] if case_file else []) + (
            [importer_account_id(importer_number)] if account else [])
    except DomainError:  # not an importer number: the command's own load refuses it
        return []
    return [HistoryRequest.full(oid) for oid in ids]


class WorkflowSteps(CaseStore):
    def _case_loads(self, number: str, *opens: str, account: bool = False,
                    plan: bool = False) -> list[HistoryRequest]:
        """What a step on case `number` will load, as far as the process foresees it: the
        case; for a step that opens a case numbered with a prefix of `opens`, that year's
        sequence (the year numbers were last taken in) and, once the process knows the
        case's importer, its case file (and `account`); with `plan`, the plan a
        verification follows."""
        loads = self._cases_loads(number)
        if not loads:
            return []
        case_uuid = loads[0].originator_id
        year = self.hints.year
        if year is not None:
            loads += [HistoryRequest.first_and_last(sequence_id(prefix, year))
                      for prefix in opens]
        importer = self.hints.importer_of(case_uuid)
        if importer is not None:
            loads += importer_loads(importer, case_file=bool(opens), account=account)
        plan_number = self.hints.plan_of(case_uuid) if plan else None
        if plan_number is not None:
            loads.append(HistoryRequest.full(case_id(plan_number)))
        return loads

    def _importer_loads(self, importer_number: str, prefix: str) -> list[HistoryRequest]:
        """What opening a case on an importer loads: its account and case file, and the
        sequence of the year numbers were last taken in."""
        year = self.hints.year
        return [*importer_loads(importer_number, account=True),
                *([HistoryRequest.first_and_last(sequence_id(prefix, year))]
                  if year is not None else [])]

    def _before_filing(self, prefix: str, at: datetime, importer_number: str, *,
                       account: bool = False, more: Iterable[UUID] = ()) -> None:
        """Fetch, in one query, what numbering and filing a new case will load and the
        step has not fetched yet: the year's sequence and the importer's case file (and
        its account, and `more`)."""
        self._ensure_loaded([HistoryRequest.first_and_last(sequence_id(prefix, at.year)),
                             *importer_loads(importer_number, account=account),
                             *map(HistoryRequest.full, more)])

    def _draft_plan(self, assessment: Assessment, *, actor: str,
                    at: datetime) -> tuple[list[Aggregate], ImprovementPlan]:
        deficient = [f.area for f in assessment.findings if not f.acceptable] or [
            f.area for f in assessment.findings]
        self._before_filing("IP", at, assessment.importer_number)
        sequence, number = self._take_number("IP", at, f"plan for {assessment.number}")
        plan = ImprovementPlan.draft(
            number=number, importer_id=assessment.importer_id,
            importer_number=assessment.importer_number, district=assessment.district,
            assessment_number=assessment.number, deficient_areas=deficient,
            target_rate=self.workflow.plan_target_rate,
            proposal_due_on=at.date() + timedelta(days=self.workflow.plan_proposal_days),
            actor=actor, reason=f"findings of {assessment.number} require an improvement plan",
            at=at)
        case_file = self._case_file(assessment.importer_number, actor, at)
        self._file_case(case_file, "improvement_plan", number, plan.id, actor, at)
        return [sequence, case_file, plan], plan

    def _propose_enforcement(self, account: ImporterAccount, *, kind: EnforcementKind | str,
                             legal_basis: str, facts: str, source_case: str | None,
                             basis: PenaltyBasis | None, amount: Decimal | str | None,
                             examinations_until: date | str | None, actor: str, reason: str,
                             at: datetime) -> tuple[list[Aggregate], EnforcementAction]:
        account.ensure_open_for_cases()
        self._before_filing("EA", at, account.importer_number)
        sequence, number = self._take_number("EA", at, f"enforcement on {account.label}")
        action = EnforcementAction.propose(
            number=number, importer_id=account.id, importer_number=account.importer_number,
            district=account.district, kind=kind, legal_basis=legal_basis, facts=facts,
            source_case=source_case, basis=basis, proposed_amount=amount,
            examinations_until=examinations_until, cap_policy=self.workflow.caps,
            actor=actor, reason=reason, at=at)
        case_file = self._case_file(account.importer_number, actor, at)
        self._file_case(case_file, "enforcement_action", number, action.id, actor, at)
        return [sequence, case_file, action], action

    def _referral_from_findings(self, assessment: Assessment, *, actor: str,
                                at: datetime) -> tuple[list[Aggregate], EnforcementAction]:
        """Findings referred for enforcement propose a penalty for the revenue lost:
        fraud where fraud was indicated, otherwise negligence; the enforcement team
        reviews it before anything is issued."""
        loss = sum((f.revenue_loss for f in assessment.findings), Decimal("0.00"))
        in_error = sum((t.value_in_error for t in assessment.tests), Decimal("0.00"))
        tested = sum((t.value_tested for t in assessment.tests), Decimal("0.00"))
        culpability = (Culpability.FRAUD if assessment.fraud_indicators
                       else Culpability.NEGLIGENCE)
        basis = PenaltyBasis(culpability, loss, max(in_error, loss), tested, False)
        self._before_filing("EA", at, assessment.importer_number, account=True)
        account = self.get_importer(assessment.importer_number)
        deficient = ", ".join(f.area.value for f in assessment.findings if not f.acceptable)
        return self._propose_enforcement(
            account, kind=EnforcementKind.PENALTY, legal_basis="19 U.S.C. 1592",
            facts=(f"assessment {assessment.number} found deficient areas ({deficient or 'none'})"
                   f" with revenue loss {loss}"),
            source_case=assessment.number, basis=basis, amount=loss, examinations_until=None,
            actor=actor, reason=f"findings of {assessment.number} referred for enforcement",
            at=at)

    def _schedule_verification(self, plan: ImprovementPlan, *, actor: str,
                               at: datetime) -> tuple[list[Aggregate], FollowUpVerification]:
        self._before_filing("FV", at, plan.importer_number)
        sequence, number = self._take_number("FV", at, f"follow-up of {plan.number}")
        due = at.date() + timedelta(days=self.workflow.verification_after_days)
        verification = FollowUpVerification.schedule(
            number=number, importer_id=plan.importer_id, importer_number=plan.importer_number,
            district=plan.district, plan_number=plan.number, areas=plan.deficient_areas,
            target_rate=plan.target_rate, due_on=due,
            implementation_reported_by=plan.implementation_reported_by or actor, actor=actor,
            reason=f"implementation of {plan.number} reported", at=at)
        plan.schedule_verification(number, due, actor=actor, at=at)
        case_file = self._case_file(plan.importer_number, actor, at)
        self._file_case(case_file, "follow_up_verification", number, verification.id, actor, at)
        return [sequence, case_file, verification], verification

    def _escalation(self, plan: ImprovementPlan, areas: Iterable[ComplianceArea], *,
                    source_case: str, actor: str, reason: str, at: datetime,
                    loss_basis: PenaltyBasis | None = None,
                    ) -> tuple[list[Aggregate], EnforcementAction]:
        """A plan that did not work: propose enforcement and escalate the plan, in one
        transaction. Revenue still being lost calls for a penalty for that loss; otherwise
        the company enforced-compliance programme."""
        self._before_filing("EA", at, plan.importer_number, account=True)
        account = self.get_importer(plan.importer_number)
        names = ", ".join(a.value for a in areas)
        facts = f"improvement plan {plan.number} did not correct: {names}"
        if loss_basis is not None and loss_basis.revenue_loss > 0:
            changed, action = self._propose_enforcement(
                account, kind=EnforcementKind.PENALTY, legal_basis="19 U.S.C. 1592",
                facts=f"{facts}; revenue loss {loss_basis.revenue_loss}",
                source_case=source_case, basis=loss_basis, amount=loss_basis.revenue_loss,
                examinations_until=None, actor=actor, reason=reason, at=at)
        else:
            changed, action = self._propose_enforcement(
                account, kind=EnforcementKind.ENFORCED_COMPLIANCE_PROGRAMME,
                legal_basis="company enforced-compliance process", facts=facts,
                source_case=source_case, basis=None, amount=None, examinations_until=None,
                actor=actor, reason=reason, at=at)
        plan.escalate(action.number, actor=actor, reason=reason, at=at)
        return [*changed, plan], action
