"""A scheduler instance in a process of its own, told when to tick through a pipe: the
simulated-months test runs three against one PostgreSQL schema, as three `compliance
scheduler` processes would run, without paying an interpreter start for every day."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from multiprocessing.connection import Connection

from infrastructure.schedule_settings import load_schedule_settings
from infrastructure.settings import load_settings
from interfaces.composition import build_application
from interfaces.scheduler.builtin import load_builtin_jobs
from interfaces.scheduler.runner import tick


def serve(environ: dict[str, str], name: str, connection: Connection) -> None:
    """Ticks at each ISO timestamp received; answers with (job, ok, summary) per run; ends
    on None. The application's clock moves on from the tick's moment, as under `tick
    --now`."""
    os.environ.update(environ)
    settings = load_settings(os.environ)
    jobs = load_builtin_jobs()
    schedule = load_schedule_settings(os.environ, {n: j.default_every for n, j in jobs.items()})
    chosen = [job for job_name, job in jobs.items() if schedule.enabled(job_name)]
    moment, started = datetime.now().astimezone(), time.monotonic()

    def clock() -> datetime:
        return moment + timedelta(seconds=time.monotonic() - started)

    app = build_application(settings, clock, access_control=True, cache_size=1000)
    resources: dict[str, object] = {}
    try:
        while (message := connection.recv()) is not None:
            moment, started = datetime.fromisoformat(message), time.monotonic()
            report = tick(app, settings, moment, chosen, schedule=schedule, instance=name,
                          resources=resources)
            connection.send([(run.job, run.outcome.ok, run.outcome.summary)
                             for run in report.runs])
    finally:
        app.close()
