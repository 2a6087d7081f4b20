"""The `outbox` job: every minute, deliver what the outbox holds that is due.

A job of the scheduler so that `compliance scheduler tick` delivers the mails the same
tick's due scan queued (it runs after the scan, before the integrity jobs); a separate
`compliance outbox send` worker may run beside it, since claims keep two senders off the
same mail. Also where the CLI gets its sender from, so both deliver alike."""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING

from application.outbox_sender import DEFAULT_BATCH, OutboxSender, SendOutcome
from infrastructure.outbox import SqlOutbox
from infrastructure.smtp_transport import SmtpTransport
from infrastructure.sql_tables import SqlTables
from interfaces.scheduler.jobs import Job, JobContext, JobOutcome, register_job

if TYPE_CHECKING:
    from datetime import datetime

    from application.compliance_cases import ComplianceCases
    from infrastructure.settings import Settings

MAX_BATCHES = 50
"""Batches one run sends at most (5,000 mails): the rest goes out on the next run, so a
huge backlog does not hold the tick up."""
_SENDER = "outbox_sender"


def holder_name(role: str) -> str:
    """Who holds a claim, as `outbox list` shows it: the role, the host and the process."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}"


def build_outbox(app: ComplianceCases) -> SqlOutbox:
    return SqlOutbox(SqlTables(app.recorder))


def build_sender(app: ComplianceCases, settings: Settings, holder: str) -> OutboxSender:
    mail = settings.mail
    return OutboxSender(build_outbox(app), lambda: SmtpTransport(mail), mail, holder)


def send_all_due(sender: OutboxSender, now: datetime, batch: int = DEFAULT_BATCH,
                 max_batches: int = MAX_BATCHES) -> SendOutcome:
    """Batch after batch until fewer than a batch were due. A mail that fails is due again
    only later than `now`, so the loop ends."""
    total = SendOutcome()
    for _ in range(max_batches):
        outcome = sender.send_due(now, limit=batch)
        total.add(outcome)
        if outcome.sent + outcome.deferred + outcome.dead < batch:
            break
    return total


def run(ctx: JobContext) -> JobOutcome:
    sender = ctx.resources.get(_SENDER)
    if not isinstance(sender, OutboxSender):
        sender = ctx.resources[_SENDER] = build_sender(ctx.app, ctx.settings,
                                                       holder_name("scheduler"))
    outcome = send_all_due(sender, ctx.now)
    return JobOutcome(outcome.summary, details={"sent": outcome.sent,
                                                "deferred": outcome.deferred,
                                                "dead": outcome.dead,
                                                "reasons": outcome.reasons})


OUTBOX_JOB = register_job(Job("outbox", timedelta(minutes=1), run,
                              "Deliver the queued mails that are due over SMTP.", order=60))
