"""ComplianceCases: the one eventsourcing Application holding every case aggregate.

Commands are load -> decide -> save; several aggregates saved together commit atomically
(one events table, one notification log). Queries return plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    Mapper,
    RecordConflictError,
    Recording,
)
from eventsourcing.utils import EnvType

from application.errors import ConcurrencyConflictError, NotFoundError
from application.ports import Clock, EventStorage
from domain.assessment import (
    FINAL_STATES,
    Assessment,
    AssessmentOrigin,
    FindingsPolicy,
    Outcome,
    SampleTest,
)
from domain.assessment_rules import OneOpenAssessmentPerImporterAndPeriod
from domain.case_file import CaseRef, ImporterCaseFile, case_file_id
from domain.case_numbers import CaseNumberSequence, case_id, parse_case_number, sequence_id
from domain.errors import RuleViolationError
from domain.importer_account import (
    ComplianceClass,
    ImporterAccount,
    PartnershipProgramme,
    Registration,
    importer_account_id,
)
from domain.reference import ComplianceArea, ControlRating
from domain.rules import check
from domain.seal_log import SealLog
from domain.values import Period, parse_actor, parse_reason

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

CASE_TYPES: tuple[type[Aggregate], ...] = (ImporterAccount, Assessment)
ALL_TYPES: tuple[type[Aggregate], ...] = (ImporterAccount, Assessment, ImporterCaseFile,
                                          CaseNumberSequence, SealLog)


@dataclass(frozen=True)
class BulkRegistration:
    registered: int
    already_registered: int


class ComplianceCases(Application[UUID]):
    name = "ComplianceCases"

    def __init__(self, env: EnvType, *, storage: EventStorage, clock: Clock,
                 policy: FindingsPolicy | None = None, snapshot_interval: int = 50) -> None:
        self._storage = storage
        self.clock = clock
        self.policy = policy or FindingsPolicy()
        self.snapshotting_intervals = dict.fromkeys(ALL_TYPES, snapshot_interval)  # type: ignore[misc]
        super().__init__({**env, "IS_SNAPSHOTTING_ENABLED": "y"})

    def construct_mapper(self) -> Mapper[UUID]:
        return self._storage.mapper()

    def construct_event_store(self) -> EventStore[UUID]:
        return self._storage.event_store(self.mapper, self.recorder)

    # -- loading and saving ------------------------------------------------------------

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """As the library's save, but collects events from our aggregates directly: the
        library checks every object against runtime Protocols, which costs more than
        encoding and hashing the events when thousands of aggregates are saved at once."""
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        others = []
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif obj is not None:
                others.append(obj)
        processing_event.collect_events(*others, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _load(self, aggregate_id: UUID, kind: type[A], what: str, key: object) -> A:
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(what, key) from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(what, key)
        return aggregate

    def _find(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found

    def _save(self, label: str, *aggregates: Aggregate | None) -> None:
        """Commit atomically; a version clash becomes a conflict naming the case."""
        try:
            self.save(*aggregates)
        except (RecordConflictError, IntegrityError):
            current = None
            for aggregate in aggregates:
                if aggregate is not None:
                    found = self._find(aggregate.id)
                    current = found.version if found else None
                    break
            raise ConcurrencyConflictError(label, None, current) from None

    def _command(self, aggregate: A, label: str, expected_version: int | None,
                 decide: Callable[[A], R]) -> R:
        if expected_version is not None and aggregate.version != expected_version:
            raise ConcurrencyConflictError(label, expected_version, aggregate.version)
        result = decide(aggregate)
        self._save(label, aggregate)
        return result

    # -- importer accounts ---------------------------------------------------------------

    def register_importer(self, registration: Registration, *, actor: str,
                          reason: str) -> UUID:
        account_id = importer_account_id(registration.importer_number)
        if self._find(account_id) is not None:
            raise RuleViolationError(
                "ImporterIsRegisteredOnlyOnce",
                f"importer {registration.importer_number} is already registered")
        account = ImporterAccount.register(registration, actor=actor, reason=reason,
                                           at=self.clock())
        self._save(f"importer {registration.importer_number}", account)
        return account.id

    def register_importers(self, registrations: Iterable[Registration], *, actor: str,
                           reason: str, batch_size: int = 1000,
                           progress: Callable[[int], None] | None = None) -> BulkRegistration:
        """Bulk registration: one transaction per batch; already registered importers are
        left alone (their ids are deterministic, so a repeat cannot duplicate them)."""
        registered = existing = 0
        batch: list[tuple[Registration, ImporterAccount]] = []

        def flush() -> None:
            nonlocal registered, existing
            if not batch:
                return
            try:
                self.save(*(account for _, account in batch))
                registered += len(batch)
            except (RecordConflictError, IntegrityError):
                # The failed save already took the accounts' pending events, so saving
                # those accounts again would write nothing: register the new ones afresh.
                for registration, account in batch:
                    if self._find(account.id) is None:
                        self.save(ImporterAccount.register(registration, actor=actor,
                                                           reason=reason, at=at))
                        registered += 1
                    else:
                        existing += 1
            if progress:
                progress(len(batch))
            batch.clear()

        at = self.clock()
        for registration in registrations:
            batch.append((registration, ImporterAccount.register(
                registration, actor=actor, reason=reason, at=at)))
            if len(batch) >= batch_size:
                flush()
        flush()
        return BulkRegistration(registered, existing)

    def get_importer(self, importer_number: str) -> ImporterAccount:
        return self._load(importer_account_id(importer_number), ImporterAccount, "importer",
                          importer_number)

    def _account_command(self, importer_number: str, expected_version: int | None,
                         decide: Callable[[ImporterAccount], None]) -> int:
        account = self.get_importer(importer_number)
        self._command(account, account.label, expected_version, decide)
        return account.version

    def assign_account_manager(self, importer_number: str, manager: str, *, actor: str,
                               reason: str, expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.assign_account_manager(manager, actor=actor, reason=reason, at=self.clock())))

    def join_partnership(self, importer_number: str, programme: PartnershipProgramme | str,
                         joined_on: date | str, *, actor: str, reason: str,
                         expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.join_partnership(programme, joined_on, actor=actor, reason=reason,
                               at=self.clock())))

    def leave_partnership(self, importer_number: str, programme: PartnershipProgramme | str,
                          left_on: date | str, *, actor: str, reason: str,
                          expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.leave_partnership(programme, left_on, actor=actor, reason=reason,
                                at=self.clock())))

    def set_compliance_class(self, importer_number: str, compliance_class: ComplianceClass | str,
                             *, actor: str, reason: str,
                             expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.set_compliance_class(compliance_class, actor=actor, reason=reason,
                                   at=self.clock())))

    def set_tier(self, importer_number: str, tier: int, annual_value: Decimal,
                 cumulative_share: Decimal, year: int, *, actor: str, reason: str,
                 expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.set_tier(tier, annual_value, cumulative_share, year, actor=actor, reason=reason,
                       at=self.clock())))

    def suspend_importer(self, importer_number: str, *, actor: str, reason: str,
                         expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.suspend(actor=actor, reason=reason, at=self.clock())))

    def reinstate_importer(self, importer_number: str, *, actor: str, reason: str,
                           expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.reinstate(actor=actor, reason=reason, at=self.clock())))

    def close_importer(self, importer_number: str, *, actor: str, reason: str,
                       expected_version: int | None = None) -> int:
        return self._account_command(importer_number, expected_version, lambda a: (
            a.close(actor=actor, reason=reason, at=self.clock())))

    # -- assessments -------------------------------------------------------------------

    def open_assessment(self, importer_number: str, *, origin: AssessmentOrigin | str,
                        period: Period, scope: Iterable[ComplianceArea | str], actor: str,
                        reason: str) -> str:
        """Open an assessment, take its number and file it on the importer's case file,
        all in one transaction."""
        account = self.get_importer(importer_number)
        account.ensure_open_for_cases()
        parse_actor(actor)
        parse_reason(reason)
        at = self.clock()
        case_file = self._find(case_file_id(account.importer_number))
        if case_file is None:
            case_file = ImporterCaseFile.start(account.importer_number, actor=actor, at=at)
        assert isinstance(case_file, ImporterCaseFile)
        overlapping = [
            ref.number for ref in case_file.cases_of_kind("assessment")
            if ref.period_start and ref.period_end
            and period.overlaps(Period(ref.period_start, ref.period_end))
            and self._load(ref.case_id, Assessment, "assessment", ref.number).state
            not in FINAL_STATES
        ]
        check(OneOpenAssessmentPerImporterAndPeriod(account.importer_number, overlapping))
        sequence = self._find(sequence_id("CA", at.year))
        if sequence is None:
            sequence = CaseNumberSequence.start("CA", at.year, at)
        assert isinstance(sequence, CaseNumberSequence)
        number = sequence.issue(at, f"assessment of importer {account.importer_number}")
        assessment = Assessment.open(
            number=number, importer_id=account.id, importer_number=account.importer_number,
            district=account.district, origin=origin, period=period, scope=scope, actor=actor,
            reason=reason, at=at)
        case_file.add(CaseRef("assessment", number, assessment.id, period.start, period.end),
                      actor=actor, at=at)
        self._save(f"importer {account.importer_number}", sequence, case_file, assessment)
        return number

    def get_assessment(self, number: str) -> Assessment:
        canonical = parse_case_number(number)
        return self._load(case_id(canonical), Assessment, "assessment", canonical)

    def _assessment_command(self, number: str, expected_version: int | None,
                            decide: Callable[[Assessment], R]) -> R:
        assessment = self.get_assessment(number)
        return self._command(assessment, assessment.label, expected_version, decide)

    def assign_officer(self, number: str, officer: str, *, actor: str, reason: str,
                       expected_version: int | None = None) -> None:
        self._assessment_command(number, expected_version, lambda a: a.assign_officer(
            officer, actor=actor, reason=reason, at=self.clock()))

    def record_survey(self, number: str,
                      ratings: Mapping[ComplianceArea, ControlRating] | Mapping[str, str],
                      surveyed_on: date | str, *, actor: str, reason: str,
                      expected_version: int | None = None) -> None:
        self._assessment_command(number, expected_version, lambda a: a.record_survey(
            ratings, surveyed_on, actor=actor, reason=reason, at=self.clock()))

    def record_test(self, number: str, test: SampleTest, *, actor: str, reason: str,
                    expected_version: int | None = None) -> None:
        self._assessment_command(number, expected_version, lambda a: a.record_test(
            test, actor=actor, reason=reason, at=self.clock()))

    def issue_findings(self, number: str, *, duty_paid: Decimal | str | None = None,
                       fraud_indicators: bool = False, actor: str, reason: str,
                       expected_version: int | None = None) -> Outcome:
        return self._assessment_command(number, expected_version, lambda a: a.issue_findings(
            policy=self.policy, duty_paid=duty_paid, fraud_indicators=fraud_indicators,
            actor=actor, reason=reason, at=self.clock()))

    def close_assessment(self, number: str, *, actor: str, reason: str,
                         expected_version: int | None = None) -> None:
        self._assessment_command(number, expected_version, lambda a: a.close(
            actor=actor, reason=reason, at=self.clock()))

    def cancel_assessment(self, number: str, *, actor: str, reason: str,
                          expected_version: int | None = None) -> None:
        self._assessment_command(number, expected_version, lambda a: a.cancel(
            actor=actor, reason=reason, at=self.clock()))

    def get_case_file(self, importer_number: str) -> Sequence[CaseRef]:
        found = self._find(case_file_id(self.get_importer(importer_number).importer_number))
        return found.cases if isinstance(found, ImporterCaseFile) else ()

    def find_aggregate(self, aggregate_id: UUID) -> Any:
        return self._find(aggregate_id)
