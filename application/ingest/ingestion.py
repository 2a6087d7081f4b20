"""Loading one ingest file as one batch: validate everything first, then write the good
rows, the batch's provenance event and (for the register) the new accounts' events in a
single transaction, or nothing at all."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from application.bulk_work import collector_paused
from application.ingest.ports import (
    AccountDirectoryPort,
    BatchRecord,
    CsvFile,
    IngestTablesPort,
    RowError,
)
from application.ingest.row_digest import batch_digest, row_digests
from application.ingest.schemas import SCHEMAS, IngestKind
from application.ingest.validation import ValidatedFile, validate
from application.ports import Authorise, Clock
from domain.import_batch import ImportBatch, import_batch_id
from domain.importer_account import ImporterAccount, Registration

Progress = Callable[[str, int, int], None]
"""(stage, done so far, total) for a progress bar."""


@dataclass(frozen=True)
class AccountChange:
    row: int
    importer_number: str
    differences: dict[str, tuple[str, str]]
    """field -> (registered value, value in the file)"""


@dataclass
class ImportReport:
    kind: str
    file_name: str
    sha256: str
    batch_id: str
    status: str
    """loaded, rejected (nothing loaded), validated (dry run) or already_imported"""
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    errors: list[RowError] = field(default_factory=list)
    rows_unchanged: int = 0
    changes: list[AccountChange] = field(default_factory=list)
    rejects_file: str | None = None


STATISTICS_AFTER_ROWS = 10_000
"""A batch this large has the database's statistics of its table refreshed after it
(IngestTablesPort.refresh_statistics): a national register or a year of trade loaded into
a table planned for as nearly empty made a risk run's reads of it seconds slower."""


class Ingestion:
    def __init__(self, tables: IngestTablesPort, directory: AccountDirectoryPort,
                 save: Callable[..., object], clock: Clock,
                 authorise: Authorise | None = None) -> None:
        """`authorise(actor, "import_file")` refuses an actor who may not import (see
        CaseStore.authorise); None only where nobody is checked (the use case's tests)."""
        self.authorise = authorise
        self.tables = tables
        self.directory = directory
        self.save = save
        self.clock = clock

    @collector_paused
    def import_file(self, kind: IngestKind, csv_file: CsvFile, *, actor: str,
                    skip_invalid: bool = False, dry_run: bool = False,
                    progress: Progress | None = None) -> ImportReport:
        if self.authorise is not None:
            self.authorise(actor, "import_file")
        batch_id = import_batch_id(kind.value, csv_file.sha256)
        previous = self.tables.batch(batch_id)
        if previous is not None:
            return ImportReport(kind.value, csv_file.path.name, csv_file.sha256, str(batch_id),
                                "already_imported", previous.rows_read, 0, 0)
        now = self.clock()
        schema = SCHEMAS[kind](now.date())
        registered = self.directory.registered_facts()
        known = None if kind is IngestKind.ACCOUNTS else pa.array(list(registered), pa.string())
        loaded_keys = None if kind is IngestKind.ACCOUNTS else self.tables.loaded_keys(kind.value)
        checked = validate(csv_file, schema, known_importers=known, loaded_keys=loaded_keys)
        _step(progress, "validated", checked.rows_read)
        report = ImportReport(kind.value, csv_file.path.name, csv_file.sha256, str(batch_id),
                              "validated", checked.rows_read, 0, len(checked.rejected_rows),
                              checked.errors)
        new_accounts: list[ImporterAccount] = []
        if kind is IngestKind.ACCOUNTS:
            new_accounts = self._compare_accounts(checked, registered, report, actor, now,
                                                  progress)
        to_load = len(new_accounts) if kind is IngestKind.ACCOUNTS else checked.rows.num_rows
        if dry_run:
            report.rows_loaded = 0
            return report
        if checked.errors and not skip_invalid:
            report.status = "rejected"
            return report
        if checked.errors and not to_load and not checked.rows.num_rows:
            report.status = "rejected"
            return report
        record = BatchRecord(batch_id, kind.value, csv_file.path.name, csv_file.sha256,
                             checked.rows_read, to_load, report.rows_rejected, actor, now)
        rows = checked.rows if kind is not IngestKind.ACCOUNTS else pa.table({})
        digest = ""
        if kind is not IngestKind.ACCOUNTS:
            digests = row_digests(rows, schema.columns)
            digest = batch_digest(digests)
            rows = rows.append_column("row_digest", pa.array(digests, pa.string()))
        batch = ImportBatch.record(kind.value, record.file_name, record.sha256,
                                   rows_read=record.rows_read, rows_loaded=to_load,
                                   rows_rejected=record.rows_rejected, actor=actor,
                                   reason=f"{kind.value} file {record.file_name} imported",
                                   at=now, rows_digest=digest)
        written = 0

        def on_rows(count: int) -> None:
            nonlocal written
            written += count
            _step(progress, "written", written, checked.rows.num_rows)

        table_kind = None if kind is IngestKind.ACCOUNTS else kind.value
        self.save(*new_accounts, batch, write_also=self.tables.writer(table_kind, rows, record,
                                                                      on_rows))
        if to_load >= STATISTICS_AFTER_ROWS:
            self.tables.refresh_statistics(table_kind)
        report.rows_loaded = to_load
        report.status = "loaded"
        return report

    def _compare_accounts(self, checked: ValidatedFile, registered: Mapping[str, Any],
                          report: ImportReport, actor: str, now: datetime,
                          progress: Progress | None) -> list[ImporterAccount]:
        """New importers become accounts; one already registered with the same facts is
        left alone; one registered with other facts is reported, never overwritten."""
        columns = {name: checked.rows[name].to_pylist() for name in checked.rows.column_names}
        accounts = []
        total = checked.rows.num_rows
        for index in range(total):
            number = columns["importer_number"][index]
            facts = {name: columns[name][index] for name in columns}
            existing = registered.get(number)
            if existing is None:
                registration = Registration(number, facts["legal_name"], facts["district"],
                                            facts["industry"],
                                            _as_date(facts["registered_on"]))
                accounts.append(ImporterAccount.register(
                    registration, actor=actor, reason="registered from the national register",
                    at=now))
            else:
                differences = {
                    name: (str(getattr(existing, name)), str(facts[name]))
                    for name in ("legal_name", "district", "industry", "registered_on")
                    if str(getattr(existing, name)) != str(facts[name])}
                if differences:
                    report.changes.append(AccountChange(int(checked.row_numbers[index]),
                                                        number, differences))
                else:
                    report.rows_unchanged += 1
            if (index + 1) % 10_000 == 0 or index + 1 == total:
                _step(progress, "prepared", index + 1, total)
        return accounts


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _step(progress: Progress | None, stage: str, done: int, total: int | None = None) -> None:
    if progress is not None:
        progress(stage, done, done if total is None else total)
