"""The shared harness of the benchmarks: the kinds of result a target is judged on, the
statistics and formatting every report uses, summaries of a run's stages and profile, and
the load fact. A benchmark module holds only its workloads and its baseline; what it
measures is reported through these, so that every report reads the same way."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Measure, ProfileSummary, Result

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class TimeTargetResult(Result):
    """A result judged on ours' wall time: `target` is a number of seconds. Its ratio (ours'
    time ÷ the baseline's time) is a diagnostic, not what is judged."""

    @property
    def met(self) -> bool:
        return self.ours.seconds <= self.target


@dataclass
class RateTargetResult(Result):
    """A result judged on ours' throughput: `target` is a number of units per second. Its
    ratio (ours' throughput ÷ the baseline's) is a diagnostic, not what is judged."""

    @property
    def met(self) -> bool:
        return self.ours.rate >= self.target


# -- statistics ------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The middle value, the slower of the two middle ones for an even count: a time that
    was measured, never an average of two, so the report can name the run it comes from."""
    return sorted(values)[len(values) // 2]


def middle(runs: Sequence[Any], seconds: Callable[[Any], float]) -> Any:
    """The run `median` would pick by its `seconds`, so that its stages can be reported."""
    return sorted(runs, key=seconds)[len(runs) // 2]


def which(count: int) -> str:
    """How `median` and `middle` pick, for a measure's note."""
    return f"median of {count}" if count % 2 else f"upper median of {count}"


# -- formatting --------------------------------------------------------------------------------


def pct(value: float) -> str:
    """A share as a whole percentage, as every report prints one."""
    return f"{value:.0%}"


def share(part: float, whole: float) -> str:
    """`part` as a percentage of `whole` ('-' when there is no whole to divide by)."""
    return f"{part / whole:.0%}" if whole else "-"


def secs(values: Sequence[float]) -> str:
    """Every round's time, for a measure's note: the spread is part of the result."""
    return ", ".join(f"{value:.2f}s" for value in values)


def load_fact(at_start: float) -> str:
    """The load average around a benchmark: a time target, unlike a ratio against a
    baseline measured in the same run, is not corrected for a busy machine."""
    return (f"Load average (1 min) at the start and the end of this benchmark: "
            f"{at_start:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (the "
            "machine may be shared; a time target, unlike a ratio, is not corrected for "
            "that).")


def where(function: Callable[..., Any]) -> str:
    """`path:line` of a production function's definition as this process loaded it (the
    code object's, as the profile names it; the file may have changed since), so that a
    report's limits point at the code they blame."""
    code = function.__code__
    path = Path(code.co_filename).resolve()
    relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{relative}:{code.co_firstlineno}"


def line_of(function: Callable[..., Any], text: str) -> str:
    """`path:line` of the first line of `function` containing `text` (its definition when
    no line does), for a limits paragraph that blames one line. Read from the source file,
    so call it at import time, when the file is the one just loaded."""
    lines, first = inspect.getsourcelines(function)
    offset = next((index for index, line in enumerate(lines) if text in line), 0)
    return f"{where(function).rsplit(':', 1)[0]}:{first + offset}"


# -- stages and profiles -------------------------------------------------------------------


def stage_measures(stages: dict[str, float], count: int, unit: str, total: float
                   ) -> list[Measure]:
    """A run's stages (label -> seconds, from its progress callback) as diagnostics."""
    return [Measure(f"diagnostic: {label}", seconds, count, unit,
                    note=f"{share(seconds, total)} of ours")
            for label, seconds in stages.items()]


def stage_summary(result: Result, count: int = 3) -> str:
    """The `count` largest stages of a result's profile, for its limits paragraph."""
    if result.profile is None:
        return ""
    stages = sorted(result.profile.stages, key=lambda stage: stage.share, reverse=True)
    return "; ".join(f"{stage.label} {pct(stage.share)}" for stage in stages[:count])


def profile_share(summary: ProfileSummary, prefix: str) -> float:
    """The share of the profile in the stages whose label starts with `prefix`."""
    return sum(stage.share for stage in summary.stages if stage.label.startswith(prefix))


def profile_seconds(summary: ProfileSummary, prefix: str) -> float:
    """The seconds of the profile in the stages whose label starts with `prefix`."""
    return sum(stage.seconds for stage in summary.stages if stage.label.startswith(prefix))
