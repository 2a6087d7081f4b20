"""The scheduler's integrity jobs: a periodic seal and a periodic full verify.

`seal` (hourly by default) bounds the window in which only the hash chain and the commit
signatures protect the newest events: it seals the ledger as `compliance seal` does, as
`system:scheduler`, and records nothing when nothing was recorded since the last seal (so
an idle ledger does not grow a seal an hour). `verify` (daily by default) runs the whole
check `compliance verify` runs; its failure is the run's failed outcome, naming what broke,
and is handed to `on_verify_failed`, the hook that alerts people.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from application.bulk_runs import bulk_run_topics
from domain.seal_log import SEAL_LOG_ID
from infrastructure.case_names import name_subjects
from infrastructure.seal import (
    SealKeyError,
    SealRefusedError,
    full_verify,
    load_private_key,
    load_public_key,
    seal_ledger,
)
from infrastructure.seal_records import WitnessError
from infrastructure.snapshot_check import verify_snapshots
from infrastructure.verify import Finding, LedgerReport, read_seal_log
from interfaces.scheduler.jobs import Job, JobContext, JobOutcome, register_job
from interfaces.scheduler.runner import SCHEDULER_ACTOR

INTEGRITY_ORDER = 90
"""After the jobs that record things, so a tick seals and checks what it recorded."""
_LISTED = 5

logger = logging.getLogger("compliance.scheduler")


def _unsealed_events(ctx: JobContext) -> tuple[int | None, bool]:
    """(the latest seal's number, whether anything but that seal's own event was
    recorded after its checkpoint)."""
    seals, _ = read_seal_log(ctx.app.recorder)
    if not seals:
        return None, True
    latest = seals[-1]
    # After the checkpoint come at most the seal log's own events (its start, on the first
    # seal, and the seal): a third is something new.
    after = ctx.app.recorder.select_notifications(start=latest.checkpoint + 1, limit=3)
    return latest.number, any(str(n.originator_id) != str(SEAL_LOG_ID) for n in after)


def run_seal(ctx: JobContext) -> JobOutcome:
    if not ctx.app.recorder.max_notification_id():
        return JobOutcome("the ledger is empty: nothing to seal", {"sealed": False,
                                                                   "latest_seal": None})
    number, anything_new = _unsealed_events(ctx)
    if not anything_new:
        return JobOutcome(f"nothing recorded since seal {number}: no new seal",
                          {"sealed": False, "latest_seal": number})
    settings = ctx.settings
    progress = ctx.progress
    try:
        key = load_private_key(settings.seal_key_path)
        record = seal_ledger(ctx.app, key, settings.seal_witness_path, SCHEDULER_ACTOR,
                             None if progress is None
                             else _counter(progress, "sealing",
                                           ctx.app.recorder.max_notification_id() or 0))
    except (SealKeyError, SealRefusedError, WitnessError) as error:
        return JobOutcome(f"not sealed: {error}", {"sealed": False,
                                                   "error": type(error).__name__}, ok=False)
    return JobOutcome(f"seal {record.number}: {record.events} events in {record.aggregates} "
                      f"aggregates up to notification {record.checkpoint}",
                      {"sealed": True, "seal": record.number, "events": record.events,
                       "aggregates": record.aggregates, "checkpoint": record.checkpoint,
                       "key_id": record.key_id})


def _counter(progress: Callable[[str, int, int], None], stage: str,
             total: int) -> Callable[[int], None]:
    """The seal's per-page callback (events in this page), fed to the context's
    (stage, done, total) progress."""
    done = [0]

    def advance(count: int) -> None:
        done[0] += count
        progress(stage, done[0], total)

    return advance


def full_report(ctx: JobContext) -> LedgerReport:
    """What `compliance verify` checks: chains, commit signatures, seals against the
    witness, sealed heads, import batches, snapshots. A missing public key is a finding:
    nothing could be verified."""
    settings, app = ctx.settings, ctx.app
    try:
        public_key = load_public_key(settings.seal_public_key_path)
    except SealKeyError as error:
        return LedgerReport(findings=[Finding("signing key", None,
                                              f"cannot verify: {error}")])
    report = full_verify(app.recorder, public_key, settings.seal_witness_path)
    if app.snapshots is not None:
        report.snapshots, problems = verify_snapshots(
            app.events, app.snapshots, report.heads, settings.snapshot_interval)
        name_subjects(app.recorder, problems)
        report.findings.extend(problems)
    return report


def on_verify_failed(ctx: JobContext, report: LedgerReport) -> None:
    """Called once for every verify run that found problems: the place for the alert to
    the admins. It logs the findings; the run's outcome names them too."""
    for finding in report.findings[:_LISTED]:
        logger.error("verify at %s: %s", ctx.now.isoformat(), finding)
    if len(report.findings) > _LISTED:
        logger.error("verify at %s: and %d more problem(s); run compliance verify",
                     ctx.now.isoformat(), len(report.findings) - _LISTED)
    alert_admins(ctx, [str(f) for f in report.findings[:_LISTED]], len(report.findings))


def alert_admins(ctx: JobContext, problems: list[str], total: int) -> int:
    """Queues one mail per enabled admin with an address; one alert a day (the Message-ID
    is the day's), however often verify runs. Returns the mails newly queued."""
    from application.reminder_mail import ReminderText
    from domain.user import Role
    from infrastructure.outbox import SqlOutbox
    from infrastructure.sql_tables import SqlTables

    text = ReminderText(ctx.settings.mail.public_url)
    cause = f"alert:verify:{ctx.now.date().isoformat()}"
    admins = [u for u in ctx.app.list_users()
              if u.enabled and Role.ADMIN in u.roles]
    mails = [text.verify_alert(cause=cause, username=u.username, address=u.email,
                               at=ctx.now.isoformat(timespec="minutes"), problems=problems,
                               total=total) for u in admins if u.email]
    for user in admins:
        if not user.email:
            logger.error("verify alert: admin %s has no e-mail address", user.username)
    return SqlOutbox(SqlTables(ctx.app.recorder)).enqueue(mails, ctx.now)


def run_verify(ctx: JobContext) -> JobOutcome:
    report = full_report(ctx)
    details = {"events": report.events, "aggregates": report.aggregates,
               "commits": report.commits, "snapshots": report.snapshots,
               "import_batches": report.batches, "seals": len(report.seals),
               "problems": [str(f) for f in report.findings[:50]],
               "problem_count": len(report.findings)}
    if report.ok:
        return JobOutcome(f"verified {report.events} events in {report.aggregates} "
                          f"aggregates, {report.snapshots} snapshots and {report.batches} "
                          "import batches: intact", details)
    on_verify_failed(ctx, report)
    listed = "; ".join(str(f) for f in report.findings[:_LISTED])
    more = (f" (and {len(report.findings) - _LISTED} more)"
            if len(report.findings) > _LISTED else "")
    return JobOutcome(f"{len(report.findings)} problem(s): {listed}{more}", details, ok=False)


SEAL_JOB = register_job(Job(
    name="seal", default_every=timedelta(hours=1), run=run_seal, order=INTEGRITY_ORDER,
    description="seal the ledger (as compliance seal) when anything was recorded since "
                "the last seal"))
VERIFY_JOB = register_job(Job(
    name="verify", default_every=timedelta(days=1), run=run_verify,
    order=INTEGRITY_ORDER + 1,
    description="verify the whole ledger (as compliance verify); a failure alerts"))


def run_seal_after_bulk(ctx: JobContext) -> JobOutcome:
    """Seals within minutes of a bulk run rather than at the next hourly seal: a bulk run
    writes hundreds of thousands of events at once, the largest window in which only the
    chain would protect them."""
    seals, _ = read_seal_log(ctx.app.recorder)
    start = seals[-1].checkpoint + 1 if seals else 1
    bulk = ctx.app.recorder.select_notifications(start=start, limit=1,
                                                 topics=bulk_run_topics())
    if not bulk:
        return JobOutcome("no bulk run since the last seal", {"sealed": False})
    return run_seal(ctx)


SEAL_AFTER_BULK_JOB = register_job(Job(
    name="seal-after-bulk", default_every=timedelta(minutes=2), run=run_seal_after_bulk,
    order=INTEGRITY_ORDER - 1,
    description="seal soon after a bulk run (import, risk, channel or selection run)"))

