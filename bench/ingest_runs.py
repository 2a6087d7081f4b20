"""Timed pieces shared by the ingest, risk and targeting benchmarks (7-11): a result judged
on a wall time, an import timed stage by stage as `compliance import` runs it, raw COPYs of
a file, and the small formatting helpers their reports use."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import sql

from application.ingest.ingestion import ImportReport, Ingestion
from application.ingest.schemas import IngestKind
from bench.common import Measure, ProfileSummary, Result, pg_connect
from bench.ingest_data import columns
from bench.workloads import ACTOR
from infrastructure.csv_files import read_csv_file

MB = 1024 * 1024


@dataclass
class TimeTargetResult(Result):
    """A result judged on ours' wall time: `target` is a number of seconds. Its ratio (ours'
    time ÷ the baseline's time) is a diagnostic, not what is judged."""

    @property
    def met(self) -> bool:
        return self.ours.seconds <= self.target


def _median(values: Sequence[float]) -> float:
    return sorted(values)[len(values) // 2]


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _secs(values: Sequence[float]) -> str:
    return ", ".join(f"{value:.2f}s" for value in values)


def _load_fact(at_start: float) -> str:
    return (f"Load average (1 min) at the start and the end of this benchmark: "
            f"{at_start:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (the "
            "machine may be shared; a time target, unlike a ratio, is not corrected for "
            "that).")


@dataclass
class _Import:
    report: ImportReport
    seconds: float
    stages: dict[str, float]
    """label -> seconds, in order, summing to `seconds`"""


STAGE_LABELS = {
    "validated": "validate (registered importers, loaded keys, column checks, duplicates)",
    "prepared": "prepare accounts (ImporterAccount.register per new row)",
    "written": "write (ImportBatch event + rows by COPY, one transaction, commit)",
}


def _import(ingestion: Ingestion, kind: IngestKind, path: Path,
            advance: Callable[[int], None] | None = None) -> _Import:
    """What `compliance import KIND FILE` does, timed stage by stage from the progress
    callback (the time of its last call for each stage)."""
    last: dict[str, float] = {}
    reported: dict[str, int] = {}

    def progress(stage: str, done: int, _total: int) -> None:
        last[stage] = time.perf_counter()
        if advance is not None:
            advance(done - reported.get(stage, 0))
        reported[stage] = done

    start = time.perf_counter()
    csv_file = read_csv_file(path, columns(kind))
    read = time.perf_counter()
    report = ingestion.import_file(kind, csv_file, actor=ACTOR, progress=progress)
    end = time.perf_counter()
    if report.status != "loaded" or report.rows_rejected:
        raise AssertionError(f"import of {path.name}: {report.status}, "
                             f"{report.rows_rejected} rejected: {report.errors[:3]}")
    stages = {"read_csv_file (SHA-256 + pyarrow CSV parse)": read - start}
    before = read
    for stage in ("validated", "prepared"):
        if stage in last:
            stages[STAGE_LABELS[stage]] = last[stage] - before
            before = last[stage]
    label = STAGE_LABELS["written"] if kind is not IngestKind.ACCOUNTS else (
        "save (encode + hash-chain the events, COPY them and the batch row, commit)")
    stages[label] = end - before
    return _Import(report, end - start, stages)


def _copy_file(url: str, table: sql.Composable, names: Sequence[str], path: Path) -> float:
    """Raw COPY ... FROM STDIN (FORMAT csv, HEADER true), streaming the file's bytes."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, HEADER true)").format(
        table, sql.SQL(", ").join(sql.Identifier(name) for name in names))
    with pg_connect(url) as conn:
        start = time.perf_counter()
        with (conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy,
              path.open("rb") as stream):
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                copy.write(chunk)
        return time.perf_counter() - start


def _count(url: str, query: sql.Composed, params: Sequence[Any] = ()) -> Any:
    with pg_connect(url) as conn:
        row = conn.execute(query, tuple(params)).fetchone()
    assert row is not None
    return row[0]


def _stage_measures(stages: dict[str, float], count: int, unit: str, total: float
                    ) -> list[Measure]:
    return [Measure(f"diagnostic: {label}", seconds, count, unit,
                    note=f"{_share(seconds, total)} of ours")
            for label, seconds in stages.items()]


def _profile_share(summary: ProfileSummary, prefix: str) -> float:
    return sum(stage.share for stage in summary.stages if stage.label.startswith(prefix))
