"""CSV imports from the web page, run as background jobs in this server process so that
a large file shows its progress: the upload is kept in a private temporary folder, a
dry run checks every row (the ingest use case's own validation, nothing loaded), and
only when the analyst confirms does a second run load it, all or nothing, reporting its
stages through the use case's progress callback. The page polls the job.

Jobs live in this process's memory: with several server workers, a browser must come
back to the worker that holds its job (the upload answers 404 elsewhere, never another
user's job). A job is its starter's alone; a finished one is kept an hour at most, and a new
upload replaces its starter's earlier one that was checked but not loaded.

Each bad row is shown with the value the file holds in the bad column, read back from
the parsed file (the use case reports row, column and problem)."""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from application.access import Principal, acting_as
from application.errors import NotFoundError
from application.ingest.ingestion import ImportReport, Ingestion
from application.ingest.ports import CsvFile, RowError
from application.ingest.schemas import SCHEMAS, IngestKind
from domain.errors import DomainError
from infrastructure.csv_files import read_csv_file

log = logging.getLogger("compliance.web")
KEPT_SECONDS = 3600
VALUES_KEPT = 100_000
"""Bad values remembered for the page and its CSV (a file of a million bad rows still
lists every row, column and problem; the value of the first hundred thousand)."""

STAGES = {"validated": "every row checked", "prepared": "new importers prepared",
          "written": "rows written"}


@dataclass
class ImportJob:
    job_id: str
    caller: Principal
    kind: IngestKind
    file_name: str
    folder: Path
    reason: str
    started: float = field(default_factory=time.monotonic)
    phase: str = "dry run"
    stage: str = "waiting"
    done: int = 0
    total: int = 0
    finished: bool = False
    failure: str | None = None
    dry_run: ImportReport | None = None
    loaded: ImportReport | None = None
    values: dict[tuple[int, str], str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.folder / self.file_name

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = STAGES.get(stage, stage), done, total

    def value(self, error: RowError) -> str:
        return self.values.get((error.row, error.column), "")


def bad_values(csv_file: CsvFile, errors: list[RowError]) -> dict[tuple[int, str], str]:
    """What the file holds in each bad row's bad column, or columns for a duplicate key
    ("importer_number,period,..."); nothing for a row that could not be read into
    columns (a wrong number of fields, the header)."""
    table, numbers = csv_file.columns, csv_file.row_numbers
    found: dict[tuple[int, str], str] = {}
    names = set(table.column_names)
    wanted = [e for e in errors[:VALUES_KEPT] if e.column and set(e.column.split(",")) <= names]
    if not wanted or not len(numbers):
        return found
    rows = np.array([e.row for e in wanted], dtype=np.int64)
    index = np.minimum(np.searchsorted(numbers, rows), len(numbers) - 1)
    for error, at in zip(wanted, index.tolist(), strict=True):
        if numbers[at] == error.row:
            values = [table[name][at].as_py() for name in error.column.split(",")]
            found[(error.row, error.column)] = ",".join(
                "" if value is None else str(value) for value in values)
    return found


class ImportJobs:
    def __init__(self) -> None:
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()

    def start(self, ingestion: Ingestion, caller: Principal, kind: IngestKind,
              folder: Path, file_name: str, reason: str) -> ImportJob:
        """The dry run of a file already saved at folder/file_name. It replaces the
        caller's earlier uploads that were checked but not loaded (their files go), so
        one person keeps one waiting file at most."""
        self.sweep()
        job = ImportJob(uuid.uuid4().hex, caller, kind, file_name, folder, reason)
        with self._lock:
            replaced = [j for j in self._jobs.values() if j.caller.actor == caller.actor
                        and j.phase == "dry run" and j.finished]
            for old in replaced:
                del self._jobs[old.job_id]
            self._jobs[job.job_id] = job
        for old in replaced:
            shutil.rmtree(old.folder, ignore_errors=True)
        self._run(job, ingestion, dry_run=True, skip_invalid=False)
        return job

    def load(self, ingestion: Ingestion, job: ImportJob, skip_invalid: bool,
             reason: str) -> None:
        """Load the file the job's dry run checked (once; a second confirm does nothing)."""
        with self._lock:
            if job.phase != "dry run" or not job.finished or job.dry_run is None:
                return
            job.phase, job.finished, job.reason = "load", False, reason
            job.stage, job.done, job.total = "waiting", 0, 0
            job.started = time.monotonic()
        self._run(job, ingestion, dry_run=False, skip_invalid=skip_invalid)

    def get(self, caller: Principal, job_id: str) -> ImportJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.caller.actor != caller.actor:
            raise NotFoundError("import job", job_id[:40])  # another's: as if none
        return job

    def sweep(self) -> None:
        """Forget finished jobs an hour old, and their files."""
        with self._lock:
            old = [j for j in self._jobs.values() if j.elapsed > KEPT_SECONDS and j.finished]
            for job in old:
                del self._jobs[job.job_id]
        for job in old:
            shutil.rmtree(job.folder, ignore_errors=True)

    def _run(self, job: ImportJob, ingestion: Ingestion, *, dry_run: bool,
             skip_invalid: bool) -> None:
        thread = threading.Thread(target=_work, args=(job, ingestion, dry_run, skip_invalid),
                                  name=f"import-{job.job_id[:8]}", daemon=True)
        thread.start()


def _work(job: ImportJob, ingestion: Ingestion, dry_run: bool, skip_invalid: bool) -> None:
    """In its own thread, which does not inherit the request's context: act as the
    caller here, exactly as the API's import does."""
    try:
        with acting_as(job.caller):
            job.stage = "reading the file"
            csv_file = read_csv_file(job.path, SCHEMAS[job.kind](date.min).columns)
            job.stage, job.total = "checking every row", csv_file.rows_read
            report = ingestion.import_file(job.kind, csv_file, actor=job.caller.actor,
                                           skip_invalid=skip_invalid, dry_run=dry_run,
                                           progress=job.progress)
            if dry_run:
                job.values = bad_values(csv_file, report.errors)
                job.dry_run = report
            else:
                job.loaded = report
                log.info("import %s (%s, %s) by %s: %s", report.batch_id, job.kind.value,
                         report.status, job.caller.actor, job.reason)
    except DomainError as refused:
        job.failure = str(refused)
    except Exception:  # the job reports it; the server goes on
        log.exception("import job %s failed", job.job_id)
        job.failure = (f"the import failed inside the server and loaded nothing; quote job "
                       f"{job.job_id} to the operator")
    finally:
        job.finished = True
        nothing_to_load = job.dry_run is not None and job.dry_run.status == "already_imported"
        if not dry_run or job.failure or nothing_to_load:
            shutil.rmtree(job.folder, ignore_errors=True)


JOBS = ImportJobs()

