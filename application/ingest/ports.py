"""What ingestion needs from the outside: a file read into text columns, the ingestion
tables, and a set-based view of the registered accounts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import numpy as np
import numpy.typing as npt
import pyarrow as pa


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row (the header is row 1) and in which column."""

    row: int
    column: str
    reason: str


FileProblem = RowError
"""A problem found while reading the file (wrong header, wrong number of fields)."""


@dataclass(frozen=True)
class CsvFile:
    path: Path
    sha256: str
    columns: pa.Table
    """Every expected column as text, in file order, rows of the wrong width left out."""
    row_numbers: npt.NDArray[np.int64]
    """The file row of each table row (the header is row 1)."""
    rows_read: int
    problems: list[FileProblem]

    @property
    def header_is_wrong(self) -> bool:
        return any(problem.row == 1 for problem in self.problems)


@dataclass(frozen=True)
class BatchRecord:
    batch_id: UUID
    kind: str
    file_name: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    actor: str
    loaded_at: datetime


class IngestTablesPort(Protocol):
    def batch(self, batch_id: UUID) -> BatchRecord | None: ...

    def loaded_keys(self, kind: str) -> pa.Array: ...

    def refresh_statistics(self, kind: str | None) -> None:
        """After a large batch (`kind` None: accounts, whose rows are events): the
        database's statistics of what it filled, for the plans of the next reads."""
        ...

    def writer(self, kind: str | None, rows: pa.Table, batch: BatchRecord,
               on_rows: Callable[[int], None] | None = None) -> Callable[[Any], None]:
        """Writes the rows and the batch's provenance inside the events' transaction."""
        ...


class RegisteredFactsLike(Protocol):
    importer_number: str
    legal_name: str
    district: str
    industry: str
    registered_on: date


class AccountDirectoryPort(Protocol):
    def registered_facts(self) -> Mapping[str, RegisteredFactsLike]: ...
