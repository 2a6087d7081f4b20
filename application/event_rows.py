"""The port for appending many events at once as rows of their fields, without an event
object (or an aggregate) per event.

A national bulk use case (registering the importer register, a first risk run) appends
hundreds of thousands of events, each to its own aggregate, after deciding them set-wise.
Through the library's machinery every one of them would become an aggregate or an event
object that is then taken apart again to be stored: most of such a run's time. Here the use
case hands over what it decided, one row per event: the aggregate's id, the event's version
and its fields (exactly the names and values the event object would carry, without the id
and version). The infrastructure encodes each row as it encodes an event object (the same
mapper, so the same bytes), links it into the aggregate's hash chain and signs the commit,
all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.persistence import EventStore

EventRow = tuple[UUID, int, "dict[str, Any] | tuple[Any, ...]"]
"""(aggregate id, the event's version, its fields: what `vars(event)` holds without the id
and version, by name, or their values alone in the order `EventRows.fields` gives, which
is faster to make and to encode). Values are those the event object would hold, or their
JSON forms (a money amount as its text, a UUID as its string), which encode to the same
bytes."""

Heads = Mapping[UUID, tuple[int, str]]
"""Aggregate id -> (version, content hash) of its latest stored event: the links of rows
that continue an existing aggregate, read set-wise by the caller."""

WriteAlso = Callable[[Any], None]
"""Writes other tables with the transaction's cursor (see
infrastructure.postgres_recorder.WRITE_ALSO): after the events, or before them while the
store makes them (WRITE_FIRST), so it must not read them."""


@dataclass(frozen=True)
class Same:
    """A field that has one value for every event of a chunk (encoded once)."""

    value: Any


@dataclass(frozen=True)
class ColumnChunk:
    """Some events as one column per field rather than one row per event: the fastest
    form for the store to encode when a use case holds its decisions as arrays.

    `columns` gives each of the event's fields (without the id and version) as `Same`, as
    a pyarrow array with a value per event (texts, which encode as JSON strings, or
    integers), or as a list of values encoded one by one (as a row's would be).

    `prevs`, when the caller read its aggregates' heads set-wise (and passes them as the
    commit's `heads`), is the content hash of each event's predecessor, from those heads:
    the store then links each event to it without looking each one up again."""

    originator_ids: Sequence[UUID]
    versions: Sequence[int]
    columns: Mapping[str, Any]
    prevs: Sequence[str] | None = None

    def __len__(self) -> int:
        return len(self.originator_ids)


@runtime_checkable
class ColumnRows(Protocol):
    """Rows (a Sequence[EventRow]) that can also be given a chunk of columns at a time:
    the store takes this form when it can (the same bytes, without a row per event)."""

    def __len__(self) -> int: ...

    def column_chunks(self) -> Iterator[ColumnChunk]: ...


class PreparedCommit(Protocol):
    """Rows made into stored events (encoded, linked, signed), not yet written."""

    def __len__(self) -> int: ...

    def write(self, *, write_also: WriteAlso | None = None) -> int:
        """Store them in one transaction (with `write_also`); returns how many. A version
        already taken fails the whole commit (eventsourcing IntegrityError): nothing is
        written. May be called on another thread than the one that prepared them."""
        ...


class EventRows(Protocol):
    def append(self, event_class: type, rows: Sequence[EventRow], *,
               heads: Heads | None = None, write_also: WriteAlso | None = None) -> int:
        """Store the rows as events of `event_class`, linked and signed as one commit, with
        `write_also` in the same transaction; returns how many. Each row is made into its
        stored event as the store takes it (a COPY sends each chunk while the next is
        made). A row whose version is already taken fails the whole commit
        (eventsourcing IntegrityError): nothing is written. Refuses rows whose fields are
        not exactly the event's."""
        ...

    def prepare(self, event_class: type, rows: Sequence[EventRow], *,
                heads: Heads | None = None) -> PreparedCommit:
        """The rows made into one commit's stored events now, to be written later: a
        use case that commits batch after batch makes the next while the last is written
        (the writing mostly waits on the database)."""
        ...

    def fields(self, event_class: type) -> tuple[str, ...]:
        """The event's field names in the order a row gives its values in (sorted)."""
        ...

    def existing(self, originator_ids: Collection[UUID]) -> set[UUID]:
        """Those of the ids that have any event stored (one query per thousand ids)."""
        ...


@runtime_checkable
class EventRowStorage(Protocol):
    """An EventStorage (application.ports) that also offers the row path."""

    def event_rows(self, events: EventStore[UUID]) -> EventRows: ...


def rows_from_columns(order: Sequence[str], originator_ids: Iterable[UUID],
                      versions: Iterable[int],
                      columns: Mapping[str, Iterable[Any]]) -> list[EventRow]:
    """Rows of values (in `order`, EventRows.fields) from one column per field, a field
    that is the same for every event given as `itertools.repeat(value)`: the rows are
    zipped in C, without a dict or a tuple built per event in Python."""
    if set(columns) != set(order):
        raise ValueError(f"columns {sorted(columns)} are not the event's fields "
                         f"{sorted(order)}")
    values = zip(*(columns[name] for name in order), strict=False)  # repeats are endless
    return list(zip(originator_ids, versions, values, strict=False))
