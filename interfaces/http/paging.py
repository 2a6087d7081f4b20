"""Cursor paging for the lists of projections.queries (the work list, the due items):
`limit` rows a page and a `next_cursor` naming where the next page starts, as the lists
paged in SQL (projections.listing) give them, so every list is paged alike.

A cursor holds the last row's key (the columns the list is ordered by), with a keyed
checksum: a cursor that was cut, mistyped or edited, or that another list gave, is
refused naming `cursor`, never read as a place to start. A row added between two pages
neither repeats nor hides one already passed, as with the lists paged in SQL. Each query
reads only the page after the cursor (projections.queries.After: limit + 1 rows per
district queried), and the districts' pages are merged here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from application.checked_cursors import open_cursor, seal_cursor
from domain.errors import InvalidValueError

_KEY = b"compliance-ledger/http-list-cursor"
"""Not a secret (a cursor grants nothing): the checksum only makes an edited cursor fail."""
_VERSION = 2
"""2: the due items' key became (due date, case number, item as stored)."""
_MAX = 2048
RESTART = "start again without the cursor parameter"

Row = dict[str, Any]


def _key(row: Row, columns: Sequence[str]) -> list[str]:
    return ["" if row.get(column) is None else str(row[column]) for column in columns]


def encode_cursor(name: str, key: list[str]) -> str:
    return seal_cursor(_KEY, [_VERSION, name, key])


def decode_cursor(name: str, token: str, length: int | None = None) -> list[str]:
    """The key a cursor of list `name` holds (of `length` values, when given);
    InvalidValueError naming `cursor` else."""
    shown = token if len(token) <= 60 else token[:57] + "..."
    garbled = InvalidValueError("cursor", shown, "not a cursor this list gave (cut, "
                                f"mistyped or edited); {RESTART}")
    fields = open_cursor(_KEY, token, _MAX)
    if fields is None or len(fields) != 3:
        raise garbled
    version, listed, key = fields
    if version != _VERSION or not isinstance(key, list) or not all(
            isinstance(part, str) for part in key) or (length is not None
                                                       and len(key) != length):
        raise garbled
    if listed != name:
        raise InvalidValueError("cursor", shown, f"belongs to another list ({listed}); "
                                f"{RESTART}")
    return key


def page_rows(rows: list[Row], name: str, columns: Sequence[str], limit: int,
              cursor: str | None) -> tuple[list[Row], str | None]:
    """One page of `rows` (keyed by `columns`, each key unique): those after the cursor,
    at most `limit`, and the cursor of the next page (None on the last)."""
    return page_by_key(rows, name, lambda row: _key(row, columns), limit, cursor)


def page_by_key(rows: list[Row], name: str, key: Callable[[Row], list[str]], limit: int,
                cursor: str | None) -> tuple[list[Row], str | None]:
    """One page of `rows` by `key`: those after the cursor, at most `limit`, and the
    cursor of the next page (None on the last). `rows` may be the union of several
    queries each already paged after the cursor (limit + 1 rows each): merged here."""
    after = decode_cursor(name, cursor) if cursor is not None else None
    ordered = sorted(rows, key=key)
    if after is not None:
        ordered = [row for row in ordered if key(row) > after]
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    return page, encode_cursor(name, key(page[-1]))
