"""Human case numbers such as CA-2026-00042: unique and gap-free per type and year.

A number is taken from a per-year sequence aggregate saved in the same transaction as the
case it names, so a failed save consumes no number and two concurrent openings conflict
on the sequence instead of sharing a number.
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import UUID

from domain.base import CaseAggregate, natural_id, require_aware
from domain.errors import InvalidValueError
from domain.values import refuse_control_characters

_CASE_NUMBER = re.compile(r"^(?P<prefix>[A-Z]{2})-(?P<year>\d{4})-(?P<serial>\d{5})$")
NUMBERING_ACTOR = "system:numbering"


def sequence_id(prefix: str, year: int) -> UUID:
    return natural_id("case-number-sequence", f"{prefix}-{year}")


def case_id(number: str) -> UUID:
    """A case's id is derived from its number, so the number finds the case directly."""
    return natural_id("case", parse_case_number(number))


def parse_case_number(value: str, field: str = "case_number") -> str:
    if isinstance(value, str):
        refuse_control_characters(field, value)
    normalised = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(normalised, str) or not _CASE_NUMBER.fullmatch(normalised):
        raise InvalidValueError(field, value, "expected a case number like CA-2026-00042")
    return normalised


def is_case_number(value: str) -> bool:
    return bool(_CASE_NUMBER.fullmatch(value.strip().upper()))


class CaseNumberSequence(CaseAggregate):
    prefix: str
    year: int
    last_serial: int

    def __init__(self) -> None:
        """State is set by the Started event's apply."""

    class Started(CaseAggregate.Created):
        prefix: str
        year: int

        def apply(self, aggregate: CaseNumberSequence) -> None:
            aggregate.prefix = self.prefix
            aggregate.year = self.year
            aggregate.last_serial = 0

    @classmethod
    def start(cls, prefix: str, year: int, at: datetime) -> CaseNumberSequence:
        return cls._create(cls.Started, id=sequence_id(prefix, year), timestamp=require_aware(at),
                           actor=NUMBERING_ACTOR, reason=f"first {prefix} case of {year}",
                           prefix=prefix, year=year)

    class NumberIssued(CaseAggregate.Event):
        number: str

        def apply(self, aggregate: CaseNumberSequence) -> None:
            aggregate.last_serial += 1

    def issue(self, at: datetime, for_what: str) -> str:
        serial = self.last_serial + 1
        if serial > 99_999:
            raise InvalidValueError("case_number", serial, "the yearly sequence is exhausted")
        number = f"{self.prefix}-{self.year}-{serial:05d}"
        self._record(self.NumberIssued, at, actor=NUMBERING_ACTOR,
                     reason=f"issued for {for_what}", number=number)
        return number

    @classmethod
    def resumed(cls, started: object, last: object | None) -> CaseNumberSequence:
        """The sequence exactly as replaying all its events leaves it, from its first and
        last events alone: every event after Started issues the next serial, so the last
        one's number says how many were issued. A command taking a number loads these two
        rows instead of the year's whole sequence. ValueError when the two events do not
        agree with that (the caller then replays the history)."""
        if not isinstance(started, cls.Started):
            raise ValueError(f"{started!r} is not the start of a case-number sequence")
        sequence = started.mutate(None)
        if not isinstance(sequence, cls):
            raise ValueError(f"{started!r} does not start a {cls.__name__}")
        if last is None:
            return sequence
        if not isinstance(last, cls.NumberIssued) or last.originator_id != sequence.id:
            raise ValueError(f"{last!r} is not a number issued by {sequence.id}")
        serial = last.originator_version - 1
        if last.number != f"{sequence.prefix}-{sequence.year}-{serial:05d}":
            raise ValueError(f"{last.number} is not serial {serial} of {sequence.prefix}-"
                             f"{sequence.year}")
        sequence.version = last.originator_version - 1
        sequence.last_serial = serial - 1
        resumed = last.mutate(sequence)
        if not isinstance(resumed, cls):
            raise ValueError(f"{last!r} did not resume {sequence.id}")
        return resumed
