"""Runs the scheduler's jobs: `tick` runs every due job once; `run_forever` ticks on the
leader instance with APScheduler 3.11 as the clock until SIGTERM or SIGINT.

A tick claims each due job in the job-run log before running it (so a second tick at the
same moment, or a second instance, finds it not due), runs it as `system:scheduler` with
access control on, and records its outcome and next run. A job that raises becomes a
failed outcome naming the error and the run id (the traceback goes to the log at debug
level only), and the jobs after it still run: one broken job must not stop the seals.

`run_forever` keeps two APScheduler jobs: the heartbeat (every
COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS: the leader records that it lives, a standby tries
to take the lease) and the check for due jobs (every few seconds, on the leader only).
They run in separate threads, so a long job does not stop the heartbeat. A stop signal
lets the job in flight finish, runs no further job, and releases the lease.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import (  # type: ignore[import-untyped]
    ThreadPoolExecutor,
)
from apscheduler.schedulers.background import (  # type: ignore[import-untyped]
    BackgroundScheduler,
)
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from application.access import acting_as, system_principal
from application.compliance_cases import ComplianceCases
from infrastructure.schedule_settings import ScheduleSettings, format_interval
from infrastructure.scheduler_state import (
    JobRunLog,
    LeaderLease,
    instance_name,
)
from infrastructure.settings import Settings
from infrastructure.sql_tables import SqlTables
from interfaces.cli.text import one_line
from interfaces.scheduler.jobs import Job, JobContext, JobOutcome

SCHEDULER_ACTOR = "system:scheduler"
MAX_CHECK_SECONDS = 5.0
"""The leader looks for due jobs at least this often (more often with a shorter
heartbeat)."""
_MAX_SUMMARY = 500

logger = logging.getLogger("compliance.scheduler")


def new_run_id() -> str:
    """Names one run in the status table and the log, like a request id."""
    return f"run-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class JobRun:
    job: str
    run_id: str
    started_at: datetime
    finished_at: datetime
    outcome: JobOutcome
    next_run_at: datetime

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def line(self) -> str:
        verdict = "ok" if self.outcome.ok else "FAILED"
        return one_line(f"{self.job}: {verdict} ({self.run_id}, {self.seconds:.1f}s): "
                        f"{self.outcome.summary}; next run {self.next_run_at.isoformat()}")


@dataclass(frozen=True)
class TickReport:
    runs: list[JobRun] = field(default_factory=list)
    not_due: dict[str, datetime | None] = field(default_factory=dict)
    """Jobs that were not due, with their next run (None: claimed and in flight)."""

    @property
    def ok(self) -> bool:
        return all(run.outcome.ok for run in self.runs)


def interval_of(job: Job, schedule: ScheduleSettings) -> timedelta:
    return schedule.intervals.get(job.name, job.default_every)


def enabled_jobs(jobs: dict[str, Job], schedule: ScheduleSettings) -> list[Job]:
    """The jobs the settings enable, in the order they run (`jobs` is already in it)."""
    return [job for name, job in jobs.items() if schedule.enabled(name)]


def _failed(job: Job, run_id: str, error: BaseException) -> JobOutcome:
    message = one_line(str(error))[:_MAX_SUMMARY] or type(error).__name__
    logger.error("job %s run %s failed: %s: %s", job.name, run_id, type(error).__name__,
                 message)
    logger.debug("job %s run %s traceback", job.name, run_id, exc_info=error)
    return JobOutcome(f"failed: {type(error).__name__}: {message} (run {run_id})",
                      {"error": type(error).__name__, "run_id": run_id}, ok=False)


def run_job(job: Job, ctx: JobContext, run_id: str) -> JobOutcome:
    """One run, as `system:scheduler`; whatever it raises becomes its failed outcome."""
    try:
        with acting_as(system_principal(SCHEDULER_ACTOR)):
            outcome = job.run(ctx)
    except Exception as error:
        return _failed(job, run_id, error)
    if not isinstance(outcome, JobOutcome):
        return _failed(job, run_id, TypeError(f"the job returned {type(outcome).__name__}, "
                                              "not a JobOutcome"))
    return outcome


def tick(app: ComplianceCases, settings: Settings, now: datetime, jobs: Sequence[Job], *,
         schedule: ScheduleSettings, instance: str | None = None,
         resources: dict[str, Any] | None = None,
         progress: Callable[[str, int, int], None] | None = None,
         on_run: Callable[[JobRun], None] | None = None,
         stop: threading.Event | None = None) -> TickReport:
    """Runs each of `jobs` (in the given order) that is due at `now`: never run, or its
    next run at or before `now`; records each run and its next (`now` + its interval, so
    ticks at whole hours find an hourly job due at each). `stop` set: no further job
    starts. Every job runs for `now` (its JobContext.now); the status records when each
    actually started and finished (`now` plus the time the tick had taken)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"a tick's time must be timezone-aware, not {now!r}")
    log = JobRunLog(SqlTables(app.recorder))
    who = instance or instance_name()
    shared = resources if resources is not None else {}
    started = time.monotonic()
    report = TickReport()
    for job in jobs:
        if stop is not None and stop.is_set():
            break
        at = now + timedelta(seconds=time.monotonic() - started)
        run_id = new_run_id()
        next_run_at = now + interval_of(job, schedule)
        if not log.claim(job.name, run_id, who, now, next_run_at, started_at=at):
            record = log.record(job.name)
            report.not_due[job.name] = None if record is None else record.next_run_at
            continue
        logger.info("job %s run %s started for %s", job.name, run_id, now.isoformat())
        ctx = JobContext(app=app, settings=settings, now=now, progress=progress,
                         resources=shared)
        began = time.monotonic()
        outcome = run_job(job, ctx, run_id)
        finished_at = at + timedelta(seconds=time.monotonic() - began)
        if not log.finish(job.name, run_id, finished_at, ok=outcome.ok,
                          summary=outcome.summary[:_MAX_SUMMARY * 4],
                          details=outcome.details):
            logger.warning("job %s run %s: a later run was claimed meanwhile; its outcome "
                           "stands in the status", job.name, run_id)
        run = JobRun(job.name, run_id, at, finished_at, outcome, next_run_at)
        report.runs.append(run)
        logger.info("job %s run %s finished: %s", job.name, run_id,
                    "ok" if outcome.ok else "failed")
        if on_run is not None:
            on_run(run)
    return report


def utc_now() -> datetime:
    return datetime.now(UTC)


def check_seconds(schedule: ScheduleSettings) -> float:
    return min(schedule.heartbeat_seconds, MAX_CHECK_SECONDS)


class Worker:
    """The long-running scheduler of one process: lease, heartbeat and ticks."""

    def __init__(self, app: ComplianceCases, settings: Settings, schedule: ScheduleSettings,
                 jobs: Sequence[Job], lease: LeaderLease, echo: Callable[[str], None],
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.app, self.settings, self.schedule = app, settings, schedule
        self.jobs, self.lease, self.echo, self.clock = list(jobs), lease, echo, clock
        self.stop = threading.Event()
        self.resources: dict[str, Any] = {}
        self._standby_said = ""
        self.leading = False
        """As this worker last announced it (the lease may have been taken before)."""

    def heartbeat(self) -> None:
        """Leader: record that it lives. Standby: try to take the lease."""
        was_leader = self.leading
        try:
            leads = self.lease.try_acquire(self.clock())
        except Exception as error:  # the database is away: say so, try again next beat
            logger.warning("scheduler heartbeat: %s", one_line(str(error)))
            leads = False
        self.leading = leads
        if leads and not was_leader:
            self.echo(f"leader: this scheduler ({self.lease.instance}) now leads on "
                      f"{self.settings.describe}; jobs: {self.describe_jobs()}")
            self._standby_said = ""
        elif not leads and was_leader:
            self.echo("standby: this scheduler lost the lead (its database connection "
                      "ended); trying to take it back")
        elif not leads:
            holder = self.lease.holder()
            if holder != self._standby_said:
                self.echo(f"standby: {holder} leads; trying again every "
                          f"{self.schedule.heartbeat_seconds:g}s")
                self._standby_said = holder

    def describe_jobs(self) -> str:
        return ", ".join(f"{job.name} every {format_interval(interval_of(job, self.schedule))}"
                         for job in self.jobs) or "none enabled"

    def check(self) -> None:
        """On the leader: run whatever is due."""
        if not self.lease.is_leader or self.stop.is_set():
            return
        try:
            tick(self.app, self.settings, self.clock(), self.jobs, schedule=self.schedule,
                 instance=self.lease.instance, resources=self.resources,
                 on_run=lambda run: self.echo(run.line()), stop=self.stop)
        except Exception as error:  # the database is away: the next check tries again
            logger.error("scheduler tick: %s: %s", type(error).__name__,
                         one_line(str(error)))
            logger.debug("scheduler tick traceback", exc_info=error)

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        self.echo(f"stopping ({signal.Signals(signum).name}): after the job in flight")
        self.stop.set()

    def run(self, install_signals: bool = True) -> None:
        """Until a stop: SIGTERM or SIGINT (or `stop` set by the caller)."""
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(2)}, timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        now = datetime.now(UTC)
        scheduler.add_job(self.heartbeat, IntervalTrigger(
            seconds=self.schedule.heartbeat_seconds, timezone=UTC),
            id="heartbeat", next_run_time=now)
        scheduler.add_job(self.check, IntervalTrigger(
            seconds=check_seconds(self.schedule), timezone=UTC),
            id="check", next_run_time=now + timedelta(seconds=0.2))
        scheduler.start()
        try:
            while not self.stop.wait(0.5):
                pass
        finally:
            scheduler.shutdown(wait=True)
            self.lease.close()
            for resource in self.resources.values():
                close = getattr(resource, "close", None)
                if callable(close):
                    try:
                        close()
                    except Exception as error:
                        logger.warning("closing %s: %s", type(resource).__name__,
                                       one_line(str(error)))
        self.echo("stopped")


def run_forever(app: ComplianceCases, settings: Settings, schedule: ScheduleSettings,
                jobs: Sequence[Job], lease: LeaderLease, echo: Callable[[str], None],
                clock: Callable[[], datetime] = utc_now) -> None:
    Worker(app, settings, schedule, jobs, lease, echo, clock).run()
