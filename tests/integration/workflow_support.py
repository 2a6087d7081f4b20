"""Helpers shared by the workflow, atomicity and idempotency tests: a spy on what each save
writes, a refusal check that nothing was written, and topic counts of the stored log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import DomainEventProtocol

from application.compliance_cases import ComplianceCases
from domain.case_numbers import CaseNumberSequence, sequence_id
from domain.errors import InvalidValueError, RuleViolationError


def event_name(event: object) -> str:
    """'ImprovementPlan.Drafted' for a domain event or a stored topic."""
    if isinstance(event, str):
        return event.rsplit(":", 1)[-1]
    return type(event).__qualname__


class SaveSpy:
    """Records the events of every save the application hands to its event store:
    `attempts` before the store is asked, `saves` once it has stored them."""

    def __init__(self, app: ComplianceCases) -> None:
        self.attempts: list[list[str]] = []
        self.saves: list[list[str]] = []
        put = app.events.put

        def spying_put(events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any) -> Any:
            names = [event_name(e) for e in events]
            self.attempts.append(names)
            recordings = put(events, **kwargs)
            self.saves.append(names)
            return recordings

        app.events.put = spying_put  # type: ignore[method-assign, assignment]

    def one_save(self) -> Counter[str]:
        """The events of the only save made since the spy was installed."""
        assert len(self.saves) == 1, f"expected one save, got {self.saves}"
        return Counter(self.saves[0])


def filed(app: ComplianceCases, importer: str) -> list[tuple[str, str]]:
    """The case file's references as (kind, number), in filing order."""
    return [(ref.kind, ref.number) for ref in app.get_case_file(importer)]


def same_save(*names: str) -> Counter[str]:
    return Counter(names)


def stored_event_names(app: ComplianceCases) -> Counter[str]:
    """How many events of each type the notification log holds."""
    return Counter(event_name(n.topic)
                   for n in app.recorder.select_notifications(start=1, limit=100_000))


def last_serial(app: ComplianceCases, prefix: str, year: int = 2026) -> int:
    """The last number a year's sequence issued; 0 when it never issued one."""
    sequence = app.find_aggregate(sequence_id(prefix, year))
    if sequence is None:
        return 0
    assert isinstance(sequence, CaseNumberSequence)
    return sequence.last_serial


def assert_refused(app: ComplianceCases, command: Callable[[], object],
                   error: type[Exception], *, rule: str | None = None,
                   field: str | None = None, mentions: Iterable[str] = ()) -> Exception:
    """The command is refused with `error` (naming the rule or field and mentioning each
    of `mentions`), and the notification log did not grow."""
    last_event = app.recorder.max_notification_id()
    with pytest.raises(error) as refused:
        command()
    message = str(refused.value)
    if rule is not None:
        assert isinstance(refused.value, RuleViolationError), refused.value
        assert refused.value.rule == rule, message
    if field is not None:
        assert isinstance(refused.value, InvalidValueError), refused.value
        assert refused.value.field == field, message
    for text in mentions:
        assert text in message, f"{text!r} not named in {message!r}"
    assert app.recorder.max_notification_id() == last_event, f"refused but wrote: {message}"
    return refused.value
