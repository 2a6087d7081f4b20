"""Stored events as PostgreSQL binary COPY data, a chunk of them at a time.

psycopg's `write_row` encodes one row per Python call: for the 443,000 RiskAssessed events
of a first national risk run that is over a second of the interpreter, taken from the
thread that makes the events. Here a chunk's fixed part of each row (field count, the
aggregate id, the version, the topic and the state's length) is laid out by numpy, and
pyarrow joins each to its state in C: the bytes PostgreSQL receives are those `write_row`
sends for the columns (uuid, int8, text, bytea) of the events table.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from eventsourcing.persistence import StoredEvent

HEADER = b"PGCOPY\n\xff\r\n\0" + b"\0\0\0\0" + b"\0\0\0\0"
"""The binary COPY signature, flags and header extension length."""
TRAILER = b"\xff\xff"
FIELDS = 4


def binary_rows(events: Sequence[StoredEvent]) -> bytes:
    """The rows of `events` (all of one topic) in binary COPY format, without the header
    and trailer: per row the field count, then each field's length and bytes."""
    if not events:
        return b""
    topic = events[0].topic.encode()
    if any(event.topic != events[0].topic for event in events):
        raise ValueError("binary_rows takes the events of one topic")
    count = len(events)
    states = pa.array([event.state for event in events], pa.binary())
    lengths = pc.binary_length(states).to_numpy(zero_copy_only=False).astype(">i4")
    layout = np.dtype([("fields", ">i2"), ("id_length", ">i4"), ("id", "V16"),
                       ("version_length", ">i4"), ("version", ">i8"),
                       ("topic_length", ">i4"), ("topic", f"V{len(topic)}"),
                       ("state_length", ">i4")])
    fixed = np.empty(count, dtype=layout)
    fixed["fields"] = FIELDS
    fixed["id_length"] = 16
    fixed["id"] = np.frombuffer(b"".join([_uuid(event.originator_id).bytes
                                          for event in events]), dtype="V16")
    fixed["version_length"] = 8
    fixed["version"] = [event.originator_version for event in events]
    fixed["topic_length"] = len(topic)
    fixed["topic"] = np.frombuffer(topic, dtype=f"V{len(topic)}")[0]
    fixed["state_length"] = lengths
    prefixes = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(layout.itemsize), count, [None, pa.py_buffer(fixed.tobytes())])
    joined = pc.binary_join_element_wise(prefixes.cast(pa.binary()), states,
                                         pa.scalar(b"", pa.binary()))
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)
    start, end = offsets[joined.offset], offsets[joined.offset + count]
    data: bytes = joined.buffers()[2].to_pybytes()
    return data[start:end]


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
