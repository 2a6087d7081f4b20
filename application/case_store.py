"""CaseStore: the eventsourcing Application every command module builds on.

All case aggregates live in one events table with one notification log, so a workflow step
that touches several aggregates commits them in one transaction. Commands are
load -> decide -> save; a stale expected version is a conflict and writes nothing.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    Mapper,
    RecordConflictError,
    Recording,
)
from eventsourcing.utils import EnvType

from application.access import (
    ForbiddenError,
    Principal,
    UnknownActorError,
    acting_as,
    current_caller,
    scope_of,
)
from application.aggregate_loading import _READING, AggregateLoading, project
from application.errors import ConcurrencyConflictError, NotFoundError
from application.histories import HistoryRequest
from application.ports import Clock, EventStorage
from application.receipts import (
    CommandReceipt,
    command_fingerprint,
    parse_idempotency_key,
    receipt_id,
)
from domain.case_file import CaseRef, ImporterCaseFile, case_file_id
from domain.case_numbers import CaseNumberSequence, case_id, sequence_id
from domain.errors import DomainError, RuleViolationError
from domain.importer_account import ImporterAccount, importer_account_id
from domain.workflow_policy import WorkflowPolicy

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")

_RECEIPT: ContextVar[tuple[str, str, str, str] | None] = ContextVar("command_receipt",
                                                                    default=None)
_ARGUMENTS: ContextVar[dict[str, Any] | None] = ContextVar("command_arguments", default=None)
_NOT_FINGERPRINTED = frozenset({"self", "idempotency_key", "expected_version"})
_BINDS_ARGUMENTS = "__binds_command_arguments__"


def _binding_arguments(method: Callable[..., R]) -> Callable[..., R]:
    """A command method taking an idempotency key, which, when called with one, first binds
    its arguments to their names (defaults applied, iterators read into tuples so the
    command still sees every item) for `_once` to fingerprint."""
    signature = inspect.signature(method)
    keyword_only = (signature.parameters["idempotency_key"].kind
                    is inspect.Parameter.KEYWORD_ONLY)

    @functools.wraps(method)
    def command(*args: Any, **kwargs: Any) -> R:
        if keyword_only and kwargs.get("idempotency_key") is None:
            return method(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if isinstance(value, Iterator):
                bound.arguments[name] = tuple(value)
        token = _ARGUMENTS.set({name: value for name, value in bound.arguments.items()
                                if name not in _NOT_FINGERPRINTED})
        try:
            return method(*bound.args, **bound.kwargs)
        finally:
            _ARGUMENTS.reset(token)

    setattr(command, _BINDS_ARGUMENTS, True)
    return command


class CaseStore(AggregateLoading):
    name = "ComplianceCases"
    snapshot_types: tuple[type[Aggregate], ...] = ()
    after_bulk_run: Callable[[int], None] | None = None
    """Called once a save that recorded a bulk run (application.bulk_runs) has committed,
    with the log position of its last bulk-run event (or, after the bulk row path, the
    log's head then): the composition root keeps the analysts' figures computed with it.
    It must not raise (the save has committed)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every public command method that takes an idempotency key binds its arguments
        for `_once` (see `_binding_arguments`): a key is checked against the whole
        request in one place, and a new command cannot forget to."""
        super().__init_subclass__(**kwargs)
        for name, member in list(vars(cls).items()):
            if (not name.startswith("_") and inspect.isfunction(member)
                    and "idempotency_key" in inspect.signature(member).parameters
                    and not getattr(member, _BINDS_ARGUMENTS, False)):
                setattr(cls, name, _binding_arguments(member))

    def __init__(self, env: EnvType, *, storage: EventStorage, clock: Clock,
                 workflow: WorkflowPolicy | None = None, snapshot_interval: int = 50,
                 access_control: bool = True) -> None:
        """`access_control`: every command checks its actor's roles, and every load the
        caller's scope (see application.access). Off only for the application's own
        tests and the demo and benchmark loaders, which create their actors first."""
        self.access_control = access_control
        self._storage = storage
        self.clock = clock
        self.workflow = workflow or WorkflowPolicy()
        self.snapshotting_intervals = dict.fromkeys(  # type: ignore[misc]
            type(self).snapshot_types, snapshot_interval)
        self.snapshotting_projectors = dict.fromkeys(  # type: ignore[misc]
            type(self).snapshot_types, project)
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

    # -- loading (see application.aggregate_loading) ---------------------------------

    def _load(self, aggregate_id: UUID, kind: type[A], what: str, key: object) -> A:
        try:
            aggregate = self.load_aggregate(aggregate_id, label=str(key))
        except AggregateNotFoundError:
            raise NotFoundError(what, key) from None
        if not isinstance(aggregate, kind):
            raise NotFoundError(what, key)
        caller = current_caller()
        if caller is not None:
            scope = scope_of(aggregate)
            if scope is not None and not caller.sees(*scope):
                raise NotFoundError(what, key)  # out of scope: as if it did not exist
        return aggregate

    def get_importer(self, importer_number: str) -> ImporterAccount:
        return self._load(importer_account_id(importer_number), ImporterAccount, "importer",
                          importer_number)

    # -- saving ------------------------------------------------------------------------

    def _save(self, label: str, *aggregates: Aggregate | None, result: Any = None) -> None:
        """Commit atomically (with the command's receipt, if it carries an idempotency
        key); a version clash becomes a conflict naming what clashed (see `_conflict`)."""
        if _READING.get():
            raise RuntimeError(f"{label}: a command ran inside reading(), on shared "
                               "cached aggregates")
        receipt = _RECEIPT.get()
        saved = [a for a in aggregates if a is not None]
        caller = current_caller()
        if caller is not None:  # the last guard: nothing is ever written outside scope
            for aggregate in saved:
                scope = scope_of(aggregate)
                if scope is not None and not caller.sees(*scope):
                    raise ForbiddenError.outside_scope(caller.actor, *scope)
        if receipt is not None:
            key, command, actor, fingerprint = receipt
            saved.append(CommandReceipt.record(
                key, command, msgspec.json.encode(msgspec.to_builtins(result)).decode(),
                fingerprint=fingerprint, actor=actor, at=self.clock()))
            _RECEIPT.set(None)
        read_at = [(a, a.version - len(a.pending_events)) for a in saved]
        try:
            self.save(*saved)
        except (RecordConflictError, IntegrityError):
            raise self._conflict(label, read_at) from None
        for aggregate in saved:
            self.hints.note(aggregate)

    def _conflict(self, label: str,
                  read_at: list[tuple[Aggregate, int]]) -> ConcurrencyConflictError:
        """After a save failed on a version clash (the library does not say on which
        aggregate): each aggregate's stored head against the version this command read
        (0 for a new one), and the conflict said for the one that moved, in this order:
        the case `label` names, another case it read, the importer's case file, the number
        sequence, a case someone else created, the receipt."""
        moved: list[tuple[int, Aggregate, int, int]] = []
        for aggregate, read in read_at:
            stored = self.events.recorder.select_events(aggregate.id, desc=True, limit=1)
            head = stored[0].originator_version if stored else None
            if head is None or head <= read:
                continue
            case = getattr(aggregate, "label", None)
            rank = (0 if case == label and read else 1 if case is not None and read
                    else 2 if isinstance(aggregate, ImporterCaseFile)
                    else 3 if isinstance(aggregate, CaseNumberSequence)
                    else 4 if case is not None else 5)
            moved.append((rank, aggregate, read, head))
        if not moved:
            return ConcurrencyConflictError.unexplained(label)
        _, aggregate, read, head = min(moved, key=lambda entry: entry[0])
        if isinstance(aggregate, ImporterCaseFile):
            return ConcurrencyConflictError.case_filed(aggregate.importer_number, read, head)
        if isinstance(aggregate, CaseNumberSequence):
            return ConcurrencyConflictError.number_taken(aggregate.prefix, read, head)
        if isinstance(aggregate, CommandReceipt):
            return ConcurrencyConflictError.key_taken(aggregate.key, head)
        case = str(getattr(aggregate, "label", label))
        if read == 0:
            return ConcurrencyConflictError.created_meanwhile(case, head)
        return ConcurrencyConflictError(case, read, head)

    @staticmethod
    def _expect_version(aggregate: Aggregate, expected_version: int | None,
                        label: str | None = None) -> None:
        """Refuse (a conflict, nothing written) unless the aggregate is at the version the
        caller read, when the caller says which that was."""
        if expected_version is not None and aggregate.version != expected_version:
            case = label or str(getattr(aggregate, "label", aggregate.id))
            raise ConcurrencyConflictError(case, expected_version, aggregate.version)

    def _command(self, aggregate: A, label: str, expected_version: int | None,
                 decide: Callable[[A], R]) -> R:
        self._expect_version(aggregate, expected_version, label)
        result = decide(aggregate)
        self._save(label, aggregate, result=result)
        return result

    def _step(self, command: str, load: Callable[[], A], actor: str,
              expected_version: int | None, idempotency_key: str | None,
              decide: Callable[[A], None], loads: Sequence[HistoryRequest] = ()) -> int:
        """One aggregate, one decision, one save; returns the new version. `loads`: see
        `_once`."""
        def run() -> int:
            target = load()

            def decided(aggregate: A) -> int:
                decide(aggregate)
                return aggregate.version
            return self._command(target, str(getattr(target, "label", target.id)),
                                 expected_version, decided)
        return self._once(command, idempotency_key, actor, int, run, loads)

    @staticmethod
    def _cases_loads(*numbers: str) -> list[HistoryRequest]:
        """The cases these numbers name, to fetch in one query (`_once`'s `loads`); a
        number that is not one is left to the command's own load to refuse."""
        loads: dict[UUID, HistoryRequest] = {}
        for number in numbers:
            try:
                oid = case_id(number)
            except DomainError:
                continue
            loads[oid] = HistoryRequest.full(oid)
        return list(loads.values())

    def _decide_and_save_inside(self, aggregate: A, expected_version: int | None,
                                decide: Callable[[A], R]) -> R:
        """For workflow steps whose decision saves several aggregates itself."""
        self._expect_version(aggregate, expected_version)
        return decide(aggregate)

    def _once(self, command: str, key: str | None, actor: str, result_type: type[R],
              run: Callable[[], R], loads: Sequence[HistoryRequest] = ()) -> R:
        """Run a command at most once per idempotency key; a repeat returns the first
        result and writes nothing.

        A repeat that found no receipt while the first was still running either conflicts
        with it at save or, having loaded the case after the first committed, is refused
        by the case (already opened, closed, ...): either way the receipt is there now,
        and its result is the answer.

        Under access control the actor's principal must hold a role allowing `command`,
        and the command runs as that principal, so that every case it loads is scoped.

        `loads`: the aggregates the command will load, fetched in one query with the
        receipt it looks for (see application.aggregate_loading); each load still checks
        access as it takes them."""
        caller = self._caller(actor)
        if caller is None:
            return self._at_most_once(command, key, actor, result_type, run, loads)
        caller.require(command)
        with acting_as(caller):
            return self._at_most_once(command, key, actor, result_type, run, loads)

    def _caller(self, actor: str) -> Principal | None:
        if not self.access_control:
            return None
        current = current_caller()
        if current is not None:
            if current.actor != actor:
                raise UnknownActorError(f"{current.actor} cannot act as {actor}")
            return current
        return self.principal_for_actor(actor)

    def authorise(self, actor: str, permission: str) -> None:
        """For use cases that do not run through `_once` (imports, risk, channel and
        selection runs): the actor's principal must hold `permission`."""
        caller = self._caller(actor)
        if caller is not None:
            caller.require(permission)

    def principal_for_actor(self, actor: str) -> Principal:
        """Overridden by the identity use cases (application.identity)."""
        raise UnknownActorError(f"{actor}: no users are known to this application")

    def _at_most_once(self, command: str, key: str | None, actor: str,
                      result_type: type[R], run: Callable[[], R],
                      loads: Sequence[HistoryRequest]) -> R:
        if key is None:
            with self._prefetching(loads):
                return run()
        canonical = parse_idempotency_key(key)
        arguments = _ARGUMENTS.get()
        if arguments is None:
            raise TypeError(f"{command} takes an idempotency key but its arguments were not "
                            "bound: it must be a public method of a CaseStore subclass")
        fingerprint = command_fingerprint(command, arguments, actor)
        with self._prefetching([*loads, HistoryRequest.full(receipt_id(canonical))]):
            return self._keyed(canonical, command, actor, fingerprint, result_type, run)

    def _keyed(self, canonical: str, command: str, actor: str, fingerprint: str,
               result_type: type[R], run: Callable[[], R]) -> R:
        existing = self._find(receipt_id(canonical))
        if existing is not None:
            return self._replay(existing, command, fingerprint, result_type)
        token = _RECEIPT.set((canonical, command, actor, fingerprint))
        consumed = _ARGUMENTS.set(None)  # a nested command binds its own
        try:
            return run()
        except (ConcurrencyConflictError, DomainError):
            existing = self._find(receipt_id(canonical))
            if existing is not None:
                return self._replay(existing, command, fingerprint, result_type)
            raise
        finally:
            _ARGUMENTS.reset(consumed)
            _RECEIPT.reset(token)

    @staticmethod
    def _replay(receipt: Aggregate, command: str, fingerprint: str, result_type: type[R]) -> R:
        """The first result, if this is the request the key was first sent with (the same
        command, arguments and actor); else the key is refused, naming it."""
        assert isinstance(receipt, CommandReceipt)
        if not receipt.was_sent_as(command, fingerprint):
            used_for = (f"{receipt.command}, not {command}" if receipt.command != command
                        else f"{command} with other arguments or by another actor")
            raise RuleViolationError(
                "IdempotencyKeyReused",
                f"idempotency key {receipt.key!r} was already used for {used_for}; use a "
                "new key")
        return msgspec.json.decode(receipt.result, type=result_type)

    # -- numbering and case files ------------------------------------------------------

    def _take_number(self, prefix: str, at: datetime,
                     for_what: str) -> tuple[CaseNumberSequence, str]:
        """A number from the year's sequence; saved with the case, so never lost. The
        sequence is loaded from its first and last events (CaseNumberSequence.resumed),
        fetched ahead with the command's other aggregates when the year was foreseen."""
        self.hints.year = at.year
        sequence = self._find_first_and_last(sequence_id(prefix, at.year))
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
