"""The scheduler's own commands on deadlines: flag a due item overdue, close a penalty
notice's response window unanswered, and record reminders and overdue digests in bulk.

Each is checked by its aggregate's rule (the item really is open and past due, the window
really has closed) and allowed to system actors alone (application.access.
SCHEDULER_DUTIES). Reminders and digests have ids derived from what they are about, so a
repeat, by a retry or a second scheduler, collides with the first instead of doubling it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar

from eventsourcing.persistence import IntegrityError, RecordConflictError

from application.access import acting_as
from application.case_store import CaseStore
from application.errors import ConcurrencyConflictError, NotFoundError
from domain.base import DeadlineCase
from domain.case_numbers import case_id, parse_case_number
from domain.enforcement_action import EnforcementAction
from domain.errors import DomainError
from domain.reminder import OverdueDigest, Reminder

A = TypeVar("A", Reminder, OverdueDigest)
WriteAlso = Callable[[Any], None]
"""Writes other rows in the transaction that records the events (the outbox's mails)."""


class DeadlineCommands(CaseStore):
    def get_deadline_case(self, number: str) -> DeadlineCase:
        """A plan, verification or enforcement action by its number, scoped like every load."""
        canonical = parse_case_number(number)
        return self._load(case_id(canonical), DeadlineCase, "case with deadlines", canonical)

    def flag_overdue(self, number: str, item: str, *, today: date, actor: str, reason: str,
                     expected_version: int | None = None) -> int:
        return self._step(
            "flag_overdue", lambda: self.get_deadline_case(number), actor, expected_version, None,
            lambda case: case.flag_overdue(item, today=today, actor=actor, reason=reason,
                                           at=self.clock()), self._cases_loads(number))

    def flag_overdue_many(self, items: Sequence[tuple[str, str, str]], *, today: date,
                          actor: str, chunk: int = 200) -> tuple[int, list[str]]:
        """Flags (case number, item, reason) in transactions of `chunk` cases: a national
        scan's thousands of newly overdue items without a transaction each. An item whose
        case moved on (answered, closed, flagged by another instance) is left alone and
        named in the second value; a chunk that meets a concurrent command is flagged again
        one by one, so nothing is half-applied."""
        caller = self._caller(actor)
        if caller is not None:
            caller.require("flag_overdue")
        flagged, left = 0, list[str]()
        with acting_as(caller):
            for start in range(0, len(items), chunk):
                part = items[start:start + chunk]
                cases: dict[str, DeadlineCase] = {}
                with self._prefetching(self._cases_loads(*(number for number, _, _ in part))):
                    applied = self._flag_part(part, cases, left, today=today, actor=actor)
                if not cases:
                    continue
                try:
                    self._save("overdue flags", *cases.values())
                    flagged += applied
                except ConcurrencyConflictError:
                    for number, item, reason in part:
                        try:
                            self.flag_overdue(number, item, today=today, actor=actor,
                                              reason=reason)
                            flagged += 1
                        except (ConcurrencyConflictError, DomainError, NotFoundError) as err:
                            left.append(f"{number} {item}: {err}")
        return flagged, left

    def _flag_part(self, part: Sequence[tuple[str, str, str]], cases: dict[str, DeadlineCase],
                   left: list[str], *, today: date, actor: str) -> int:
        """Flag one chunk's items on its cases (loaded from one query), collecting the
        changed cases in `cases` and what was left alone in `left`; how many were flagged."""
        applied = 0
        for number, item, reason in part:
            try:
                case = cases.get(number) or self.get_deadline_case(number)
                case.flag_overdue(item, today=today, actor=actor, reason=reason,
                                  at=self.clock())
            except (DomainError, NotFoundError) as moved_on:
                left.append(f"{number} {item}: {moved_on}")
                continue
            cases[number] = case
            applied += 1
        return applied

    def close_response_window(self, number: str, *, today: date, actor: str, reason: str,
                              expected_version: int | None = None) -> int:
        def close(case: DeadlineCase) -> None:
            if not isinstance(case, EnforcementAction):
                raise self._not_enforcement(number)
            case.close_response_window(today=today, actor=actor, reason=reason,
                                       at=self.clock())
        return self._step("close_response_window", lambda: self.get_deadline_case(number), actor,
                          expected_version, None, close)

    @staticmethod
    def _not_enforcement(number: str) -> Exception:
        from domain.errors import InvalidValueError
        return InvalidValueError("number", number, "only an enforcement action has a "
                                                   "response window")

    def record_reminders(self, reminders: Sequence[Reminder], *, actor: str,
                         write_also: Callable[[Sequence[Reminder]], WriteAlso],
                         ) -> list[Reminder]:
        """Saves the reminders in one transaction with what `write_also` writes for them
        (their mails); returns those that were new. If any was recorded before (by another
        instance, or a run that crashed after committing), the batch is saved one by one
        and those are skipped: a reminder is never recorded, nor mailed, twice."""
        self.authorise(actor, "record_reminder")
        return self._save_new(list(reminders), write_also)

    def record_overdue_digest(self, digest: OverdueDigest, *, actor: str,
                              write_also: Callable[[Sequence[OverdueDigest]], WriteAlso],
                              ) -> bool:
        """True when the digest was new (a district's digest of a day is recorded once)."""
        self.authorise(actor, "record_overdue_digest")
        return bool(self._save_new([digest], write_also))

    def _save_new(self, aggregates: list[A],
                  write_also: Callable[[Sequence[A]], WriteAlso]) -> list[A]:
        if not aggregates:
            return []
        try:
            self.save(*aggregates, write_also=write_also(aggregates))
            return aggregates
        except (IntegrityError, RecordConflictError):
            if len(aggregates) == 1:
                return []
        saved: list[A] = []
        for aggregate in aggregates:
            if self.find_aggregate(aggregate.id) is None:
                saved.extend(self._save_new([aggregate], write_also))
        return saved
