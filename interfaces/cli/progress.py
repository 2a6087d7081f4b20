"""Progress bars for long work (imports, risk runs, channelling, view catch-up): shown on
a terminal, silent when output is piped."""

from __future__ import annotations

import sys
from collections.abc import Callable

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def progress_bar(*, transient: bool = False) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), disable=not sys.stderr.isatty(), transient=transient)


def stage_reporter(bar: Progress, prefix: str = "") -> Callable[[str, int, int], None]:
    """A `(stage, done, total)` callback that gives each stage its own bar."""
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(f"{prefix}{stage}", total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return report
