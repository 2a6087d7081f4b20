"""The due scan: from the work list's open due items (never by replaying the log), record
the reminders that have fallen due and queue their mails, flag what is past due on its
case, close penalty notices' response windows, escalate plans overdue beyond grace, and
send each district's supervisors a digest of what is overdue.

Everything it records is safe to repeat: reminders and digests have deterministic ids,
flags and closures are refused by their aggregates once done, and a case that moved on
meanwhile (answered, closed, escalated) is left alone through its expected version. So two
schedulers scanning at once, or a scan re-run after a crash, record nothing twice."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from application.compliance_cases import ComplianceCases
from application.deadline_commands import WriteAlso
from application.errors import ConcurrencyConflictError, NotFoundError
from application.mail import OutgoingMail
from application.reminder_mail import ReminderText
from domain.errors import DomainError
from domain.reminder import (
    DIGEST_LINES,
    OverdueDigest,
    OverdueLine,
    Reminder,
    ReminderPolicy,
    describe_offset,
)
from domain.user import Role

log = logging.getLogger(__name__)

SCHEDULER = "system:scheduler"
BATCH = 500
"""Reminders saved per transaction (with their mails)."""


@dataclass(frozen=True)
class DueRow:
    """One open due item as the work-list view has it (see projections.queries.
    due_items_to_watch)."""

    item_key: str
    case_number: str
    kind: str
    district: str
    due_on: date
    description: str
    owner: str | None
    reminded_offset: int | None
    overdue: bool
    importer_number: str
    officer: str | None
    state: str

    @property
    def item(self) -> str:
        return self.item_key.split("/", 1)[1]

    @classmethod
    def of(cls, row: Sequence[Any]) -> DueRow:
        (key, number, kind, district, due_on, description, owner, reminded, overdue,
         importer, officer, state) = row
        return cls(str(key), str(number), str(kind), str(district),
                   date.fromisoformat(str(due_on)), str(description),
                   None if owner is None else str(owner),
                   None if reminded is None else int(reminded), bool(overdue), str(importer),
                   None if officer is None else str(officer), str(state))


@dataclass(frozen=True)
class Person:
    """A user as the people view has them: enough to address a mail."""

    username: str
    email: str | None
    roles: frozenset[str]
    districts: tuple[str, ...]
    importers: tuple[str, ...]

    @property
    def actor(self) -> str:
        return f"user:{self.username}"

    @classmethod
    def of(cls, row: Sequence[Any]) -> Person | None:
        """None for a disabled user (nobody is told anything through them)."""
        username, email, enabled, roles, districts, importers = row
        if not enabled:
            return None
        return cls(str(username), None if email is None else str(email),
                   frozenset(str(roles).split()), tuple(str(districts).split()),
                   tuple(str(importers).split()))


class People:
    """Who is told what: enabled users by actor, by the importers they represent, and the
    supervisors of each district (national supervisors where a district has none)."""

    def __init__(self, rows: Iterable[Sequence[Any]]) -> None:
        self.by_actor: dict[str, Person] = {}
        self.by_importer: dict[str, list[Person]] = defaultdict(list)
        self.by_district: dict[str, list[Person]] = defaultdict(list)
        self.national_supervisors: list[Person] = []
        for row in rows:
            person = Person.of(row)
            if person is None:
                continue
            self.by_actor[person.actor] = person
            if Role.IMPORTER_REPRESENTATIVE.value in person.roles:
                for importer in person.importers:
                    self.by_importer[importer].append(person)
            if Role.SUPERVISOR.value in person.roles:
                if person.districts:
                    for district in person.districts:
                        self.by_district[district].append(person)
                else:
                    self.national_supervisors.append(person)

    def supervisors(self, district: str) -> list[Person]:
        return self.by_district.get(district) or self.national_supervisors

    def for_item(self, row: DueRow, overdue: bool) -> list[Person]:
        """The item's owner: the representatives for what the importer owes (a proposal,
        a response, an action not owned by a named user), the action's owner when a user,
        the officer for a verification (its district's supervisors while unassigned);
        the case's officer is told too once it is overdue."""
        people: list[Person] = []
        owner = self.by_actor.get(row.owner or "")
        officer = self.by_actor.get(row.officer or "")
        if row.kind == "verification":
            people = [officer] if officer else self.supervisors(row.district)
        elif row.kind == "plan_action" and owner is not None:
            people = [owner]
        else:
            people = list(self.by_importer.get(row.importer_number, ()))
        if overdue and officer is not None and officer not in people:
            people.append(officer)
        return people


@dataclass
class DueScanOutcome:
    items: int = 0
    reminders: int = 0
    mails: int = 0
    flagged: int = 0
    windows_closed: int = 0
    escalated: list[str] = field(default_factory=list)
    digests: int = 0
    left_alone: int = 0
    """Cases that moved on meanwhile (a conflict or a refusal): nothing was recorded."""
    unreachable: set[str] = field(default_factory=set)
    """Users a reminder was for who have no e-mail address (listed, not skipped silently)."""
    nobody: int = 0
    """Items nobody could be told about (no representative, officer or supervisor)."""

    def summary(self) -> str:
        parts = [f"{self.items} open item(s)", f"{self.reminders} reminder(s)",
                 f"{self.mails} mail(s) queued", f"{self.flagged} flagged overdue",
                 f"{self.windows_closed} response window(s) closed",
                 f"{len(self.escalated)} plan(s) escalated", f"{self.digests} digest(s)"]
        if self.left_alone:
            parts.append(f"{self.left_alone} moved on meanwhile, left alone")
        if self.unreachable:
            parts.append(f"{len(self.unreachable)} user(s) without e-mail: "
                         + ", ".join(sorted(self.unreachable)[:10])
                         + (" ..." if len(self.unreachable) > 10 else ""))
        if self.nobody:
            parts.append(f"{self.nobody} item(s) with nobody to tell")
        return "; ".join(parts)

    def details(self) -> dict[str, Any]:
        return {"items": self.items, "reminders": self.reminders, "mails": self.mails,
                "flagged": self.flagged, "windows_closed": self.windows_closed,
                "escalated": self.escalated, "digests": self.digests,
                "left_alone": self.left_alone, "unreachable": sorted(self.unreachable),
                "nobody": self.nobody}


QueueWriter = Callable[[Sequence[OutgoingMail]], WriteAlso]


class DueScan:
    def __init__(self, app: ComplianceCases, policy: ReminderPolicy, text: ReminderText,
                 queue: QueueWriter, rows: Callable[[date], Iterable[Sequence[Any]]],
                 people: Callable[[], Iterable[Sequence[Any]]],
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        """`rows(until)`: the open due items falling due by then (projections.queries.
        due_items_to_watch); `people()`: every user (projections.queries.people)."""
        self.app, self.policy, self.text, self.queue, self.rows = (
            app, policy, text, queue, rows)
        self.people, self.progress = people, progress

    def run(self, now: datetime) -> DueScanOutcome:
        today = now.date()
        rows = [DueRow.of(r) for r in self.rows(date.fromordinal(
            today.toordinal() + self.policy.horizon_days))]
        outcome = DueScanOutcome(items=len(rows))
        people = People(self.people())
        self._remind(rows, people, today, outcome)
        overdue = [row for row in rows if row.due_on < today]
        self._flag(overdue, today, outcome)
        self._escalate(overdue, today, outcome)
        self._digests(overdue, people, today, outcome)
        return outcome

    # -- reminders ---------------------------------------------------------------------

    def _remind(self, rows: list[DueRow], people: People, today: date,
                outcome: DueScanOutcome) -> None:
        pending: list[tuple[Reminder, list[OutgoingMail]]] = []
        for row in rows:
            offset = self.policy.latest_offset(row.due_on, today)
            if offset is None or (row.reminded_offset is not None
                                  and row.reminded_offset >= offset):
                continue
            recipients = people.for_item(row, overdue=row.due_on < today)
            if not recipients:
                outcome.nobody += 1
            pending.append(self._reminder(row, offset, recipients, today, outcome))
        done = 0
        for start in range(0, len(pending), BATCH):
            chunk = pending[start:start + BATCH]
            mails_of = {reminder.id: mails for reminder, mails in chunk}

            def writer(saved: Sequence[Reminder],
                       mails_of: dict[Any, list[OutgoingMail]] = mails_of) -> WriteAlso:
                return self.queue([m for r in saved for m in mails_of[r.id]])
            new = self.app.record_reminders([r for r, _ in chunk], actor=SCHEDULER,
                                            write_also=writer)
            outcome.reminders += len(new)
            outcome.mails += sum(len(mails_of[r.id]) for r in new)
            done += len(chunk)
            if self.progress:
                self.progress("reminders", done, len(pending))

    def _reminder(self, row: DueRow, offset: int, recipients: list[Person], today: date,
                  outcome: DueScanOutcome) -> tuple[Reminder, list[OutgoingMail]]:
        unreachable = [u.actor for u in recipients if not u.email]
        outcome.unreachable.update(u.username for u in recipients if not u.email)
        reminder = Reminder.record(
            case_number=row.case_number, item=row.item, kind=row.kind,
            description=row.description, district=row.district,
            importer_number=row.importer_number, due_on=row.due_on, offset_days=offset,
            recipients=[u.actor for u in recipients], unreachable=unreachable,
            actor=SCHEDULER, reason=f"reminder rule: {offset_rule(offset)}",
            at=self.app.clock())
        cause = f"reminder:{reminder.id}"
        mails = [self.text.reminder(cause=cause, username=u.username, address=address,
                                    case_number=row.case_number,
                                    description=row.description, due_on=row.due_on,
                                    offset=offset, today=today)
                 for u, address in _addressed(recipients)]
        return reminder, mails

    # -- flags, windows, escalation ----------------------------------------------------

    def _flag(self, overdue: list[DueRow], today: date, outcome: DueScanOutcome) -> None:
        flags: list[tuple[str, str, str]] = []
        for row in overdue:
            if row.overdue:
                continue
            days = (today - row.due_on).days
            if row.kind == "enforcement_response" and row.state == "penalty_notice_issued":
                try:
                    self.app.close_response_window(
                        row.case_number, today=today, actor=SCHEDULER,
                        reason=f"response rule: the penalty notice's response was due "
                               f"{row.due_on} and none came; {days} day(s) later the "
                               "action moves to decision")
                    outcome.windows_closed += 1
                except (ConcurrencyConflictError, DomainError, NotFoundError) as moved_on:
                    log.info("left %s %s alone: %s", row.case_number, row.item, moved_on)
                    outcome.left_alone += 1
                continue
            flags.append((row.case_number, row.item,
                          f"overdue rule: {row.description} was due {row.due_on}, "
                          f"{days} day(s) ago"))
        flagged, left = self.app.flag_overdue_many(flags, today=today, actor=SCHEDULER)
        outcome.flagged += flagged
        outcome.left_alone += len(left)
        for reason in left:
            log.info("left alone: %s", reason)

    def _escalate(self, overdue: list[DueRow], today: date, outcome: DueScanOutcome) -> None:
        grace = self.policy.escalation_grace_days
        beyond: dict[str, DueRow] = {}
        for row in overdue:
            if row.kind in ("plan_proposal", "plan_action") and (
                    today - row.due_on).days > grace:
                beyond.setdefault(row.case_number, row)
        for number, row in sorted(beyond.items()):
            days = (today - row.due_on).days
            try:
                plan = self.app.get_plan(number)
                if row.item not in plan.open_due_items():
                    outcome.left_alone += 1
                    continue
                action = self.app.escalate_plan(
                    number, actor=SCHEDULER, expected_version=plan.version,
                    reason=f"escalation rule: {row.description} overdue {days} days, "
                           f"beyond the {grace}-day grace period")
                outcome.escalated.append(f"{number} -> {action}")
            except (ConcurrencyConflictError, DomainError, NotFoundError) as moved_on:
                log.info("left %s alone: %s", number, moved_on)
                outcome.left_alone += 1

    # -- digests -----------------------------------------------------------------------

    def _digests(self, overdue: list[DueRow], people: People, today: date,
                 outcome: DueScanOutcome) -> None:
        by_district: dict[str, list[DueRow]] = defaultdict(list)
        for row in overdue:
            by_district[row.district].append(row)
        for district, rows in sorted(by_district.items()):
            supervisors = people.supervisors(district)
            lines = [OverdueLine(r.case_number, r.item, r.description, r.due_on, r.officer)
                     for r in rows]
            digest = OverdueDigest.record(
                district=district, day=today, count=len(rows), lines=lines,
                recipients=[u.actor for u in supervisors],
                unreachable=[u.actor for u in supervisors if not u.email], actor=SCHEDULER,
                reason="digest rule: what is overdue in the district, daily to its "
                       "supervisors", at=self.app.clock())
            cause = f"digest:{district}:{today.isoformat()}"
            mails = [self.text.digest(cause=cause, username=u.username, address=address,
                                      district=district, day=today, count=len(rows),
                                      lines=digest_lines(lines))
                     for u, address in _addressed(supervisors)]
            outcome.unreachable.update(u.username for u in supervisors if not u.email)
            def writer(_: Sequence[OverdueDigest],
                       mails: list[OutgoingMail] = mails) -> WriteAlso:
                return self.queue(mails)
            if self.app.record_overdue_digest(digest, actor=SCHEDULER, write_also=writer):
                outcome.digests += 1
                outcome.mails += len(mails)


def offset_rule(offset: int) -> str:
    return describe_offset(offset)


def digest_lines(lines: list[OverdueLine]) -> list[OverdueLine]:
    """As the digest event keeps them: the longest overdue first, at most DIGEST_LINES."""
    return sorted(lines, key=lambda x: (x.due_on, x.case_number, x.item))[:DIGEST_LINES]


def _addressed(users: Iterable[Person]) -> list[tuple[Person, str]]:
    return [(user, user.email) for user in users if user.email]
