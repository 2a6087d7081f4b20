"""The scheduler's jobs: what runs, how often by default, and what each run reports.

A job is a plain function of a `JobContext` returning a `JobOutcome`; the runner
(interfaces.scheduler.runner) decides when, on which instance (the leader), and records
each run's outcome for `compliance scheduler status`. Jobs must be safe to run twice
(by two instances, or again after a crash): each records what it did under deterministic
ids, so a repeat finds the work done.

Other modules add jobs with `register_job` (the reports of a later issue register their
periodic runs here): the registry is the cron hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from application.compliance_cases import ComplianceCases
    from infrastructure.settings import Settings


@dataclass(frozen=True)
class JobOutcome:
    """What one run did, for the status table and the run's log line."""

    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    ok: bool = True


@dataclass
class JobContext:
    """What a job runs with: the application (access control on; jobs act as
    `system:scheduler`), the settings, and the moment the run is for (the tick's `--now`
    in tests and simulations, the clock otherwise)."""

    app: ComplianceCases
    settings: Settings
    now: datetime
    progress: Callable[[str, int, int], None] | None = None
    """(stage, done, total), for long runs shown on a terminal."""
    resources: dict[str, Any] = field(default_factory=dict)
    """Shared per-process helpers a job builds once and reuses (e.g. the outbox)."""


@dataclass(frozen=True)
class Job:
    name: str
    """As settings and `scheduler status` name it: lower case, words joined by '-'."""
    default_every: timedelta
    run: Callable[[JobContext], JobOutcome]
    description: str
    order: int = 50
    """Within one tick jobs run by (order, name): the integrity jobs (seal, verify) take 90,
    so that they seal and check what the other jobs of the same tick recorded."""


JOBS: dict[str, Job] = {}


def register_job(job: Job) -> Job:
    """Adds a job (a later registration under the same name replaces the earlier)."""
    if not job.name or job.name != job.name.lower() or " " in job.name:
        raise ValueError(f"job name {job.name!r}: lower case, words joined by '-'")
    if job.default_every <= timedelta(0):
        raise ValueError(f"job {job.name}: its interval must be positive")
    JOBS[job.name] = job
    return job
