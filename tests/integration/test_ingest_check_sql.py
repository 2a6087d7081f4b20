"""The ingest rows' digests checked inside PostgreSQL (infrastructure.ingest_check_sql)
give exactly what checking them in Python gives, row by row from the stored values: on
untouched rows (every value type a digest covers: text, integers, dates, booleans, NULL)
and after rows are edited (to non-ASCII text too), added to no batch, added to a batch,
deleted, or have their digest rewritten. On SQLite the Python check runs; both stores name the
same findings."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import IngestKind
from infrastructure.ingest_check_sql import scan_in_database
from infrastructure.ingest_integrity import (
    KEYS,
    IngestIntegrity,
    _scan_rows,
    check_batches,
    digest_columns,
    recorded_batches,
)
from infrastructure.ingest_tables import TABLE_OF_KIND
from infrastructure.sql_tables import SqlTables
from tests.builders import FakeClock, register_importer
from tests.integration.risk_support import load, write_csv

KINDS = ("trade", "samples")


def _loaded(app: ComplianceCases, clock: FakeClock) -> SqlTables:
    today = clock.now.date()
    importers = [register_importer(app, industry="64") for _ in range(3)]
    period = f"{today.year}-{max(1, today.month - 1):02d}"
    day = (today - timedelta(days=1)).isoformat()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        load(app, IngestKind.TRADE, write_csv(directory / "trade.csv", IngestKind.TRADE, [
            [number, period, 10 + i, 20 + i, f"{(i + 1) * 1000}.{i:02d}", "5.00", "64",
             ("VN", "CN", "DE")[i]] for i, number in enumerate(importers)]))
        load(app, IngestKind.SAMPLES, write_csv(directory / "samples.csv", IngestKind.SAMPLES, [
            [f"E{i:04d}", 1 + i % 2, number, day, "6403990000", "VN", f"{100 + i}.50",
             "random" if i % 3 else "targeted", "true" if i % 2 else "false",
             "origin" if i % 2 else "", f"{i}.25" if i % 2 else "0"]
            for i, number in enumerate(importers * 3)]))
    return SqlTables(app.recorder)


def _findings(app: ComplianceCases, tables: SqlTables) -> list[tuple[str, str]]:
    recorded = recorded_batches(app.recorder, tables, KINDS)
    return sorted((f.subject, f.problem) for f in check_batches(tables, recorded, KINDS))


def _both_scans_agree(app: ComplianceCases, tables: SqlTables) -> None:
    """On PostgreSQL, the database's scan and the Python scan of every kind are equal."""
    if not tables.postgres:
        return
    recorded = recorded_batches(app.recorder, tables, KINDS)
    by_id = {batch.batch_id: batch for batch in recorded}
    for kind in KINDS:
        table, names, keys = TABLE_OF_KIND[kind], digest_columns(kind), KEYS[kind]
        in_database = scan_in_database(tables, table, names, keys, list(by_id))
        assert in_database is not None
        in_python = _scan_rows(tables, table, names, keys, by_id)
        assert sorted(in_database.flagged) == sorted(in_python.flagged), kind
        assert in_database.batches == in_python.batches, kind


def _sql(tables: SqlTables, statement: str, params: tuple[object, ...] = ()) -> None:
    with tables.transaction() as cursor:
        tables.execute_in(cursor, statement, params)


SAMPLE_COLUMNS = ("batch_id, entry_number, line, importer_number, exam_date, hs_code, "
                  "origin_country, entered_value_cents, selection, discrepancy, "
                  "discrepancy_type, revenue_loss_cents, row_digest")
TAMPERING: dict[str, Callable[[SqlTables], None]] = {
    "a value edited": lambda t: _sql(
        t, f"UPDATE {t.name('compliance_samples')} SET discrepancy_type = 'value' "
           "WHERE entry_number = ?", ("E0001",)),
    "a NULL made empty": lambda t: _sql(
        t, f"UPDATE {t.name('compliance_samples')} SET discrepancy_type = '' "
           "WHERE entry_number = ?", ("E0000",)),
    "a row added to no batch": lambda t: _sql(
        t, f"INSERT INTO {t.name('compliance_samples')} ({SAMPLE_COLUMNS}) SELECT "
           "'no-such-batch', 'FORGED1', line, importer_number, exam_date, hs_code, "
           "origin_country, entered_value_cents, selection, discrepancy, discrepancy_type, "
           f"revenue_loss_cents, row_digest FROM {t.name('compliance_samples')} "
           "WHERE entry_number = ?", ("E0002",)),
    "a row added to a batch": lambda t: _sql(
        t, f"INSERT INTO {t.name('compliance_samples')} ({SAMPLE_COLUMNS}) SELECT "
           "batch_id, 'FORGED2', line, importer_number, exam_date, hs_code, "
           "origin_country, entered_value_cents, selection, discrepancy, discrepancy_type, "
           f"revenue_loss_cents, row_digest FROM {t.name('compliance_samples')} "
           "WHERE entry_number = ?", ("E0002",)),
    "a key edited to non-ASCII text": lambda t: _sql(
        t, f"UPDATE {t.name('compliance_samples')} SET entry_number = ? "
           "WHERE entry_number = ?", ("Ünïcødé-1", "E0003")),
    "a row deleted": lambda t: _sql(
        t, f"DELETE FROM {t.name('trade_activity')} WHERE origin_country = ?", ("CN",)),
    "a digest rewritten": lambda t: _sql(
        t, f"UPDATE {t.name('trade_activity')} SET row_digest = ? WHERE origin_country = ?",
        ("0" * 32, "DE")),
}


def test_untouched_rows_give_no_finding_either_way(
        app: ComplianceCases, clock: FakeClock) -> None:
    tables = _loaded(app, clock)

    _both_scans_agree(app, tables)
    assert _findings(app, tables) == []
    IngestIntegrity(app.recorder).require_intact(KINDS)


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_tampered_rows_are_named_alike_either_way(
        app: ComplianceCases, clock: FakeClock, tampering: str) -> None:
    tables = _loaded(app, clock)

    TAMPERING[tampering](tables)

    _both_scans_agree(app, tables)
    found = _findings(app, tables)
    assert found, tampering
    if tampering in ("a value edited", "a NULL made empty", "a key edited to non-ASCII text"):
        assert any("differs from the row imported" in problem for _, problem in found)
    if tampering == "a row added to no batch":
        assert any("entry_number=FORGED1" in problem and "no recorded import batch"
                   in problem for _, problem in found)
