"""Reminders of deadlines and the supervisors' overdue digests, as events.

A reminder is an aggregate of its own whose id is derived from what it is about (the
case, the due item, its due date and the reminder's offset from it), so the same reminder
can be recorded only once, whichever scheduler instance or retry tries: a second attempt
collides with the first's version 1. The same holds for a district's digest of a day.

`ReminderPolicy` says when reminders fall due: at configurable days before the date, on
the day, then every so many days while overdue."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from domain.base import CaseAggregate, natural_id, require_aware
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_reason


@dataclass(frozen=True)
class ReminderPolicy:
    days_before: tuple[int, ...] = (14, 3)
    """Reminders this many days before the due date (the day itself always has one)."""
    overdue_every_days: int = 7
    """While overdue, a reminder every this many days."""
    escalation_grace_days: int = 30
    """A plan whose proposal or actions are overdue longer than this is escalated."""

    def __post_init__(self) -> None:
        if any(d <= 0 for d in self.days_before):
            raise InvalidValueError("days_before", self.days_before,
                                    "reminders before a date are whole days > 0")
        if self.overdue_every_days <= 0:
            raise InvalidValueError("overdue_every_days", self.overdue_every_days,
                                    "must be at least 1")
        if self.escalation_grace_days < 0:
            raise InvalidValueError("escalation_grace_days", self.escalation_grace_days,
                                    "must not be negative")

    @property
    def horizon_days(self) -> int:
        """How far ahead of a due date the first reminder falls."""
        return max(self.days_before, default=0)

    def latest_offset(self, due_on: date, today: date) -> int | None:
        """The offset (days after the due date; negative before it) of the latest reminder
        that has fallen due by `today`, or None before the first. A scheduler that was
        down sends only this one, not every reminder it missed: a "14 days left" mail is
        wrong when three are left."""
        days = (today - due_on).days
        if days >= 0:
            return days - days % self.overdue_every_days
        passed = [-d for d in self.days_before if -d <= days]
        return max(passed) if passed else None


def describe_offset(offset: int) -> str:
    if offset < 0:
        return f"{-offset} day{'s' if offset != -1 else ''} before the due date"
    if offset == 0:
        return "on the due date"
    return f"{offset} days overdue"


def reminder_id(case_number: str, item: str, due_on: date, offset: int) -> UUID:
    return natural_id("reminder", f"{case_number}/{item}/{due_on.isoformat()}/{offset}")


def digest_id(district: str, day: date) -> UUID:
    return natural_id("overdue-digest", f"{district}/{day.isoformat()}")


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({parse_actor(v, "recipients") for v in values}))


class Reminder(CaseAggregate):
    """One reminder of one due item, to the people who own it."""

    case_number: str
    item: str
    kind: str
    district: str
    importer_number: str
    due_on: date
    offset_days: int
    recipients: tuple[str, ...]
    unreachable: tuple[str, ...]

    def __init__(self) -> None:
        """State is set by the Recorded event's apply."""

    @property
    def label(self) -> str:
        return f"reminder of {self.case_number} {self.item} (due {self.due_on})"

    class Recorded(CaseAggregate.Created):
        case_number: str
        item: str
        kind: str
        description: str
        district: str
        importer_number: str
        due_on: date
        offset_days: int
        recipients: tuple[str, ...]
        """Actors (`user:<name>`) the reminder is for."""
        unreachable: tuple[str, ...]
        """Of those, the ones without an e-mail address: nobody was mailed for them."""

        def apply(self, aggregate: Reminder) -> None:
            for name in ("case_number", "item", "kind", "district", "importer_number",
                         "due_on", "offset_days", "recipients", "unreachable"):
                setattr(aggregate, name, getattr(self, name))

    @classmethod
    def record(cls, *, case_number: str, item: str, kind: str, description: str,
               district: str, importer_number: str, due_on: date, offset_days: int,
               recipients: Iterable[str], unreachable: Iterable[str], actor: str,
               reason: str, at: datetime) -> Reminder:
        people, missing = _names(recipients), _names(unreachable)
        if not set(missing) <= set(people):
            raise InvalidValueError("unreachable", missing, "must be among the recipients")
        return cls._create(
            cls.Recorded, id=reminder_id(case_number, item, due_on, offset_days),
            timestamp=require_aware(at), actor=parse_actor(actor),
            reason=parse_reason(reason), case_number=case_number, item=item, kind=kind,
            description=description, district=district, importer_number=importer_number,
            due_on=due_on, offset_days=offset_days, recipients=people, unreachable=missing)


@dataclass(frozen=True)
class OverdueLine:
    case_number: str
    item: str
    description: str
    due_on: date
    officer: str | None


class OverdueDigest(CaseAggregate):
    """What was overdue in one district on one day, sent to its supervisors."""

    district: str
    day: date
    count: int

    def __init__(self) -> None:
        """State is set by the Recorded event's apply."""

    @property
    def label(self) -> str:
        return f"overdue digest of district {self.district} on {self.day}"

    class Recorded(CaseAggregate.Created):
        district: str
        day: date
        count: int
        lines: tuple[OverdueLine, ...]
        """The longest overdue first, at most DIGEST_LINES of them."""
        recipients: tuple[str, ...]
        unreachable: tuple[str, ...]

        def apply(self, aggregate: OverdueDigest) -> None:
            aggregate.district, aggregate.day, aggregate.count = (
                self.district, self.day, self.count)

    @classmethod
    def record(cls, *, district: str, day: date, count: int, lines: Iterable[OverdueLine],
               recipients: Iterable[str], unreachable: Iterable[str], actor: str,
               reason: str, at: datetime) -> OverdueDigest:
        kept = tuple(sorted(lines, key=lambda line: (line.due_on, line.case_number,
                                                     line.item)))[:DIGEST_LINES]
        return cls._create(
            cls.Recorded, id=digest_id(district, day), timestamp=require_aware(at),
            actor=parse_actor(actor), reason=parse_reason(reason), district=district,
            day=day, count=count, lines=kept, recipients=_names(recipients),
            unreachable=_names(unreachable))


DIGEST_LINES = 200
"""A digest lists this many overdue items at most (the count says how many in all)."""
