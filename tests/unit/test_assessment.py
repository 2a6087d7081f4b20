"""Assessment lifecycle: open, assign, survey, test, findings, close or cancel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pytest

from domain.assessment import (
    Assessment,
    AssessmentOrigin,
    AssessmentState,
    Outcome,
)
from domain.case_numbers import case_id
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.importer_account import importer_account_id
from domain.reference import ComplianceArea, ControlRating
from domain.values import Period

from .builders import (
    ACTOR,
    IMPORTER_NUMBER,
    NUMBER,
    OFFICER,
    PERIOD,
    POLICY,
    REASON,
    SCOPE,
    T0,
    TODAY,
    assert_names,
    assert_refused,
    assessment_in_testing,
    assessment_with_findings,
    assigned_assessment,
    at,
    opened_assessment,
    sample,
    surveyed_assessment,
)

VALUE, CLASSIFICATION, ORIGIN = (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION,
                                 ComplianceArea.ORIGIN)

# -- opening ------------------------------------------------------------------------------


def test_opening_an_assessment_records_its_number_importer_period_and_scope() -> None:
    assessment = opened_assessment()

    assert assessment.id == case_id(NUMBER)
    assert assessment.number == NUMBER
    assert assessment.label == f"assessment {NUMBER}"
    assert assessment.importer_id == importer_account_id(IMPORTER_NUMBER)
    assert (assessment.importer_number, assessment.district) == (IMPORTER_NUMBER, "11")
    assert assessment.origin is AssessmentOrigin.RISK_SELECTION
    assert assessment.period == PERIOD
    assert assessment.scope == SCOPE
    assert assessment.state is AssessmentState.OPENED
    assert assessment.officer is None
    assert (assessment.survey, assessment.tests, assessment.findings) == ({}, (), ())
    assert assessment.outcome is None
    assert assessment.version == 1


def test_the_scope_is_deduplicated_and_kept_in_the_reference_order() -> None:
    assessment = opened_assessment(["origin", "VALUE", ComplianceArea.VALUE, " ipr "])
    assert assessment.scope == (VALUE, ORIGIN, ComplianceArea.IPR)


def test_an_assessment_with_an_empty_scope_is_refused() -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        opened_assessment(scope=[])
    assert_names(excinfo.value, rule="ScopeNamesAtLeastOneArea", mentions=["scope"])


def test_a_scope_naming_an_unknown_area_is_refused() -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        opened_assessment(scope=["value", "tariff"])
    assert_names(excinfo.value, field="scope", mentions=["'tariff'"])


def test_the_period_under_review_may_end_the_day_before_the_opening() -> None:
    period = Period(date(2025, 1, 1), date(2026, 3, 1))
    assert opened_assessment(period=period).period == period


@pytest.mark.parametrize("period_end", [TODAY, date(2026, 12, 31)])
def test_a_period_ending_on_or_after_the_opening_day_is_refused(period_end: date) -> None:
    with pytest.raises(RuleViolationError) as excinfo:
        opened_assessment(period=Period(date(2025, 1, 1), period_end))
    assert_names(excinfo.value, rule="PeriodUnderReviewEndsBeforeOpening",
                 mentions=[f"period_end {period_end.isoformat()}", "2026-03-02"])


def open_with(**overrides: object) -> Assessment:
    fields: dict[str, object] = {
        "number": NUMBER, "importer_id": importer_account_id(IMPORTER_NUMBER),
        "importer_number": IMPORTER_NUMBER, "district": "11", "origin": "referral",
        "period": PERIOD, "scope": SCOPE, "actor": ACTOR, "reason": REASON, "at": T0,
    }
    fields.update(overrides)
    return Assessment.open(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "bad"), [
    ("origin", "whistleblower"),
    ("actor", "officer.li"),
    ("reason", ""),
    ("at", datetime(2026, 3, 2, 9, 0)),
])
def test_opening_with_a_malformed_input_is_refused(field: str, bad: object) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        open_with(**{field: bad})
    assert_names(excinfo.value, field=field)


@pytest.mark.parametrize("number", ["CA-26-00001", "CA202600001", "2026-00001", ""])
def test_opening_under_a_malformed_case_number_is_refused(number: str) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        open_with(number=number)
    assert_names(excinfo.value, field="case_number", mentions=[repr(number)])


# -- assigning an officer -----------------------------------------------------------------


def test_assigning_an_officer_moves_an_opened_assessment_to_assigned() -> None:
    assessment = assigned_assessment()
    assert assessment.officer == OFFICER
    assert assessment.state is AssessmentState.ASSIGNED
    assert assessment.version == 2


def test_reassigning_an_officer_mid_assessment_keeps_the_state() -> None:
    assessment = assessment_in_testing()
    assessment.assign_officer("user:officer.zhou", actor=ACTOR, reason="leave cover",
                              at=at(20))
    assert assessment.officer == "user:officer.zhou"
    assert assessment.state is AssessmentState.TESTING


def test_an_officer_must_be_a_user_or_system_actor() -> None:
    assessment = opened_assessment()
    assert_refused(assessment, lambda: assessment.assign_officer(
        "Officer Li", actor=ACTOR, reason=REASON, at=at(1)),
        InvalidValueError, field="officer", mentions=["'Officer Li'"])


# -- the internal-control survey ------------------------------------------------------------


def test_a_survey_rates_each_scoped_area_and_marks_the_assessment_surveyed() -> None:
    assessment = surveyed_assessment({"value": "STRONG", ComplianceArea.CLASSIFICATION:
                                      ControlRating.WEAK})
    assert assessment.survey == {VALUE: ControlRating.STRONG,
                                 CLASSIFICATION: ControlRating.WEAK}
    assert assessment.state is AssessmentState.SURVEYED
    surveyed = assessment.pending_events[-1]
    assert isinstance(surveyed, Assessment.SurveyRecorded)
    assert surveyed.surveyed_on == date(2026, 3, 2)


def test_a_survey_can_be_redone_before_testing_starts() -> None:
    assessment = surveyed_assessment()
    assessment.record_survey({"value": "none", "classification": "none"}, "2026-03-02",
                             actor=OFFICER, reason="revised", at=at(5))
    assert set(assessment.survey.values()) == {ControlRating.NONE}


def test_a_survey_needs_an_assigned_officer() -> None:
    assessment = opened_assessment()
    assert_refused(assessment, lambda: assessment.record_survey(
        dict.fromkeys(SCOPE, "strong"), "2026-03-01", actor=OFFICER, reason=REASON, at=at(1)),
        InvalidTransitionError,
        mentions=[f"assessment {NUMBER} is opened",
                  "cannot record the internal-control survey",
                  "only allowed when assigned, surveyed"])


def test_a_survey_that_misses_a_scoped_area_is_refused() -> None:
    assessment = assigned_assessment()
    assert_refused(assessment, lambda: assessment.record_survey(
        {"value": "strong"}, "2026-03-01", actor=OFFICER, reason=REASON, at=at(2)),
        RuleViolationError, rule="SurveyRatesEveryScopedArea",
        mentions=["no rating for scoped area(s) classification"])


def test_a_survey_that_rates_an_area_outside_the_scope_is_refused() -> None:
    assessment = assigned_assessment()
    assert_refused(assessment, lambda: assessment.record_survey(
        {"value": "strong", "classification": "strong", "origin": "weak"}, "2026-03-01",
        actor=OFFICER, reason=REASON, at=at(2)),
        RuleViolationError, rule="SurveyRatesEveryScopedArea",
        mentions=["area(s) origin are not in scope"])


def test_a_survey_refusal_names_both_missing_and_extra_areas() -> None:
    assessment = assigned_assessment()
    assert_refused(assessment, lambda: assessment.record_survey(
        {"value": "strong", "ipr": "weak"}, "2026-03-01", actor=OFFICER, reason=REASON,
        at=at(2)),
        RuleViolationError, rule="SurveyRatesEveryScopedArea",
        mentions=["no rating for scoped area(s) classification", "area(s) ipr are not in scope"])


@pytest.mark.parametrize(("ratings", "surveyed_on", "field"), [
    ({"value": "excellent", "classification": "weak"}, "2026-03-01", "ratings.value"),
    ({VALUE: "excellent", CLASSIFICATION: "weak"}, "2026-03-01", "ratings.value"),
    ({"valuation": "weak", "classification": "weak"}, "2026-03-01", "ratings.area"),
    ({"value": "weak", "classification": "weak"}, "01.03.2026", "surveyed_on"),
])
def test_a_survey_with_a_malformed_rating_area_or_date_is_refused(
        ratings: dict[ComplianceArea | str, str], surveyed_on: str, field: str) -> None:
    assessment = assigned_assessment()
    assert_refused(assessment, lambda: assessment.record_survey(
        ratings, surveyed_on, actor=OFFICER, reason=REASON, at=at(2)),
        InvalidValueError, field=field)


def test_the_survey_cannot_be_redone_once_testing_has_started() -> None:
    assessment = assessment_in_testing()
    assert_refused(assessment, lambda: assessment.record_survey(
        dict.fromkeys(SCOPE, "strong"), "2026-03-02", actor=OFFICER, reason=REASON, at=at(20)),
        InvalidTransitionError, mentions=["is testing: cannot record the internal-control"])


# -- findings -----------------------------------------------------------------------------


def test_findings_are_refused_until_every_scoped_area_is_tested() -> None:
    assessment = assessment_in_testing(sample("value"))
    assert_refused(assessment, lambda: assessment.issue_findings(
        policy=POLICY, duty_paid=None, fraud_indicators=False, actor=OFFICER, reason=REASON,
        at=at(10)),
        RuleViolationError, rule="FindingsNeedATestInEveryScopedArea",
        mentions=["untested: classification"])


def test_findings_straight_after_the_survey_name_every_untested_area() -> None:
    assessment = surveyed_assessment()
    assert_refused(assessment, lambda: assessment.issue_findings(
        policy=POLICY, duty_paid=None, fraud_indicators=False, actor=OFFICER, reason=REASON,
        at=at(10)),
        RuleViolationError, rule="FindingsNeedATestInEveryScopedArea",
        mentions=["untested: classification, value"])


@pytest.mark.parametrize("build", [opened_assessment, assigned_assessment])
def test_findings_need_a_survey_first(build: Callable[[], Assessment]) -> None:
    assessment = build()
    assert_refused(assessment, lambda: assessment.issue_findings(
        policy=POLICY, duty_paid=None, fraud_indicators=False, actor=OFFICER, reason=REASON,
        at=at(10)),
        InvalidTransitionError, mentions=["cannot issue findings"])


def test_findings_with_a_malformed_duty_paid_are_refused() -> None:
    assessment = assessment_in_testing()
    assert_refused(assessment, lambda: assessment.issue_findings(
        policy=POLICY, duty_paid="-100", fraud_indicators=False, actor=OFFICER, reason=REASON,
        at=at(10)),
        InvalidValueError, field="duty_paid", mentions=["'-100'"])


def test_issuing_findings_records_one_finding_per_scoped_area_and_the_outcome() -> None:
    assessment = assessment_in_testing()
    outcome = assessment.issue_findings(policy=POLICY, duty_paid="2500000", fraud_indicators=False,
                                        actor=OFFICER, reason=REASON, at=at(10))
    assert outcome is Outcome.ACCEPTABLE
    assert assessment.outcome is Outcome.ACCEPTABLE
    assert assessment.state is AssessmentState.FINDINGS_ISSUED
    assert [f.area for f in assessment.findings] == list(SCOPE)
    issued = assessment.pending_events[-1]
    assert isinstance(issued, Assessment.FindingsIssued)
    assert (issued.duty_paid, issued.fraud_indicators) == (Decimal("2500000.00"), False)


def test_findings_are_issued_only_once() -> None:
    assessment = assessment_with_findings()
    assert_refused(assessment, lambda: assessment.issue_findings(
        policy=POLICY, duty_paid=None, fraud_indicators=True, actor=OFFICER, reason=REASON,
        at=at(11)),
        InvalidTransitionError, mentions=["is findings_issued: cannot issue findings"])


# -- closing and cancelling ---------------------------------------------------------------


def test_an_assessment_closes_after_its_findings() -> None:
    assessment = assessment_with_findings()
    assessment.close(actor=OFFICER, reason="findings accepted", at=at(12))
    assert assessment.state is AssessmentState.CLOSED
    assert assessment.outcome is Outcome.ACCEPTABLE


@pytest.mark.parametrize("build", [opened_assessment, assigned_assessment, surveyed_assessment,
                                   assessment_in_testing])
def test_an_assessment_cannot_close_before_findings(build: Callable[[], Assessment]) -> None:
    assessment = build()
    assert_refused(assessment, lambda: assessment.close(actor=OFFICER, reason=REASON, at=at(12)),
                   InvalidTransitionError, mentions=["cannot close",
                                                     "only allowed when findings_issued"])


@pytest.mark.parametrize("build", [opened_assessment, assigned_assessment, surveyed_assessment,
                                   assessment_in_testing])
def test_an_assessment_can_be_cancelled_until_findings_are_issued(
        build: Callable[[], Assessment]) -> None:
    assessment = build()
    assessment.cancel(actor=ACTOR, reason="importer ceased trading", at=at(12))
    assert assessment.state is AssessmentState.CANCELLED


def test_an_assessment_cannot_be_cancelled_after_findings() -> None:
    assessment = assessment_with_findings()
    assert_refused(assessment, lambda: assessment.cancel(actor=ACTOR, reason=REASON, at=at(12)),
                   InvalidTransitionError, mentions=["is findings_issued: cannot cancel"])


def assessment_commands(actor: str, reason: str,
                        when: datetime) -> dict[str, Callable[[Assessment], object]]:
    return {
        "assign_officer": lambda a: a.assign_officer(OFFICER, actor=actor, reason=reason,
                                                     at=when),
        "record_survey": lambda a: a.record_survey(dict.fromkeys(SCOPE, "strong"),
                                                   "2026-03-02", actor=actor, reason=reason,
                                                   at=when),
        "record_test": lambda a: a.record_test(sample("classification"), actor=actor,
                                               reason=reason, at=when),
        "issue_findings": lambda a: a.issue_findings(policy=POLICY, duty_paid=None,
                                                     fraud_indicators=False, actor=actor,
                                                     reason=reason, at=when),
        "close": lambda a: a.close(actor=actor, reason=reason, at=when),
        "cancel": lambda a: a.cancel(actor=actor, reason=reason, at=when),
    }


def closed_assessment() -> Assessment:
    assessment = assessment_with_findings()
    assessment.close(actor=OFFICER, reason=REASON, at=at(12))
    return assessment


def cancelled_assessment() -> Assessment:
    assessment = assessment_in_testing()
    assessment.cancel(actor=OFFICER, reason=REASON, at=at(12))
    return assessment


@pytest.mark.parametrize("command", sorted(assessment_commands(ACTOR, REASON, T0)))
@pytest.mark.parametrize(("build", "state"), [(closed_assessment, "closed"),
                                              (cancelled_assessment, "cancelled")])
def test_a_closed_or_cancelled_assessment_takes_no_command(
        command: str, build: Callable[[], Assessment], state: str) -> None:
    assessment = build()
    refusal = assert_refused(assessment,
                             lambda: assessment_commands(OFFICER, REASON, at(13))[command](
                                 assessment),
                             InvalidTransitionError,
                             mentions=[f"assessment {NUMBER} is {state}: cannot"])
    assert isinstance(refusal, InvalidTransitionError)
    assert refusal.state == state


@pytest.mark.parametrize("command", sorted(assessment_commands(ACTOR, REASON, T0)))
@pytest.mark.parametrize(("actor", "reason", "when", "field"), [
    ("officer.li", REASON, T0, "actor"),
    (OFFICER, " ", T0, "reason"),
    (OFFICER, REASON, datetime(2026, 3, 2, 9, 0), "at"),
])
def test_an_assessment_command_without_actor_reason_or_aware_time_is_refused(
        command: str, actor: str, reason: str, when: datetime, field: str) -> None:
    """Each command is tried from a state that allows it, so only the input is at fault."""
    builders: dict[str, Callable[[], Assessment]] = {
        "assign_officer": opened_assessment, "record_survey": assigned_assessment,
        "record_test": surveyed_assessment, "issue_findings": assessment_in_testing,
        "close": assessment_with_findings, "cancel": assessment_in_testing,
    }
    assessment = builders[command]()
    assert_refused(assessment,
                   lambda: assessment_commands(actor, reason, when)[command](assessment),
                   InvalidValueError, field=field)
