"""An import timed stage by stage as `compliance import` runs it: ours in benchmarks 7-8
and the untimed loading of every store the risk and targeting benchmarks (9-11) read."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from application.ingest.ingestion import ImportReport, Ingestion
from application.ingest.schemas import IngestKind
from bench.common import StageSpec
from bench.ingest_data import columns
from bench.workloads import ACTOR
from infrastructure.csv_files import read_csv_file

MB = 1024 * 1024



@dataclass
class ImportRun:
    """One timed import: its report, its wall time and that time split by stage."""

    report: ImportReport
    seconds: float
    stages: dict[str, float]
    """label -> seconds, in order, summing to `seconds`"""


# Profile stages of reading and validating a file, as every import does.
CSV_FILES = "infrastructure/csv_files.py"
VALIDATION = "application/ingest/validation.py"
READ_STAGES: list[StageSpec] = [
    ("read_csv_file: SHA-256 of the file", [(CSV_FILES, "file_sha256", "cum", 1)]),
    ("read_csv_file: pyarrow CSV parse into text columns",
     [(CSV_FILES, "read_csv_file", "cum", 1), (CSV_FILES, "file_sha256", "cum", -1)]),
]
VALIDATE_STAGES: list[StageSpec] = [
    ("validate: column checks and cross checks (pyarrow compute)",
     [(VALIDATION, "validate", "cum", 1), (VALIDATION, "_duplicates", "cum", -1)]),
    ("validate: duplicate keys within the file (a Python loop over every key)",
     [(VALIDATION, "_duplicates", "cum", 1)]),
]

STAGE_LABELS = {
    "validated": "validate (registered importers, loaded keys, column checks, duplicates)",
    "prepared": "prepare accounts (ImporterAccount.register per new row)",
    "written": "write (ImportBatch event + rows by COPY, one transaction, commit)",
}


def timed_import(ingestion: Ingestion, kind: IngestKind, path: Path,
            advance: Callable[[int], None] | None = None) -> ImportRun:
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
    return ImportRun(report, end - start, stages)

