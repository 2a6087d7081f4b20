"""Optimistic concurrency on the real databases: two writers that read the same version
cannot both write the next one, and a stale expected version writes nothing.

The race is forced, not hoped for: each writer is its own application (as two processes
would be) whose clock, read after the case is loaded and checked but before it is saved,
waits at a barrier until both writers have loaded the case."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from functools import partial

import pytest

from application.compliance_cases import ComplianceCases
from application.errors import ConcurrencyConflictError
from application.history import history
from domain.case_numbers import case_id
from domain.values import Period
from infrastructure.settings import Settings
from tests.builders import (
    ACTOR,
    FakeClock,
    propose_penalty,
    register_importer,
    registration,
    walk_assessment,
)
from tests.integration.raw_store import RawEvents


class RendezvousClock:
    """Tells the time only once every writer has asked for it."""

    def __init__(self, clock: FakeClock, barrier: threading.Barrier) -> None:
        self.clock, self.barrier = clock, barrier

    def __call__(self) -> datetime:
        self.barrier.wait(timeout=20)
        return self.clock()


def race(commands: list[Callable[[], object]]) -> list[object]:
    """Runs the commands on their own threads; each result is the return value or the
    exception raised."""

    def attempt(command: Callable[[], object]) -> object:
        try:
            return command()
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(attempt, commands))


def test_two_writers_at_the_same_expected_version_exactly_one_wins(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        make_app: Callable[..., ComplianceCases]) -> None:
    round_trips = 3
    number = walk_assessment(app, register_importer(app), "opened", clock=clock)
    raw = RawEvents.of(app, store)
    barrier = threading.Barrier(2)
    writers = [make_app(clock_=RendezvousClock(clock, barrier)) for _ in range(2)]

    for _ in range(round_trips):
        version = app.get_assessment(number).version
        rows = raw.count()
        clock.advance()
        outcomes = race([
            partial(writer.assign_officer, number, officer, actor=ACTOR,
                    reason="took the case", expected_version=version)
            for writer, officer in zip(writers, ["user:officer.a", "user:officer.b"],
                                       strict=True)
        ])

        winners = [o for o in outcomes if isinstance(o, int)]
        conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
        assert (len(winners), len(conflicts)) == (1, 1), outcomes
        assert conflicts[0].current == version + 1
        assert str(conflicts[0]).startswith(
            f"assessment {number} was changed by someone else since you read it (you "
            f"expected version {version}, it is now at version {version + 1})")
        assert "nothing was recorded" in str(conflicts[0])
        assert app.get_assessment(number).version == version + 1
        assert raw.count() == rows + 1  # the loser wrote nothing

    entries = history(app, case_id(number))
    assert [e.version for e in entries] == list(range(1, 2 + round_trips))
    assert [e.event for e in entries[1:]] == ["Assessment.OfficerAssigned"] * round_trips


def test_the_loser_of_a_race_succeeds_when_it_reloads_and_retries(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    importer = register_importer(app)
    barrier = threading.Barrier(2)
    writers = [make_app(clock_=RendezvousClock(clock, barrier)) for _ in range(2)]
    version = app.get_importer(importer).version

    outcomes = race([
        lambda: writers[0].set_compliance_class(importer, "a", actor=ACTOR,
                                                reason="annual review"),
        lambda: writers[1].assign_account_manager(importer, "user:manager.one",
                                                  actor=ACTOR, reason="new account"),
    ])
    [conflict] = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
    assert (conflict.expected, conflict.current) == (version, version + 1)
    assert f"importer {importer} was changed by someone else since you read it" in str(
        conflict)

    retry = app.set_compliance_class(importer, "a", actor=ACTOR, reason="annual review",
                                     expected_version=version + 1)
    app.assign_account_manager(importer, "user:manager.one", actor=ACTOR,
                               reason="new account", expected_version=retry)
    account = app.get_importer(importer)
    assert account.version == version + 3
    assert [e.version for e in history(app, account.id)] == list(range(1, version + 4))


def test_a_stale_expected_version_is_refused_with_the_current_version_and_writes_nothing(
        app: ComplianceCases, clock: FakeClock, store: Settings) -> None:
    number = walk_assessment(app, register_importer(app), "surveyed", clock=clock)
    current = app.get_assessment(number).version
    events_before = app.recorder.max_notification_id()
    rows_before = RawEvents.of(app, store).count()

    with pytest.raises(ConcurrencyConflictError) as refused:
        app.assign_officer(number, "user:officer.late", actor=ACTOR, reason="stale view",
                           expected_version=current - 1)

    assert refused.value.current == current
    assert refused.value.expected == current - 1
    assert str(refused.value) == (
        f"assessment {number} was changed by someone else since you read it (you expected "
        f"version {current - 1}, it is now at version {current}); nothing was recorded — "
        "re-read it and try again")
    assert app.recorder.max_notification_id() == events_before
    assert RawEvents.of(app, store).count() == rows_before
    assert app.get_assessment(number).version == current
    assert app.get_assessment(number).officer == "user:officer.one"


def test_the_current_expected_version_is_accepted(app: ComplianceCases,
                                                  clock: FakeClock) -> None:
    number = walk_assessment(app, register_importer(app), "assigned", clock=clock)
    current = app.get_assessment(number).version

    app.assign_officer(number, "user:officer.two", actor=ACTOR, reason="handover",
                       expected_version=current)

    assert app.get_assessment(number).version == current + 1


def test_an_expected_version_ahead_of_the_case_is_refused_saying_so(
        app: ComplianceCases, clock: FakeClock) -> None:
    number = walk_assessment(app, register_importer(app), "assigned", clock=clock)
    current = app.get_assessment(number).version
    events_before = app.recorder.max_notification_id()

    with pytest.raises(ConcurrencyConflictError) as refused:
        app.assign_officer(number, "user:officer.two", actor=ACTOR, reason="handover",
                           expected_version=current + 5)

    assert str(refused.value) == (
        f"assessment {number} is at version {current}, not version {current + 5} as you "
        "expected; nothing was recorded — re-read it and try again")
    assert app.recorder.max_notification_id() == events_before


def test_two_registrations_of_one_importer_at_once_the_loser_is_told_it_was_created_meanwhile(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    barrier = threading.Barrier(2)
    writers = [make_app(clock_=RendezvousClock(clock, barrier)) for _ in range(2)]
    reg = registration()

    outcomes = race([partial(writer.register_importer, reg, actor=ACTOR, reason="new importer")
                     for writer in writers])

    [conflict] = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
    assert str(conflict) == (
        f"importer {reg.importer_number} was created by someone else at the same moment; "
        "nothing was recorded — re-read it before running the command again")
    assert (conflict.expected, conflict.current) == (0, 1)
    assert app.get_importer(reg.importer_number).version == 1


@pytest.mark.parametrize("command", ["open_assessment", "propose_enforcement"])
def test_opening_a_case_on_an_importer_honours_the_importer_s_expected_version(
        app: ComplianceCases, command: str) -> None:
    importer = register_importer(app)
    version = app.get_importer(importer).version
    app.set_compliance_class(importer, "c", actor=ACTOR, reason="annual review")
    events_before = app.recorder.max_notification_id()

    def send(expected: int) -> str:
        if command == "open_assessment":
            return app.open_assessment(
                importer, origin="referral", period=Period(date(2025, 1, 1),
                                                           date(2025, 12, 31)),
                scope=["value"], actor=ACTOR, reason="referral", expected_version=expected)
        return propose_penalty(app, importer, expected_version=expected)

    with pytest.raises(ConcurrencyConflictError) as refused:
        send(version)

    assert f"importer {importer} was changed by someone else since you read it" in str(
        refused.value)
    assert (refused.value.expected, refused.value.current) == (version, version + 1)
    assert app.recorder.max_notification_id() == events_before
    assert send(version + 1).endswith("-2026-00001")
