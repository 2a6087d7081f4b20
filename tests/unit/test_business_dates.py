"""Business dates: a date that records a fact (a survey, a completed action, a payment,
joining or leaving a programme) is neither after today, by the time the command passes in,
nor before the case existed; a due date is never set in the past. Each refusal names the
field, the date and why."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.date_rules import DateIsNotBeforeTheCaseExisted, DateIsNotInTheFuture
from domain.errors import RuleViolationError

from .builders import (
    ACTOR,
    OFFICER,
    REASON,
    SCOPE,
    T0,
    TODAY,
    approved_plan,
    assert_refused,
    assigned_assessment,
    at,
    decided_penalty,
    drafted_plan,
    evidence,
    registered_account,
)

TOMORROW = TODAY + timedelta(days=1)
YESTERDAY = TODAY - timedelta(days=1)
STRONG = dict.fromkeys((area.value for area in SCOPE), "strong")
WEAK = dict.fromkeys((area.value for area in SCOPE), "weak")
NEXT_DAY = T0 + timedelta(days=1)
"""A command the day after every case below was created."""


def test_the_rules_are_named_after_the_field_and_say_why() -> None:
    future = DateIsNotInTheFuture("completed_on", TOMORROW, TODAY)
    before = DateIsNotBeforeTheCaseExisted("paid_on", date(2025, 1, 3), TODAY,
                                           "enforcement action")
    assert (future.name, future.is_broken()) == ("CompletedOnIsNotInTheFuture", True)
    assert future.message() == "completed_on: 2026-03-03 is in the future (today is 2026-03-02)"
    assert (before.name, before.is_broken()) == (
        "PaidOnIsNotBeforeTheEnforcementActionExisted", True)
    assert before.message() == ("paid_on: 2025-01-03 is before the enforcement action existed "
                                "(2026-03-02)")
    assert not DateIsNotInTheFuture("paid_on", TODAY, TODAY).is_broken()
    assert not DateIsNotBeforeTheCaseExisted("paid_on", TODAY, TODAY, "plan").is_broken()


# -- the internal-control survey --------------------------------------------------------------


def test_a_survey_dated_next_year_is_refused() -> None:
    assessment = assigned_assessment()
    next_year = date(TODAY.year + 1, 1, 15)
    assert_refused(assessment, lambda: assessment.record_survey(
        STRONG, next_year.isoformat(), actor=OFFICER, reason=REASON,
        at=at(2)),
        RuleViolationError, rule="SurveyedOnIsNotInTheFuture",
        mentions=[f"surveyed_on: {next_year} is in the future (today is {TODAY})"])


def test_a_survey_dated_tomorrow_is_refused_but_today_and_later_days_are_not() -> None:
    assessment = assigned_assessment()
    assert_refused(assessment, lambda: assessment.record_survey(
        STRONG, TOMORROW, actor=OFFICER, reason=REASON, at=at(2)),
        RuleViolationError, rule="SurveyedOnIsNotInTheFuture")
    # Recorded a day later, the survey of the day before (the day the case opened) stands.
    assessment.record_survey(STRONG, TODAY, actor=OFFICER,
                             reason=REASON, at=NEXT_DAY)
    assessment.record_survey(WEAK, TOMORROW, actor=OFFICER,
                             reason=REASON, at=NEXT_DAY + timedelta(minutes=1))
    assert assessment.pending_events[-1].surveyed_on == TOMORROW  # type: ignore[attr-defined]


def test_a_survey_dated_before_the_assessment_was_opened_is_refused() -> None:
    assessment = assigned_assessment()
    assert_refused(assessment, lambda: assessment.record_survey(
        STRONG, "2026-01-15", actor=OFFICER, reason=REASON,
        at=NEXT_DAY),
        RuleViolationError, rule="SurveyedOnIsNotBeforeTheAssessmentExisted",
        mentions=[f"surveyed_on: 2026-01-15 is before the assessment existed ({TODAY})"])


# -- corrective actions -----------------------------------------------------------------------


def test_an_action_completed_before_its_plan_existed_is_refused() -> None:
    plan = approved_plan()
    assert_refused(plan, lambda: plan.complete_action(
        "A1", evidence=evidence(), completed_on="2025-01-03", today=TOMORROW, actor=ACTOR,
        reason=REASON, at=NEXT_DAY),
        RuleViolationError, rule="CompletedOnIsNotBeforeThePlanExisted",
        mentions=[f"completed_on: 2025-01-03 is before the plan existed ({TODAY})"])


def test_an_action_completed_next_year_is_refused() -> None:
    plan = approved_plan()
    assert_refused(plan, lambda: plan.complete_action(
        "A1", evidence=evidence(), completed_on=f"{TODAY.year + 1}-01-03", today=TODAY,
        actor=ACTOR, reason=REASON, at=at(30)),
        RuleViolationError, rule="CompletedOnIsNotInTheFuture")


def test_a_due_date_is_never_set_in_the_past_but_may_be_far_ahead() -> None:
    plan = drafted_plan()
    assert_refused(plan, lambda: plan.add_action(
        area="value", description="d", owner=ACTOR, due_on=YESTERDAY, today=TODAY,
        actor=ACTOR, reason=REASON, at=at(30)),
        RuleViolationError, rule="DueDateIsNotInThePast")
    plan.add_action(area="value", description="d", owner=ACTOR, due_on="2030-12-31",
                    today=TODAY, actor=ACTOR, reason=REASON, at=at(30))
    assert plan.actions[0].due_on == date(2030, 12, 31)


# -- payments ---------------------------------------------------------------------------------


def test_a_payment_dated_in_the_future_is_refused() -> None:
    action = decided_penalty("12000.00")
    assert_refused(action, lambda: action.record_payment(
        "12000.00", TOMORROW, actor=OFFICER, reason=REASON, at=at(30)),
        RuleViolationError, rule="PaidOnIsNotInTheFuture",
        mentions=[f"paid_on: {TOMORROW} is in the future (today is {TODAY})"])


def test_a_payment_dated_before_the_action_was_proposed_is_refused() -> None:
    action = decided_penalty("12000.00")
    assert_refused(action, lambda: action.record_payment(
        "12000.00", YESTERDAY, actor=OFFICER, reason=REASON, at=NEXT_DAY),
        RuleViolationError, rule="PaidOnIsNotBeforeTheEnforcementActionExisted",
        mentions=[f"paid_on: {YESTERDAY} is before the enforcement action existed ({TODAY})"])
    action.record_payment("12000.00", TODAY, actor=OFFICER, reason=REASON, at=NEXT_DAY)
    assert action.paid_amount is not None


# -- partnership programmes -------------------------------------------------------------------


@pytest.mark.parametrize("joined_on", [TOMORROW, date(TODAY.year + 1, 1, 1)])
def test_a_programme_cannot_be_joined_in_the_future(joined_on: date) -> None:
    account = registered_account()
    assert_refused(account, lambda: account.join_partnership(
        "trusted_trader", joined_on, actor=ACTOR, reason=REASON, at=at(1)),
        RuleViolationError, rule="JoinedOnIsNotInTheFuture",
        mentions=[f"joined_on: {joined_on} is in the future (today is {TODAY})"])


def test_a_programme_cannot_be_left_in_the_future() -> None:
    account = registered_account()
    account.join_partnership("trusted_trader", "2021-06-01", actor=ACTOR, reason=REASON,
                             at=at(1))
    assert_refused(account, lambda: account.leave_partnership(
        "trusted_trader", TOMORROW, actor=ACTOR, reason=REASON, at=at(2)),
        RuleViolationError, rule="LeftOnIsNotInTheFuture",
        mentions=[f"left_on: {TOMORROW} is in the future"])
    account.leave_partnership("trusted_trader", TODAY, actor=ACTOR, reason=REASON, at=at(2))
    assert account.partnerships == {}
