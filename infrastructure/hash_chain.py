"""The tamper-evidence chain (scheme 2): linked events, signed commits.

Every stored event's state starts with `{"_prev":"<hash of its predecessor>","_scheme":2,`:
the link to the aggregate's previous event, and the number of the chain scheme the event
was written under. The link alone is a plain SHA-256, which anyone with database access
could recompute after an edit; what they cannot make is the **commit signature**: the last
event of every commit (one `save`, all of whose events are stored in one transaction with
consecutive notification ids) ends with

    ,"~n":<events in the commit>,"~sig":"<Ed25519 signature, 128 hex digits>"}

signed with the ledger's signing key, which lives outside the database, over the content
hashes of all the commit's events (see `commit_digest`). Adding, editing, re-linking or
removing part of a commit therefore needs the key; `verify` checks every commit with the
public key alone. The suffix is spliced onto the encoded state and is not part of the
content hash, so links and seals are computed over the same bytes before and after signing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from uuid import UUID

import msgspec

CHAIN_SCHEME = 2
GENESIS = "0" * 64
PREV_KEY = "_prev"
SCHEME_KEY = "_scheme"
_PREFIX = b'{"' + PREV_KEY.encode() + b'":"'
_SCHEME_MARK = b'","' + SCHEME_KEY.encode() + b'":'
_SIG_HEAD = b',"~sig":"'
_SIG_TAIL_LEN = len(_SIG_HEAD) + 128 + 2  # ,"~sig":"<128 hex>"}
_COUNT_HEAD = b',"~n":'
_COUNT = re.compile(rb',"~n":([0-9]{1,9})$')
_COMMIT_DOMAIN = b"compliance-ledger-commit-v2\x00"


class _PrevOnly(msgspec.Struct, rename={"prev": PREV_KEY}):
    prev: str | None = None


@dataclass(frozen=True)
class CommitSignature:
    """The signature carried by the last event of a commit, and how many events it covers."""

    events: int
    signature: bytes


def split_signature(state: bytes) -> tuple[bytes, CommitSignature | None]:
    """(the content bytes, the commit signature if this event closes a commit)."""
    if len(state) < _SIG_TAIL_LEN + 8 or state[-2:] != b'"}' or \
            state[-_SIG_TAIL_LEN:-_SIG_TAIL_LEN + len(_SIG_HEAD)] != _SIG_HEAD:
        return state, None
    head = state[:-_SIG_TAIL_LEN]
    found = _COUNT.search(head[-20:])
    if found is None:
        return state, None
    try:
        signature = bytes.fromhex(state[-130:-2].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return state, None
    content = head[: len(head) - len(found.group(0))] + b"}"
    return content, CommitSignature(int(found.group(1)), signature)


def with_signature(content: bytes, events: int, signature: bytes) -> bytes:
    """The content bytes with the commit signature spliced in before the closing brace."""
    return (content[:-1] + _COUNT_HEAD + str(events).encode() + _SIG_HEAD
            + signature.hex().encode() + b'"}')


def event_hash(topic: str, originator_id: UUID | str, version: int, state: bytes) -> str:
    """The content hash of a stored event, over its bytes without any commit signature.
    Canonical: fields separated by the ASCII unit separator, which none of them contain."""
    content, _ = split_signature(state)
    return content_hash(topic, originator_id, version, content)


def content_hash(topic: str, originator_id: UUID | str, version: int, content: bytes) -> str:
    return hashlib.sha256(
        f"{topic}\x1f{originator_id}\x1f{version}\x1f".encode() + content).hexdigest()


def commit_digest(content_hashes: list[str]) -> bytes:
    """What a commit signature signs: its events' content hashes, in commit order. Each
    content hash already covers its event's topic, aggregate id, version and link."""
    digest = hashlib.sha256(_COMMIT_DOMAIN)
    digest.update(len(content_hashes).to_bytes(8, "big"))
    for value in content_hashes:
        digest.update(bytes.fromhex(value))
    return digest.digest()


def recorded_prev(state: bytes) -> str | None:
    """The predecessor hash an event's state claims; fast path for the canonical layout."""
    if state[: len(_PREFIX)] == _PREFIX and state[len(_PREFIX) + 64 : len(_PREFIX) + 65] == b'"':
        return state[len(_PREFIX) : len(_PREFIX) + 64].decode()
    try:
        return msgspec.json.decode(state, type=_PrevOnly).prev
    except msgspec.DecodeError:
        return None


def recorded_scheme(state: bytes) -> int | None:
    """The chain scheme an event was written under (None: before schemes were numbered)."""
    start = len(_PREFIX) + 64
    if state[start : start + len(_SCHEME_MARK)] == _SCHEME_MARK:
        end = start + len(_SCHEME_MARK)
        digits = state[end : end + 3].split(b",", 1)[0].split(b"}", 1)[0]
        return int(digits) if digits.isdigit() else None
    return None
