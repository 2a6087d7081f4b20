"""An import writes its rows, its batch's provenance (the ImportBatch event and the
ingest_batches row) and, for the register, the new accounts' events in one transaction:
when the database write fails part-way, none of it is stored, and the same file then
imports as if it had never been tried."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from eventsourcing.persistence import IntegrityError

import infrastructure.sql_tables as sql_tables
from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.ingest.ingestion import ImportReport, Ingestion
from application.ingest.schemas import SCHEMAS, IngestKind
from domain.import_batch import import_batch_id
from infrastructure.csv_files import read_csv_file
from infrastructure.ingest_tables import IngestTables
from infrastructure.sql_tables import SqlTables
from interfaces.analysis_composition import build_ingestion
from tests.e2e.ingest_files import ACCOUNTS_HEADER, SAMPLES_HEADER, TRADE_HEADER, write_csv

ACTOR = "system:import"
IMPORTERS = [f"12-000{n:04d}AA" for n in range(1, 6)]
TABLES = {IngestKind.TRADE: "trade_activity", IngestKind.SAMPLES: "compliance_samples"}


class DiskFullError(RuntimeError):
    """The failure a test injects into the middle of a database write."""


def _trade_rows(months: range) -> list[tuple[str, ...]]:
    # Months of 2025: trade of a month after the clock's (2026-03) is refused.
    return [(number, f"2025-{month:02d}", "2", "3", f"{1000 * month}.50", "12.34", "61", "CN")
            for number in IMPORTERS for month in months]


def _sample_rows(entries: range) -> list[tuple[str, ...]]:
    return [(f"E-{entry}", str(line), IMPORTERS[entry % len(IMPORTERS)], "2026-02-02",
             "610910", "CN", "250.00", "random", "true" if line == 2 else "false",
             "value" if line == 2 else "", "3.50" if line == 2 else "0")
            for entry in entries for line in (1, 2)]


def _import(ingestion: Ingestion, kind: IngestKind, path: Path, **options: Any) -> ImportReport:
    columns = SCHEMAS[kind](ingestion.clock().date()).columns
    return ingestion.import_file(kind, read_csv_file(path, columns), actor=ACTOR, **options)


def _rows(app: ComplianceCases, table: str) -> int:
    tables = SqlTables(app.recorder)
    return int(tables.rows(f"SELECT COUNT(*) FROM {tables.name(table)}")[0][0])


def _last_event(app: ComplianceCases) -> int:
    return app.recorder.max_notification_id() or 0


@pytest.fixture
def ingestion(app: ComplianceCases, tmp_path: Path) -> Ingestion:
    """An ingestion on a store where the importers are registered."""
    ingestion = build_ingestion(app)
    accounts = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER,
                         [(number, f"Importer {number}", "11", "61", "2020-01-15")
                          for number in IMPORTERS])
    assert _import(ingestion, IngestKind.ACCOUNTS, accounts).rows_loaded == len(IMPORTERS)
    return ingestion


@pytest.mark.parametrize(("kind", "rows"), [
    pytest.param(IngestKind.TRADE, _trade_rows(range(1, 5)), id="trade"),
    pytest.param(IngestKind.SAMPLES, _sample_rows(range(1, 11)), id="samples"),
])
def test_a_write_failing_after_the_first_chunk_leaves_nothing_and_the_file_loads_later(
        app: ComplianceCases, ingestion: Ingestion, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, kind: IngestKind, rows: list[tuple[str, ...]]
) -> None:
    header = TRADE_HEADER if kind is IngestKind.TRADE else SAMPLES_HEADER
    path = write_csv(tmp_path / f"{kind.value}.csv", header, rows)
    monkeypatch.setattr(sql_tables, "COPY_CHUNK_ROWS", 7)
    assert isinstance(ingestion.tables, IngestTables)
    tables = ingestion.tables.tables
    insert_in = tables.insert_in
    seen_in_transaction: list[int] = []

    def insert_failing_after_the_first_chunk(cursor: Any, table: str, chunked: pa.Table,
                                             _on_rows: Any = None) -> None:
        def after_chunk(_count: int) -> None:
            tables.execute_in(cursor, f"SELECT COUNT(*) FROM {tables.name(table)}")
            found = cursor.fetchone()
            seen_in_transaction.append(int(next(iter(found.values())) if isinstance(
                found, dict) else found[0]))
            raise DiskFullError("disk full after the first chunk")
        insert_in(cursor, table, chunked, after_chunk)

    monkeypatch.setattr(tables, "insert_in", insert_failing_after_the_first_chunk)
    events = _last_event(app)

    with pytest.raises(DiskFullError):
        _import(ingestion, kind, path)

    assert seen_in_transaction == [7], "the first chunk was written before the failure"
    assert _last_event(app) == events
    assert _rows(app, TABLES[kind]) == 0
    assert _rows(app, "ingest_batches") == 1  # the register's batch only
    assert app.find_aggregate(import_batch_id(kind.value,
                                              read_csv_file(path, header).sha256)) is None

    monkeypatch.undo()
    report = _import(ingestion, kind, path)

    assert (report.status, report.rows_loaded, report.rows_rejected) == (
        "loaded", len(rows), 0)
    assert _rows(app, TABLES[kind]) == len(rows)
    assert _rows(app, "ingest_batches") == 2
    assert _last_event(app) > events


def test_a_register_whose_batch_row_fails_registers_no_importer(
        app: ComplianceCases, ingestion: Ingestion, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    newcomers = [f"13-000{n:04d}BB" for n in range(1, 4)]
    path = write_csv(tmp_path / "more.csv", ACCOUNTS_HEADER,
                     [(number, "Newcomer", "12", "84", "2021-02-03") for number in newcomers])
    original = ingestion.tables.writer

    def failing_writer(*args: Any, **kwargs: Any) -> Any:
        write = original(*args, **kwargs)

        def write_then_fail(cursor: Any) -> None:
            write(cursor)
            raise DiskFullError("disk full at commit")
        return write_then_fail

    monkeypatch.setattr(ingestion.tables, "writer", failing_writer)
    events = _last_event(app)

    with pytest.raises(DiskFullError):
        _import(ingestion, IngestKind.ACCOUNTS, path)

    assert _last_event(app) == events
    assert _rows(app, "ingest_batches") == 1
    for number in newcomers:
        with pytest.raises(NotFoundError):
            app.get_importer(number)

    monkeypatch.undo()
    report = _import(ingestion, IngestKind.ACCOUNTS, path)

    assert (report.status, report.rows_loaded) == ("loaded", 3)
    assert [app.get_importer(number).version for number in newcomers] == [1, 1, 1]
    assert _rows(app, "ingest_batches") == 2


def test_a_constraint_violation_in_the_database_leaves_nothing_of_the_batch(
        app: ComplianceCases, ingestion: Ingestion, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_csv(tmp_path / "january.csv", TRADE_HEADER, _trade_rows(range(1, 2)))
    assert _import(ingestion, IngestKind.TRADE, first).rows_loaded == len(IMPORTERS)
    # February for everyone, and one January row again: validation would refuse it as
    # loaded before, so it is made blind to earlier batches and the primary key fires.
    again = [*_trade_rows(range(2, 3)), _trade_rows(range(1, 2))[2]]
    second = write_csv(tmp_path / "february.csv", TRADE_HEADER, again)
    monkeypatch.setattr(ingestion.tables, "loaded_keys",
                        lambda _kind: pa.array([], pa.string()))
    events = _last_event(app)

    with pytest.raises(IntegrityError):
        _import(ingestion, IngestKind.TRADE, second)

    assert _last_event(app) == events
    assert _rows(app, "trade_activity") == len(IMPORTERS)
    assert _rows(app, "ingest_batches") == 2

    monkeypatch.undo()
    refused = _import(ingestion, IngestKind.TRADE, second)
    assert refused.status == "rejected"
    assert [(e.row, e.reason) for e in refused.errors] == [
        (len(again) + 1, "duplicate key: already loaded by an earlier import")]
    report = _import(ingestion, IngestKind.TRADE, second, skip_invalid=True)

    assert (report.status, report.rows_loaded, report.rows_rejected) == (
        "loaded", len(IMPORTERS), 1)
    assert _rows(app, "trade_activity") == 2 * len(IMPORTERS)
    assert _rows(app, "ingest_batches") == 3
