"""The base every case aggregate shares: who decided, when, and why.

Event bodies only assign state. Validation happens in the command methods before an
event is triggered, because an event's `apply` re-runs on every replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, CanMutateAggregate

from domain.errors import InvalidTransitionError, InvalidValueError

ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://compliance-ledger.example/ids")


def natural_id(kind: str, key: str) -> UUID:
    """Deterministic ids for things with a natural key, so a repeated command finds the
    existing aggregate instead of creating a duplicate."""
    return uuid5(ID_NAMESPACE, f"{kind}:{key}")


def require_aware(at: datetime, field: str = "at") -> datetime:
    """Recorded times must carry a timezone, so histories compare across districts."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValueError(field, at, "a timezone-aware datetime is required")
    return at


class CaseAggregate(Aggregate):
    """An aggregate whose every event records an actor and a reason."""

    class Event(Aggregate.Event):
        actor: str
        reason: str

    class Created(Aggregate.Created):
        actor: str
        reason: str

    def _record(self, event_class: type[CanMutateAggregate[UUID]], at: datetime,
                **kwargs: Any) -> None:
        """Trigger an event stamped with the caller's time: the domain reads no clock."""
        self.trigger_event(event_class, timestamp=require_aware(at), **kwargs)

    def _refuse_unless(self, state: str, allowed: tuple[str, ...], case: str,
                       step: str) -> None:
        if state not in allowed:
            raise InvalidTransitionError(case, state, step, allowed)
