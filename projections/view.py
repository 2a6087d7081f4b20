"""A view: tables in the events database, kept current from the notification log.

A view turns each domain event into SQL statements (a small dialect both SQLite and
PostgreSQL accept: `?` placeholders, `{table}` names, INSERT ... ON CONFLICT). The statements
of a batch of events and the view's tracking record are written in one transaction, so every
event is applied exactly once, even across crashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

Param = str | int | None


@dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Param, ...] = ()


Handler = Callable[[Any, DomainEventProtocol[Any], int], list[Statement]]


def cents(amount: Decimal | None) -> int | None:
    """Money in views is whole cents, exact on both stores."""
    return None if amount is None else int((amount * 100).to_integral_value())


def iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value.isoformat()


CODE_POINTS = "{code_points}"
"""In a view's index columns, after a text column: PostgreSQL indexes it COLLATE "C" (its
default collation follows the server's locale, and an index serves only an ORDER BY of
its own collation); SQLite's default collation (BINARY) is already code-point order."""


class ViewUnavailableError(RuntimeError):
    """A view cannot apply an event; names the view and the notification id."""


class View(Projection[TrackingRecorder]):
    """Subclasses declare their tables and one handler per event class."""

    tables: ClassVar[dict[str, str]] = {}
    """Table name -> column definitions (the part inside CREATE TABLE (...))."""
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = ()
    """(index name, table, columns) for the queries the view serves. A text column
    followed by CODE_POINTS is indexed in code-point order, the order the paged lists
    sort text in (projections.listing), so that a page reads its rows off the index."""
    retired_indexes: ClassVar[tuple[str, ...]] = ()
    """Indexes earlier versions created that the view no longer declares: dropped."""
    handlers: ClassVar[dict[type[Any], Handler]] = {}
    handles_everything: ClassVar[bool] = False
    """True for a view that must see every event (the audit log): an event it cannot
    decode stops it instead of being filtered out."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.topics = () if cls.handles_everything else tuple(
            get_topic(kind) for kind in cls.handlers)

    def statements(self, event: DomainEventProtocol[Any], notification_id: int,
                   ) -> list[Statement]:
        handler = self.handlers.get(type(event))
        if handler is None:
            if self.handles_everything:
                return self.on_any_event(event, notification_id)
            return []
        return handler(self, event, notification_id)

    def on_any_event(self, event: DomainEventProtocol[Any],
                     notification_id: int) -> list[Statement]:
        raise NotImplementedError

    def __init__(self, view: TrackingRecorder, store: Any = None) -> None:
        super().__init__(view)
        self.store = store

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's one-event path (its ProjectionRunner calls this); our runner
        applies whole batches through the store instead."""
        if self.store is None:
            raise ViewUnavailableError(f"view {self.name} has no store to write to")
        self.store.apply(self, [(domain_event, tracking.notification_id)], tracking)


