"""A large import refreshes PostgreSQL's statistics of the table it filled (ANALYZE), so
that the next run's reads are planned for the rows now there: a national register planned
for as an empty events table made a risk run's join over it take seconds, not
milliseconds. A small one leaves that to autovacuum. SQLite gathers none (its planner
plans these reads without them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.compliance_cases import ComplianceCases
from application.ingest.ingestion import STATISTICS_AFTER_ROWS
from application.ingest.schemas import IngestKind
from infrastructure.sql_tables import SqlTables
from interfaces.analysis_composition import build_ingestion
from tests.e2e.ingest_files import ACCOUNTS_HEADER, SAMPLES_HEADER, write_csv
from tests.integration.test_ingest_atomicity import IMPORTERS, _import, _sample_rows


def _planned_rows(app: ComplianceCases, table: str) -> float | None:
    """What PostgreSQL's planner believes the table holds (-1: never analysed or
    vacuumed); on SQLite, None while no statistics were gathered (none ever are)."""
    tables = SqlTables(app.recorder)
    if not tables.postgres:
        assert not tables.rows("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        return None
    return float(tables.rows("SELECT reltuples FROM pg_class WHERE oid = ?::regclass",
                             (tables.name(table),))[0][0])


def test_a_large_import_leaves_its_table_planned_for_its_rows(
        app: ComplianceCases, tmp_path: Path) -> None:
    postgres = SqlTables(app.recorder).postgres
    ingestion = build_ingestion(app)
    accounts = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER,
                         [(number, f"Importer {number}", "11", "61", "2020-01-15")
                          for number in IMPORTERS])
    _import(ingestion, IngestKind.ACCOUNTS, accounts)
    small = write_csv(tmp_path / "few.csv", SAMPLES_HEADER, _sample_rows(range(1, 11)))
    assert _import(ingestion, IngestKind.SAMPLES, small).rows_loaded == 20
    assert _planned_rows(app, "compliance_samples") == (-1 if postgres else None)
    entries = range(100, 100 + STATISTICS_AFTER_ROWS // 2 + 1)
    large = write_csv(tmp_path / "many.csv", SAMPLES_HEADER, _sample_rows(entries))
    loaded = _import(ingestion, IngestKind.SAMPLES, large).rows_loaded
    assert loaded >= STATISTICS_AFTER_ROWS
    assert _planned_rows(app, "compliance_samples") == (
        pytest.approx(loaded + 20, rel=0.05) if postgres else None)
