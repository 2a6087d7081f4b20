"""Use cases on importer accounts: registration (single and bulk) and account management."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import IntegrityError, RecordConflictError

from application.case_store import CaseStore
from domain.errors import RuleViolationError
from domain.importer_account import (
    ComplianceClass,
    ImporterAccount,
    PartnershipProgramme,
    Registration,
    importer_account_id,
)


@dataclass(frozen=True)
class BulkRegistration:
    registered: int
    already_registered: int


class AccountCommands(CaseStore):
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

    def register_importers(self, registrations: Iterable[Registration], *, actor: str,
                           reason: str, batch_size: int = 1000,
                           progress: Callable[[int], None] | None = None) -> BulkRegistration:
        """Bulk registration: one transaction per batch; already registered importers are
        left alone (their ids are deterministic, so a repeat cannot duplicate them). Not a
        command through `_once`, so the actor is authorised here, before any work."""
        self.authorise(actor, "register_importer")
        registered = existing = 0
        batch: list[tuple[Registration, ImporterAccount]] = []
        at = self.clock()

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

        for registration in registrations:
            batch.append((registration, ImporterAccount.register(
                registration, actor=actor, reason=reason, at=at)))
            if len(batch) >= batch_size:
                flush()
        flush()
        return BulkRegistration(registered, existing)

    def _account_command(self, command: str, importer_number: str, actor: str,
                         expected_version: int | None, idempotency_key: str | None,
                         decide: Callable[[ImporterAccount], None]) -> int:
        return self._step(command, lambda: self.get_importer(importer_number), actor,
                          expected_version, idempotency_key, decide)

    def assign_account_manager(self, importer_number: str, manager: str, *, actor: str,
                               reason: str, expected_version: int | None = None,
                               idempotency_key: str | None = None) -> int:
        return self._account_command(
            "assign_account_manager", importer_number, actor, expected_version,
            idempotency_key, lambda a: a.assign_account_manager(
                manager, actor=actor, reason=reason, at=self.clock()))

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
