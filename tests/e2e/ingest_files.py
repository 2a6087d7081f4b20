"""Ingest CSV files for the CLI tests, and direct reads of the store a `Cli` points at (so a
test can count rows and events without paying for another `compliance` process)."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from tests.e2e.cli import Cli, Result

ACCOUNTS_HEADER = ("importer_number", "legal_name", "district", "industry", "registered_on")
TRADE_HEADER = ("importer_number", "period", "entries", "lines", "entered_value", "duty_paid",
                "hs_chapter", "origin_country")
SAMPLES_HEADER = ("entry_number", "line", "importer_number", "exam_date", "hs_code",
                  "origin_country", "entered_value", "selection", "discrepancy",
                  "discrepancy_type", "revenue_loss")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """A CSV file with `header` as its first row (row 1) and `rows` from row 2 on."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.reader(stream))


def query(cli: Cli, statement: str) -> list[tuple[Any, ...]]:
    """`statement` with `{table}` placeholders, run on the CLI's store; each `{name}` is
    replaced by the table name (schema-qualified on PostgreSQL)."""
    path = cli.env.get("COMPLIANCE_SQLITE_PATH")
    if path is not None:
        with closing(sqlite3.connect(path)) as conn:
            return [tuple(row) for row in conn.execute(
                statement.format_map(_Names(lambda name: name)))]
    schema = cli.env["COMPLIANCE_POSTGRES_SCHEMA"]
    with psycopg.connect(cli.env["COMPLIANCE_DATABASE_URL"]) as conn:
        names = _Names(lambda name: sql.Identifier(schema, name).as_string(conn))
        return [tuple(row) for row in conn.execute(statement.format_map(names))]


def count(cli: Cli, table: str) -> int:
    return int(query(cli, f"SELECT COUNT(*) FROM {{{table}}}")[0][0])


def event_count(cli: Cli) -> int:
    """The events table's rows (the library names it per store)."""
    postgres = "COMPLIANCE_SQLITE_PATH" not in cli.env
    return count(cli, "compliancecases_events" if postgres else "stored_events")


class _Names(dict[str, str]):
    def __init__(self, qualify: Any) -> None:
        super().__init__()
        self.qualify = qualify

    def __missing__(self, key: str) -> str:
        return str(self.qualify(key))


def run_together(cli: Cli, *commands: Sequence[str]) -> list[Result]:
    """Independent commands (none reads what another writes), their results in the
    order given: one after another in this process, or, for a Cli of processes, side by
    side (each `compliance` process spends most of its second starting up)."""
    if not cli.process:
        return [cli(*args) for args in commands]
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: cli(*args), commands))
