"""Stored events spelt as PostgreSQL's binary COPY rows a chunk at a time, not a row at a
time.

psycopg's `write_row` formats each row in Python (a dumper per value, a buffer appended
per field): for 443,000 RiskAssessed events that is seconds of interpreter time on the
thread that sends the COPY, time the thread making the next events waits for the same
interpreter. The binary format is simple enough to lay out column-wise instead: per row
a field count, then each field as its length and its bytes (uuid: 16 bytes, bigint: 8
bytes big-endian, text and bytea: their bytes). Here the fixed-width part of a chunk's
rows is one numpy byte matrix and pyarrow joins it with the topics and states element
by element, so Python touches each event only to take its four attributes.

The bytes are those `write_row` sends (tests/integration/test_copy_rows.py compares them
and loads both).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from uuid import UUID

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from eventsourcing.persistence import StoredEvent

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
"""The binary COPY header: the signature, no flags, no header extension."""
TRAILER = b"\xff\xff"
"""The binary COPY trailer: a field count of -1."""
ROWS_PER_BLOCK = 1000
"""Rows spelt per block: large enough that the per-block work is nothing, small enough
that a block is sent while the events after it are still being made."""

_FIELDS = (4).to_bytes(2, "big")
_UUID_LENGTH = (16).to_bytes(4, "big")
_BIGINT_LENGTH = (8).to_bytes(4, "big")
_FIXED = len(_FIELDS) + len(_UUID_LENGTH) + 16 + len(_BIGINT_LENGTH) + 8


def _uuid_bytes(value: UUID | str) -> bytes:
    return (value if isinstance(value, UUID) else UUID(value)).int.to_bytes(16, "big")


def binary_rows(events: Sequence[StoredEvent]) -> bytes:
    """The rows (originator_id uuid, originator_version bigint, topic text, state bytea)
    of `events` in the binary COPY format, without the header or the trailer."""
    count = len(events)
    if not count:
        return b""
    ids = b"".join([_uuid_bytes(e.originator_id) for e in events])
    versions = np.array([e.originator_version for e in events], dtype=">i8")
    fixed = np.empty((count, _FIXED), dtype=np.uint8)
    fixed[:, 0:2] = np.frombuffer(_FIELDS, dtype=np.uint8)
    fixed[:, 2:6] = np.frombuffer(_UUID_LENGTH, dtype=np.uint8)
    fixed[:, 6:22] = np.frombuffer(ids, dtype=np.uint8).reshape(count, 16)
    fixed[:, 22:26] = np.frombuffer(_BIGINT_LENGTH, dtype=np.uint8)
    fixed[:, 26:34] = versions.view(np.uint8).reshape(count, 8)
    spelt: dict[str, bytes] = {}
    topics: list[bytes] = []
    for event in events:  # a save's events share one topic or a few: each spelt once
        topic = spelt.get(event.topic)
        if topic is None:
            encoded = event.topic.encode()
            topic = spelt[event.topic] = len(encoded).to_bytes(4, "big") + encoded
        topics.append(topic)
    states = [e.state for e in events]
    lengths = np.array([len(state) for state in states], dtype=">i4")
    joined = pc.binary_join_element_wise(
        _binary(fixed.tobytes(), _FIXED, count), pa.array(topics, pa.binary()),
        _binary(lengths.tobytes(), 4, count), pa.array(states, pa.binary()),
        pa.scalar(b"", pa.binary()))
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=count + 1,
                            offset=4 * joined.offset)
    data = joined.buffers()[2]
    assert data is not None
    rows: bytes = data[int(offsets[0]):int(offsets[-1])].to_pybytes()
    return rows


def _binary(data: bytes, width: int, count: int) -> pa.Array:
    """`count` values of `width` bytes each, laid end to end in `data`, as a binary array
    over the same bytes (offsets every `width` bytes: no copy)."""
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    return pa.BinaryArray.from_buffers(pa.binary(), count, [None, pa.py_buffer(offsets),
                                                            pa.py_buffer(data)])


def binary_blocks(events: Iterable[StoredEvent]) -> Iterator[bytes]:
    """The header, the rows a block at a time as `events` yields them, then the trailer:
    the whole of a binary COPY's data."""
    yield SIGNATURE
    block: list[StoredEvent] = []
    for event in events:
        block.append(event)
        if len(block) == ROWS_PER_BLOCK:
            yield binary_rows(block)
            block = []
    if block:
        yield binary_rows(block)
    yield TRAILER
