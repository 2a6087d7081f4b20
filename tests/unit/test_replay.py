"""Replay: applying an aggregate's events, in order, to nothing rebuilds an equal aggregate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from eventsourcing.domain import Aggregate

from domain.assessment import AssessmentState, Outcome
from domain.case_file import CaseRef, ImporterCaseFile
from domain.case_numbers import CaseNumberSequence, case_id
from domain.importer_account import AccountStatus

from .builders import (
    ACTOR,
    IMPORTER_NUMBER,
    MANAGER,
    NUMBER,
    OFFICER,
    POLICY,
    REASON,
    T0,
    at,
    opened_assessment,
    registered_account,
    sample,
)

A = TypeVar("A", bound=Aggregate)


def replay(events: Sequence[Any]) -> Any:
    aggregate = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def assert_replays_equal(aggregate: A) -> A:
    events = aggregate.collect_events()
    assert [e.originator_version for e in events] == list(range(1, aggregate.version + 1))
    assert {e.originator_id for e in events} == {aggregate.id}
    rebuilt = replay(events)
    assert type(rebuilt) is type(aggregate)
    assert rebuilt == aggregate
    assert (rebuilt.version, rebuilt.created_on, rebuilt.modified_on) == (
        aggregate.version, aggregate.created_on, aggregate.modified_on)
    return rebuilt


def test_replaying_an_importer_accounts_history_rebuilds_it() -> None:
    account = registered_account()
    account.assign_account_manager(MANAGER, actor=ACTOR, reason=REASON, at=at(1))
    account.join_partnership("trusted_trader", "2021-06-01", actor=ACTOR, reason=REASON,
                             at=at(2))
    account.join_partnership("self_assessment", "2022-01-01", actor=ACTOR, reason=REASON,
                             at=at(3))
    account.leave_partnership("trusted_trader", "2023-06-30", actor=ACTOR, reason=REASON,
                              at=at(4))
    account.set_compliance_class("a", actor=ACTOR, reason=REASON, at=at(5))
    account.set_tier(1, Decimal("9000000.00"), Decimal("0.12"), 2025, actor=ACTOR,
                     reason=REASON, at=at(6))
    account.suspend(actor=ACTOR, reason=REASON, at=at(7))
    account.reinstate(actor=ACTOR, reason=REASON, at=at(8))
    account.close(actor=ACTOR, reason=REASON, at=at(9))

    rebuilt = assert_replays_equal(account)
    assert rebuilt.status is AccountStatus.CLOSED
    assert rebuilt.partnerships == {"self_assessment": date(2022, 1, 1)}
    assert (rebuilt.account_manager, rebuilt.tier) == (MANAGER, 1)
    assert rebuilt.modified_on == at(9)


def test_replaying_an_assessments_history_rebuilds_it() -> None:
    assessment = opened_assessment()
    assessment.assign_officer(OFFICER, actor=ACTOR, reason=REASON, at=at(1))
    assessment.record_survey({"value": "weak", "classification": "strong"}, "2026-03-02",
                             actor=OFFICER, reason=REASON, at=at(2))
    assessment.record_test(sample("value", 100, 9, "90000.00", "8000.00", "1200.00"),
                           actor=OFFICER, reason=REASON, at=at(3))
    assessment.record_test(sample("classification", 50), actor=OFFICER, reason=REASON,
                           at=at(4))
    assessment.issue_findings(policy=POLICY, duty_paid="400000", fraud_indicators=False,
                              actor=OFFICER, reason=REASON, at=at(5))
    assessment.close(actor=OFFICER, reason=REASON, at=at(6))

    rebuilt = assert_replays_equal(assessment)
    assert rebuilt.state is AssessmentState.CLOSED
    assert rebuilt.outcome is Outcome.IMPROVEMENT_PLAN_REQUIRED
    assert rebuilt.findings == assessment.findings
    assert len(rebuilt.findings) == 2


def test_replaying_a_cancelled_assessment_rebuilds_it() -> None:
    assessment = opened_assessment()
    assessment.cancel(actor=ACTOR, reason=REASON, at=at(1))
    assert assert_replays_equal(assessment).state is AssessmentState.CANCELLED


def test_replaying_a_number_sequence_and_a_case_file_rebuilds_them() -> None:
    sequence = CaseNumberSequence.start("CA", 2026, T0)
    numbers = [sequence.issue(at(n), "an assessment") for n in range(1, 4)]
    assert assert_replays_equal(sequence).last_serial == 3

    case_file = ImporterCaseFile.start(IMPORTER_NUMBER, actor=ACTOR, at=T0)
    for number in numbers:
        case_file.add(CaseRef("assessment", number, case_id(number), None, None), actor=ACTOR,
                      at=at(5))
    assert [c.number for c in assert_replays_equal(case_file).cases] == numbers


def test_a_replayed_assessment_keeps_taking_commands() -> None:
    assessment = opened_assessment()
    assessment.assign_officer(OFFICER, actor=ACTOR, reason=REASON, at=at(1))
    rebuilt = replay(assessment.collect_events())
    rebuilt.cancel(actor=ACTOR, reason=REASON, at=at(2))
    assert rebuilt.state is AssessmentState.CANCELLED
    assert rebuilt.version == 3
    assert rebuilt.id == case_id(NUMBER)
