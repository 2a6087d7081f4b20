"""Digests of ingested rows, so that bulk data kept outside the event log is covered by it.

Each stored row carries `row_digest`: the first 16 bytes (hex) of SHA-256 over a canonical
encoding of its values in the file's column order (text as is, integers in decimal, dates
as YYYY-MM-DD, booleans as true/false, NULL as U+001E; joined by U+001F, which no value
contains). The batch's `ImportBatch` event records `rows_digest`: SHA-256 over the sorted
row digests, so the digest does not depend on the order a database returns rows in. The
event is signed with the commit, so rows edited, deleted or added later no longer match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

SEPARATOR = "\x1f"
NULL = "\x1e"
BOOLEAN_COLUMNS = frozenset({"discrepancy"})
"""Columns that SQLite stores as 0/1 and PostgreSQL as booleans."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def row_digests(rows: pa.Table, columns: Sequence[str]) -> list[str]:
    """The digest of every row of an ingest file's validated table (vectorised encoding)."""
    if rows.num_rows == 0:
        return []
    texts = []
    for name in columns:
        column = rows[name]
        if pa.types.is_boolean(column.type):
            column = pc.if_else(column, "true", "false")
        texts.append(pc.cast(column, pa.string()))
    joined = pc.binary_join_element_wise(*texts, SEPARATOR, null_handling="replace",
                                         null_replacement=NULL)
    return [_digest(text) for text in joined.to_pylist()]


def render(name: str, value: Any) -> str:
    """One value as stored in either database, in the canonical encoding."""
    if value is None:
        return NULL
    if name in BOOLEAN_COLUMNS or isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def stored_row_digest(names: Sequence[str], values: Sequence[Any]) -> str:
    return _digest(SEPARATOR.join(render(n, v) for n, v in zip(names, values, strict=True)))


def batch_digest(digests: Iterable[str]) -> str:
    total = hashlib.sha256(b"compliance-ledger-rows-v1\x00")
    # The sorted digests' bytes in one update: the same hash as one update per digest.
    total.update(bytes.fromhex("".join(sorted(digests))))
    return total.hexdigest()
