"""Wall time and peak memory of each step of a long CLI load (the national demo), printed
at the end so whoever ran it sees where the minutes went, and so the figures the README
quotes for PostgreSQL and SQLite come from the same command anyone can run."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepTime:
    name: str
    seconds: float
    peak_rss_mib: float


def peak_rss_mib() -> float:
    """This process's peak resident set so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class StepTimes:
    """Times named steps in order; a step named twice is listed twice."""

    steps: list[StepTime] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.steps.append(StepTime(name, time.perf_counter() - started, peak_rss_mib()))

    def total_seconds(self) -> float:
        return sum(step.seconds for step in self.steps)

    def lines(self) -> list[str]:
        """One line per step and a total, aligned for a terminal."""
        width = max((len(step.name) for step in self.steps), default=0)
        rows = [f"  {step.name:<{width}}  {_duration(step.seconds):>9}  "
                f"peak {step.peak_rss_mib:,.0f} MiB" for step in self.steps]
        rows.append(f"  {'total':<{width}}  {_duration(self.total_seconds()):>9}")
        return rows


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:04.1f} s"
