"""Builders and assertions shared by the domain unit tests.

Everything here is pure: fixed timezone-aware datetimes, no clock, no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from domain.assessment import Assessment, FindingsPolicy, SampleTest
from domain.errors import DomainError, InvalidValueError, RuleViolationError
from domain.importer_account import ImporterAccount, Registration, importer_account_id
from domain.reference import ComplianceArea, ControlRating
from domain.values import Period

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""'Now' for every test: Monday 2 March 2026, 09:00 UTC."""
TODAY = T0.date()
BEIJING = timezone(timedelta(hours=8))

ACTOR = "user:analyst.wang"
OFFICER = "user:officer.li"
MANAGER = "user:manager.chen"
REASON = "routine compliance review"

IMPORTER_NUMBER = "12-3456789AB"
REGISTERED_ON = date(2020, 1, 15)
NUMBER = "CA-2026-00001"
PERIOD = Period(date(2024, 1, 1), date(2025, 12, 31))
SCOPE = (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION)
POLICY = FindingsPolicy()


def at(minutes: int) -> datetime:
    """A fixed moment `minutes` after T0, so successive events have rising timestamps."""
    return T0 + timedelta(minutes=minutes)


def registration(**overrides: Any) -> Registration:
    fields: dict[str, Any] = {
        "importer_number": IMPORTER_NUMBER,
        "legal_name": "Harbour Fasteners Ltd",
        "district": "11",
        "industry": "73",
        "registered_on": REGISTERED_ON,
    }
    fields.update(overrides)
    return Registration.parse(**fields)


def registered_account(**overrides: Any) -> ImporterAccount:
    return ImporterAccount.register(registration(**overrides), actor=ACTOR, reason=REASON,
                                    at=T0)


def opened_assessment(scope: Iterable[ComplianceArea | str] = SCOPE, *,
                      number: str = NUMBER, period: Period = PERIOD) -> Assessment:
    return Assessment.open(number=number, importer_id=importer_account_id(IMPORTER_NUMBER),
                           importer_number=IMPORTER_NUMBER, district="11", origin="risk_selection",
                           period=period, scope=scope, actor=ACTOR, reason=REASON, at=T0)


def assigned_assessment(scope: Iterable[ComplianceArea | str] = SCOPE) -> Assessment:
    assessment = opened_assessment(scope)
    assessment.assign_officer(OFFICER, actor=ACTOR, reason=REASON, at=at(1))
    return assessment


def surveyed_assessment(
        ratings: Mapping[ComplianceArea | str, ControlRating | str] | None = None,
        scope: Iterable[ComplianceArea | str] = SCOPE) -> Assessment:
    assessment = assigned_assessment(scope)
    chosen = ratings if ratings is not None else dict.fromkeys(assessment.scope, "adequate")
    assessment.record_survey(chosen, "2026-03-01", actor=OFFICER, reason=REASON, at=at(2))
    return assessment


def sample(area: ComplianceArea | str = "value", lines: int | str = 100,
           discrepancies: int | str = 0, value_tested: str = "100000.00",
           value_in_error: str = "0.00", revenue_loss: str = "0.00") -> SampleTest:
    return SampleTest.parse(area, lines, discrepancies, value_tested, value_in_error,
                            revenue_loss)


def assessment_in_testing(*tests: SampleTest,
                      ratings: Mapping[ComplianceArea | str, ControlRating | str] | None = None,
                      scope: Iterable[ComplianceArea | str] = SCOPE) -> Assessment:
    """Surveyed, then one sample per test given (default: a clean sample per scoped area)."""
    assessment = surveyed_assessment(ratings, scope)
    for minute, test in enumerate(tests or [sample(a) for a in assessment.scope], start=3):
        assessment.record_test(test, actor=OFFICER, reason=REASON, at=at(minute))
    return assessment


def assessment_with_findings() -> Assessment:
    assessment = assessment_in_testing()
    assessment.issue_findings(policy=POLICY, duty_paid=None, fraud_indicators=False,
                              actor=OFFICER, reason=REASON, at=at(10))
    return assessment


def _state(aggregate: Aggregate) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in vars(aggregate).items() if k != "_pending_events"})


def assert_refused(aggregate: Aggregate, command: Callable[[], object],
                   error: type[DomainError], *, rule: str | None = None,
                   field: str | None = None, mentions: Iterable[str] = ()) -> DomainError:
    """Run a command that must be refused, and check the refusal left no trace: same
    version, same pending events, same state. Returns the error for further checks."""
    version, pending, state = aggregate.version, list(aggregate.pending_events), _state(aggregate)
    with pytest.raises(error) as excinfo:
        command()
    refusal = excinfo.value
    assert_names(refusal, rule=rule, field=field, mentions=mentions)
    assert aggregate.version == version
    assert aggregate.pending_events == pending
    assert _state(aggregate) == state
    return refusal


def assert_names(refusal: DomainError, *, rule: str | None = None, field: str | None = None,
                 mentions: Iterable[str] = ()) -> None:
    """The refusal names the broken rule or bad field, and its message the values involved."""
    if rule is not None:
        assert isinstance(refusal, RuleViolationError)
        assert refusal.rule == rule
    if field is not None:
        assert isinstance(refusal, InvalidValueError)
        assert refusal.field == field
        assert str(refusal).startswith(f"{field}=")
    for text in mentions:
        assert text in str(refusal), f"{text!r} not in {str(refusal)!r}"
