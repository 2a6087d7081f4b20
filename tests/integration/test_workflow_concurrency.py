"""Optimistic concurrency on plans, enforcement actions and follow-up verifications: a
stale expected version is refused with the current one and writes nothing, whether the
command saves one aggregate or decides several; two writers racing for the same case or
the same number cannot both win, and the loser's retry takes the next gap-free number."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from application.compliance_cases import ComplianceCases
from application.errors import ConcurrencyConflictError
from domain.enforcement_action import EnforcementState
from domain.improvement_plan import PlanState
from infrastructure.settings import Settings
from tests.builders import (
    ACTOR,
    OFFICER,
    REVIEWERS,
    SUPERVISOR,
    FakeClock,
    propose_penalty,
    record_retests,
    register_importer,
    retest,
    walk_plan,
    walk_to_findings,
)
from tests.integration.raw_store import RawEvents
from tests.integration.test_concurrency import RendezvousClock, race
from tests.integration.workflow_support import last_serial
from tests.ledger_check import verify_app


def _drafted_plan(app: ComplianceCases, clock: FakeClock) -> str:
    _, findings = walk_to_findings(app, register_importer(app), clock=clock)
    assert findings.plan_number is not None
    return findings.plan_number


def _plan_ready_to_report(app: ComplianceCases, clock: FakeClock) -> str:
    plan = _drafted_plan(app, clock)
    walk_plan(app, plan, "actions_completed", clock=clock)
    return plan


def _scheduled_verification(app: ComplianceCases, clock: FakeClock) -> str:
    verification = walk_plan(app, _drafted_plan(app, clock), clock=clock)
    assert verification is not None
    return verification


def _re_tested_verification(app: ComplianceCases, clock: FakeClock) -> str:
    verification = _scheduled_verification(app, clock)
    record_retests(app, verification, effective=True, clock=clock)
    return verification


def _proposed_penalty(app: ComplianceCases, _clock: FakeClock) -> str:
    return propose_penalty(app, register_importer(app))


def _penalty_voted_on(app: ComplianceCases, clock: FakeClock) -> str:
    number = _proposed_penalty(app, clock)
    for reviewer in REVIEWERS:
        app.record_review_vote(number, "approve", actor=reviewer, reason="facts hold")
    return number


@dataclass(frozen=True)
class Versioned:
    """A command on a case of one of the workflow's aggregate types."""

    prepare: Callable[[ComplianceCases, FakeClock], str]
    load: Callable[[ComplianceCases, str], Any]
    send: Callable[[ComplianceCases, str, int], object]


COMMANDS = {
    "plan: submit (one aggregate)": Versioned(
        lambda app, clock: (walk_plan(app, plan := _drafted_plan(app, clock),
                                      "actions_added", clock=clock), plan)[1],
        lambda app, n: app.get_plan(n),
        lambda app, n, v: app.submit_plan(n, actor=ACTOR, reason="proposal received",
                                          expected_version=v)),
    "plan: report implementation (schedules a verification)": Versioned(
        _plan_ready_to_report, lambda app, n: app.get_plan(n),
        lambda app, n, v: app.report_implementation(n, actor=ACTOR, reason="implemented",
                                                    expected_version=v)),
    "plan: escalate (proposes enforcement)": Versioned(
        _drafted_plan, lambda app, n: app.get_plan(n),
        lambda app, n, v: app.escalate_plan(n, actor=OFFICER, reason="overdue",
                                            expected_version=v)),
    "enforcement: review vote": Versioned(
        _proposed_penalty, lambda app, n: app.get_enforcement(n),
        lambda app, n, v: app.record_review_vote(n, "approve", actor=REVIEWERS[0],
                                                 reason="facts hold", expected_version=v)),
    "enforcement: conclude review": Versioned(
        _penalty_voted_on, lambda app, n: app.get_enforcement(n),
        lambda app, n, v: app.conclude_review(n, actor=SUPERVISOR, reason="team approved",
                                              expected_version=v)),
    "verification: record re-test": Versioned(
        _scheduled_verification, lambda app, n: app.get_verification(n),
        lambda app, n, v: app.record_retest(n, retest("value", effective=True),
                                            actor=OFFICER, reason="re-test",
                                            expected_version=v)),
    "verification: conclude (closes the plan)": Versioned(
        _re_tested_verification, lambda app, n: app.get_verification(n),
        lambda app, n, v: app.conclude_verification(n, actor=OFFICER, reason="re-tested",
                                                    expected_version=v)),
}


@pytest.mark.parametrize("case", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_stale_expected_version_is_refused_with_the_current_one_and_writes_nothing(
        app: ComplianceCases, clock: FakeClock, store: Settings, case: Versioned) -> None:
    number = case.prepare(app, clock)
    current = case.load(app, number).version
    raw = RawEvents.of(app, store)
    rows, last_event = raw.count(), app.recorder.max_notification_id()

    with pytest.raises(ConcurrencyConflictError) as refused:
        case.send(app, number, current - 1)

    assert (refused.value.expected, refused.value.current) == (current - 1, current)
    assert number in str(refused.value)
    assert "nothing was recorded" in str(refused.value)
    assert raw.count() == rows
    assert app.recorder.max_notification_id() == last_event
    assert case.load(app, number).version == current
    case.send(app, number, current)
    assert case.load(app, number).version > current


def test_two_writers_reporting_one_plan_at_once_schedule_one_verification(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        make_app: Callable[..., ComplianceCases]) -> None:
    plan = _plan_ready_to_report(app, clock)
    version = app.get_plan(plan).version
    barrier = threading.Barrier(2)
    writers = [make_app(clock_=RendezvousClock(clock, barrier)) for _ in range(2)]
    raw = RawEvents.of(app, store)
    rows = raw.count()

    outcomes = race([partial(writer.report_implementation, plan, actor=ACTOR,
                             reason="implemented") for writer in writers])

    [conflict] = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
    assert [o for o in outcomes if not isinstance(o, Exception)] == ["FV-2026-00001"]
    assert conflict.current == version + 2  # implementation reported, verification scheduled
    assert plan in str(conflict)
    assert last_serial(app, "FV") == 1
    assert app.get_plan(plan).state is PlanState.VERIFICATION_SCHEDULED
    assert raw.count() == rows + 6  # one step's worth (see test_workflow)
    assert verify_app(app).ok


def test_two_proposals_for_different_importers_racing_for_one_number_do_not_share_it(
        app: ComplianceCases, make_app: Callable[..., ComplianceCases],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Each writer holds after taking its number until both have taken one, so both took
    EA-2026-00001 from the same sequence version; the sequence conflicts, the loser
    wrote nothing, and its retry takes EA-2026-00002."""
    importers = [register_importer(app) for _ in range(2)]
    barrier = threading.Barrier(2)
    writers = [make_app() for _ in range(2)]
    for writer in writers:
        take = writer._take_number

        def taken(*args: Any, _take: Any = take, **kwargs: Any) -> Any:
            number = _take(*args, **kwargs)
            barrier.wait(timeout=20)
            return number
        monkeypatch.setattr(writer, "_take_number", taken)

    outcomes = race([partial(propose_penalty, writer, importer)
                     for writer, importer in zip(writers, importers, strict=True)])

    winners = [o for o in outcomes if isinstance(o, str)]
    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
    assert (winners, len(conflicts)) == (["EA-2026-00001"], 1), outcomes
    loser = importers[outcomes.index(conflicts[0])]
    assert app.get_case_file(loser) == ()
    assert propose_penalty(app, loser) == "EA-2026-00002"
    assert last_serial(app, "EA") == 2
    assert {app.get_enforcement(n).importer_number
            for n in ("EA-2026-00001", "EA-2026-00002")} == set(importers)
    assert app.get_enforcement("EA-2026-00002").state is EnforcementState.PROPOSED
    assert verify_app(app).ok


def test_two_writers_escalating_one_plan_at_once_propose_one_action_and_report_the_plan(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    """The loser's conflict names the plan and its current version, so a client can
    reload at that version (not the version of the number sequence that also clashed)."""
    plan = _drafted_plan(app, clock)
    walk_plan(app, plan, "approved", clock=clock)
    version = app.get_plan(plan).version
    barrier = threading.Barrier(2)
    writers = [make_app(clock_=RendezvousClock(clock, barrier)) for _ in range(2)]

    outcomes = race([partial(writer.escalate_plan, plan, actor=OFFICER, reason="overdue",
                             expected_version=version) for writer in writers])

    [conflict] = [o for o in outcomes if isinstance(o, ConcurrencyConflictError)]
    assert [o for o in outcomes if not isinstance(o, Exception)] == ["EA-2026-00001"]
    assert f"improvement plan {plan}" in str(conflict)
    assert conflict.current == version + 1 == app.get_plan(plan).version
    assert last_serial(app, "EA") == 1
