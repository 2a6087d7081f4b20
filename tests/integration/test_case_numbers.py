"""Assessment numbers CA-<year>-NNNNN are gap-free per year: a refused opening takes no
number, and one importer is assessed once at a time per period; two openings racing for one
number conflict, and the loser is told that another case took the number."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest

from application.compliance_cases import ComplianceCases
from application.errors import ConcurrencyConflictError
from domain.case_numbers import CaseNumberSequence, sequence_id
from domain.errors import RuleViolationError
from domain.values import Period
from tests.builders import ACTOR, FakeClock, register_importer, walk_assessment
from tests.integration.test_concurrency import race


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


def _holding_after_the_number(writers: list[ComplianceCases],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Each writer, once it has taken a number, waits until every writer has: all took the
    same number from the same sequence version."""
    barrier = threading.Barrier(len(writers))
    for writer in writers:
        def taken(*args: Any, _take: Any = writer._take_number, **kwargs: Any) -> Any:
            number = _take(*args, **kwargs)
            barrier.wait(timeout=20)
            return number
        monkeypatch.setattr(writer, "_take_number", taken)


def _open(app: ComplianceCases, importer: str, period: Period) -> str:
    return app.open_assessment(importer, origin="referral", period=period, scope=["value"],
                               actor=ACTOR, reason="referral from the port")


def test_the_loser_of_a_race_for_the_next_number_is_told_another_case_took_it(
        app: ComplianceCases, make_app: Callable[..., ComplianceCases],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: the message used to name the loser's importer, at the sequence's version."""
    importers = [register_importer(app) for _ in range(2)]
    walk_assessment(app, register_importer(app))  # the sequence is at version 2
    writers = [make_app() for _ in range(2)]
    _holding_after_the_number(writers, monkeypatch)
    period = Period(date(2025, 1, 1), date(2025, 12, 31))

    outcomes = race([partial(_open, writer, importer, period)
                     for writer, importer in zip(writers, importers, strict=True)])

    [conflict] = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
    assert [o for o in outcomes if isinstance(o, str)] == ["CA-2026-00002"]
    assert str(conflict) == ("another CA case was opened at the same moment and took the "
                             "next number; nothing was recorded — run the command again")
    assert (conflict.case, conflict.expected, conflict.current) == ("CA case numbers", 2, 3)
    loser = importers[outcomes.index(conflict)]
    assert app.get_case_file(loser) == ()
    assert _open(app, loser, period) == "CA-2026-00003"


def test_two_openings_on_one_importer_at_once_are_told_another_case_was_opened_on_it(
        app: ComplianceCases, make_app: Callable[..., ComplianceCases],
        monkeypatch: pytest.MonkeyPatch) -> None:
    importer = register_importer(app)
    writers = [make_app() for _ in range(2)]
    _holding_after_the_number(writers, monkeypatch)
    periods = [Period(date(2024, 1, 1), date(2024, 12, 31)),
               Period(date(2025, 1, 1), date(2025, 12, 31))]

    outcomes = race([partial(_open, writer, importer, period)
                     for writer, period in zip(writers, periods, strict=True)])

    [conflict] = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
    assert [o for o in outcomes if isinstance(o, str)] == ["CA-2026-00001"]
    assert str(conflict) == (f"another case was opened on importer {importer} at the same "
                             "moment; nothing was recorded — run the command again")
    assert [ref.number for ref in app.get_case_file(importer)] == ["CA-2026-00001"]
    assert sequence_of(app, 2026).last_serial == 1
