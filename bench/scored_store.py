"""The scored store benchmarks 10-11 read: the national register imported, a year of trade
and sample lines, and the risk scores of every importer (benchmark 9's, or one built the
same way by bench.ingest_benchmarks.IngestBenchmarks.scored_store), the register store
benchmark 8 hands to 9, and the profile labels both targeting benchmarks give the account
directory they read through."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from application.compliance_cases import ComplianceCases
from application.ingest.ingestion import Ingestion
from bench.ingest_data import Register, Trade
from infrastructure.account_directory import AccountDirectory

SQL_TABLES = "infrastructure/sql_tables.py"
DIRECTORY = "infrastructure/account_directory.py"
SAVE = "application/case_store.py|application/compliance_cases.py|eventsourcing/application.py"
REGISTERED = "account directory: every Registered event read and decoded"


@dataclass
class RegisterStore:
    """A schema holding the imported register, handed from benchmark 8 to 9."""

    schema: str
    app: ComplianceCases
    ingestion: Ingestion
    register: Register


@dataclass
class ScoredStore:
    """A schema holding the imported register, a year of trade and sample lines and the
    risk scores of every importer: benchmark 9's store, handed to benchmarks 10-11."""

    schema: str
    app: ComplianceCases
    ingestion: Ingestion
    register: Register
    trade: Trade
    samples: Path
    sample_lines: int
    year: int
    built_by: str

    def table(self, name: str) -> sql.Identifier:
        """A table of the store's schema, for the raw baselines' statements."""
        return sql.Identifier(self.schema, name)

    def time_histories(self) -> float:
        """AccountDirectory.histories() alone, on a fresh directory (as decide and plan
        call it): the part of both benchmarks that is neither rules nor scores."""
        start = time.perf_counter()
        AccountDirectory(self.app.recorder).histories()
        return time.perf_counter() - start
