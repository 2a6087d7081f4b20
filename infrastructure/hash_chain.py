"""The tamper-evidence chain: each stored event carries the SHA-256 of its predecessor.

hash(event) = SHA-256 over a canonical framing of (topic, originator id, version, state),
and the state bytes of event n embed hash(event n-1) under the key "_prev". Editing,
deleting or reordering stored events therefore breaks a link that `verify` names.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

import msgspec

GENESIS = "0" * 64
PREV_KEY = "_prev"
_PREFIX = b'{"' + PREV_KEY.encode() + b'":"'


class _PrevOnly(msgspec.Struct, rename={"prev": PREV_KEY}):
    prev: str | None = None


def event_hash(topic: str, originator_id: UUID | str, version: int, state: bytes) -> str:
    """Canonical: fields separated by the ASCII unit separator, which none of them contain."""
    return hashlib.sha256(
        f"{topic}\x1f{originator_id}\x1f{version}\x1f".encode() + state).hexdigest()


def recorded_prev(state: bytes) -> str | None:
    """The predecessor hash an event's state claims; fast path for the canonical layout."""
    if state[: len(_PREFIX)] == _PREFIX and state[len(_PREFIX) + 64 : len(_PREFIX) + 65] == b'"':
        return state[len(_PREFIX) : len(_PREFIX) + 64].decode()
    try:
        return msgspec.json.decode(state, type=_PrevOnly).prev
    except msgspec.DecodeError:
        return None
