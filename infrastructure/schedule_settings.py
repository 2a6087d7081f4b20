"""The scheduler's settings, read from the environment when a scheduler command starts.

Kept apart from infrastructure.settings: these name jobs, and which jobs exist is only
known once the job modules have registered (interfaces.scheduler), so they are checked
against the registry the caller passes in, never at import time. Every bad value is
refused before anything runs, naming the variable, so a typo cannot leave a job silently
unscheduled or running every few seconds.

- COMPLIANCE_SCHEDULER_JOBS: comma list of the jobs to run (default: every registered job);
- COMPLIANCE_SCHEDULE_<JOB>: a job's interval, 90s, 5m, 1h, 1d or 1h30m (default: the job's);
- COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS: the leader's heartbeat and a standby's retry (10).

<JOB> is the job's name upper-cased with '-' as '_' (due-scan: COMPLIANCE_SCHEDULE_DUE_SCAN).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from infrastructure.settings import SettingsError

__all__ = ["HEARTBEAT_VARIABLE", "JOBS_VARIABLE", "SCHEDULE_PREFIX", "ScheduleSettings",
           "format_interval", "interval_variable", "load_schedule_settings", "parse_interval"]

JOBS_VARIABLE = "COMPLIANCE_SCHEDULER_JOBS"
HEARTBEAT_VARIABLE = "COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS"
SCHEDULE_PREFIX = "COMPLIANCE_SCHEDULE_"
DEFAULT_HEARTBEAT_SECONDS = 10.0
MAX_HEARTBEAT_SECONDS = 3600.0
MAX_INTERVAL = timedelta(days=366)
"""Longer is surely a typo (and a year-long interval never runs in practice)."""

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d{1,9})\s*([smhd])")
_WHOLE = re.compile(r"(?:\d{1,9}\s*[smhd]\s*)+")


@dataclass(frozen=True)
class ScheduleSettings:
    """Which jobs run, each one's interval, and the leader's heartbeat."""

    jobs: tuple[str, ...]
    """The enabled jobs, in the order the registry lists them."""
    intervals: Mapping[str, timedelta]
    """Every known job's interval (enabled or not), so `status` can show them all."""
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS

    def every(self, name: str) -> timedelta:
        return self.intervals[name]

    def enabled(self, name: str) -> bool:
        return name in self.jobs


def interval_variable(job_name: str) -> str:
    return SCHEDULE_PREFIX + job_name.upper().replace("-", "_")


def parse_interval(variable: str, raw: str) -> timedelta:
    """`90s`, `5m`, `1h`, `1d` or a sum such as `1h30m`; positive, at most 366 days."""
    text = raw.strip().lower()
    if text.startswith("-"):
        raise SettingsError(f"{variable}={raw!r}: an interval must be positive, e.g. 5m")
    if not _WHOLE.fullmatch(text):
        raise SettingsError(f"{variable}={raw!r}: expected an interval such as 90s, 5m, 1h, "
                            "1d or 1h30m")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(text))
    if seconds <= 0:
        raise SettingsError(f"{variable}={raw!r}: an interval must be positive, e.g. 5m")
    if seconds > MAX_INTERVAL.total_seconds():
        raise SettingsError(f"{variable}={raw!r}: at most {MAX_INTERVAL.days}d")
    return timedelta(seconds=seconds)


def format_interval(every: timedelta) -> str:
    """The shortest spelling `parse_interval` reads back: 1h30m, 5m, 1d."""
    left = int(every.total_seconds())
    parts = []
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return "".join(parts) or "0s"


def _heartbeat(environ: Mapping[str, str]) -> float:
    raw = environ.get(HEARTBEAT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_HEARTBEAT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{HEARTBEAT_VARIABLE}={raw!r}: expected a number of seconds, "
                            "e.g. 10") from None
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(f"{HEARTBEAT_VARIABLE}={raw!r}: must be positive")
    if value > MAX_HEARTBEAT_SECONDS:
        raise SettingsError(f"{HEARTBEAT_VARIABLE}={raw!r}: at most "
                            f"{MAX_HEARTBEAT_SECONDS:.0f}")
    return value


def load_schedule_settings(environ: Mapping[str, str],
                           known_jobs: Mapping[str, timedelta]) -> ScheduleSettings:
    """`known_jobs`: every registered job's name and default interval, in the order jobs
    run. Refuses (SettingsError, naming the variable) an unknown job in
    COMPLIANCE_SCHEDULER_JOBS, an interval for a job nobody registered (a typo would
    otherwise be ignored), an unparseable or non-positive interval, a bad heartbeat."""
    known = ", ".join(known_jobs) or "none"
    for variable in sorted(environ):
        if variable.startswith(SCHEDULE_PREFIX) and not any(
                variable == interval_variable(name) for name in known_jobs):
            raise SettingsError(f"{variable}={environ[variable]!r}: no job is named "
                                f"{variable.removeprefix(SCHEDULE_PREFIX).lower()!r} "
                                f"(known jobs: {known})")
    intervals = {}
    for name, default in known_jobs.items():
        raw = environ.get(interval_variable(name), "")
        intervals[name] = parse_interval(interval_variable(name), raw) if raw.strip() \
            else default
    raw_jobs = environ.get(JOBS_VARIABLE, "")
    if raw_jobs.strip():
        wanted = [part.strip().lower() for part in raw_jobs.split(",") if part.strip()]
        unknown = [name for name in wanted if name not in known_jobs]
        if unknown:
            raise SettingsError(f"{JOBS_VARIABLE}={raw_jobs!r}: no job is named "
                                f"{', '.join(repr(n) for n in unknown)} (known jobs: {known})")
        jobs = tuple(name for name in known_jobs if name in wanted)
    else:
        jobs = tuple(known_jobs)
    return ScheduleSettings(jobs=jobs, intervals=intervals,
                            heartbeat_seconds=_heartbeat(environ))
