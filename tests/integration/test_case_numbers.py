"""Assessment numbers CA-<year>-NNNNN are gap-free per year: a refused opening takes no
number, and one importer is assessed once at a time per period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from application.compliance_cases import ComplianceCases
from domain.case_numbers import CaseNumberSequence, sequence_id
from domain.errors import RuleViolationError
from domain.values import Period
from tests.builders import ACTOR, FakeClock, register_importer, walk_assessment


def sequence_of(app: ComplianceCases, year: int) -> CaseNumberSequence:
    found = app.find_aggregate(sequence_id("CA", year))
    assert isinstance(found, CaseNumberSequence)
    return found


def test_assessments_opened_in_one_year_are_numbered_from_one_without_gaps(
        app: ComplianceCases, clock: FakeClock) -> None:
    numbers = [walk_assessment(app, register_importer(app), clock=clock) for _ in range(4)]

    assert numbers == ["CA-2026-00001", "CA-2026-00002", "CA-2026-00003", "CA-2026-00004"]
    assert sequence_of(app, 2026).last_serial == 4
    assert [app.get_assessment(n).number for n in numbers] == numbers


def test_an_overlapping_open_assessment_is_refused_and_consumes_no_number(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    first = walk_assessment(app, importer, "assigned", clock=clock)
    events_before = app.recorder.max_notification_id()

    with pytest.raises(RuleViolationError) as refused:
        app.open_assessment(importer, origin="referral",
                            period=Period(date(2025, 6, 1), date(2026, 1, 31)),
                            scope=["origin"], actor=ACTOR, reason="referral from the port")

    assert refused.value.rule == "OneOpenAssessmentPerImporterAndPeriod"
    assert importer in str(refused.value)
    assert first in str(refused.value)
    assert app.recorder.max_notification_id() == events_before
    assert sequence_of(app, 2026).last_serial == 1
    assert walk_assessment(app, register_importer(app), clock=clock) == "CA-2026-00002"


def test_the_same_importer_may_be_assessed_for_a_period_that_does_not_overlap(
        app: ComplianceCases, clock: FakeClock) -> None:
    importer = register_importer(app)
    walk_assessment(app, importer, "testing", clock=clock)

    second = walk_assessment(app, importer, period=Period(date(2024, 1, 1),
                                                          date(2024, 12, 31)), clock=clock)

    assert second == "CA-2026-00002"
    assert [ref.number for ref in app.get_case_file(importer)] == [
        "CA-2026-00001", "CA-2026-00002"]


@pytest.mark.parametrize("ended_as", ["closed", "cancelled"])
def test_a_closed_or_cancelled_assessment_no_longer_blocks_the_period(
        app: ComplianceCases, clock: FakeClock, ended_as: str) -> None:
    importer = register_importer(app)
    first = walk_assessment(app, importer, ended_as, clock=clock)

    second = walk_assessment(app, importer, "opened", clock=clock)

    assert (first, second) == ("CA-2026-00001", "CA-2026-00002")
    assert app.get_assessment(second).period == app.get_assessment(first).period
    assert [ref.number for ref in app.get_case_file(importer)] == [first, second]


def test_numbering_starts_again_at_one_in_a_new_year(app: ComplianceCases,
                                                     clock: FakeClock) -> None:
    walk_assessment(app, register_importer(app), clock=clock)
    walk_assessment(app, register_importer(app), clock=clock)
    clock.advance(timedelta(days=365))

    number = walk_assessment(app, register_importer(app), clock=clock)

    assert number == "CA-2027-00001"
    assert sequence_of(app, 2026).last_serial == 2
    assert sequence_of(app, 2027).last_serial == 1
