"""Business rules read as sentences; `check` raises for the first broken one."""

from __future__ import annotations

import pytest

from domain.assessment_rules import OneOpenAssessmentPerImporterAndPeriod
from domain.errors import DomainError, InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.rules import BusinessRule, check

from .builders import IMPORTER_NUMBER, assert_names


class AlwaysBroken(BusinessRule):
    def __init__(self, label: str) -> None:
        self.label = label

    def is_broken(self) -> bool:
        return True

    def message(self) -> str:
        return f"broken: {self.label}"


class NeverBroken(BusinessRule):
    def is_broken(self) -> bool:
        return False

    def message(self) -> str:  # pragma: no cover - never asked
        return "never shown"


def test_check_passes_when_no_rule_is_broken() -> None:
    check()
    check(NeverBroken(), NeverBroken())


def test_check_raises_for_the_first_broken_rule_in_the_order_given() -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        check(NeverBroken(), AlwaysBroken("first"), AlwaysBroken("second"))
    assert_names(excinfo.value, rule="AlwaysBroken", mentions=["broken: first"])
    assert excinfo.value.message == "broken: first"


def test_a_rule_is_named_after_its_class() -> None:
    assert NeverBroken().name == "NeverBroken"


def test_an_importer_may_have_one_open_assessment_per_period() -> None:
    check(OneOpenAssessmentPerImporterAndPeriod(IMPORTER_NUMBER, []))


def test_a_second_open_assessment_for_an_overlapping_period_is_refused() -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        check(OneOpenAssessmentPerImporterAndPeriod(IMPORTER_NUMBER,
                                                    ["CA-2026-00001", "CA-2026-00007"]))
    assert_names(excinfo.value, rule="OneOpenAssessmentPerImporterAndPeriod",
                 mentions=[f"importer {IMPORTER_NUMBER}", "CA-2026-00001, CA-2026-00007"])


def test_every_refusal_is_a_domain_error() -> None:
    assert issubclass(RuleViolationError, DomainError)
    assert issubclass(InvalidTransitionError, DomainError)
    assert issubclass(InvalidValueError, DomainError)


def test_a_transition_refusal_says_what_was_refused_from_which_state() -> None:
    refusal = InvalidTransitionError("assessment CA-2026-00001", "closed", "cancel", ())
    assert str(refusal) == ("assessment CA-2026-00001 is closed: cannot cancel "
                            "(only allowed when no state)")
    assert (refusal.case, refusal.state, refusal.step) == ("assessment CA-2026-00001", "closed",
                                                           "cancel")
