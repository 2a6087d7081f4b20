"""The named rules an improvement plan must respect, each readable as a sentence."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from domain.reference import ComplianceArea
from domain.rules import BusinessRule, FourEyesRule

if TYPE_CHECKING:
    from domain.improvement_plan import CorrectiveAction

class DueDateIsNotInThePast(BusinessRule):
    def __init__(self, due_on: date, today: date) -> None:
        self.due_on, self.today = due_on, today

    def is_broken(self) -> bool:
        return self.due_on < self.today

    def message(self) -> str:
        return (f"due_on {self.due_on.isoformat()} is before today ({self.today.isoformat()}); "
                "a due date cannot be set in the past")


class ActionAddressesADeficientArea(BusinessRule):
    def __init__(self, area: ComplianceArea, deficient: Iterable[ComplianceArea]) -> None:
        self.area, self.deficient = area, tuple(deficient)

    def is_broken(self) -> bool:
        return self.area not in self.deficient

    def message(self) -> str:
        areas = ", ".join(a.value for a in self.deficient)
        return f"area {self.area.value} was not found deficient; the plan covers: {areas}"


class PlanNeedsAtLeastOneAction(BusinessRule):
    def __init__(self, actions: Iterable[CorrectiveAction]) -> None:
        self.count = len(tuple(actions))

    def is_broken(self) -> bool:
        return self.count == 0

    def message(self) -> str:
        return "the plan has no corrective action; add at least one first"


class EveryDeficientAreaHasAnAction(BusinessRule):
    def __init__(self, deficient: Iterable[ComplianceArea],
                 actions: Iterable[CorrectiveAction]) -> None:
        covered = {a.area for a in actions}
        self.missing = [a.value for a in deficient if a not in covered]

    def is_broken(self) -> bool:
        return bool(self.missing)

    def message(self) -> str:
        return f"no corrective action for deficient area(s): {', '.join(self.missing)}"


class ActionExists(BusinessRule):
    def __init__(self, action_id: str, actions: Iterable[CorrectiveAction]) -> None:
        self.action_id = action_id
        self.ids = [a.action_id for a in actions]

    def is_broken(self) -> bool:
        return self.action_id not in self.ids

    def message(self) -> str:
        known = ", ".join(self.ids) or "none"
        return f"the plan has no action {self.action_id} (actions: {known})"


class ActionIsNotCompletedTwice(BusinessRule):
    def __init__(self, action: CorrectiveAction) -> None:
        self.action = action

    def is_broken(self) -> bool:
        return self.action.is_completed

    def message(self) -> str:
        done = self.action.completed_on.isoformat() if self.action.completed_on else ""
        return f"action {self.action.action_id} was already completed on {done}"


class ImplementationNeedsEveryActionCompleted(BusinessRule):
    def __init__(self, actions: Iterable[CorrectiveAction]) -> None:
        self.open = [a.action_id for a in actions if not a.is_completed]

    def is_broken(self) -> bool:
        return bool(self.open)

    def message(self) -> str:
        return ("implementation can be reported only when every action is completed; open: "
                + ", ".join(self.open))


class PlanCannotCloseBeforeVerification(BusinessRule):
    def __init__(self, verification_number: str | None, concluded_effective: bool) -> None:
        self.verification_number, self.effective = verification_number, concluded_effective

    def is_broken(self) -> bool:
        return self.verification_number is None or not self.effective

    def message(self) -> str:
        if self.verification_number is None:
            return "the plan cannot close before a follow-up verification is scheduled"
        return (f"the plan cannot close before follow-up verification "
                f"{self.verification_number} has concluded effective")


class PlanReviewerIsNotTheSubmitter(FourEyesRule):
    """Whoever submitted the plan (the importer's representative) neither approves it nor
    sends it back."""

    first_act = "submitted this plan"


class PlanReviewerIsNotTheDrafter(FourEyesRule):
    """Whoever drafted the plan neither approves it nor sends it back; a `system:` job that
    drafted it automatically (from findings) is not a person and does not count."""

    first_act = "drafted this plan"

    def is_broken(self) -> bool:
        return (self.first_actor is not None and not self.first_actor.startswith("system:")
                and super().is_broken())
