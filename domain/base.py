"""The base every case aggregate shares: who decided, when, and why.

Event bodies only assign state. Validation happens in the command methods before an
event is triggered, because an event's `apply` re-runs on every replay.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, CanMutateAggregate

from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.values import parse_actor, parse_reason

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


class DeadlineCase(CaseAggregate):
    """A case that waits for things by a date (a plan's proposal and actions, a
    verification's re-test, an enforcement action's response), which the scheduler flags
    once each when they pass undone."""

    # Cases with deadlines declare, at the end of their fields (a class default, so
    # cases recorded before flags existed, and their snapshots, load unchanged):
    #     overdue_flags: tuple[tuple[str, date], ...] = ()
    # holding the (item, due date) pairs flagged overdue. Not declared here: a default
    # on the base would precede every subclass's fields.

    def flagged_overdue(self) -> tuple[tuple[str, date], ...]:
        flags: tuple[tuple[str, date], ...] = getattr(self, "overdue_flags", ())
        return flags

    def open_due_items(self) -> dict[str, date]:
        """What the case still waits for, by item ("proposal", an action id, "retest",
        "response"), with its due date. A case without deadlines waits for nothing."""
        return {}

    class OverdueFlagged(CaseAggregate.Event):
        """A due item passed its date undone: recorded once per item and due date, by
        the scheduler (actor `system:scheduler`, the rule in the reason)."""

        item: str
        due_on: date
        days_overdue: int

        def apply(self, aggregate: DeadlineCase) -> None:
            flags = (*aggregate.flagged_overdue(), (self.item, self.due_on))
            setattr(aggregate, "overdue_flags", flags)  # noqa: B010 - declared by subclasses

    def flag_overdue(self, item: str, *, today: date, actor: str, reason: str,
                     at: datetime) -> None:
        due = self.open_due_items().get(item)
        if due is None:
            raise RuleViolationError("OverdueItemIsOpen",
                                     f"{self._case_label()}: nothing open is due as {item!r}")
        if due >= today:
            raise RuleViolationError("OverdueItemIsPastDue",
                                     f"{self._case_label()}: {item} is due {due}, not yet "
                                     f"overdue on {today}")
        if (item, due) in self.flagged_overdue():
            raise RuleViolationError("OverdueFlaggedOnce",
                                     f"{self._case_label()}: {item} (due {due}) is already "
                                     "flagged overdue")
        self._record(self.OverdueFlagged, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), item=item, due_on=due,
                     days_overdue=(today - due).days)

    def _case_label(self) -> str:
        label = getattr(self, "label", None)
        return label if isinstance(label, str) else type(self).__name__

