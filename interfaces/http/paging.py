"""Cursor paging for the lists the views answer whole (the work list, the due items):
`limit` rows a page and a `next_cursor` naming where the next page starts, as the lists
paged in SQL (projections.listing) give them, so every list is paged alike.

A cursor holds the last row's key (the columns the list is ordered by), with a keyed
checksum: a cursor that was cut, mistyped or edited, or that another list gave, is
refused naming `cursor`, never read as a place to start. A row added between two pages
neither repeats nor hides one already passed, as with the lists paged in SQL. The query
itself still reads the whole list (bounded by the caller's districts); paging bounds the
answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from application.checked_cursors import open_cursor, seal_cursor
from domain.errors import InvalidValueError

_KEY = b"compliance-ledger/http-list-cursor"
"""Not a secret (a cursor grants nothing): the checksum only makes an edited cursor fail."""
_VERSION = 1
_MAX = 2048
RESTART = "start again without the cursor parameter"

Row = dict[str, Any]


def _key(row: Row, columns: Sequence[str]) -> list[str]:
    return ["" if row.get(column) is None else str(row[column]) for column in columns]


def encode_cursor(name: str, key: list[str]) -> str:
    return seal_cursor(_KEY, [_VERSION, name, key])


def decode_cursor(name: str, token: str) -> list[str]:
    """The key a cursor of list `name` holds; InvalidValueError naming `cursor` else."""
    shown = token if len(token) <= 60 else token[:57] + "..."
    garbled = InvalidValueError("cursor", shown, "not a cursor this list gave (cut, "
                                f"mistyped or edited); {RESTART}")
    fields = open_cursor(_KEY, token, _MAX)
    if fields is None or len(fields) != 3:
        raise garbled
    version, listed, key = fields
    if version != _VERSION or not isinstance(key, list) or not all(
            isinstance(part, str) for part in key):
        raise garbled
    if listed != name:
        raise InvalidValueError("cursor", shown, f"belongs to another list ({listed}); "
                                f"{RESTART}")
    return key


def page_rows(rows: list[Row], name: str, columns: Sequence[str], limit: int,
              cursor: str | None) -> tuple[list[Row], str | None]:
    """One page of `rows` (already in `columns` order, each key unique): those after the
    cursor, at most `limit`, and the cursor of the next page (None on the last)."""
    after = decode_cursor(name, cursor) if cursor is not None else None
    ordered = sorted(rows, key=lambda row: _key(row, columns))
    if after is not None:
        ordered = [row for row in ordered if _key(row, columns) > after]
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    return page, encode_cursor(name, _key(page[-1], columns))
