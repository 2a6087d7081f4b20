"""The named rules an assessment must respect, each readable as a sentence."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from domain.reference import ComplianceArea
from domain.rules import BusinessRule


class PeriodUnderReviewEndsBeforeOpening(BusinessRule):
    def __init__(self, period_end: date, opened_on: date) -> None:
        self.period_end, self.opened_on = period_end, opened_on

    def is_broken(self) -> bool:
        return self.period_end >= self.opened_on

    def message(self) -> str:
        return (f"the period under review must end before the assessment opens: period_end "
                f"{self.period_end.isoformat()} is not before {self.opened_on.isoformat()}")


class ScopeNamesAtLeastOneArea(BusinessRule):
    def __init__(self, scope: Iterable[ComplianceArea]) -> None:
        self.scope = tuple(scope)

    def is_broken(self) -> bool:
        return not self.scope

    def message(self) -> str:
        return "scope must name at least one compliance area"


class OneOpenAssessmentPerImporterAndPeriod(BusinessRule):
    def __init__(self, importer_number: str, open_overlapping: list[str]) -> None:
        self.importer_number, self.open_overlapping = importer_number, open_overlapping

    def is_broken(self) -> bool:
        return bool(self.open_overlapping)

    def message(self) -> str:
        return (f"importer {self.importer_number} already has an open assessment for an "
                f"overlapping period: {', '.join(self.open_overlapping)}")


class SurveyRatesEveryScopedArea(BusinessRule):
    def __init__(self, scope: Iterable[ComplianceArea], rated: Iterable[ComplianceArea]) -> None:
        self.missing = sorted(a.value for a in set(scope) - set(rated))
        self.extra = sorted(a.value for a in set(rated) - set(scope))

    def is_broken(self) -> bool:
        return bool(self.missing or self.extra)

    def message(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"no rating for scoped area(s) {', '.join(self.missing)}")
        if self.extra:
            parts.append(f"area(s) {', '.join(self.extra)} are not in scope")
        return "the survey must rate every scoped area: " + "; ".join(parts)


class TestedAreaIsInScope(BusinessRule):
    def __init__(self, area: ComplianceArea, scope: Iterable[ComplianceArea]) -> None:
        self.area, self.scope = area, tuple(scope)

    def is_broken(self) -> bool:
        return self.area not in self.scope

    def message(self) -> str:
        scoped = ", ".join(a.value for a in self.scope)
        return f"area {self.area.value} is not in the assessment's scope ({scoped})"


class SampleHasAtLeastOneLine(BusinessRule):
    def __init__(self, lines_tested: int) -> None:
        self.lines_tested = lines_tested

    def is_broken(self) -> bool:
        return self.lines_tested < 1

    def message(self) -> str:
        return "lines_tested must be at least 1: a sample test examines at least one line"


class DiscrepanciesDoNotExceedLinesTested(BusinessRule):
    def __init__(self, discrepancies: int, lines_tested: int) -> None:
        self.discrepancies, self.lines_tested = discrepancies, lines_tested

    def is_broken(self) -> bool:
        return self.discrepancies > self.lines_tested

    def message(self) -> str:
        return (f"discrepancies ({self.discrepancies}) cannot exceed lines_tested "
                f"({self.lines_tested})")


class ValueInErrorDoesNotExceedValueTested(BusinessRule):
    def __init__(self, value_in_error: Decimal, value_tested: Decimal) -> None:
        self.value_in_error, self.value_tested = value_in_error, value_tested

    def is_broken(self) -> bool:
        return self.value_in_error > self.value_tested

    def message(self) -> str:
        return (f"value_in_error ({self.value_in_error}) cannot exceed value_tested "
                f"({self.value_tested})")


class DiscrepancyFreeSampleHasNoErrorValue(BusinessRule):
    def __init__(self, discrepancies: int, value_in_error: Decimal,
                 revenue_loss: Decimal) -> None:
        self.discrepancies = discrepancies
        self.value_in_error, self.revenue_loss = value_in_error, revenue_loss

    def is_broken(self) -> bool:
        return self.discrepancies == 0 and (self.value_in_error > 0 or self.revenue_loss > 0)

    def message(self) -> str:
        return ("a sample with 0 discrepancies cannot have a value in error or a revenue "
                "loss")


class FindingsNeedATestInEveryScopedArea(BusinessRule):
    def __init__(self, scope: Iterable[ComplianceArea],
                 tested: Iterable[ComplianceArea]) -> None:
        self.untested = sorted(a.value for a in set(scope) - set(tested))

    def is_broken(self) -> bool:
        return bool(self.untested)

    def message(self) -> str:
        return ("findings need a sample test in every scoped area; untested: "
                + ", ".join(self.untested))
