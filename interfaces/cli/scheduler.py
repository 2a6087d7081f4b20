"""`compliance scheduler run|tick|status`: the scheduler's worker, one tick for operators,
cron and tests, and what ran when.

The settings (jobs, intervals, heartbeat) are checked against the registered jobs before
anything runs, so a typo is refused naming its variable (exit 2) rather than leaving a
job unscheduled.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from domain.errors import InvalidValueError
from infrastructure.schedule_settings import (
    ScheduleSettings,
    format_interval,
    load_schedule_settings,
)
from infrastructure.scheduler_state import (
    JobRecord,
    JobRunLog,
    LeaderRecord,
    SchedulerBusyError,
    SqliteLease,
    open_lease,
)
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from interfaces.cli.context import (
    DEBUG_VARIABLE,
    cli_context,
    emit_json,
    json_option,
    run_guarded,
)
from interfaces.cli.text import one_line
from interfaces.composition import build_application
from interfaces.scheduler.builtin import load_builtin_jobs
from interfaces.scheduler.jobs import Job

REFUSED = 3
"""A second scheduler on one SQLite ledger is refused like any other refused command."""
STALE_BEATS = 3
"""A heartbeat older than this many heartbeats: the leader is probably gone."""


def _schedule() -> tuple[dict[str, Job], ScheduleSettings]:
    jobs = load_builtin_jobs()
    return jobs, load_schedule_settings(os.environ,
                                        {name: job.default_every for name, job in jobs.items()})


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z"))
                                        else text)
    except ValueError:
        raise InvalidValueError("--now", value, "expected an ISO 8601 timestamp with its "
                                "offset, e.g. 2026-12-01T06:00:00Z") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValueError("--now", value, "needs a time zone, e.g. "
                                "2026-12-01T06:00:00Z or 2026-12-01T08:00:00+02:00")
    return moment.astimezone(UTC)


def _configure_logging() -> None:
    """Job errors and lease trouble on stderr, one line each; tracebacks only with
    COMPLIANCE_DEBUG=1."""
    debug = os.environ.get(DEBUG_VARIABLE, "").strip() == "1"
    logger = logging.getLogger("compliance.scheduler")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


@click.group("scheduler")
def scheduler() -> None:
    """Reminders, overdue flags, escalation, the outbox, seals and verifies, on schedule.

    Settings: COMPLIANCE_SCHEDULER_JOBS (comma list; default all), COMPLIANCE_SCHEDULE_<JOB>
    (e.g. COMPLIANCE_SCHEDULE_SEAL=30m), COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS (10)."""


@scheduler.command("run")
def run_command() -> None:
    """Run the scheduler until SIGTERM or SIGINT. On PostgreSQL several may run: one leads
    and ticks, the others stand by and take over when it dies. On SQLite a second one is
    refused: one is enough."""
    def action() -> None:
        from interfaces.scheduler.runner import Worker, utc_now

        _configure_logging()
        context = cli_context()
        jobs, schedule = _schedule()
        enabled = [job for name, job in jobs.items() if schedule.enabled(name)]
        app = build_application(context.settings, utc_now, access_control=True)
        lease = open_lease(context.settings)
        try:
            if isinstance(lease, SqliteLease) and not lease.try_acquire(utc_now()):
                raise lease.refuse()
            worker = Worker(app, context.settings, schedule, enabled, lease,
                            lambda line: click.echo(one_line(line)))
            click.echo(f"scheduler {lease.instance} started on {context.settings.describe} "
                       f"(heartbeat {schedule.heartbeat_seconds:g}s)")
            worker.run()
        except SchedulerBusyError as error:
            click.echo(f"error: refused: {one_line(error)}", err=True)
            sys.exit(REFUSED)
        finally:
            lease.close()
            app.close()
    run_guarded(action)


@scheduler.command("tick")
@click.option("--now", "now_text", default=None,
              help="The moment to tick for (ISO 8601 with offset, e.g. "
                   "2026-12-01T06:00:00Z); default: now.")
@click.option("--job", "names", multiple=True,
              help="Only this job (repeatable); any registered job, even one "
                   "COMPLIANCE_SCHEDULER_JOBS leaves out.")
@json_option
def tick_command(now_text: str | None, names: tuple[str, ...], as_json: bool) -> None:
    """Run every due job once, print each one's outcome, and exit (1 if a job failed)."""
    def action() -> None:
        from interfaces.scheduler.runner import tick

        _configure_logging()
        context = cli_context()
        now = _parse_now(now_text)
        jobs, schedule = _schedule()
        chosen = _chosen(jobs, schedule, names)
        if now is None:
            clock_start, moment = time.monotonic(), datetime.now(UTC)
        else:
            clock_start, moment = time.monotonic(), now

        def clock() -> datetime:  # the application's time moves on from --now
            return moment + timedelta(seconds=time.monotonic() - clock_start)

        app = build_application(context.settings, clock, access_control=True)
        try:
            report = tick(app, context.settings, moment, chosen, schedule=schedule,
                          on_run=None if as_json else lambda run: click.echo(run.line()))
        finally:
            app.close()
        if as_json:
            emit_json({"now": moment.isoformat(),
                       "runs": [{"job": r.job, "run_id": r.run_id, "ok": r.outcome.ok,
                                 "summary": r.outcome.summary, "details": r.outcome.details,
                                 "started_at": r.started_at.isoformat(),
                                 "finished_at": r.finished_at.isoformat(),
                                 "next_run_at": r.next_run_at.isoformat()}
                                for r in report.runs],
                       "not_due": {name: None if at is None else at.isoformat()
                                   for name, at in report.not_due.items()}})
        else:
            for name, at in report.not_due.items():
                when = "in flight elsewhere" if at is None else f"next run {at.isoformat()}"
                click.echo(f"{name}: not due ({when})")
            failed = sum(1 for run in report.runs if not run.outcome.ok)
            click.echo(f"tick at {moment.isoformat()}: {len(report.runs)} job(s) ran, "
                       f"{failed} failed, {len(report.not_due)} not due")
        if not report.ok:
            sys.exit(1)
    run_guarded(action)


def _chosen(jobs: dict[str, Job], schedule: ScheduleSettings,
            names: tuple[str, ...]) -> list[Job]:
    if not names:
        return [job for name, job in jobs.items() if schedule.enabled(name)]
    wanted = {name.strip().lower() for name in names}
    unknown = sorted(wanted - set(jobs))
    if unknown:
        raise InvalidValueError("--job", ", ".join(unknown),
                                f"no such job (known jobs: {', '.join(jobs) or 'none'})")
    return [job for name, job in jobs.items() if name in wanted]


@scheduler.command("status")
@click.option("--now", "now_text", default=None,
              help="Say what is due as of this moment (ISO 8601 with offset); default: now.")
@json_option
def status_command(now_text: str | None, as_json: bool) -> None:
    """Each job: enabled, interval, last run and its outcome, next run; and the leader with
    the age of its heartbeat."""
    def action() -> None:
        context = cli_context()
        now = _parse_now(now_text) or datetime.now(UTC)
        jobs, schedule = _schedule()
        log = JobRunLog(SqlTables(context.app.recorder))
        status = _status(jobs, schedule, log.records(), log.leader(), now, context.settings)
        if as_json:
            emit_json(status)
            return
        _print_status(status)
    run_guarded(action)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _job_status(name: str, job: Job | None, schedule: ScheduleSettings,
                record: JobRecord | None, now: datetime) -> dict[str, Any]:
    every = schedule.intervals.get(name)
    last: dict[str, Any] | None = None
    if record is not None and record.last_started_at is not None:
        outcome = ("running" if record.running
                   else "ok" if record.last_ok else "failed")
        last = {"run_id": record.last_run_id, "started_at": _iso(record.last_started_at),
                "finished_at": _iso(record.last_finished_at), "outcome": outcome,
                "summary": record.last_summary, "details": record.last_details,
                "instance": record.last_instance}
    next_run = None if record is None else record.next_run_at
    return {"job": name, "registered": job is not None, "enabled": schedule.enabled(name),
            "every": None if every is None else format_interval(every),
            "description": None if job is None else job.description,
            "runs": 0 if record is None else record.runs, "last_run": last,
            "next_run_at": _iso(next_run),
            "due": schedule.enabled(name) and (next_run is None or next_run <= now)}


def _status(jobs: dict[str, Job], schedule: ScheduleSettings,
            records: dict[str, JobRecord], leader: LeaderRecord | None, now: datetime,
            settings: Settings) -> dict[str, Any]:
    names = [*jobs, *sorted(set(records) - set(jobs))]
    lead: dict[str, Any] | None = None
    if leader is not None:
        age = None if leader.heartbeat_at is None else max(
            0.0, (datetime.now(UTC) - leader.heartbeat_at).total_seconds())
        lead = {"holder": leader.holder, "pid": leader.pid, "host": leader.host,
                "acquired_at": _iso(leader.acquired_at),
                "heartbeat_at": _iso(leader.heartbeat_at),
                "heartbeat_age_seconds": None if age is None else round(age, 1),
                "stale": age is None or age > STALE_BEATS * schedule.heartbeat_seconds}
    return {"store": settings.describe, "now": now.isoformat(),
            "heartbeat_seconds": schedule.heartbeat_seconds,
            "jobs": [_job_status(name, jobs.get(name), schedule, records.get(name), now)
                     for name in names],
            "leader": lead}


def _print_status(status: dict[str, Any]) -> None:
    click.echo(f"store: {status['store']}")
    for job in status["jobs"]:
        state = ("not registered" if not job["registered"]
                 else "enabled" if job["enabled"] else "disabled")
        every = f" every {job['every']}" if job["every"] else ""
        click.echo(one_line(f"{job['job']}: {state}{every}, {job['runs']} run(s)"))
        last = job["last_run"]
        if last is None:
            click.echo("  last run: never")
        else:
            finished = (f", finished {last['finished_at']}" if last["outcome"] != "running"
                        else "")
            click.echo(one_line(f"  last run: {last['outcome']} ({last['run_id']}, started "
                                f"{last['started_at']}{finished} on {last['instance']})"))
            if last["summary"]:
                click.echo(one_line(f"  outcome: {last['summary']}"))
        if job["enabled"]:
            when = job["next_run_at"] or "at the next tick"
            click.echo(f"  next run: {when}{' (due)' if job['due'] else ''}")
    leader = status["leader"]
    if leader is None:
        click.echo("leader: none (no scheduler runs)")
        return
    age = leader["heartbeat_age_seconds"]
    stale = "; stale: it has probably stopped" if leader["stale"] else ""
    click.echo(one_line(f"leader: {leader['holder']} (pid {leader['pid']} on "
                        f"{leader['host']}) since {leader['acquired_at']}, heartbeat "
                        f"{age}s ago{stale}"))
