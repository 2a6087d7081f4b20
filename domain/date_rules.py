"""The rules every business date of a case respects, named after the field they check.

A business date records something that happened (a survey, a completed action, a payment,
joining a programme): it cannot lie after today, by the application's clock, nor before the
case it belongs to existed. A due date is the opposite: it is set for something still to
come, so it cannot lie in the past when it is set (`DueDateIsNotInThePast` for plans).
The domain reads no clock: "today" is always the date of the time the command passes in.
"""

from __future__ import annotations

from datetime import date

from domain.rules import BusinessRule


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.replace("_", " ").split())


class DateIsNotInTheFuture(BusinessRule):
    """A date that records a fact is not after today; named e.g. `PaidOnIsNotInTheFuture`."""

    def __init__(self, field: str, value: date, today: date) -> None:
        self.field, self.value, self.today = field, value, today

    @property
    def name(self) -> str:
        return f"{_camel(self.field)}IsNotInTheFuture"

    def is_broken(self) -> bool:
        return self.value > self.today

    def message(self) -> str:
        return (f"{self.field}: {self.value.isoformat()} is in the future "
                f"(today is {self.today.isoformat()})")


class DateIsNotBeforeTheCaseExisted(BusinessRule):
    """A date that records a step of a case is not before the case was created; named e.g.
    `CompletedOnIsNotBeforeThePlanExisted`."""

    def __init__(self, field: str, value: date, created_on: date, case: str) -> None:
        self.field, self.value, self.created_on, self.case = field, value, created_on, case

    @property
    def name(self) -> str:
        return f"{_camel(self.field)}IsNotBeforeThe{_camel(self.case)}Existed"

    def is_broken(self) -> bool:
        return self.value < self.created_on

    def message(self) -> str:
        return (f"{self.field}: {self.value.isoformat()} is before the {self.case} existed "
                f"({self.created_on.isoformat()})")


def business_date_rules(field: str, value: date, *, today: date, created_on: date,
                        case: str) -> tuple[BusinessRule, BusinessRule]:
    """Both rules of a dated fact of a case, in the order they are checked."""
    return (DateIsNotInTheFuture(field, value, today),
            DateIsNotBeforeTheCaseExisted(field, value, created_on, case))
