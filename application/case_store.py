"""CaseStore: the eventsourcing Application every command module builds on.

All case aggregates live in one events table with one notification log, so a workflow step
that touches several aggregates commits them in one transaction. Commands are
load -> decide -> save; a stale expected version is a conflict and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    Mapper,
    PersistenceError,
    RecordConflictError,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import EnvType

from application.damage import (
    ReplayError,
    damaged_history,
    decode_stored,
    diagnose,
    originator_uuid,
    replay_step,
)
from application.errors import ConcurrencyConflictError, DamagedHistoryError, NotFoundError
from application.ports import Clock, EventStorage
from application.receipts import CommandReceipt, parse_idempotency_key, receipt_id
from domain.case_file import CaseRef, ImporterCaseFile, case_file_id
from domain.case_numbers import CaseNumberSequence, sequence_id
from domain.errors import DomainError, RuleViolationError
from domain.importer_account import ImporterAccount, importer_account_id
from domain.workflow_policy import WorkflowPolicy

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

_RECEIPT: ContextVar[tuple[str, str, str] | None] = ContextVar("command_receipt", default=None)


class CaseStore(Application[UUID]):
    name = "ComplianceCases"
    snapshot_types: tuple[type[Aggregate], ...] = ()

    def __init__(self, env: EnvType, *, storage: EventStorage, clock: Clock,
                 workflow: WorkflowPolicy | None = None, snapshot_interval: int = 50) -> None:
        self._storage = storage
        self.clock = clock
        self.workflow = workflow or WorkflowPolicy()
        self.snapshotting_intervals = dict.fromkeys(  # type: ignore[misc]
            type(self).snapshot_types, snapshot_interval)
        super().__init__({**env, "IS_SNAPSHOTTING_ENABLED": "y"})

    def construct_mapper(self) -> Mapper[UUID]:
        return self._storage.mapper()

    def construct_event_store(self) -> EventStore[UUID]:
        return self._storage.event_store(self.mapper, self.recorder)

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
            elif isinstance(obj, Aggregate.Event):
                processing_event.events.append(obj)
            elif obj is not None:
                others.append(obj)
        processing_event.collect_events(*others, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    # -- loading -----------------------------------------------------------------------

    def load_aggregate(self, aggregate_id: UUID, *, version: int | None = None,
                       label: str | None = None) -> Aggregate:
        """The one way an aggregate is loaded (its latest snapshot, then the events after
        it). AggregateNotFoundError when it has no events; DamagedHistoryError, named by
        `label` (else the number its first event records) and the first bad version,
        when its stored history cannot be replayed."""
        try:
            found: Aggregate = self.repository.get(aggregate_id, version=version)
        except (AggregateNotFoundError, PersistenceError):
            raise
        except Exception as error:
            snapshots = self.snapshots.recorder if self.snapshots is not None else None
            damage = diagnose(self.events.recorder, snapshots, self.mapper, aggregate_id,
                              version)
            if damage is None:
                raise  # the stored history replays: not damage, a fault of its own
            raise self._damaged(aggregate_id, damage, label) from error
        return found

    def replay_history(self, aggregate_id: UUID, *, label: str | None = None,
                       ) -> Iterator[tuple[CanMutateAggregate[UUID], Aggregate]]:
        """Every stored event of an aggregate, from its first, with the aggregate as it
        stands after it; DamagedHistoryError at the first event that cannot be replayed."""
        aggregate: Any = None
        for stored in self.events.recorder.select_events(aggregate_id):
            try:
                event, aggregate = replay_step(self.mapper, stored, aggregate)
            except ReplayError as damage:
                raise self._damaged(aggregate_id, damage, label) from damage.__cause__
            yield event, aggregate

    def decode_stored_event(self, stored: StoredEvent) -> Any:
        """One stored event (or notification) as its domain event; DamagedHistoryError
        naming its aggregate when it cannot be decoded."""
        try:
            return decode_stored(self.mapper, stored, "event")
        except ReplayError as damage:
            raise self._damaged(originator_uuid(stored), damage) from damage.__cause__

    def _damaged(self, aggregate_id: UUID, damage: ReplayError,
                 label: str | None = None) -> DamagedHistoryError:
        return damaged_history(self.events.recorder, self.mapper, aggregate_id, damage, label)

    def _load(self, aggregate_id: UUID, kind: type[A], what: str, key: object) -> A:
        try:
            aggregate = self.load_aggregate(aggregate_id, label=str(key))
        except AggregateNotFoundError:
            raise NotFoundError(what, key) from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(what, key)
        return aggregate

    def _find(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            return self.load_aggregate(aggregate_id)
        except AggregateNotFoundError:
            return None

    def find_aggregate(self, aggregate_id: UUID) -> Any:
        return self._find(aggregate_id)

    def get_importer(self, importer_number: str) -> ImporterAccount:
        return self._load(importer_account_id(importer_number), ImporterAccount, "importer",
                          importer_number)

    # -- saving ------------------------------------------------------------------------

    def _save(self, label: str, *aggregates: Aggregate | None, result: Any = None) -> None:
        """Commit atomically (with the command's receipt, if it carries an idempotency
        key); a version clash becomes a conflict naming the case."""
        receipt = _RECEIPT.get()
        extra: list[Aggregate] = []
        if receipt is not None:
            key, command, actor = receipt
            extra.append(CommandReceipt.record(
                key, command, msgspec.json.encode(msgspec.to_builtins(result)).decode(),
                actor=actor, at=self.clock()))
            _RECEIPT.set(None)
        try:
            self.save(*aggregates, *extra)
        except (RecordConflictError, IntegrityError):
            # The version reported is that of the case the label names (a workflow step
            # saves it alongside number sequences and case files), else the first's.
            saved = [a for a in aggregates if a is not None]
            named = [a for a in saved if getattr(a, "label", None) == label] or saved[:1]
            found = self._find(named[0].id) if named else None
            current = found.version if found else None
            raise ConcurrencyConflictError(label, None, current) from None

    def _command(self, aggregate: A, label: str, expected_version: int | None,
                 decide: Callable[[A], R]) -> R:
        if expected_version is not None and aggregate.version != expected_version:
            raise ConcurrencyConflictError(label, expected_version, aggregate.version)
        result = decide(aggregate)
        self._save(label, aggregate, result=result)
        return result

    def _step(self, command: str, load: Callable[[], A], actor: str,
              expected_version: int | None, idempotency_key: str | None,
              decide: Callable[[A], None]) -> int:
        """One aggregate, one decision, one save; returns the new version."""
        def run() -> int:
            target = load()

            def decided(aggregate: A) -> int:
                decide(aggregate)
                return aggregate.version
            return self._command(target, str(getattr(target, "label", target.id)),
                                 expected_version, decided)
        return self._once(command, idempotency_key, actor, int, run)

    def _decide_and_save_inside(self, aggregate: A, expected_version: int | None,
                                decide: Callable[[A], R]) -> R:
        """For workflow steps whose decision saves several aggregates itself."""
        if expected_version is not None and aggregate.version != expected_version:
            label = str(getattr(aggregate, "label", aggregate.id))
            raise ConcurrencyConflictError(label, expected_version, aggregate.version)
        return decide(aggregate)

    def _once(self, command: str, key: str | None, actor: str, result_type: type[R],
              run: Callable[[], R]) -> R:
        """Run a command at most once per idempotency key; a repeat returns the first
        result and writes nothing.

        A repeat that found no receipt while the first was still running either conflicts
        with it at save or, having loaded the case after the first committed, is refused
        by the case (already opened, closed, ...): either way the receipt is there now,
        and its result is the answer."""
        if key is None:
            return run()
        canonical = parse_idempotency_key(key)
        existing = self._find(receipt_id(canonical))
        if existing is not None:
            return self._replay(existing, command, result_type)
        token = _RECEIPT.set((canonical, command, actor))
        try:
            return run()
        except (ConcurrencyConflictError, DomainError):
            existing = self._find(receipt_id(canonical))
            if existing is not None:
                return self._replay(existing, command, result_type)
            raise
        finally:
            _RECEIPT.reset(token)

    @staticmethod
    def _replay(receipt: Aggregate, command: str, result_type: type[R]) -> R:
        assert isinstance(receipt, CommandReceipt)
        if receipt.command != command:
            raise RuleViolationError(
                "IdempotencyKeyBelongsToOneCommand",
                f"idempotency key {receipt.key!r} was already used for {receipt.command}, "
                f"not {command}")
        return msgspec.json.decode(receipt.result, type=result_type)

    # -- numbering and case files ------------------------------------------------------

    def _take_number(self, prefix: str, at: datetime,
                     for_what: str) -> tuple[CaseNumberSequence, str]:
        """A number from the year's sequence; saved with the case, so never lost."""
        sequence = self._find(sequence_id(prefix, at.year))
        if sequence is None:
            sequence = CaseNumberSequence.start(prefix, at.year, at)
        assert isinstance(sequence, CaseNumberSequence)
        return sequence, sequence.issue(at, for_what)

    def _case_file(self, importer_number: str, actor: str, at: datetime) -> ImporterCaseFile:
        found = self._find(case_file_id(importer_number))
        if found is None:
            return ImporterCaseFile.start(importer_number, actor=actor, at=at)
        assert isinstance(found, ImporterCaseFile)
        return found

    def _file_case(self, case_file: ImporterCaseFile, kind: str, number: str,
                   case_uuid: UUID, actor: str, at: datetime) -> None:
        case_file.add(CaseRef(kind, number, case_uuid, None, None), actor=actor, at=at)

    def get_case_file(self, importer_number: str) -> tuple[CaseRef, ...]:
        found = self._find(case_file_id(self.get_importer(importer_number).importer_number))
        return found.cases if isinstance(found, ImporterCaseFile) else ()
