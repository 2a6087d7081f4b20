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
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Protocol, overload, runtime_checkable
from uuid import UUID

import numpy as np
import numpy.typing as npt
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


_BYTES = attrgetter("bytes")


def _uuid_bytes(value: UUID | str) -> bytes:
    return value.bytes if isinstance(value, UUID) else UUID(value).bytes


def id_bytes(ids: Sequence[UUID | str]) -> npt.NDArray[np.uint8]:
    """Each id's 16 bytes, a row each (taken by a C loop when all are UUIDs, as a risk
    run's 443,000 are: a function call per id cost it a quarter of a second)."""
    if all(map(UUID.__instancecheck__, ids)):
        joined = b"".join(map(_BYTES, ids))
    else:
        joined = b"".join([_uuid_bytes(each) for each in ids])
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(ids), 16)


@dataclass(frozen=True)
class EventColumns(Sequence[StoredEvent]):
    """Stored events of one topic held as columns, as a bulk commit makes them
    (infrastructure.bulk_events): their rows are spelt without a StoredEvent object per
    event, which is made only if something asks for one (a recorder that is not
    PostgreSQL's, a retry that reads them by index)."""

    ids: Sequence[UUID | str]
    id_bytes: npt.NDArray[np.uint8]
    """(events, 16): each id's bytes."""
    versions: npt.NDArray[np.int64]
    topic: str
    states: pa.BinaryArray

    @classmethod
    def of(cls, events: Sequence[StoredEvent]) -> EventColumns:
        """Events of one topic, made one by one, as columns."""
        topics = {event.topic for event in events}
        if len(topics) > 1:
            raise ValueError(f"events of one topic expected, not {sorted(topics)}")
        ids = [event.originator_id for event in events]
        return cls(ids, id_bytes(ids),
                   np.array([event.originator_version for event in events], dtype=np.int64),
                   topics.pop() if topics else "",
                   pa.array([event.state for event in events], pa.binary()))

    def with_last_state(self, state: bytes) -> EventColumns:
        """The same events, the last with `state` (a commit's signature spliced on)."""
        last = len(self) - 1
        states = pa.concat_arrays([self.states.slice(0, last), pa.array([state], pa.binary())])
        return EventColumns(self.ids, self.id_bytes, self.versions, self.topic, states)

    @cached_property
    def _stored(self) -> list[StoredEvent]:
        topic = self.topic
        return [StoredEvent(each, version, topic, state) for each, version, state
                in zip(self.ids, self.versions.tolist(), self.states.to_pylist(),
                       strict=True)]

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> StoredEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[StoredEvent]: ...

    def __getitem__(self, index: int | slice) -> StoredEvent | Sequence[StoredEvent]:
        if isinstance(index, slice):
            return self._stored[index]
        at = range(len(self))[index]
        return StoredEvent(self.ids[at], int(self.versions[at]), self.topic,
                           self.states[at].as_py())

    def __iter__(self) -> Iterator[StoredEvent]:
        return iter(self._stored)


@runtime_checkable
class ColumnBlocks(Protocol):
    """Events (a Sequence[StoredEvent]) that can also be given as EventColumns, a block at
    a time as they are made: COPY spells those without an object per event."""

    def column_blocks(self) -> Iterator[EventColumns]: ...


def column_rows(columns: EventColumns) -> bytes:
    """`binary_rows` of events held as columns."""
    count = len(columns)
    if not count:
        return b""
    topic = columns.topic.encode()
    return _joined(_fixed(columns.id_bytes, columns.versions), count,
                   pa.scalar(len(topic).to_bytes(4, "big") + topic, pa.binary()),
                   columns.states)


def _fixed(ids: npt.NDArray[np.uint8], versions: npt.NDArray[np.int64] | list[int]
           ) -> npt.NDArray[np.uint8]:
    """Each row's field count, id and version with their lengths: a row of bytes each."""
    count = len(ids)
    fixed = np.empty((count, _FIXED), dtype=np.uint8)
    fixed[:, 0:2] = np.frombuffer(_FIELDS, dtype=np.uint8)
    fixed[:, 2:6] = np.frombuffer(_UUID_LENGTH, dtype=np.uint8)
    fixed[:, 6:22] = ids
    fixed[:, 22:26] = np.frombuffer(_BIGINT_LENGTH, dtype=np.uint8)
    fixed[:, 26:34] = np.asarray(versions, dtype=">i8").view(np.uint8).reshape(count, 8)
    return fixed


def binary_rows(events: Sequence[StoredEvent]) -> bytes:
    """The rows (originator_id uuid, originator_version bigint, topic text, state bytea)
    of `events` in the binary COPY format, without the header or the trailer."""
    count = len(events)
    if not count:
        return b""
    fixed = _fixed(id_bytes([e.originator_id for e in events]),
                   [e.originator_version for e in events])
    spelt: dict[str, bytes] = {}
    topics: list[bytes] = []
    for event in events:  # a save's events share one topic or a few: each spelt once
        topic = spelt.get(event.topic)
        if topic is None:
            encoded = event.topic.encode()
            topic = spelt[event.topic] = len(encoded).to_bytes(4, "big") + encoded
        topics.append(topic)
    return _joined(fixed, count, pa.array(topics, pa.binary()),
                   pa.array([e.state for e in events], pa.binary()))


def _joined(fixed: npt.NDArray[np.uint8], count: int, topics: pa.Array | pa.Scalar,
            states: pa.Array) -> bytes:
    """The rows: each one's fixed part, its topic (with its length) and its state (with
    its length), joined element-wise by pyarrow and taken as one run of bytes."""
    state_offsets = np.frombuffer(states.buffers()[1], dtype=np.int32, count=count + 1,
                                  offset=4 * states.offset)
    lengths = np.diff(state_offsets).astype(">i4")
    joined = pc.binary_join_element_wise(
        _binary(fixed.tobytes(), _FIXED, count), topics,
        _binary(lengths.tobytes(), 4, count), states, pa.scalar(b"", pa.binary()))
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
    """The header, the rows a block at a time as `events` yields them (as EventColumns
    when it can give them so), then the trailer: the whole of a binary COPY's data."""
    yield SIGNATURE
    if isinstance(events, ColumnBlocks):
        for columns in events.column_blocks():
            yield column_rows(columns)
        yield TRAILER
        return
    block: list[StoredEvent] = []
    for event in events:
        block.append(event)
        if len(block) == ROWS_PER_BLOCK:
            yield binary_rows(block)
            block = []
    if block:
        yield binary_rows(block)
    yield TRAILER
