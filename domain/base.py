"""The base every case aggregate shares: who decided, when, and why.

Event bodies only assign state. Validation happens in the command methods before an
event is triggered, because an event's `apply` re-runs on every replay.

Which step a case allows in which state is declared once per case type, in its STEPS table
(keyed by the application's command names): the command methods refuse by it, and the pages
offer by it (`steps_open_now`), so what is offered and what is accepted cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from hashlib import sha1
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, CanMutateAggregate

from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.rules import BusinessRule
from domain.values import parse_actor, parse_reason

ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://compliance-ledger.example/ids")


_NAMESPACE_BYTES = ID_NAMESPACE.bytes


def natural_id(kind: str, key: str) -> UUID:
    """Deterministic ids for things with a natural key, so a repeated command finds the
    existing aggregate instead of creating a duplicate.

    `uuid5(ID_NAMESPACE, f"{kind}:{key}")`, spelt out as uuid.uuid5 computes it but with
    the namespace's bytes taken once: half the time of uuid5, which re-derives them on
    every call (a national registration derives 443,000 ids)."""
    digest = sha1(_NAMESPACE_BYTES + f"{kind}:{key}".encode(), usedforsecurity=False).digest()
    return UUID(bytes=digest[:16], version=5)


def require_aware(at: datetime, field: str = "at") -> datetime:
    """Recorded times must carry a timezone, so histories compare across districts."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValueError(field, at, "a timezone-aware datetime is required")
    return at


class StepRule(NamedTuple):
    """One step of a case's lifecycle: how a refusal names it ("approve", "record a re-test")
    and the state values it is allowed from."""

    label: str
    states: tuple[str, ...]

    @classmethod
    def of(cls, label: str, *states: str) -> StepRule:
        """A rule from enum members (StrEnum) or plain values, kept as plain values."""
        return cls(label, tuple(str(state) for state in states))


class CaseAggregate(Aggregate):
    """An aggregate whose every event records an actor and a reason."""

    if TYPE_CHECKING:
        # Declared for the type checker only: an annotation in the class body would make
        # eventsourcing process this base as a dataclass (and give it an __init__).
        STEPS: ClassVar[Mapping[str, StepRule]]
        STATE_FIELD: ClassVar[str]

    STEPS = MappingProxyType({})
    """The steps of an existing case, by the application's command name (the names
    application/access.py grants), in lifecycle order, each with the states it is allowed
    from. The command methods refuse by this table (`_refuse_unless_step`): it is the rule,
    not a description of it. Steps only the workflow takes (scheduling a verification,
    closing a plan as effective) are keyed by names no role is granted."""

    STATE_FIELD = "state"
    """The attribute holding the lifecycle state (an importer account's is `status`)."""

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

    def step_state(self) -> str:
        """The current lifecycle state's value, as the step table names states."""
        return str(getattr(self, self.STATE_FIELD))

    def step_states(self, command: str) -> tuple[str, ...]:
        """The states `command` is allowed from, for this case. A case type whose states
        depend on its kind overrides this (an enforcement action's closing)."""
        return self.STEPS[command].states

    def step_applies(self, command: str) -> bool:
        """Whether this kind of case has the step at all (only a penalty is decided). A
        step that does not apply is refused by its method with its own message, whatever
        the state allows."""
        return command in self.STEPS

    def step_preconditions(self, command: str) -> tuple[BusinessRule, ...]:  # noqa: ARG002
        """Rules on the case's own history that a step must also meet, whatever its input
        and whoever asks (a penalty notice is issued once). The step's method checks them
        with its other rules; while one is broken, the step is not open."""
        return ()

    def step_is_open(self, command: str) -> bool:
        """Whether `command` can be taken now: its kind has it, the state allows it and its
        preconditions hold (its input and the caller are checked when it is taken)."""
        return (self.step_applies(command) and self.step_state() in self.step_states(command)
                and not any(rule.is_broken() for rule in self.step_preconditions(command)))

    def steps_open_now(self) -> tuple[str, ...]:
        """The commands this case allows in its current state, in lifecycle order (who may
        take them is the application's question: see application/next_steps.py)."""
        return tuple(command for command in self.STEPS if self.step_is_open(command))

    def _refuse_unless_step(self, command: str) -> None:
        """Refuse `command` unless the case is in a state its step rule allows."""
        allowed = self.step_states(command)
        state = self.step_state()
        if state not in allowed:
            raise InvalidTransitionError(self._case_label(), state, self.STEPS[command].label,
                                         allowed)

    def _case_label(self) -> str:
        label = getattr(self, "label", None)
        return label if isinstance(label, str) else type(self).__name__


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
