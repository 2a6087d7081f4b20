"""Assessment sample tests: what a sample test must hold, and that recording one moves
the assessment to testing (the rest of the lifecycle: test_assessment)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.assessment import AssessmentState, SampleTest
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.reference import ComplianceArea

from .builders import (
    OFFICER,
    REASON,
    assert_names,
    assert_refused,
    assigned_assessment,
    at,
    sample,
    surveyed_assessment,
)

VALUE = ComplianceArea.VALUE

# -- sample tests -------------------------------------------------------------------------


def test_a_sample_test_parses_its_counts_and_amounts() -> None:
    test = SampleTest.parse("Value", "120", 3, "250000", "1200.5", "180.25")
    assert test == SampleTest(area=VALUE, lines_tested=120, discrepancies=3,
                              value_tested=Decimal("250000.00"),
                              value_in_error=Decimal("1200.50"),
                              revenue_loss=Decimal("180.25"))


def test_a_sample_may_find_every_line_in_error() -> None:
    test = sample(lines=5, discrepancies=5, value_tested="900.00", value_in_error="900.00")
    assert test.discrepancies == test.lines_tested


def test_a_sample_with_no_lines_is_refused() -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        sample(lines=0)
    assert_names(excinfo.value, rule="SampleHasAtLeastOneLine", mentions=["lines_tested"])


def test_a_sample_with_more_discrepancies_than_lines_is_refused() -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        sample(lines=10, discrepancies=11, value_in_error="10.00")
    assert_names(excinfo.value, rule="DiscrepanciesDoNotExceedLinesTested",
                 mentions=["discrepancies (11)", "lines_tested (10)"])


def test_a_sample_whose_value_in_error_exceeds_the_value_tested_is_refused() -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        sample(discrepancies=2, value_tested="1000.00", value_in_error="1000.01")
    assert_names(excinfo.value, rule="ValueInErrorDoesNotExceedValueTested",
                 mentions=["value_in_error (1000.01)", "value_tested (1000.00)"])


@pytest.mark.parametrize(("value_in_error", "revenue_loss"), [("0.01", "0.00"),
                                                              ("0.00", "5.00")])
def test_a_sample_without_discrepancies_cannot_carry_an_error_value_or_a_loss(
        value_in_error: str, revenue_loss: str) -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        sample(discrepancies=0, value_in_error=value_in_error, revenue_loss=revenue_loss)
    assert_names(excinfo.value, rule="DiscrepancyFreeSampleHasNoErrorValue",
                 mentions=["0 discrepancies"])


@pytest.mark.parametrize(("field", "bad"), [
    ("area", "tariff"),
    ("lines_tested", "-1"),
    ("lines_tested", "ten"),
    ("discrepancies", "-2"),
    ("value_tested", "-1.00"),
    ("value_in_error", "1.001"),
    ("revenue_loss", "lots"),
])
def test_a_sample_with_a_malformed_field_is_refused(field: str, bad: str) -> None:
    fields: dict[str, object] = {"area": "value", "lines_tested": 10, "discrepancies": 1,
                                 "value_tested": "100.00", "value_in_error": "1.00",
                                 "revenue_loss": "0.10", field: bad}
    with pytest.raises(InvalidValueError) as excinfo:
        SampleTest.parse(**fields)  # type: ignore[arg-type]
    assert_names(excinfo.value, field=field, mentions=[repr(bad)])


def test_recording_a_sample_test_moves_the_assessment_to_testing() -> None:
    assessment = surveyed_assessment()
    first, second = sample("value", 40, 1, "400.00", "10.00", "1.00"), sample("value", 60)
    assessment.record_test(first, actor=OFFICER, reason=REASON, at=at(3))
    assessment.record_test(second, actor=OFFICER, reason=REASON, at=at(4))
    assert assessment.state is AssessmentState.TESTING
    assert assessment.tests == (first, second)


def test_a_sample_test_needs_a_survey_first() -> None:
    assessment = assigned_assessment()
    assert_refused(assessment, lambda: assessment.record_test(
        sample(), actor=OFFICER, reason=REASON, at=at(2)),
        InvalidTransitionError, mentions=["is assigned: cannot record a sample test"])


def test_a_sample_test_in_an_area_outside_the_scope_is_refused() -> None:
    assessment = surveyed_assessment()
    assert_refused(assessment, lambda: assessment.record_test(
        sample("origin"), actor=OFFICER, reason=REASON, at=at(3)),
        RuleViolationError, rule="TestedAreaIsInScope",
        mentions=["area origin", "(value, classification)"])
