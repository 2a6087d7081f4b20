"""The due scan on a real store: reminders at their offsets, once each, with their mails
queued in the same transaction; overdue flags; the supervisors' digest; escalation beyond
grace; a penalty notice unanswered moving to decision; and two scanners at once recording
nothing twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from application.compliance_cases import ComplianceCases
from application.due_scan import DueScan, DueScanOutcome
from application.reminder_mail import ReminderText
from domain.reminder import Reminder, ReminderPolicy, reminder_id
from infrastructure.outbox import SqlOutbox
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from projections.catalogue import VIEWS
from projections.queries import due_items_to_watch, people
from projections.worker import Projections
from tests.builders import (
    OFFICER,
    SUPERVISOR,
    FakeClock,
    propose_penalty,
    register_importer,
    walk_assessment,
    walk_enforcement,
    walk_to_findings,
)

SETUP = "system:test-setup"
POLICY = ReminderPolicy(days_before=(14, 3), overdue_every_days=7, escalation_grace_days=30)


def scan(app: ComplianceCases, now: datetime) -> DueScanOutcome:
    projections = Projections(app)
    projections.catch_up([VIEWS["worklist"], VIEWS["people"]])
    outbox = SqlOutbox(SqlTables(app.recorder))
    result = DueScan(app, POLICY, ReminderText("https://ledger.example.org"),
                     lambda mails: outbox.writer(mails, now),
                     lambda until: due_items_to_watch(projections.store, until),
                     lambda: people(projections.store)).run(now)
    projections.catch_up([VIEWS["worklist"]])
    return result


@pytest.fixture
def ledger(make_app: Callable[..., ComplianceCases], clock: FakeClock,
           ) -> tuple[ComplianceCases, str, str]:
    """A plan of an importer of district 11 (proposal due in 60 days), its representative
    with an e-mail address and one without, the officer and the district's supervisor."""
    loader = make_app()
    importer = register_importer(loader, district="11")
    _, result = walk_to_findings(loader, importer, clock=clock)
    assert result.plan_number is not None
    for name, roles, kw in (
            ("rep.mailed", ["importer_representative"], {"importers": [importer],
                                                         "email": "rep@importer.example"}),
            ("rep.silent", ["importer_representative"], {"importers": [importer]}),
            (OFFICER.removeprefix("user:"), ["officer"], {"districts": ["11"],
                                                          "email": "officer@customs.example"}),
            ("supervisor11", ["supervisor"], {"districts": ["11"],
                                              "email": "chief11@customs.example"})):
        loader.add_user(name, roles=roles, actor=SETUP, reason="test staff", **kw)
    return make_app(access_control=True, cache_size=100), importer, result.plan_number


def outbox_rows(app: ComplianceCases) -> list[tuple[str, str, str]]:
    return sorted((m.to_address, m.subject, m.cause)
                  for m in SqlOutbox(SqlTables(app.recorder)).list(limit=1000))


def test_reminders_fall_at_their_offsets_once_each_with_their_mails(
        ledger: tuple[ComplianceCases, str, str], clock: FakeClock) -> None:
    app, _, plan = ledger
    due = app.get_plan(plan).proposal_due_on
    assert scan(app, clock.now).reminders == 0  # 60 days ahead: nothing yet

    clock.now = datetime.combine(due - timedelta(days=14), clock.now.timetz())
    first = scan(app, clock.now)
    assert (first.reminders, first.mails) == (1, 1)
    assert first.unreachable == {"rep.silent"}  # listed, not skipped silently
    reminder = app.find_aggregate(reminder_id(plan, "proposal", due, -14))
    assert isinstance(reminder, Reminder)
    assert reminder.recipients == ("user:rep.mailed", "user:rep.silent")
    assert reminder.unreachable == ("user:rep.silent",)
    [(to, subject, cause)] = outbox_rows(app)
    assert to == "rep@importer.example"
    assert subject.startswith(f"[{plan}] proposal")
    assert "due in 14 days" in subject
    assert cause == f"reminder:{reminder.id}"

    again = scan(app, clock.now + timedelta(hours=2))  # the same day: nothing new
    assert (again.reminders, again.mails) == (0, 0)
    assert len(outbox_rows(app)) == 1


def test_overdue_is_flagged_digested_and_escalated_beyond_grace(
        ledger: tuple[ComplianceCases, str, str], clock: FakeClock) -> None:
    app, _, plan = ledger
    due = app.get_plan(plan).proposal_due_on
    clock.now = datetime.combine(due + timedelta(days=1), clock.now.timetz())
    late = scan(app, clock.now)
    # The scheduler was down before: only the latest reminder (on the day) is sent, to the
    # representative and, now that it is overdue, the officer.
    assert late.reminders == 1
    assert late.flagged == 1
    assert late.digests == 1
    assert app.get_plan(plan).overdue_flags == (("proposal", due),)
    addresses = [to for to, _, _ in outbox_rows(app)]
    assert sorted(addresses) == ["chief11@customs.example", "officer@customs.example",
                                 "rep@importer.example"]
    repeat = scan(app, clock.now + timedelta(hours=1))
    assert (repeat.reminders, repeat.flagged, repeat.digests, repeat.mails) == (0, 0, 0, 0)

    clock.now = datetime.combine(due + timedelta(days=31), clock.now.timetz())
    beyond = scan(app, clock.now)
    assert len(beyond.escalated) == 1
    assert beyond.escalated[0].startswith(plan)
    escalated = app.get_plan(plan)
    assert escalated.state.value == "escalated"
    assert escalated.enforcement_number is not None
    events = list(app.replay_history(escalated.id))
    assert events[-1][0].actor == "system:scheduler"
    assert "beyond the 30-day grace period" in events[-1][0].reason
    assert scan(app, clock.now + timedelta(hours=1)).escalated == []


def test_an_unanswered_penalty_notice_moves_to_decision(
        make_app: Callable[..., ComplianceCases], clock: FakeClock) -> None:
    loader = make_app()
    number = propose_penalty(loader, register_importer(loader, district="12"))
    walk_enforcement(loader, number, "penalty_notice_issued", clock=clock)
    action = loader.get_enforcement(number)
    assert action.response_due_on is not None
    app = make_app(access_control=True)
    clock.now = datetime.combine(action.response_due_on + timedelta(days=1),
                                 clock.now.timetz())
    outcome = scan(app, clock.now)
    assert outcome.windows_closed == 1
    assert app.get_enforcement(number).state.value == "response_overdue"
    loader.decide_enforcement(number, Decimal("1000.00"), actor=SUPERVISOR,
                              reason="no response came")
    assert loader.get_enforcement(number).state.value == "decided"


def test_two_scanners_at_once_record_each_reminder_once(
        ledger: tuple[ComplianceCases, str, str], clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    app, _, plan = ledger
    other = make_app(access_control=True, cache_size=100)
    due = app.get_plan(plan).proposal_due_on
    now = datetime.combine(due + timedelta(days=1), clock.now.timetz())
    outcomes: list[DueScanOutcome] = []
    errors: list[BaseException] = []

    def run(target: ComplianceCases) -> None:
        try:
            outcomes.append(scan(target, now))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(o.reminders for o in outcomes) == 1
    assert sum(o.flagged for o in outcomes) == 1
    assert sum(o.digests for o in outcomes) == 1
    assert len(outbox_rows(app)) == 3  # rep, officer, supervisor: each mail once


def test_the_policy_sends_only_the_latest_reminder_due() -> None:
    due = date(2026, 12, 31)
    assert POLICY.latest_offset(due, due - timedelta(days=20)) is None
    assert POLICY.latest_offset(due, due - timedelta(days=14)) == -14
    assert POLICY.latest_offset(due, due - timedelta(days=5)) == -14
    assert POLICY.latest_offset(due, due - timedelta(days=3)) == -3
    assert POLICY.latest_offset(due, due) == 0
    assert POLICY.latest_offset(due, due + timedelta(days=6)) == 0
    assert POLICY.latest_offset(due, due + timedelta(days=7)) == 7
    assert POLICY.latest_offset(due, due + timedelta(days=20)) == 14


def test_a_failed_verify_alerts_the_admins_once_a_day(
        store: Settings, make_app: Callable[..., ComplianceCases], clock: FakeClock) -> None:
    from interfaces.scheduler.integrity_jobs import run_verify
    from interfaces.scheduler.jobs import JobContext
    from tests.integration.raw_store import RawEvents

    loader = make_app()
    number = walk_assessment(loader, register_importer(loader, district="11"), "surveyed",
                             clock=clock)
    loader.add_user("admin", roles=["admin"], email="admin@customs.example", actor=SETUP,
                    reason="the admin")
    loader.add_user("admin2", roles=["admin"], actor=SETUP, reason="an admin without mail")
    app = make_app(access_control=True)
    ctx = JobContext(app=app, settings=store, now=clock.now)
    assert run_verify(ctx).ok
    assert outbox_rows(app) == []

    RawEvents.of(loader, store).delete(loader.get_assessment(number).id, 2)
    failed = run_verify(ctx)
    assert not failed.ok
    assert number in failed.summary
    [(to, subject, cause)] = outbox_rows(app)
    assert to == "admin@customs.example"
    assert "FAILED" in subject
    assert cause == f"alert:verify:{clock.now.date().isoformat()}"
    run_verify(JobContext(app=app, settings=store, now=clock.now + timedelta(hours=1)))
    assert len(outbox_rows(app)) == 1  # the day's alert, once
