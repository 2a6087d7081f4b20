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

from collections.abc import Collection, Iterator, Sequence
from typing import Any, overload
from uuid import UUID

import msgspec
from eventsourcing.persistence import EventStore, MapperDeserialisationError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from application.event_rows import EventRow, Heads, WriteAlso
from infrastructure.event_store import ChainBrokenError, ChainedEventStore
from infrastructure.hash_chain import (
    GENESIS,
    commit_digest,
    content_hash,
    event_hash,
    with_signature,
)
from infrastructure.mapper import MsgspecMapper, event_state_type

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
    (a COPY sends each chunk while the next is made), each made once and kept: a
    recorder that reads them again (a retry) or by index gets the same events."""

    def __init__(self, rows_path: DirectEventRows, event_class: type,
                 rows: Sequence[EventRow], heads: Heads) -> None:
        self._rows = rows
        self._recorder = rows_path.recorder
        self._made: list[StoredEvent] = []
        self._source = _stored_events(rows_path, event_class, rows, heads)

    def make_all(self) -> None:
        self._make_up_to(len(self._rows))

    def write(self, *, write_also: WriteAlso | None = None) -> int:
        """Through the recorder's own insert (one transaction, with `write_also`)."""
        options: dict[str, Any] = {} if write_also is None else {"write_also": write_also}
        self._recorder.insert_events(self, **options)
        if len(self._made) != len(self._rows):
            raise RuntimeError("the recorder returned without taking every event")
        return len(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> StoredEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[StoredEvent]: ...

    def __getitem__(self, index: int | slice) -> StoredEvent | Sequence[StoredEvent]:
        self._make_up_to(len(self._rows))
        return self._made[index]

    def __iter__(self) -> Iterator[StoredEvent]:
        position, total = 0, len(self._rows)
        while position < total:
            self._make_up_to(position + 1)
            end = len(self._made)
            yield from self._made[position:end]
            position = end

    def _make_up_to(self, count: int) -> None:
        while len(self._made) < count:
            self._made.extend(next(self._source))


def _stored_events(rows_path: DirectEventRows, event_class: type, rows: Sequence[EventRow],
                   heads: Heads) -> Iterator[list[StoredEvent]]:
    """Each row encoded by the mapper, linked to its predecessor and hashed, made a chunk
    at a time; the last one carries the signature over the commit's content hashes (as
    ChainedEventStore.put)."""
    topic = get_topic(event_class)
    fields = _field_names(event_class)
    encode = rows_path.mapper.encode_state
    encode_values = rows_path.mapper.row_encoder(event_class)
    width = len(fields)
    hashes: list[str] = []
    linked: list[tuple[UUID, int]] = []
    batch: dict[UUID, tuple[int, str]] | None = None
    """The rows so far by aggregate, made only when a row's predecessor is not among the
    caller's heads (a second row of one aggregate): most commits never need it."""
    last = len(rows) - 1
    chunk: list[StoredEvent] = []
    for position, (originator_id, version, state) in enumerate(rows):
        if isinstance(state, tuple):
            if len(state) != width:
                raise RowFieldsError(f"a row of {event_class.__qualname__} carries "
                                     f"{len(state)} values for its {width} fields")
        elif state.keys() != fields:
            raise RowFieldsError(_field_difference(event_class, fields, state))
        if version == 1:
            prev = GENESIS
        else:
            head = heads.get(originator_id)
            if head is not None and head[0] == version - 1:
                prev = head[1]
            else:
                if batch is None:
                    batch = {oid: (v, h) for (oid, v), h in zip(linked, hashes, strict=True)}
                prev = rows_path.predecessor_hash(originator_id, version, batch)
        encoded = (encode_values(state, prev) if isinstance(state, tuple)
                   else encode(event_class, state, prev))
        digest = content_hash(topic, originator_id, version, encoded)
        hashes.append(digest)
        if batch is None:
            linked.append((originator_id, version))
        else:
            batch[originator_id] = (version, digest)
        if position == last:
            signature = rows_path.signer.sign(commit_digest(hashes))
            encoded = with_signature(encoded, len(hashes), signature)
        chunk.append(StoredEvent(originator_id, version, topic, encoded))
        if position == 0:
            _check_decodes(rows_path.mapper, chunk[0])
        if len(chunk) == MADE_AT_ONCE or position == last:
            yield chunk
            chunk = []
