"""Registers every built-in job by importing its module, so the registry is complete
before settings are checked against it (an unknown job name is refused at start).

Modules that are not part of this installation are passed over, so the scheduler runs
with the jobs it has; an error inside a module that exists is raised, never hidden."""

from __future__ import annotations

import importlib

from interfaces.scheduler.jobs import JOBS, Job

BUILTIN_MODULES = ("interfaces.scheduler.integrity_jobs", "interfaces.scheduler.outbox_job",
                   "interfaces.scheduler.due_scan_job", "interfaces.scheduler.report_jobs")


def load_builtin_jobs() -> dict[str, Job]:
    """Every registered job, by name, in the order they run within a tick."""
    for module in BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
    return {job.name: job for job in sorted(JOBS.values(),
                                            key=lambda job: (job.order, job.name))}
