"""ImporterCaseFile: every case opened on one importer, in order.

It serialises case openings per importer (two concurrent openings conflict on its version)
and lets an auditor list all of an importer's cases without scanning the whole log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from domain.base import CaseAggregate, natural_id, require_aware


@dataclass(frozen=True)
class CaseRef:
    kind: str
    number: str
    case_id: UUID
    period_start: date | None
    period_end: date | None


def case_file_id(importer_number: str) -> UUID:
    return natural_id("case-file", importer_number)


class ImporterCaseFile(CaseAggregate):
    importer_number: str
    cases: tuple[CaseRef, ...]

    def __init__(self) -> None:
        """State is set by the Started event's apply."""

    class Started(CaseAggregate.Created):
        importer_number: str

        def apply(self, aggregate: ImporterCaseFile) -> None:
            aggregate.importer_number = self.importer_number
            aggregate.cases = ()

    @classmethod
    def start(cls, importer_number: str, *, actor: str, at: datetime) -> ImporterCaseFile:
        return cls._create(cls.Started, id=case_file_id(importer_number),
                           timestamp=require_aware(at),
                           actor=actor, reason="first case opened on this importer",
                           importer_number=importer_number)

    class CaseAdded(CaseAggregate.Event):
        case: CaseRef

        def apply(self, aggregate: ImporterCaseFile) -> None:
            aggregate.cases = (*aggregate.cases, self.case)

    def add(self, case: CaseRef, *, actor: str, at: datetime) -> None:
        self._record(self.CaseAdded, at, actor=actor, reason=f"{case.kind} {case.number} opened",
                     case=case)

    def cases_of_kind(self, kind: str) -> list[CaseRef]:
        return [case for case in self.cases if case.kind == kind]
