"""Months of deadlines, simulated day by day: three scheduler processes tick against one
PostgreSQL ledger (the demo's cases, nobody working them) and deliver to a real SMTP
server on loopback. Afterwards every reminder the policy calls for, computed here
independently from the due items, was recorded exactly once; every mail was received
exactly once; every plan overdue beyond grace was escalated once; every penalty notice
gone unanswered moved to decision."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from application.compliance_cases import ComplianceCases
from domain.reminder import ReminderPolicy
from infrastructure.outbox import SqlOutbox
from infrastructure.settings import load_settings
from infrastructure.sql_tables import SqlTables
from interfaces.composition import build_application
from projections.catalogue import VIEWS
from projections.queries import due_items_to_watch
from projections.worker import Projections
from tests.e2e.cli import Cli
from tests.e2e.scheduler_worker import serve
from tests.e2e.smtp_server import SmtpServer

pytestmark = pytest.mark.postgres

DAY0 = date(2026, 9, 1)
DAYS = 45
POLICY = ReminderPolicy()


def expected_reminders(rows: list[tuple[Any, ...]]) -> tuple[set[tuple[str, str, date, int]],
                                                           set[str], set[str]]:
    """What the policy calls for, from the open due items before the first tick: each
    item's latest offset on every day while it is open. A plan closes the day after one of
    its items is beyond grace (escalated); a penalty notice's response the day after it is
    overdue (the window closed). Returns (reminders, plans escalated, windows closed)."""
    items = [dict(zip(("key", "number", "kind", "district", "due_on", "state"),
                      (r[0], r[1], r[2], r[3], date.fromisoformat(r[4]), r[11]), strict=True))
             for r in rows]
    reminders: set[tuple[str, str, date, int]] = set()
    escalated: set[str] = set()
    windows: set[str] = set()
    last = {str(r[0]): int(r[7]) for r in rows if r[7] is not None}
    for offset_day in range(1, DAYS + 1):
        today = DAY0 + timedelta(days=offset_day)
        closing_plans: set[str] = set()
        for item in items:
            if item["number"] in escalated or item["key"] in windows:
                continue
            latest = POLICY.latest_offset(item["due_on"], today)
            if latest is not None and latest > last.get(item["key"], -10**6):
                reminders.add((item["number"], item["key"].split("/", 1)[1], item["due_on"],
                               latest))
                last[item["key"]] = latest
            overdue = (today - item["due_on"]).days
            if item["kind"] in ("plan_proposal", "plan_action") and (
                    overdue > POLICY.escalation_grace_days):
                closing_plans.add(item["number"])
            if (item["kind"] == "enforcement_response"
                    and item["state"] == "penalty_notice_issued" and overdue > 0):
                windows.add(item["key"])
        escalated |= closing_plans
    return reminders, escalated, windows


def recorded(app: ComplianceCases, topic_suffix: str) -> list[Any]:
    notifications = app.recorder.select_notifications(start=1, limit=10**7)
    return [app.mapper.to_domain_event(n) for n in notifications
            if n.topic.endswith(topic_suffix)]


def test_three_schedulers_over_six_weeks_record_and_mail_everything_once(
        postgres_url: str, tmp_path: Any) -> None:
    import uuid

    import psycopg
    from psycopg import sql

    schema = f"sim_{uuid.uuid4().hex[:10]}"
    smtp = SmtpServer()
    smtp.start()
    environ = {"COMPLIANCE_DATABASE_URL": postgres_url, "COMPLIANCE_POSTGRES_SCHEMA": schema,
               "COMPLIANCE_SEAL_KEY": str(tmp_path / "seal.key"),
               "COMPLIANCE_SCHEDULER_JOBS": "due-scan,outbox", **smtp.environ()}
    cli = Cli(environ)
    context = multiprocessing.get_context("spawn")
    workers: list[tuple[Any, Any]] = []
    try:
        cli.ok("demo", "--accounts", "1500", "--samples", "1000", "--entries", "0",
               "--today", DAY0.isoformat())
        settings = load_settings(cli.env)
        app = build_application(settings, access_control=False)
        projections = Projections(app)
        projections.catch_up([VIEWS["worklist"]])
        # The demo ran the first due scan on its last day: the simulation starts the day
        # after, from the items as that scan left them.
        before = {(r.case_number, r.item, r.due_on, r.offset_days)
                  for r in recorded(app, "Reminder.Recorded")}
        rows = due_items_to_watch(projections.store, date(2100, 1, 1))
        assert len(rows) >= 10, "the demo should leave open due items"
        expected, plans, windows = expected_reminders(rows)

        for n in range(3):
            parent, child = context.Pipe()
            process = context.Process(target=serve, args=(environ, f"sim-{n}", child))
            process.start()
            workers.append((process, parent))
        for day in range(1, DAYS + 1):
            moment = datetime.combine(DAY0 + timedelta(days=day), time(6), tzinfo=UTC)
            for _, pipe in workers:
                pipe.send(moment.isoformat())
            runs = [run for _, pipe in workers for run in pipe.recv()]
            assert all(ok for _, ok, _ in runs), runs
            assert Counter(job for job, _, _ in runs) == {"due-scan": 1, "outbox": 1}, runs
        # Another instance may have sent the outbox before the last scan queued its mails:
        # those go out on the next minute's run.
        drain = datetime.combine(DAY0 + timedelta(days=DAYS), time(6, 2), tzinfo=UTC)
        for _, pipe in workers:
            pipe.send(drain.isoformat())
        assert [job for _, pipe in workers for job, _, _ in pipe.recv()] == ["outbox"]

        reminders = [(r.case_number, r.item, r.due_on, r.offset_days)
                     for r in recorded(app, "Reminder.Recorded")]
        assert len(reminders) == len(set(reminders)), "a reminder was recorded twice"
        assert set(reminders) - before == expected - before
        escalations = Counter(e.originator_id for e in recorded(
            app, "ImprovementPlan.Escalated") if e.actor == "system:scheduler"
            and e.timestamp.date() > DAY0)
        assert all(count == 1 for count in escalations.values())
        assert {app.get_plan(n).id for n in plans} == set(escalations)
        closed = [e for e in recorded(app, "EnforcementAction.ResponseWindowClosed")
                  if e.timestamp.date() > DAY0]
        assert len(closed) == len(windows)

        outbox = SqlOutbox(SqlTables(app.recorder))
        counts = outbox.counts()
        received = Counter(smtp.message_ids())
        assert counts.get("queued", 0) == 0, counts
        assert counts.get("dead", 0) == 0, counts
        assert all(n == 1 for n in received.values()), "a mail was received twice"
        assert len(received) == counts["sent"]
        assert set(received) == {m.message_id for m in outbox.list("sent", limit=10**6)}
        print(f"\nsimulated {DAYS} days from {DAY0}: {len(reminders)} reminders, "
              f"{len(escalations)} plans escalated, {len(windows)} response windows closed, "
              f"{counts['sent']} mails received once each")
        app.close()
    finally:
        for _, pipe in workers:
            pipe.send(None)
        for process, _ in workers:
            process.join(timeout=30)
        smtp.stop()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))
