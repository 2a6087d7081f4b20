"""The ingest files: their columns, how each is checked, and which columns make a row's key.

The column names are the national systems' export formats; the key is what makes a row
a duplicate (in the file, or of a row an earlier batch loaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeAlias

import pyarrow.compute as pc

from application.ingest import column_checks as checks


class IngestKind(StrEnum):
    ACCOUNTS = "accounts"
    TRADE = "trade"
    SAMPLES = "samples"
    ENTRIES = "entries"


Mask: TypeAlias = Any  # a pyarrow boolean (Chunked)Array; pyarrow ships no types
CrossCheck = Callable[[dict[str, checks.Checked]], list[tuple[str, Mask, str]]]
"""Rules between the columns of a row: (column to blame, rows that break it, reason)."""


def _no_cross_checks(_columns: dict[str, checks.Checked]) -> list[tuple[str, Mask, str]]:
    return []


@dataclass(frozen=True)
class FileSchema:
    kind: IngestKind
    checks: dict[str, checks.Check]
    key: tuple[str, ...]
    """Columns that identify a row; a second row with the same key is a duplicate."""
    cross_checks: CrossCheck = _no_cross_checks

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.checks)


ENTRY_NUMBER = checks.pattern(r"^[A-Z0-9-]{3,20}$", "not an entry number (3-20 letters, digits, -)",
                              upper=True)


def accounts_schema(today: date) -> FileSchema:
    return FileSchema(IngestKind.ACCOUNTS, {
        "importer_number": checks.IMPORTER_NUMBER,
        "legal_name": checks.text(200),
        "district": checks.DISTRICT,
        "industry": checks.HS_CHAPTER,
        "registered_on": checks.iso_date(not_after=today),
    }, key=("importer_number",))


def trade_schema(today: date) -> FileSchema:
    return FileSchema(IngestKind.TRADE, {
        "importer_number": checks.IMPORTER_NUMBER,
        "period": checks.period(not_after=today),
        "entries": checks.count,
        "lines": checks.count,
        "entered_value": checks.money,
        "duty_paid": checks.money,
        "hs_chapter": checks.HS_CHAPTER,
        "origin_country": checks.COUNTRY,
    }, key=("importer_number", "period", "hs_chapter", "origin_country"),
        cross_checks=_trade_rules)


def _trade_rules(columns: dict[str, checks.Checked]) -> list[tuple[str, Mask, str]]:
    return [("lines", pc.less(columns["lines"].values, columns["entries"].values),
             "fewer lines than entries (every entry has at least one line)")]


def samples_schema(today: date) -> FileSchema:
    return FileSchema(IngestKind.SAMPLES, {
        "entry_number": ENTRY_NUMBER,
        "line": checks.count,
        "importer_number": checks.IMPORTER_NUMBER,
        "exam_date": checks.iso_date(not_after=today),
        "hs_code": checks.hs_code,
        "origin_country": checks.COUNTRY,
        "entered_value": checks.money,
        "selection": checks.choice(("random", "targeted")),
        "discrepancy": checks.boolean,
        "discrepancy_type": checks.optional_area,
        "revenue_loss": checks.money,
    }, key=("entry_number", "line"), cross_checks=_sample_rules)


def _sample_rules(columns: dict[str, checks.Checked]) -> list[tuple[str, Mask, str]]:
    found = columns["discrepancy"].values
    typed = pc.is_valid(columns["discrepancy_type"].values)
    loss = pc.greater(columns["revenue_loss"].values, 0)
    return [
        ("discrepancy_type", pc.and_(found, pc.invert(typed)),
         "is empty, but the line has a discrepancy: name its area"),
        ("discrepancy_type", pc.and_(pc.invert(found), typed),
         "is given, but the line has no discrepancy"),
        ("revenue_loss", pc.and_(pc.invert(found), loss),
         "is above 0, but the line has no discrepancy"),
        ("line", pc.equal(columns["line"].values, 0), "line numbers start at 1"),
    ]


def entries_schema(today: date) -> FileSchema:
    """Declarations to be channelled (release, document check, physical exam)."""
    return FileSchema(IngestKind.ENTRIES, {
        "entry_number": ENTRY_NUMBER,
        "importer_number": checks.IMPORTER_NUMBER,
        "entry_date": checks.iso_date(not_after=today),
        "district": checks.DISTRICT,
        "hs_code": checks.hs_code,
        "origin_country": checks.COUNTRY,
        "entered_value": checks.money,
        "duty": checks.money,
    }, key=("entry_number",))


SCHEMAS: dict[IngestKind, Callable[[date], FileSchema]] = {
    IngestKind.ACCOUNTS: accounts_schema,
    IngestKind.TRADE: trade_schema,
    IngestKind.SAMPLES: samples_schema,
    IngestKind.ENTRIES: entries_schema,
}
