"""A view: tables in the events database, kept current from the notification log.

A view states, once, what each domain event does to its rows, in the vocabulary of
projections.rows. The live path reads that as SQL statements (a small dialect both SQLite
and PostgreSQL accept: `?` placeholders, `{table}` names, INSERT ... ON CONFLICT); the
statements of a batch of events and the view's tracking record are written in one
transaction, so every event is applied exactly once, even across crashes. A rebuild reads
the same rules as changes to rows held in memory (projections.rebuild).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from projections.rows import Param, Rows, TableSchema
from projections.sql_rows import SqlRows, Statement

__all__ = ["CODE_POINTS", "Handler", "Param", "Statement", "View", "ViewUnavailableError",
           "cents", "iso", "iso_time"]

Handler = Callable[[Rows, Any, int], None]
"""What one event (of the handler's class) does to the view's rows: (rows, event,
notification id). A handler reads the event's originator id only as text
(`str(event.originator_id)`, or in an f-string): a rebuild on PostgreSQL hands it the text
the log gives (infrastructure.mapper's `text_ids`), the live path a UUID."""


def cents(amount: Decimal | None) -> int | None:
    """Money in views is whole cents, exact on both stores."""
    return None if amount is None else int((amount * 100).to_integral_value())


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value.isoformat()


_rfc3339 = msgspec.json.Encoder().encode


def iso_time(value: datetime) -> str:
    """`value.isoformat()`, for a time in UTC made from msgspec's RFC 3339 text (written
    in C, `"...Z"`) in half the time: the audit log formats every event's time, a million
    in a rebuild. Any other time is isoformat's own."""
    if value.tzinfo is UTC:
        return _rfc3339(value)[1:-2].decode() + "+00:00"
    return value.isoformat()


CODE_POINTS = "{code_points}"
"""After a text column in a view's index columns, or after TEXT in its table definition:
PostgreSQL orders and indexes that text COLLATE "C", by code point (its default collation
follows the server's locale, an index serves only an ORDER BY of its own collation, and
sorting by the locale's rules costs an index build several times more); SQLite's default
collation (BINARY) is already code-point order. A table's identifiers, and text searched
or paged by exact value (an actor, a case number, an ISO time), are declared so: no
reader wants them in a language's order, and both stores then compare them alike."""


class ViewUnavailableError(RuntimeError):
    """A view cannot apply an event; names the view and the notification id."""


class View(Projection[TrackingRecorder]):
    """Subclasses declare their tables and one handler per event class."""

    tables: ClassVar[dict[str, str]] = {}
    """Table name -> column definitions (the part inside CREATE TABLE (...)); TEXT may be
    followed by CODE_POINTS."""
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """(index name, table, columns) for the queries the view serves. A text column
    followed by CODE_POINTS is indexed in code-point order, the order the paged lists
    sort text in (projections.listing), so that a page reads its rows off the index."""
    retired_indexes: ClassVar[tuple[str, ...]] = ()
    """Indexes earlier versions created that the view no longer declares: dropped."""
    handlers: ClassVar[dict[type[Any], Handler]] = {}
    handles_everything: ClassVar[bool] = False
    """True for a view that must see every event (the audit log): an event it cannot
    decode stops it instead of being filtered out; `on_any_event` handles each event."""
    appended: ClassVar[frozenset[str]] = frozenset()
    """Tables whose rows the view only ever inserts, one per event, and never changes,
    deletes or looks up afterwards: a rebuild writes them to the database as it folds
    instead of holding them (projections.memory_rows refuses anything else on them)."""
    reads: ClassVar[frozenset[str] | None] = None
    """The event fields the view's handlers read, when they are few (the audit log's): a
    rebuild folding only such views decodes just these fields of each event, and a
    handler reading another finds it missing. None: any field."""
    schemas: ClassVar[dict[str, TableSchema]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.topics = () if cls.handles_everything else tuple(
            get_topic(kind) for kind in cls.handlers)
        cls.schemas = {name: TableSchema.parse(name, definition)
                       for name, definition in cls.tables.items()}

    @classmethod
    def handler_for(cls, kind: type[Any]) -> Handler | None:
        """The handler of events of class `kind` (None: the view ignores them)."""
        handler = cls.handlers.get(kind)
        if handler is None and cls.handles_everything:
            return cls.on_any_event
        return handler

    @staticmethod
    def on_any_event(rows: Rows, event: Any, notification_id: int) -> None:
        raise NotImplementedError

    def statements(self, event: DomainEventProtocol[Any], notification_id: int,
                   ) -> list[Statement]:
        """The live path: what the event does to the view's rows, as SQL statements."""
        handler = self.handler_for(type(event))
        if handler is None:
            return []
        rows = self._sql_rows
        rows.statements = []
        handler(rows, event, notification_id)
        return rows.statements

    def __init__(self, view: TrackingRecorder, store: Any = None) -> None:
        super().__init__(view)
        self.store = store
        self._sql_rows = SqlRows(self.schemas)  # one per view instance: a runner's thread

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's one-event path (its ProjectionRunner calls this); our runner
        applies whole batches through the store instead."""
        if self.store is None:
            raise ViewUnavailableError(f"view {self.name} has no store to write to")
        self.store.apply(self, [(domain_event, tracking.notification_id)], tracking)


