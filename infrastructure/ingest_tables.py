"""The append-only ingestion tables: trade activity and compliance-measurement samples,
every row tagged with the batch that loaded it, and one row per batch with its provenance.

Money is stored as integer cents (exact in both databases, and sums stay exact).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
import pyarrow as pa

from application.ingest.ports import BatchRecord
from infrastructure.sql_tables import SqlTables

BATCHES = "ingest_batches"
TABLE_OF_KIND = {"trade": "trade_activity", "samples": "compliance_samples",
                 "entries": "entries"}
KEY_COLUMNS = {"trade": ("importer_number", "period", "hs_chapter", "origin_country"),
               "samples": ("entry_number", "CAST(line AS TEXT)"),
               "entries": ("entry_number",)}
STORED_NAMES = {"entered_value": "entered_value_cents", "duty_paid": "duty_paid_cents",
                "revenue_loss": "revenue_loss_cents", "duty": "duty_cents"}


def _ddl(postgres: bool) -> list[str]:
    date_type = "DATE" if postgres else "TEXT"
    boolean = "BOOLEAN" if postgres else "INTEGER"
    return [
        f"CREATE TABLE IF NOT EXISTS {{schema}}{BATCHES} ("
        "batch_id TEXT PRIMARY KEY, kind TEXT NOT NULL, file_name TEXT NOT NULL, "
        "sha256 TEXT NOT NULL, rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL, "
        "rows_rejected BIGINT NOT NULL, actor TEXT NOT NULL, loaded_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {schema}trade_activity ("
        "batch_id TEXT NOT NULL, importer_number TEXT NOT NULL, period TEXT NOT NULL, "
        "entries BIGINT NOT NULL, lines BIGINT NOT NULL, "
        "entered_value_cents BIGINT NOT NULL, duty_paid_cents BIGINT NOT NULL, "
        "hs_chapter TEXT NOT NULL, origin_country TEXT NOT NULL, "
        "row_digest TEXT NOT NULL, "
        "PRIMARY KEY (importer_number, period, hs_chapter, origin_country))",
        "CREATE TABLE IF NOT EXISTS {schema}compliance_samples ("
        "batch_id TEXT NOT NULL, entry_number TEXT NOT NULL, line BIGINT NOT NULL, "
        f"importer_number TEXT NOT NULL, exam_date {date_type} NOT NULL, "
        "hs_code TEXT NOT NULL, origin_country TEXT NOT NULL, "
        f"entered_value_cents BIGINT NOT NULL, selection TEXT NOT NULL, "
        f"discrepancy {boolean} NOT NULL, discrepancy_type TEXT, "
        "row_digest TEXT NOT NULL, "
        "revenue_loss_cents BIGINT NOT NULL, PRIMARY KEY (entry_number, line))",
        "CREATE TABLE IF NOT EXISTS {schema}entries ("
        "batch_id TEXT NOT NULL, entry_number TEXT PRIMARY KEY, "
        f"importer_number TEXT NOT NULL, entry_date {date_type} NOT NULL, "
        "district TEXT NOT NULL, hs_code TEXT NOT NULL, origin_country TEXT NOT NULL, "
        "row_digest TEXT NOT NULL, "
        "entered_value_cents BIGINT NOT NULL, duty_cents BIGINT NOT NULL)",
    ]


class IngestTables:
    def __init__(self, tables: SqlTables) -> None:
        self.tables = tables

    @staticmethod
    def create(tables: SqlTables) -> None:
        """Only initialise_store (compliance init/migrate/demo) creates tables."""
        tables.create(_ddl(tables.postgres))

    def batch(self, batch_id: UUID) -> BatchRecord | None:
        found = self.tables.rows(f"SELECT * FROM {self.tables.name(BATCHES)} "
                                 "WHERE batch_id = ?", (str(batch_id),))
        return _batch(found[0]) if found else None

    def batches(self, kind: str | None = None) -> list[BatchRecord]:
        where = " WHERE kind = ?" if kind else ""
        found = self.tables.rows(f"SELECT * FROM {self.tables.name(BATCHES)}{where} "
                                 "ORDER BY loaded_at, batch_id", (kind,) if kind else ())
        return [_batch(row) for row in found]

    def loaded_keys(self, kind: str) -> pa.Array:
        """The keys of every row loaded so far, joined as validation joins them."""
        separator = " || chr(31) || " if self.tables.postgres else " || char(31) || "
        rows = self.tables.rows(f"SELECT {separator.join(KEY_COLUMNS[kind])} FROM "
                                f"{self.tables.name(TABLE_OF_KIND[kind])}")
        return pa.array([row[0] for row in rows], pa.string())

    def refresh_statistics(self, kind: str | None) -> None:
        """After a large batch: statistics of the table it filled (the kind's, or for
        accounts the events table), so that the next run's reads (a risk run's joins
        over every registration and a year of trade) are planned for the rows now there
        (SqlTables.analyse)."""
        self.tables.analyse([TABLE_OF_KIND[kind] if kind is not None
                             else self.tables.events_table])

    def writer(self, kind: str | None, rows: pa.Table, batch: BatchRecord,
               on_rows: Callable[[int], None] | None = None) -> Callable[[Any], None]:
        """Writes the batch's rows and its provenance row in the caller's transaction."""
        def write(cursor: Any) -> None:
            if kind is not None:
                stored = rows.rename_columns([STORED_NAMES.get(name, name)
                                              for name in rows.column_names])
                same = pa.array(np.zeros(stored.num_rows, dtype=np.int32))
                stored = stored.add_column(0, "batch_id", pa.array(
                    [str(batch.batch_id)], pa.string()).take(same))
                self.tables.insert_in(cursor, TABLE_OF_KIND[kind], stored, on_rows)
            self.tables.execute_in(
                cursor, f"INSERT INTO {self.tables.name(BATCHES)} VALUES (?,?,?,?,?,?,?,?,?)",
                (str(batch.batch_id), batch.kind, batch.file_name, batch.sha256,
                 batch.rows_read, batch.rows_loaded, batch.rows_rejected, batch.actor,
                 batch.loaded_at.isoformat()))
        return write


def _batch(row: tuple[Any, ...]) -> BatchRecord:
    return BatchRecord(UUID(str(row[0])), row[1], row[2], row[3], int(row[4]), int(row[5]),
                       int(row[6]), row[7], datetime.fromisoformat(row[8]))
