"""Ports the application needs from the outside, as Protocols the composition root fills."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper

Clock = Callable[[], datetime]
"""Returns the current, timezone-aware time; tests and the demo pass their own."""


class EventStorage(Protocol):
    """How events are encoded and chained; provided by infrastructure."""

    def mapper(self) -> Mapper[UUID]: ...

    def event_store(self, mapper: Mapper[UUID], recorder: AggregateRecorder) -> EventStore[UUID]:
        ...
