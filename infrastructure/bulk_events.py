"""Events appended as rows of their fields (application.event_rows): the bulk path of
national runs, with the guarantees of a save.

For each row this does what ChainedEventStore.put does for an event object, with the same
parts: the event's state is encoded by the application's own mapper
(MsgspecMapper.encode_state, so the bytes are those of the event object), it is linked to
its aggregate's previous event (`_prev`: the genesis hash for a version 1, else the head the
caller read set-wise, else the head read from the store), the commit's content hashes are
signed and the signature spliced onto its last event, and the rows go to the recorder's
public insert_events, in one transaction with whatever the caller writes beside them. What
it skips is only the per-event object machinery (an aggregate or event object built, then
taken apart again by vars()).

The head cache of the event store is left alone: it is keyed by version, so an entry older
than a row written here is simply a miss, and the next save of that aggregate reads its head.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import repeat
from typing import Any, overload
from uuid import UUID

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from eventsourcing.persistence import EventStore, MapperDeserialisationError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from application.event_rows import (
    ColumnChunk,
    ColumnRows,
    EventRow,
    Heads,
    Same,
    WriteAlso,
    rows_from_columns,
)
from infrastructure.block_maker import BlockMaker, MadeBlocks
from infrastructure.column_events import column_hashes, column_states, uuid_texts_of
from infrastructure.copy_rows import EventColumns, id_bytes
from infrastructure.event_store import ChainBrokenError, ChainedEventStore
from infrastructure.hash_chain import (
    GENESIS,
    commit_digest,
    content_hash,
    event_hash,
    with_signature,
)
from infrastructure.mapper import MsgspecMapper, event_state_type
from infrastructure.postgres_recorder import WRITE_FIRST, LockingFunctionApplicationRecorder

EXISTING_CHUNK = 1000
"""Ids per `existing` query (well under SQLite's limit on bound parameters)."""
MADE_AT_ONCE = 1000
"""Stored events made per step while the recorder takes them: the COPY sends each chunk
while the next is made, and the per-event hand-over costs little."""


class RowFieldsError(TypeError):
    """A row's fields are not those of its event class: a programming error, refused
    before anything is written."""


class DirectEventRows:
    """Fills application.event_rows.EventRows with the application's event store's own
    mapper, signer and recorder."""

    def __init__(self, events: EventStore[UUID]) -> None:
        if not isinstance(events, ChainedEventStore):
            raise TypeError(f"event rows need the chained event store, not "
                            f"{type(events).__name__}")
        self.mapper = events.chained_mapper
        self.recorder = events.recorder
        self.signer = events.signer

    def append(self, event_class: type, rows: Sequence[EventRow], *,
               heads: Heads | None = None, write_also: WriteAlso | None = None) -> int:
        return RowCommit(self, event_class, rows, heads or {}).write(write_also=write_also)

    def prepare(self, event_class: type, rows: Sequence[EventRow], *,
                heads: Heads | None = None) -> RowCommit:
        commit = RowCommit(self, event_class, rows, heads or {})
        commit.make_all()
        return commit

    def fields(self, event_class: type) -> tuple[str, ...]:
        return self.mapper.state_fields(event_class)

    def predecessor_hash(self, originator_id: UUID, version: int, batch: Heads) -> str:
        """The predecessor's content hash when the caller's heads lack it: from earlier
        rows of this commit, or read from the store (as ChainedEventStore reads it)."""
        head = batch.get(originator_id)
        if head is not None and head[0] == version - 1:
            return head[1]
        previous = self.recorder.select_events(originator_id, lte=version - 1, desc=True,
                                               limit=1)
        if not previous or previous[0].originator_version != version - 1:
            raise ChainBrokenError(
                f"aggregate {originator_id}: cannot record version {version}: version "
                f"{version - 1} is missing from the store; nothing was written — run "
                "compliance verify")
        found = previous[0]
        return event_hash(found.topic, originator_id, found.originator_version, found.state)

    def existing(self, originator_ids: Collection[UUID]) -> set[UUID]:
        wanted = list(originator_ids)
        found: set[UUID] = set()
        for start in range(0, len(wanted), EXISTING_CHUNK):
            found.update(self._existing(wanted[start:start + EXISTING_CHUNK]))
        return found

    def _existing(self, chunk: list[UUID]) -> list[UUID]:
        """One query: on PostgreSQL with the ids as one array, on SQLite (which stores
        them as 32 hex digits) as bound parameters; version 1 by the primary key."""
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            statement = SQL("SELECT originator_id FROM {} WHERE originator_id = ANY(%s) AND "
                            "originator_version = 1").format(
                Identifier(recorder.datastore.schema, recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, \
                    conn.cursor(row_factory=tuple_row) as cursor:
                cursor.execute(statement, (chunk,))
                return [raw for (raw,) in cursor.fetchall()]
        assert isinstance(recorder, SQLiteApplicationRecorder), type(recorder)
        marks = ", ".join("?" for _ in chunk)
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT originator_id FROM {recorder.events_table_name} WHERE "
                           f"originator_version = 1 AND originator_id IN ({marks})",
                           [aggregate.hex for aggregate in chunk])
            return [UUID(str(raw)) for (raw,) in cursor.fetchall()]


def _field_names(event_class: type) -> set[str]:
    return {field.name for field in msgspec.structs.fields(event_state_type(event_class))}


def _field_difference(event_class: type, fields: set[str],
                      state: dict[str, Any] | tuple[Any, ...]) -> str:
    assert isinstance(state, dict)
    missing = sorted(fields - state.keys())
    extra = sorted(state.keys() - fields)
    return (f"a row of {event_class.__qualname__} must carry exactly the event's fields: "
            f"missing {missing or 'none'}, unknown {extra or 'none'}")


def _check_decodes(mapper: MsgspecMapper, stored: StoredEvent) -> None:
    """The first row of a commit, decoded as its event will be when loaded: a row whose
    values are of the wrong type is refused before the commit, not found at replay."""
    try:
        mapper.to_domain_event(stored)
    except MapperDeserialisationError as error:
        raise RowFieldsError(f"a row of {stored.topic} would not load: {error}") from error


class RowCommit(Sequence[StoredEvent]):
    """The stored events of one commit, made from the rows as the recorder takes them
    (a COPY sends each block while the next is made), each block made once and kept: a
    recorder that reads them again (a retry) or by index gets the same events. The
    blocks are EventColumns: a COPY spells them without an object per event
    (infrastructure.copy_rows), a recorder that iterates gets StoredEvents."""

    def __init__(self, rows_path: DirectEventRows, event_class: type,
                 rows: Sequence[EventRow], heads: Heads) -> None:
        self._rows = rows
        self._recorder = rows_path.recorder
        self._made = MadeBlocks()
        self._source = _stored_events(rows_path, event_class, rows, heads)
        self._maker: BlockMaker | None = None

    def make_all(self) -> None:
        self._make_up_to(len(self._rows))

    def write(self, *, write_also: WriteAlso | None = None) -> int:
        """Through the recorder's own insert (one transaction, with `write_also`). On
        PostgreSQL the other tables go first while a thread makes the events, and the
        events' COPY then takes each block as soon as it is made: the server writes the
        tables and the events while the thread keeps the interpreter (psycopg waits
        without the GIL), where one after the other each would wait for the other."""
        options: dict[str, Any] = {} if write_also is None else {"write_also": write_also}
        if (write_also is not None and self._made.count < len(self._rows)
                and isinstance(self._recorder, LockingFunctionApplicationRecorder)):
            if getattr(write_also, "after_events", False):
                # Tables that must follow the events (a staged swap, which locks what
                # readers read until commit): still made on a thread meanwhile.
                options[WRITE_FIRST] = self._while_made(_nothing)
            else:
                options = {WRITE_FIRST: self._while_made(write_also)}
        try:
            self._recorder.insert_events(self, **options)
        finally:
            maker, self._maker = self._maker, None
            if maker is not None:
                maker.stop()
        if self._made.count != len(self._rows):
            raise RuntimeError("the recorder returned without taking every event")
        return len(self._rows)

    def _while_made(self, write: WriteAlso) -> WriteAlso:
        """`write`, with the events made on a thread from its start on (the recorder
        takes each block once made; see _block)."""
        def write_while_made(cursor: Any) -> None:
            if self._maker is None:
                self._maker = BlockMaker(self._source, self._made)
            write(cursor)
        return write_while_made

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> StoredEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[StoredEvent]: ...

    def __getitem__(self, index: int | slice) -> StoredEvent | Sequence[StoredEvent]:
        self._make_up_to(len(self._rows))
        if isinstance(index, slice):
            return [event for block in self._made.blocks for event in block][index]
        position = range(len(self._rows))[index]
        block = bisect_right(self._made.starts, position) - 1
        return self._made.blocks[block][position - self._made.starts[block]]

    def __iter__(self) -> Iterator[StoredEvent]:
        for block in self.column_blocks():
            yield from block

    def column_blocks(self) -> Iterator[EventColumns]:
        """The events a block at a time, each as soon as it is made
        (infrastructure.copy_rows.ColumnBlocks)."""
        index = 0
        while (block := self._block(index)) is not None:
            yield block
            index += 1

    def _block(self, index: int) -> EventColumns | None:
        """The `index`th block, made by this thread or waited for from the maker thread
        (its error raised here, inside the recorder's transaction); None after the
        last."""
        if self._maker is not None:
            return self._maker.wait_for_block(index)
        made = self._made
        while len(made.blocks) <= index and made.count < len(self._rows):
            made.add(next(self._source))
        return made.blocks[index] if index < len(made.blocks) else None

    def _make_up_to(self, count: int) -> None:
        """At least `count` events made: by this thread, or, while a maker thread runs,
        waited for from it."""
        if self._maker is not None:
            self._maker.wait_for(count)
            return
        while self._made.count < count:
            self._made.add(next(self._source))


def _nothing(_cursor: Any) -> None:
    """No table to write before the events."""


def _stored_events(rows_path: DirectEventRows, event_class: type, rows: Sequence[EventRow],
                   heads: Heads) -> Iterator[EventColumns]:
    """Each row encoded by the mapper, linked to its predecessor and hashed, made a chunk
    at a time; the last one carries the signature over the commit's content hashes (as
    ChainedEventStore.put). Rows that come as chunks of columns (ColumnRows) are encoded
    a chunk at a time (infrastructure.column_events) when the mapper allows."""
    chain = _Chain(rows_path, heads)
    if isinstance(rows, ColumnRows) and _columns_encodable(rows_path.mapper, event_class):
        chunks: Iterator[EventColumns] = _from_columns(rows_path, event_class, rows, chain)
    else:
        chunks = _from_rows(rows_path, event_class, rows, chain)
    last: EventColumns | None = None
    first = True
    for chunk in chunks:
        if first and len(chunk):
            _check_decodes(rows_path.mapper, chunk[0])
            first = False
        if last is not None:
            yield last
        last = chunk
    if last is not None and len(last):
        signature = rows_path.signer.sign(commit_digest(chain.hashes))
        final = last.states[len(last) - 1].as_py()
        yield last.with_last_state(with_signature(final, len(chain.hashes), signature))


def _columns_encodable(mapper: MsgspecMapper, event_class: type) -> bool:
    """Column-wise encoding gives the row encoder's bytes only when that encoder is the
    plain JSON of the fields (see MsgspecMapper.row_encoder)."""
    return (not mapper.compressor and not mapper.cipher
            and getattr(event_class, "class_version", 1) == 1)


class _Chain:
    """The commit's links: each event's predecessor hash (the genesis hash for a version
    1, else the head the caller read set-wise, else an earlier event of this commit or the
    store's head) and the content hashes so far."""

    def __init__(self, rows_path: DirectEventRows, heads: Heads) -> None:
        self.rows_path = rows_path
        self.heads = heads
        self.hashes: list[str] = []
        self.linked: list[tuple[Sequence[UUID], Sequence[int]]] = []
        """The (ids, versions) of the events so far, a chunk at a time."""
        self.batch: dict[UUID, tuple[int, str]] | None = None
        """The events so far by aggregate, made only when an event's predecessor is not
        among the caller's heads (a second event of one aggregate): most commits never
        need it."""

    def prev(self, originator_id: UUID, version: int) -> str:
        if version == 1:
            return GENESIS
        head = self.heads.get(originator_id)
        if head is not None and head[0] == version - 1:
            return head[1]
        if self.batch is None:
            linked = ((oid, v) for ids, versions in self.linked
                      for oid, v in zip(ids, versions, strict=True))
            self.batch = {oid: (v, h) for (oid, v), h in zip(linked, self.hashes,
                                                               strict=True)}
        return self.rows_path.predecessor_hash(originator_id, version, self.batch)

    def prevs(self, ids: list[UUID], versions: list[int]) -> list[str]:
        """`prev` of each (none of them among the others): the caller's heads looked up
        for all at once, the rest one by one."""
        get = self.heads.get
        found = [get(each) for each in ids]
        return [head[1] if head is not None and head[0] == version - 1
                else self.prev(each, version)
                for each, version, head in zip(ids, versions, found, strict=True)]

    def extend(self, ids: list[UUID], versions: list[int], hashes: list[str]) -> None:
        self.hashes.extend(hashes)
        if self.batch is None:
            self.linked.append((ids, versions))
        else:
            self.batch.update(zip(ids, zip(versions, hashes, strict=True), strict=True))

    def add(self, originator_id: UUID, version: int, digest: str) -> None:
        self.hashes.append(digest)
        if self.batch is None:
            self.linked.append(((originator_id,), (version,)))
        else:
            self.batch[originator_id] = (version, digest)


def _from_rows(rows_path: DirectEventRows, event_class: type, rows: Iterable[EventRow],
               chain: _Chain) -> Iterator[EventColumns]:
    topic = get_topic(event_class)
    fields = _field_names(event_class)
    encode = rows_path.mapper.encode_state
    encode_values = rows_path.mapper.row_encoder(event_class)
    width = len(fields)
    chunk: list[StoredEvent] = []
    for originator_id, version, state in rows:
        if isinstance(state, tuple):
            if len(state) != width:
                raise RowFieldsError(f"a row of {event_class.__qualname__} carries "
                                     f"{len(state)} values for its {width} fields")
        elif state.keys() != fields:
            raise RowFieldsError(_field_difference(event_class, fields, state))
        prev = chain.prev(originator_id, version)
        encoded = (encode_values(state, prev) if isinstance(state, tuple)
                   else encode(event_class, state, prev))
        chain.add(originator_id, version, content_hash(topic, originator_id, version,
                                                      encoded))
        chunk.append(StoredEvent(originator_id, version, topic, encoded))
        if len(chunk) == MADE_AT_ONCE:
            yield EventColumns.of(chunk)
            chunk = []
    if chunk:
        yield EventColumns.of(chunk)


def _from_columns(rows_path: DirectEventRows, event_class: type, rows: ColumnRows,
                  chain: _Chain) -> Iterator[EventColumns]:
    """A chunk of columns at a time; a chunk in which an aggregate has two events (the
    second linked to the first) is encoded row by row."""
    topic = get_topic(event_class)
    mapper = rows_path.mapper
    order = mapper.state_fields(event_class)
    for chunk in rows.column_chunks():
        if set(chunk.columns) != set(order):
            raise RowFieldsError(f"columns {sorted(chunk.columns)} are not the fields "
                                 f"{sorted(order)} of {event_class.__qualname__}")
        ids, versions = list(chunk.originator_ids), list(chunk.versions)
        raw = id_bytes(ids)
        texts = uuid_texts_of(raw)
        if pc.count_distinct(texts).as_py() != len(ids):
            yield from _from_rows(rows_path, event_class, _as_rows(chunk, order), chain)
            continue
        prevs = chain.prevs(ids, versions) if chunk.prevs is None else list(chunk.prevs)
        if len(prevs) != len(ids):
            raise RowFieldsError(f"a chunk of {len(ids)} events carries {len(prevs)} "
                                 "predecessor hashes")
        states = column_states(chunk, order, prevs)
        if isinstance(states, pa.ChunkedArray):
            states = states.combine_chunks()
        made = EventColumns(ids, raw, np.array(versions, dtype=np.int64), topic, states)
        if len(made):
            check_chunk(mapper, made[0], prevs[0])
        chain.extend(ids, versions, column_hashes(topic, texts, versions, states))
        yield made


def _as_rows(chunk: ColumnChunk, order: Sequence[str]) -> list[EventRow]:
    columns = {name: (repeat(value.value) if isinstance(value, Same)
                      else value.to_pylist() if isinstance(value, pa.Array | pa.ChunkedArray)
                      else value) for name, value in chunk.columns.items()}
    return rows_from_columns(order, chunk.originator_ids, chunk.versions, columns)


def check_chunk(mapper: MsgspecMapper, stored: StoredEvent, prev: str) -> None:
    """A chunk's first event as the mapper stores the event object it decodes to: the
    column-wise encoding must give the bytes of the event-object path."""
    _check_decodes(mapper, stored)
    again = mapper.to_stored_event(mapper.to_domain_event(stored), prev_hash=prev).state
    if again != stored.state:
        raise RowFieldsError(f"a column-wise {stored.topic} differs from its event "
                             f"object's encoding: {stored.state!r} != {again!r}")
