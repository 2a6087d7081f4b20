"""Ingest rows checked against their digests inside PostgreSQL.

Every risk run first recomputes the digest of every trade and sample row it reads (about a
million at national scale; see infrastructure.ingest_integrity). Done in Python that is a
SHA-256 and a string join per row, seconds of the run's own processor time. Here the
database does it, on its own processor, while the run goes on reading and computing: the
row's canonical text (application.ingest.row_digest.render: text as is, integers in
decimal, dates as YYYY-MM-DD, booleans as true/false, NULL as U+001E, joined by U+001F) is
made by SQL per column type, hashed by sha256(), and only what differs comes back: the rows
whose digest no longer matches or whose batch is unknown, and per batch its row count and
the digest of its sorted row digests (row_digest.batch_digest).

Tests hold the two to the same answers (tests/integration/test_ingest_check_sql.py); a
column of a type not rendered here makes the caller check in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from infrastructure.sql_tables import SqlTables

BATCH_DOMAIN = "compliance-ledger-rows-v1"
"""Before the row digests in a batch digest (with a NUL after it): row_digest.batch_digest."""

_TEXT = ("text", "character varying", "character")
_NUMBERS = ("bigint", "integer", "smallint")
_HEX_DIGEST = "length(row_digest) = 32 AND row_digest ~ '^[0-9a-fA-F]*$'"
"""A row digest of 32 hex digits. The length tested apart: PostgreSQL's regular expressions
take several times longer over a bounded repetition ({32}) than over a star, and a national
risk run tests some 900,000 digests."""


@dataclass
class KindScan:
    """What a check of one kind's rows found."""

    flagged: list[tuple[str, str]] = field(default_factory=list)
    """(batch id, the row's key as `name=value, ...`) of each row whose digest no longer
    matches its values or whose batch is none of those recorded."""
    batches: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Recorded batch id -> (rows stored, the digest of their sorted row digests)."""


def _rendered(column: str, kind: str) -> str | None:
    """SQL for a column's canonical text (row_digest.render), or None if not rendered."""
    null = "chr(30)"
    if kind in _TEXT:
        return f"COALESCE({column}::text, {null})"
    if kind in _NUMBERS:
        return f"COALESCE({column}::text, {null})"
    if kind == "date":
        return f"COALESCE(to_char({column}, 'YYYY-MM-DD'), {null})"
    if kind == "boolean":
        return (f"CASE WHEN {column} IS NULL THEN {null} WHEN {column} THEN 'true' "
                "ELSE 'false' END")
    return None


def scan_in_database(tables: SqlTables, table: str, names: Sequence[str],
                     keys: Sequence[str], recorded: Sequence[str], *,
                     scans_at_once: int = 2) -> KindScan | None:
    """The rows of `table` checked in PostgreSQL: `names` the digest columns in order,
    `keys` those that name a row, `recorded` the batch ids with a recorded digest. None
    when a digest column is of a type this does not render. `scans_at_once`: 2 when the
    check is all that runs (a verify), 1 when the caller computes meanwhile (a risk run)
    and needs a processor of its own."""
    types = dict(tables.rows(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ?", (tables.schema, table)))
    parts = [_rendered(name, types.get(name, "")) for name in names]
    if any(part is None for part in parts):
        return None
    text = " || chr(31) || ".join(part for part in parts if part is not None)
    digest = f"left(encode(sha256(convert_to({text}, 'UTF8')), 'hex'), 32)"
    key = ", ".join(f"{k}::text" for k in keys)
    source = tables.name(table)
    prefix = f"convert_to('{BATCH_DOMAIN}', 'UTF8') || '\\x00'::bytea"
    statements = (
        (f"SELECT batch_id, {key} FROM {source} "
         f"WHERE {digest} <> row_digest OR NOT (batch_id = ANY(?))", (list(recorded),)),
        (f"SELECT batch_id, count(*), encode(sha256({prefix} || COALESCE(string_agg("
         f"CASE WHEN {_HEX_DIGEST} THEN decode(row_digest, 'hex') END, "
         f"''::bytea ORDER BY row_digest COLLATE \"C\"), ''::bytea)), 'hex') "
         f"FROM {source} WHERE batch_id = ANY(?) GROUP BY batch_id", (list(recorded),)))
    # Two full scans, each the work of one server process: sent on two connections at
    # once, they take two of the server's processors instead of one after the other.
    with ThreadPoolExecutor(max_workers=scans_at_once,
                            thread_name_prefix="ingest-check") as pool:
        flagged, batches = pool.map(lambda query: tables.rows(*query), statements)
    scan = KindScan()
    for batch_id, *values in flagged:
        named = ", ".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
        scan.flagged.append((str(batch_id), named))
    for batch_id, rows, total in batches:
        scan.batches[str(batch_id)] = (int(rows), str(total))
    return scan
