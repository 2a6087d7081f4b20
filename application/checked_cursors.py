"""Paging cursors with a keyed checksum, shared by every list that pages (the lists paged
in SQL, the work list's own, the HTTP lists the views answer whole): a cursor is the JSON
of where the next page starts, prefixed by a short keyed hash of it, in URL-safe base64.

A cursor grants nothing (the query still applies the caller's scope), so the key is not
a secret: the checksum only makes a cursor that was cut, mistyped, edited or made for
another list fail as unreadable, instead of being read as some other place to start."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

_MAC_BYTES = 8


def seal_cursor(key: bytes, fields: list[Any]) -> str:
    """`fields` (JSON values) as a cursor checked with `key` (one key per kind of list)."""
    body = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_checksum(key, body) + body).decode().rstrip("=")


def open_cursor(key: bytes, token: str, max_length: int) -> list[Any] | None:
    """The fields a cursor sealed with `key` holds; None for anything else (too long,
    not base64, a checksum that does not match, not a JSON list)."""
    if not token.isascii() or len(token) > max_length:
        return None
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_",
                               validate=True)
    except (binascii.Error, ValueError):
        return None
    mac, body = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) < _MAC_BYTES or not hmac.compare_digest(mac, _checksum(key, body)):
        return None
    try:
        fields = json.loads(body)
    except (ValueError, TypeError):
        return None
    return fields if isinstance(fields, list) else None


def _checksum(key: bytes, body: bytes) -> bytes:
    return hashlib.blake2b(body, key=key, digest_size=_MAC_BYTES).digest()
