"""What a risk run reads and writes outside the event log."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import pyarrow as pa

from domain.importer_history import ImporterHistory


@dataclass(frozen=True)
class TradeTotals:
    """Per importer for the year: importer_number, entries, lines, value_cents, duty_cents."""

    table: pa.Table


@dataclass(frozen=True)
class SampleTotals:
    """Examined lines per importer_number, chapter, selection and area (discrepancy type,
    '' for none): lines, discrepancies, loss_cents, discrepant_value_cents."""

    table: pa.Table


@dataclass(frozen=True)
class PreviousScores:
    """The scores table as earlier runs left it, one row per scored importer:
    importer_number, score, tier, category, impact_level, method_version, compliance_rate."""

    table: pa.Table


@dataclass(frozen=True)
class RiskRunRecord:
    run_id: UUID
    year: int
    method_version: str
    assessed_at: datetime
    actor: str
    importers: int
    changed: int
    input_batches: tuple[UUID, ...]


class RunWriter(Protocol):
    """A run's tables written with the cursor of the transaction that appends its events.
    `after_events`: only after the events (it locks what readers read until commit).
    `close()` when that transaction is over, committed or not."""

    after_events: bool

    def __call__(self, cursor: Any) -> None: ...

    def close(self) -> None: ...


class RiskTablesPort(Protocol):
    @property
    def concurrent_reads(self) -> bool:
        """Whether the run's reads may be sent at once, on threads of their own."""
        ...

    def trade_totals(self, year: int) -> TradeTotals: ...

    def sample_totals(self, year: int) -> SampleTotals: ...

    def input_batches(self, year: int) -> list[UUID]: ...

    def previous_scores(self) -> PreviousScores: ...

    def writer(self, run: RiskRunRecord, scores: pa.Table, rates: pa.Table,
               removed: Sequence[str] = (),
               on_rows: Callable[[int], None] | None = None,
               existing: Collection[str] | None = None) -> RunWriter:
        """Writes the run's tables with a save's cursor: the changed importers' rows
        replace theirs and `removed` (closed accounts) go; `existing` (the importers that
        have a row now, when the run has read them) spares deleting rows that are not
        there (a first run has none)."""
        ...


class AccountFacts(Protocol):
    importer_number: str
    district: str
    industry: str


class RegisteredAccount(Protocol):
    @property
    def account_id(self) -> UUID: ...

    @property
    def facts(self) -> AccountFacts: ...


class AccountsPort(Protocol):
    def registered(self) -> Mapping[str, RegisteredAccount]: ...

    def closed(self) -> set[UUID]: ...

    def heads(self, only: Collection[UUID] | None = None) -> dict[UUID, tuple[int, str]]: ...

    def histories(self) -> Mapping[str, ImporterHistory]: ...
