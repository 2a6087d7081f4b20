"""Use cases of improvement plans. Reporting implementation schedules the follow-up
verification in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from application.assignees import Assignees
from application.workflow_steps import WorkflowSteps
from domain.case_numbers import case_id, parse_case_number
from domain.improvement_plan import Evidence, ImprovementPlan
from domain.reference import ComplianceArea


class PlanCommands(WorkflowSteps, Assignees):
    def get_plan(self, number: str) -> ImprovementPlan:
        canonical = parse_case_number(number)
        return self._load(case_id(canonical), ImprovementPlan, "improvement plan", canonical)

    def _plan_command(self, command: str, number: str, actor: str,
                      expected_version: int | None, idempotency_key: str | None,
                      decide: Callable[[ImprovementPlan], None], *,
                      owner: str | None = None) -> int:
        """One step on the plan; with `owner`, the action's owner named by it is checked
        (application.assignees) before the plan decides, and loaded with the plan."""
        def checked(plan: ImprovementPlan) -> None:
            if owner is not None:
                self._check_owner("owner", owner, plan.district, plan.importer_number)
            decide(plan)
        loads = self._case_loads(number)
        if owner is not None:
            loads = [*loads, *self._assignee_loads(owner)]
        return self._step(command, lambda: self.get_plan(number), actor, expected_version,
                          idempotency_key, checked, loads)

    def add_plan_action(self, number: str, *, area: ComplianceArea | str, description: str,
                        owner: str, due_on: date | str, actor: str, reason: str,
                        expected_version: int | None = None,
                        idempotency_key: str | None = None) -> str:
        def run() -> str:
            plan = self.get_plan(number)
            self._check_owner("owner", owner, plan.district, plan.importer_number)
            return self._command(plan, plan.label, expected_version, lambda p: p.add_action(
                area=area, description=description, owner=owner, due_on=due_on,
                today=self.clock().date(), actor=actor, reason=reason, at=self.clock()))
        return self._once("add_plan_action", idempotency_key, actor, str, run,
                          [*self._case_loads(number), *self._assignee_loads(owner)])

    def change_plan_action(self, number: str, action_id: str, *, area: ComplianceArea | str,
                           description: str, owner: str, due_on: date | str, actor: str,
                           reason: str, expected_version: int | None = None,
                           idempotency_key: str | None = None) -> int:
        return self._plan_command(
            "change_plan_action", number, actor, expected_version, idempotency_key,
            lambda p: p.change_action(action_id, area=area, description=description,
                                      owner=owner, due_on=due_on, today=self.clock().date(),
                                      actor=actor, reason=reason, at=self.clock()),
            owner=owner)

    def remove_plan_action(self, number: str, action_id: str, *, actor: str, reason: str,
                           expected_version: int | None = None,
                           idempotency_key: str | None = None) -> int:
        return self._plan_command(
            "remove_plan_action", number, actor, expected_version, idempotency_key,
            lambda p: p.remove_action(action_id, actor=actor, reason=reason, at=self.clock()))

    def submit_plan(self, number: str, *, actor: str, reason: str,
                    expected_version: int | None = None,
                    idempotency_key: str | None = None) -> int:
        return self._plan_command(
            "submit_plan", number, actor, expected_version, idempotency_key,
            lambda p: p.submit(actor=actor, reason=reason, at=self.clock()))

    def approve_plan(self, number: str, *, actor: str, reason: str,
                     expected_version: int | None = None,
                     idempotency_key: str | None = None) -> int:
        return self._plan_command(
            "approve_plan", number, actor, expected_version, idempotency_key,
            lambda p: p.approve(actor=actor, reason=reason, at=self.clock()))

    def send_back_plan(self, number: str, *, actor: str, reason: str,
                       expected_version: int | None = None,
                       idempotency_key: str | None = None) -> int:
        return self._plan_command(
            "send_back_plan", number, actor, expected_version, idempotency_key,
            lambda p: p.send_back(actor=actor, reason=reason, at=self.clock()))

    def amend_plan_action(self, number: str, action_id: str, *, description: str, owner: str,
                          due_on: date | str, actor: str, reason: str,
                          expected_version: int | None = None,
                          idempotency_key: str | None = None) -> int:
        return self._plan_command(
            "amend_plan_action", number, actor, expected_version, idempotency_key,
            lambda p: p.amend_action(action_id, description=description, owner=owner,
                                     due_on=due_on, today=self.clock().date(), actor=actor,
                                     reason=reason, at=self.clock()),
            owner=owner)

    def complete_plan_action(self, number: str, action_id: str, *, evidence: Evidence,
                             completed_on: date | str, actor: str, reason: str,
                             expected_version: int | None = None,
                             idempotency_key: str | None = None) -> int:
        return self._plan_command(
            "complete_plan_action", number, actor, expected_version, idempotency_key,
            lambda p: p.complete_action(action_id, evidence=evidence,
                                        completed_on=completed_on, today=self.clock().date(),
                                        actor=actor, reason=reason, at=self.clock()))

    def report_implementation(self, number: str, *, actor: str, reason: str,
                              expected_version: int | None = None,
                              idempotency_key: str | None = None) -> str:
        """Returns the number of the follow-up verification scheduled with it."""
        def run() -> str:
            plan = self.get_plan(number)
            at = self.clock()

            def decide(p: ImprovementPlan) -> str:
                p.report_implementation(actor=actor, reason=reason, at=at)
                changed, verification = self._schedule_verification(p, actor=actor, at=at)
                self._save(p.label, p, *changed, result=verification.number)
                return verification.number
            return self._decide_and_save_inside(plan, expected_version, decide)
        return self._once("report_implementation", idempotency_key, actor, str, run,
                          self._case_loads(number, "FV"))

    def escalate_plan(self, number: str, *, actor: str, reason: str,
                      expected_version: int | None = None,
                      idempotency_key: str | None = None) -> str:
        """Escalate a plan by a supervisor's decision (typically overdue beyond grace; the
        reason records why); proposes an enforced-compliance programme in the same
        transaction and returns its number."""
        def run() -> str:
            plan = self.get_plan(number)

            def decide(p: ImprovementPlan) -> str:
                changed, action = self._escalation(p, p.deficient_areas, source_case=p.number,
                                                   actor=actor, reason=reason, at=self.clock())
                self._save(p.label, *changed, result=action.number)
                return action.number
            return self._decide_and_save_inside(plan, expected_version, decide)
        return self._once("escalate_plan", idempotency_key, actor, str, run,
                          self._case_loads(number, "EA", account=True))
