"""Checks stored ingest rows against the digests their signed `ImportBatch` events recorded
(see application.ingest.row_digest): used by `verify` for every batch, and by risk and
channel runs, which refuse to compute from rows that were altered after import."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from application.errors import DamagedInputError
from application.ingest.row_digest import batch_digest, stored_row_digest
from application.ingest.schemas import SCHEMAS, IngestKind
from infrastructure.hash_chain import split_signature
from infrastructure.ingest_check_sql import KindScan, scan_in_database
from infrastructure.ingest_tables import BATCHES, STORED_NAMES, TABLE_OF_KIND
from infrastructure.sql_tables import SqlTables
from infrastructure.verify import IMPORT_BATCH_TOPIC, BatchDigest, Finding

KEYS = {"trade": ("importer_number", "period", "hs_chapter", "origin_country"),
        "samples": ("entry_number", "line"), "entries": ("entry_number",)}
FETCH = 50_000


def digest_columns(kind: str) -> list[str]:
    """The columns a row digest covers, as stored (money columns in cents)."""
    from datetime import date

    columns = SCHEMAS[IngestKind(kind)](date.today()).columns
    return [STORED_NAMES.get(name, name) for name in columns]


def _stream(tables: SqlTables, statement: str) -> Iterator[tuple[Any, ...]]:
    with tables.transaction() as cursor:
        cursor.execute(tables.sql(statement))
        raw = getattr(cursor, "sqlite_cursor", cursor)  # the library wraps SQLite's cursor
        while True:
            chunk = raw.fetchmany(FETCH)
            if not chunk:
                return
            yield from chunk


def _table_exists(tables: SqlTables, table: str) -> bool:
    try:
        tables.rows(f"SELECT 1 FROM {tables.name(table)} LIMIT 1")
    except Exception:
        return False
    return True


def check_batches(tables: SqlTables, recorded: Sequence[BatchDigest],
                  kinds: Sequence[str] | None = None, *,
                  scans_at_once: int = 2) -> list[Finding]:
    """Every stored row of the given kinds (default: the kinds of `recorded`) recomputed:
    rows edited (named by key), rows of no recorded batch (added), and per batch whether
    the row set still gives the recorded digest (rows deleted or added).
    `scans_at_once`: see ingest_check_sql.scan_in_database."""
    by_id = {batch.batch_id: batch for batch in recorded}
    findings: list[Finding] = []
    for kind in kinds or sorted({batch.kind for batch in recorded}):
        if kind not in TABLE_OF_KIND:
            continue
        table = TABLE_OF_KIND[kind]
        if not _table_exists(tables, table):
            continue
        names = digest_columns(kind)
        keys = KEYS[kind]
        scan = (scan_in_database(tables, table, names, keys, list(by_id),
                                 scans_at_once=scans_at_once)
                if tables.postgres else None)
        if scan is None:
            scan = _scan_rows(tables, table, names, keys, by_id)
        for batch_id, key in scan.flagged:
            batch = by_id.get(batch_id)
            subject = _subject(batch, kind, batch_id)
            if batch is None:
                findings.append(Finding(subject, None, f"row {key} belongs to no recorded "
                                        "import batch (added after import)"))
            else:
                findings.append(Finding(subject, None, f"row {key} differs from the row "
                                        "imported (edited after import)"))
        for batch in recorded:
            if batch.kind != kind:
                continue
            rows, digest = scan.batches.get(batch.batch_id, (0, ""))
            if rows < batch.rows_loaded:
                findings.append(Finding(_subject(batch, kind, batch.batch_id), None,
                                        f"{batch.rows_loaded - rows} of its "
                                        f"{batch.rows_loaded} rows deleted after import"))
            elif rows > batch.rows_loaded:
                findings.append(Finding(_subject(batch, kind, batch.batch_id), None,
                                        f"{rows - batch.rows_loaded} row(s) more than "
                                        f"the {batch.rows_loaded} imported (added after "
                                        "import)"))
            elif digest != batch.rows_digest:
                findings.append(Finding(_subject(batch, kind, batch.batch_id), None,
                                        "its rows no longer give the digest recorded at "
                                        "import (rows or their digests altered)"))
    return findings


def _scan_rows(tables: SqlTables, table: str, names: Sequence[str], keys: Sequence[str],
               by_id: dict[str, BatchDigest]) -> KindScan:
    """The rows checked here, one at a time from their stored values (SQLite, or a column
    the database check does not render)."""
    scan = KindScan()
    digests: dict[str, list[str]] = defaultdict(list)
    statement = f"SELECT batch_id, row_digest, {', '.join(names)} FROM {tables.name(table)}"
    for row in _stream(tables, statement):
        batch_id, stored = str(row[0]), str(row[1])
        values = row[2:]
        known = batch_id in by_id
        if not known or stored_row_digest(names, values) != stored:
            key = ", ".join(f"{k}={values[names.index(k)]}" for k in keys)
            scan.flagged.append((batch_id, key))
            if not known:
                continue
        digests[batch_id].append(stored)
    scan.batches = {batch_id: (len(found), batch_digest(found))
                    for batch_id, found in digests.items()}
    return scan


def _subject(batch: BatchDigest | None, kind: str, batch_id: str) -> str:
    if batch is None:
        return f"{kind} rows of unknown batch {batch_id}"
    return f"import batch {batch.file_name} ({kind})"


def recorded_batches(recorder: ApplicationRecorder, tables: SqlTables,
                     kinds: Sequence[str]) -> list[BatchDigest]:
    """The digests recorded in the (signed) ImportBatch events of the batches of `kinds`."""
    found: list[BatchDigest] = []
    marks = ", ".join("?" for _ in kinds)
    ids = [str(row[0]) for row in tables.rows(
        f"SELECT batch_id FROM {tables.name(BATCHES)} WHERE kind IN ({marks})", tuple(kinds))]
    for batch_id in ids:
        for stored in recorder.select_events(UUID(batch_id), limit=1):
            if stored.topic != IMPORT_BATCH_TOPIC:
                continue
            data = msgspec.json.decode(split_signature(stored.state)[0])
            found.append(BatchDigest(batch_id, str(data["kind"]), str(data["file_name"]),
                                     int(data["rows_loaded"]), str(data["rows_digest"])))
    return found


class IngestIntegrity:
    def __init__(self, recorder: ApplicationRecorder, *, scans_at_once: int = 2) -> None:
        """`scans_at_once`: 1 for a caller that computes while the check runs (see
        ingest_check_sql.scan_in_database)."""
        self.recorder = recorder
        self.tables = SqlTables(recorder)
        self.scans_at_once = scans_at_once

    def require_intact(self, kinds: Sequence[str]) -> None:
        recorded = recorded_batches(self.recorder, self.tables, kinds)
        findings = check_batches(self.tables, recorded, kinds,
                                 scans_at_once=self.scans_at_once)
        if findings:
            raise DamagedInputError(findings)

    def checker(self, recorded: list[BatchDigest]) -> list[Finding]:
        return check_batches(self.tables, recorded, sorted(TABLE_OF_KIND))
