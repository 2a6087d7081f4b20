"""The `due-scan` job: every few minutes, the deadlines of the work list's open due items
(application.due_scan) — reminders with their mails queued in the same transaction,
overdue flags, closed response windows, escalations and the supervisors' digests.

It first brings the work list and the people view up to the end of the log, so it sees
what the previous run recorded; whatever it still misses is caught by the deterministic
ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from application.due_scan import DueScan
from application.mail import OutgoingMail
from application.reminder_mail import ReminderText
from infrastructure.outbox import SqlOutbox
from infrastructure.sql_tables import SqlTables
from interfaces.scheduler.jobs import Job, JobContext, JobOutcome, register_job
from projections.catalogue import VIEWS
from projections.queries import due_items_to_watch, people
from projections.worker import Projections


def run(ctx: JobContext) -> JobOutcome:
    projections = Projections(ctx.app)
    watched = [VIEWS["worklist"], VIEWS["people"]]
    projections.catch_up(watched, rebuild_far_behind=False)
    outbox = SqlOutbox(SqlTables(ctx.app.recorder))

    def queue(mails: Sequence[OutgoingMail]) -> Any:
        return outbox.writer(mails, ctx.now)

    def rows(until: date) -> list[tuple[Any, ...]]:
        return due_items_to_watch(projections.store, until)

    scan = DueScan(ctx.app, ctx.settings.reminders, ReminderText(ctx.settings.mail.public_url),
                   queue, rows, lambda: people(projections.store), ctx.progress)
    outcome = scan.run(ctx.now)
    projections.catch_up(watched, rebuild_far_behind=False)
    return JobOutcome(outcome.summary(), outcome.details())


DUE_SCAN_JOB = register_job(Job(
    "due-scan", timedelta(minutes=5), run,
    "Remind owners of what falls due, flag what is overdue, close unanswered penalty "
    "notices' windows, escalate plans overdue beyond grace, digest to supervisors.",
    order=10))
