"""ImprovementPlan: the corrective actions an importer takes after deficient findings,
tracked until a follow-up verification shows they worked.

draft -> submitted -> approved (or sent back to draft) -> actions completed with evidence
-> implementation reported -> follow-up verification scheduled -> closed as effective, or
escalated to enforcement.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from domain.base import CaseAggregate, DeadlineCase, StepRule, require_aware
from domain.case_numbers import case_id, parse_case_number
from domain.date_rules import business_date_rules
from domain.errors import InvalidValueError
from domain.plan_rules import (
    ActionAddressesADeficientArea,
    ActionExists,
    ActionIsNotCompletedTwice,
    DueDateIsNotInThePast,
    EveryDeficientAreaHasAnAction,
    ImplementationNeedsEveryActionCompleted,
    PlanCannotCloseBeforeVerification,
    PlanNeedsAtLeastOneAction,
    PlanReviewerIsNotTheDrafter,
    PlanReviewerIsNotTheSubmitter,
)
from domain.reference import ComplianceArea
from domain.rules import BusinessRule, check
from domain.values import (
    parse_actor,
    parse_date,
    parse_enum,
    parse_name,
    parse_reason,
    parse_text,
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PlanState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    IMPLEMENTATION_REPORTED = "implementation_reported"
    VERIFICATION_SCHEDULED = "verification_scheduled"
    CLOSED_EFFECTIVE = "closed_effective"
    ESCALATED = "escalated"


PLAN_FINAL_STATES = (PlanState.CLOSED_EFFECTIVE, PlanState.ESCALATED)


@dataclass(frozen=True)
class Evidence:
    """What shows an action was done: a description, where the document is, and the
    SHA-256 of the document so a later substitution is detectable."""

    description: str
    document_ref: str
    sha256: str

    @classmethod
    def parse(cls, description: str, document_ref: str, sha256: str) -> Evidence:
        digest = sha256.strip().lower() if isinstance(sha256, str) else sha256
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise InvalidValueError("evidence_sha256", sha256, "expected 64 hex digits (SHA-256)")
        return cls(parse_text("evidence_description", description, 200, multiline=True),
                   parse_name(document_ref, "evidence_document_ref"), digest)


@dataclass(frozen=True)
class CorrectiveAction:
    action_id: str
    area: ComplianceArea
    description: str
    owner: str
    due_on: date
    completed_on: date | None = None
    evidence: Evidence | None = None

    @property
    def is_completed(self) -> bool:
        return self.completed_on is not None


class ImprovementPlan(DeadlineCase):
    number: str
    importer_id: UUID
    importer_number: str
    district: str
    assessment_number: str
    deficient_areas: tuple[ComplianceArea, ...]
    target_rate: Decimal
    proposal_due_on: date
    state: PlanState
    actions: tuple[CorrectiveAction, ...]
    next_action_serial: int
    verification_number: str | None
    verification_due_on: date | None
    enforcement_number: str | None
    # Who did the acts a second person must check (four eyes), from the events' actors.
    # Defaults at class level: snapshots taken before they were remembered lack them.
    drafted_by: str | None = None
    submitted_by: str | None = None
    implementation_reported_by: str | None = None
    overdue_flags: tuple[tuple[str, date], ...] = ()
    """(item, due date) flagged overdue by the scheduler (see CaseAggregate.flag_overdue)."""

    STEPS = {
        "add_plan_action": StepRule.of("add an action", PlanState.DRAFT),
        "change_plan_action": StepRule.of("change an action (approved plans are amended)",
                                          PlanState.DRAFT),
        "remove_plan_action": StepRule.of("remove an action", PlanState.DRAFT),
        "submit_plan": StepRule.of("submit", PlanState.DRAFT),
        "approve_plan": StepRule.of("approve", PlanState.SUBMITTED),
        "send_back_plan": StepRule.of("send back", PlanState.SUBMITTED),
        "amend_plan_action": StepRule.of("amend an action", PlanState.APPROVED),
        "complete_plan_action": StepRule.of("complete an action", PlanState.APPROVED),
        "report_implementation": StepRule.of("report implementation", PlanState.APPROVED),
        "schedule_verification": StepRule.of("schedule a follow-up verification",
                                             PlanState.IMPLEMENTATION_REPORTED),
        "close_effective": StepRule.of("close as effective", PlanState.VERIFICATION_SCHEDULED),
        "escalate_plan": StepRule.of("escalate to enforcement", PlanState.DRAFT,
                                     PlanState.SUBMITTED, PlanState.APPROVED,
                                     PlanState.IMPLEMENTATION_REPORTED,
                                     PlanState.VERIFICATION_SCHEDULED),
    }
    """Scheduling the verification (with the reported implementation) and closing as
    effective (with the verification's conclusion) are the workflow's steps, not a
    person's; escalation is also the workflow's when a verification is not effective."""

    def __init__(self) -> None:
        """State is set by the Drafted event's apply."""

    @property
    def label(self) -> str:
        return f"improvement plan {self.number}"

    class Drafted(CaseAggregate.Created):
        number: str
        importer_id: UUID
        importer_number: str
        district: str
        assessment_number: str
        deficient_areas: tuple[ComplianceArea, ...]
        target_rate: Decimal
        proposal_due_on: date

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.number = self.number
            aggregate.importer_id = self.importer_id
            aggregate.importer_number = self.importer_number
            aggregate.district = self.district
            aggregate.assessment_number = self.assessment_number
            aggregate.deficient_areas = self.deficient_areas
            aggregate.target_rate = self.target_rate
            aggregate.proposal_due_on = self.proposal_due_on
            aggregate.state = PlanState.DRAFT
            aggregate.actions = ()
            aggregate.next_action_serial = 1
            aggregate.verification_number = None
            aggregate.verification_due_on = None
            aggregate.enforcement_number = None
            aggregate.drafted_by = self.actor
            aggregate.submitted_by = None
            aggregate.implementation_reported_by = None
            aggregate.overdue_flags = ()

    @classmethod
    def draft(cls, *, number: str, importer_id: UUID, importer_number: str, district: str,
              assessment_number: str, deficient_areas: Iterable[ComplianceArea],
              target_rate: Decimal, proposal_due_on: date, actor: str, reason: str,
              at: datetime) -> ImprovementPlan:
        areas = tuple(deficient_areas)
        if not areas:
            raise InvalidValueError("deficient_areas", areas, "a plan needs a deficient area")
        return cls._create(
            cls.Drafted, id=case_id(number), timestamp=require_aware(at),
            actor=parse_actor(actor), reason=parse_reason(reason),
            number=parse_case_number(number), importer_id=importer_id,
            importer_number=importer_number, district=district,
            assessment_number=assessment_number, deficient_areas=areas,
            target_rate=target_rate, proposal_due_on=proposal_due_on)

    def _action(self, action_id: str) -> CorrectiveAction:
        check(ActionExists(action_id, self.actions))
        return next(a for a in self.actions if a.action_id == action_id)

    def _checked_action(self, action_id: str, area: ComplianceArea | str, description: str,
                        owner: str, due_on: date | str, today: date) -> CorrectiveAction:
        chosen = parse_enum(ComplianceArea, area, "area")
        due = parse_date(due_on, "due_on")
        check(ActionAddressesADeficientArea(chosen, self.deficient_areas),
              DueDateIsNotInThePast(due, today))
        return CorrectiveAction(action_id, chosen,
                                parse_text("description", description, 200, multiline=True),
                                parse_actor(owner, "owner"), due)

    class ActionAdded(CaseAggregate.Event):
        action: CorrectiveAction

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.actions = (*aggregate.actions, self.action)
            aggregate.next_action_serial += 1

    def add_action(self, *, area: ComplianceArea | str, description: str, owner: str,
                   due_on: date | str, today: date, actor: str, reason: str,
                   at: datetime) -> str:
        self._refuse_unless_step("add_plan_action")
        action = self._checked_action(f"A{self.next_action_serial}", area, description, owner,
                                      due_on, today)
        self._record(self.ActionAdded, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), action=action)
        return action.action_id

    class ActionChanged(CaseAggregate.Event):
        action: CorrectiveAction

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.actions = tuple(self.action if a.action_id == self.action.action_id
                                      else a for a in aggregate.actions)

    def change_action(self, action_id: str, *, area: ComplianceArea | str, description: str,
                      owner: str, due_on: date | str, today: date, actor: str, reason: str,
                      at: datetime) -> None:
        self._refuse_unless_step("change_plan_action")
        self._action(action_id)
        action = self._checked_action(action_id, area, description, owner, due_on, today)
        self._record(self.ActionChanged, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), action=action)

    class ActionRemoved(CaseAggregate.Event):
        action_id: str

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.actions = tuple(a for a in aggregate.actions
                                      if a.action_id != self.action_id)

    def remove_action(self, action_id: str, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("remove_plan_action")
        self._action(action_id)
        self._record(self.ActionRemoved, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), action_id=action_id)

    class Submitted(CaseAggregate.Event):
        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.state = PlanState.SUBMITTED
            aggregate.submitted_by = self.actor

    def submit(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("submit_plan")
        check(PlanNeedsAtLeastOneAction(self.actions),
              EveryDeficientAreaHasAnAction(self.deficient_areas, self.actions))
        self._record(self.Submitted, at, actor=parse_actor(actor), reason=parse_reason(reason))

    class Approved(CaseAggregate.Event):
        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.state = PlanState.APPROVED

    def approve(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("approve_plan")
        approver = parse_actor(actor)
        check(*self._second_person(approver, "approve it"),
              PlanNeedsAtLeastOneAction(self.actions))
        self._record(self.Approved, at, actor=approver, reason=parse_reason(reason))

    def _second_person(self, actor: str, step: str) -> tuple[BusinessRule, ...]:
        """Four eyes: the plan is approved or sent back by neither the person who submitted
        it nor the one who drafted it."""
        return (PlanReviewerIsNotTheSubmitter(actor, self.submitted_by, step),
                PlanReviewerIsNotTheDrafter(actor, self.drafted_by, step))

    class SentBack(CaseAggregate.Event):
        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.state = PlanState.DRAFT

    def send_back(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("send_back_plan")
        reviewer = parse_actor(actor)
        check(*self._second_person(reviewer, "send it back"))
        self._record(self.SentBack, at, actor=reviewer, reason=parse_reason(reason))

    class ActionAmended(CaseAggregate.Event):
        action: CorrectiveAction

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.actions = tuple(self.action if a.action_id == self.action.action_id
                                      else a for a in aggregate.actions)

    def amend_action(self, action_id: str, *, description: str, owner: str,
                     due_on: date | str, today: date, actor: str, reason: str,
                     at: datetime) -> None:
        """Approved plans change only through a recorded amendment with its reason."""
        self._refuse_unless_step("amend_plan_action")
        current = self._action(action_id)
        check(ActionIsNotCompletedTwice(current))
        amended = self._checked_action(action_id, current.area, description, owner, due_on,
                                       today)
        self._record(self.ActionAmended, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), action=amended)

    class ActionCompleted(CaseAggregate.Event):
        action_id: str
        completed_on: date
        evidence: Evidence

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.actions = tuple(
                replace(a, completed_on=self.completed_on, evidence=self.evidence)
                if a.action_id == self.action_id else a for a in aggregate.actions)

    def complete_action(self, action_id: str, *, evidence: Evidence, completed_on: date | str,
                        today: date, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("complete_plan_action")
        check(ActionIsNotCompletedTwice(self._action(action_id)))
        day = parse_date(completed_on, "completed_on")
        check(*business_date_rules("completed_on", day, today=today,
                                   created_on=self.created_on.date(), case="plan"))
        self._record(self.ActionCompleted, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), action_id=action_id, completed_on=day,
                     evidence=evidence)

    class ImplementationReported(CaseAggregate.Event):
        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.state = PlanState.IMPLEMENTATION_REPORTED
            aggregate.implementation_reported_by = self.actor

    def report_implementation(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("report_implementation")
        check(ImplementationNeedsEveryActionCompleted(self.actions))
        self._record(self.ImplementationReported, at, actor=parse_actor(actor),
                     reason=parse_reason(reason))

    class VerificationScheduled(CaseAggregate.Event):
        verification_number: str
        due_on: date

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.verification_number = self.verification_number
            aggregate.verification_due_on = self.due_on
            aggregate.state = PlanState.VERIFICATION_SCHEDULED

    def schedule_verification(self, verification_number: str, due_on: date, *, actor: str,
                              at: datetime) -> None:
        self._refuse_unless_step("schedule_verification")
        self._record(self.VerificationScheduled, at, actor=parse_actor(actor),
                     reason=f"implementation reported; verification due {due_on.isoformat()}",
                     verification_number=verification_number, due_on=due_on)

    class ClosedEffective(CaseAggregate.Event):
        verified_rate: Decimal

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.state = PlanState.CLOSED_EFFECTIVE

    def close_effective(self, *, verification_number: str | None, concluded_effective: bool,
                        verified_rate: Decimal, actor: str, reason: str, at: datetime) -> None:
        # A different verification number is not the scheduled one concluding effective; the
        # message then names the verification the plan is actually waiting for.
        check(PlanCannotCloseBeforeVerification(
            self.verification_number,
            concluded_effective and verification_number == self.verification_number))
        self._refuse_unless_step("close_effective")
        self._record(self.ClosedEffective, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), verified_rate=verified_rate)

    class Escalated(CaseAggregate.Event):
        enforcement_number: str

        def apply(self, aggregate: ImprovementPlan) -> None:
            aggregate.enforcement_number = self.enforcement_number
            aggregate.state = PlanState.ESCALATED

    def escalate(self, enforcement_number: str, *, actor: str, reason: str,
                 at: datetime) -> None:
        self._refuse_unless_step("escalate_plan")
        self._record(self.Escalated, at, actor=parse_actor(actor), reason=parse_reason(reason),
                     enforcement_number=enforcement_number)

    def open_due_items(self) -> dict[str, date]:
        """The proposal until first submitted, then every action not completed, until
        the plan is closed or escalated."""
        if self.state in PLAN_FINAL_STATES:
            return {}
        items = {a.action_id: a.due_on for a in self.actions if not a.is_completed}
        if self.state is PlanState.DRAFT and self.submitted_by is None:
            items["proposal"] = self.proposal_due_on
        return items

    def overdue_actions(self, today: date) -> list[CorrectiveAction]:
        return [a for a in self.actions if not a.is_completed and a.due_on < today]
