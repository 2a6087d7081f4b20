"""Use cases on importer accounts: registration (single and bulk) and account management."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import repeat
from uuid import UUID

from eventsourcing.persistence import IntegrityError, RecordConflictError
from eventsourcing.utils import get_topic

from application.assignees import Assignees
from application.bulk_runs import BulkRunRows
from application.bulk_work import collector_paused
from application.event_rows import EventRow, EventRows, EventRowStorage, rows_from_columns
from application.workflow_steps import importer_loads
from domain.errors import RuleViolationError
from domain.importer_account import (
    ComplianceClass,
    ImporterAccount,
    PartnershipProgramme,
    Registration,
    RegistrationTerms,
    checked_registration,
    importer_account_id,
)

BULK_REGISTRATION_BATCH = 10_000
"""Registrations per transaction of a bulk registration. Each batch holds the events
table's write lock while its rows go in (on the order of a tenth of a second for 10,000),
so a command made meanwhile waits at most that long; ten times smaller batches cost the
run ten times as many commits: 100,000 accounts on PostgreSQL took 2.4-2.6 s in batches of
1,000 against 1.8-1.9 s in batches of 10,000 (measured side by side, same machine)."""


@dataclass(frozen=True)
class BulkRegistration:
    registered: int
    already_registered: int


class AccountCommands(Assignees):
    def register_importer(self, registration: Registration, *, actor: str, reason: str,
                          idempotency_key: str | None = None) -> UUID:
        def run() -> UUID:
            account_id = importer_account_id(registration.importer_number)
            if self._find(account_id) is not None:
                raise RuleViolationError(
                    "ImporterIsRegisteredOnlyOnce",
                    f"importer {registration.importer_number} is already registered")
            account = ImporterAccount.register(registration, actor=actor, reason=reason,
                                               at=self.clock())
            self._save(f"importer {registration.importer_number}", account, result=account.id)
            return account.id
        return self._once("register_importer", idempotency_key, actor, UUID, run)

    @collector_paused
    def register_importers(self, registrations: Iterable[Registration], *, actor: str,
                           reason: str, batch_size: int = BULK_REGISTRATION_BATCH,
                           progress: Callable[[int], None] | None = None) -> BulkRegistration:
        """Bulk registration. Every registration is checked first, by the rules one by one
        registration checks (checked_registration), so a bad one refuses the whole run,
        naming it, before anything is written. Then one transaction per batch, its
        Registered events written as rows (application.event_rows: the same bytes, ids
        and chain links as ImporterAccount.register's events, without an aggregate per
        importer). Importers already on file, or repeated in the input, are left alone:
        their ids are deterministic, so a repeat cannot duplicate them. Not a command
        through `_once`, so the actor is authorised here, before any work. The batch
        (BULK_REGISTRATION_BATCH) sets how long each transaction holds the events
        table's write lock against how many commits the run waits for."""
        self.authorise(actor, "register_importer")
        terms = RegistrationTerms.parse(actor, reason, self.clock())
        checked = [(checked_registration(registration, terms), registration)
                   for registration in registrations]
        writer = self.event_rows()
        order = writer.fields(ImporterAccount.Registered)
        seen: set[UUID] = set()
        registered = 0
        size = max(batch_size, 1)
        # Each batch is made into its stored events here while the one before is written
        # on a thread of its own: writing mostly waits (COPY, commit), and batches are
        # independent (every Registered event is its account's first), so only the order
        # of the commits is kept: a batch is written once the one before is committed.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="registration") as pool:
            pending: _Pending | None = None
            for start in range(0, len(checked), size):
                batch = checked[start:start + size]
                new = _first_seen(batch, seen)
                prepared = (writer.prepare(ImporterAccount.Registered,
                                           _registered_rows(new, terms, order))
                            if new else None)
                if pending is not None:
                    registered += pending.finish(writer, terms, progress)
                pending = _Pending(pool.submit(prepared.write) if prepared else None, new,
                                   len(batch))
            if pending is not None:
                registered += pending.finish(writer, terms, progress)
        return BulkRegistration(registered, len(checked) - registered)

    def event_rows(self) -> EventRows:
        """The bulk row path (application.event_rows) over this application's event store:
        for use cases that append hundreds of thousands of events decided set-wise."""
        storage = self._storage
        if not isinstance(storage, EventRowStorage):
            raise TypeError(f"{type(storage).__name__} offers no bulk row path")
        return BulkRunRows(storage.event_rows(self.events),
                           lambda: int(self.recorder.max_notification_id() or 0),
                           self._after_bulk_run)

    def _after_bulk_run(self, position: int) -> None:
        """after_bulk_run as set when a bulk run commits (not when the row path is made)."""
        if self.after_bulk_run is not None:
            self.after_bulk_run(position)

    def _account_command(self, command: str, importer_number: str, actor: str,
                         expected_version: int | None, idempotency_key: str | None,
                         decide: Callable[[ImporterAccount], None]) -> int:
        return self._step(command, lambda: self.get_importer(importer_number), actor,
                          expected_version, idempotency_key, decide)

    def assign_account_manager(self, importer_number: str, manager: str, *, actor: str,
                               reason: str, expected_version: int | None = None,
                               idempotency_key: str | None = None) -> int:
        """Assign (or change) the account manager: an enabled officer (or supervisor, the
        roles that do casework, which managing an account is) of the importer's district,
        or a national one, such as the national account managers (application.assignees)."""
        def decide(account: ImporterAccount) -> None:
            self._check_assignee("manager", manager, account.district)
            account.assign_account_manager(manager, actor=actor, reason=reason,
                                           at=self.clock())
        return self._step("assign_account_manager", lambda: self.get_importer(importer_number),
                          actor, expected_version, idempotency_key, decide,
                          [*importer_loads(importer_number, case_file=False, account=True),
                           *self._assignee_loads(manager)])

    def join_partnership(self, importer_number: str, programme: PartnershipProgramme | str,
                         joined_on: date | str, *, actor: str, reason: str,
                         expected_version: int | None = None,
                         idempotency_key: str | None = None) -> int:
        return self._account_command(
            "join_partnership", importer_number, actor, expected_version, idempotency_key,
            lambda a: a.join_partnership(programme, joined_on, actor=actor, reason=reason,
                                         at=self.clock()))

    def leave_partnership(self, importer_number: str, programme: PartnershipProgramme | str,
                          left_on: date | str, *, actor: str, reason: str,
                          expected_version: int | None = None,
                          idempotency_key: str | None = None) -> int:
        return self._account_command(
            "leave_partnership", importer_number, actor, expected_version, idempotency_key,
            lambda a: a.leave_partnership(programme, left_on, actor=actor, reason=reason,
                                          at=self.clock()))

    def set_compliance_class(self, importer_number: str,
                             compliance_class: ComplianceClass | str, *, actor: str,
                             reason: str, expected_version: int | None = None,
                             idempotency_key: str | None = None) -> int:
        return self._account_command(
            "set_compliance_class", importer_number, actor, expected_version, idempotency_key,
            lambda a: a.set_compliance_class(compliance_class, actor=actor, reason=reason,
                                             at=self.clock()))

    def set_tier(self, importer_number: str, tier: int, annual_value: Decimal,
                 cumulative_share: Decimal, year: int, *, actor: str, reason: str,
                 expected_version: int | None = None,
                 idempotency_key: str | None = None) -> int:
        return self._account_command(
            "set_tier", importer_number, actor, expected_version, idempotency_key,
            lambda a: a.set_tier(tier, annual_value, cumulative_share, year, actor=actor,
                                 reason=reason, at=self.clock()))

    def suspend_importer(self, importer_number: str, *, actor: str, reason: str,
                         expected_version: int | None = None,
                         idempotency_key: str | None = None) -> int:
        return self._account_command(
            "suspend_importer", importer_number, actor, expected_version, idempotency_key,
            lambda a: a.suspend(actor=actor, reason=reason, at=self.clock()))

    def reinstate_importer(self, importer_number: str, *, actor: str, reason: str,
                           expected_version: int | None = None,
                           idempotency_key: str | None = None) -> int:
        return self._account_command(
            "reinstate_importer", importer_number, actor, expected_version, idempotency_key,
            lambda a: a.reinstate(actor=actor, reason=reason, at=self.clock()))

    def close_importer(self, importer_number: str, *, actor: str, reason: str,
                       expected_version: int | None = None,
                       idempotency_key: str | None = None) -> int:
        return self._account_command(
            "close_importer", importer_number, actor, expected_version, idempotency_key,
            lambda a: a.close(actor=actor, reason=reason, at=self.clock()))


_ACCOUNT_TOPIC = get_topic(ImporterAccount)
_CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class _Pending:
    """A batch being written: its commit's outcome, the new importers it holds and how
    many registrations it covered (progress counts the input)."""

    written: Future[int] | None
    new: list[tuple[UUID, Registration]]
    covered: int

    def finish(self, writer: EventRows, terms: RegistrationTerms,
               progress: Callable[[int], None] | None) -> int:
        """How many it registered, once committed. An importer found on file (registered
        earlier, or meanwhile by another process) failed the whole batch: it is written
        again without them."""
        try:
            registered = self.written.result() if self.written is not None else 0
        except (RecordConflictError, IntegrityError):
            registered = _append_registrations(writer, self.new, terms)
        if progress:
            progress(self.covered)
        return registered


def _first_seen(batch: list[tuple[UUID, Registration]],
                seen: set[UUID]) -> list[tuple[UUID, Registration]]:
    """The registrations of importers not met before in this run (adding them to `seen`)."""
    new = []
    for account_id, registration in batch:
        known = len(seen)
        seen.add(account_id)  # one hash of the id (a UUID hashes in Python), not two
        if len(seen) > known:
            new.append((account_id, registration))
    return new


def _registered_rows(batch: list[tuple[UUID, Registration]], terms: RegistrationTerms,
                     order: Sequence[str]) -> list[EventRow]:
    """The Registered events ImporterAccount.register would create (the library adds
    originator_topic, the aggregate's topic), as rows of values; the bulk registration
    test holds them to the same stored bytes."""
    registrations = [registration for _, registration in batch]
    return rows_from_columns(order, [account_id for account_id, _ in batch],
                             repeat(1, len(batch)), {
        "timestamp": repeat(terms.at), "originator_topic": repeat(_ACCOUNT_TOPIC),
        "actor": repeat(terms.actor), "reason": repeat(terms.reason),
        "importer_number": [r.importer_number for r in registrations],
        "legal_name": [r.legal_name for r in registrations],
        "district": [r.district for r in registrations],
        "industry": [r.industry for r in registrations],
        "registered_on": [r.registered_on for r in registrations]})


def _append_registrations(writer: EventRows, batch: list[tuple[UUID, Registration]],
                          terms: RegistrationTerms) -> int:
    """One batch in one transaction, leaving out the importers on file (looked up in one
    query); returns how many were registered."""
    for _attempt in range(_CONFLICT_RETRIES):
        on_file = writer.existing([account_id for account_id, _ in batch])
        batch = [entry for entry in batch if entry[0] not in on_file]
        if not batch:
            return 0
        try:
            return writer.append(ImporterAccount.Registered, _registered_rows(
                batch, terms, writer.fields(ImporterAccount.Registered)))
        except (RecordConflictError, IntegrityError):
            if not writer.existing([account_id for account_id, _ in batch]):
                raise  # not an importer on file: a fault of its own
    raise RuleViolationError(
        "ImporterIsRegisteredOnlyOnce",
        f"{len(batch)} importers kept being registered by another process meanwhile; run "
        "the registration again")
