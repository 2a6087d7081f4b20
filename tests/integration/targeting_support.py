"""A small targeting world built through the application's own paths: importers registered
in bulk, CSV files (trade, samples, entries) imported as batches, a risk run, rules
drafted/approved/published, and channel decisions read back with SQL."""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import SCHEMAS, IngestKind
from domain.targeting_rule import RuleDefinition
from infrastructure.csv_files import read_csv_file
from interfaces.analysis_composition import build_ingestion, targeting_tables
from tests.builders import FakeClock, registration

ANALYST, SUPERVISOR = "user:analyst.one", "user:supervisor.one"
LOADER = "system:loader"
_files = itertools.count(1)


def columns(kind: IngestKind) -> tuple[str, ...]:
    return SCHEMAS[kind](date.min).columns


def register(app: ComplianceCases, specs: list[tuple[str, str]]) -> list[str]:
    """(district, industry) per importer; returns their numbers, in order."""
    registrations = [registration(district=district, industry=industry)
                     for district, industry in specs]
    result = app.register_importers(registrations, actor=LOADER, reason="national register")
    assert result.registered == len(specs)
    return [r.importer_number for r in registrations]


def import_rows(app: ComplianceCases, folder: Path, kind: IngestKind,
                rows: list[list[Any]]) -> None:
    path = folder / f"{kind.value}-{next(_files)}.csv"
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns(kind))
        writer.writerows(rows)
    report = build_ingestion(app).import_file(kind, read_csv_file(path, columns(kind)),
                                              actor=LOADER)
    assert report.status == "loaded", report.errors[:3]


@dataclass(frozen=True)
class Entry:
    number: str
    importer: str
    day: str = "2026-02-10"
    district: str = "11"
    hs_code: str = "8471300000"
    origin: str = "DE"
    value: str = "1000.00"

    def row(self) -> list[str]:
        duty = f"{float(self.value) * 0.05:.2f}"
        return [self.number, self.importer, self.day, self.district, self.hs_code,
                self.origin, self.value, duty]


def import_entries(app: ComplianceCases, folder: Path, entries: list[Entry]) -> None:
    import_rows(app, folder, IngestKind.ENTRIES, [entry.row() for entry in entries])


def publish(app: ComplianceCases, clock: FakeClock, name: str, conditions: dict[str, Any],
            channel: str = "red", districts: tuple[str, ...] = (),
            effective_from: str = "2026-01-01", effective_to: str | None = None) -> str:
    definition = RuleDefinition.parse(name=name, conditions=conditions, channel=channel,
                                      districts=list(districts),
                                      effective_from=effective_from, effective_to=effective_to)
    clock.advance()
    number = app.draft_rule(definition, actor=ANALYST, reason="pattern found by analysis")
    clock.advance()
    app.approve_rule(number, actor=SUPERVISOR, reason="criterion reviewed")
    clock.advance()
    app.publish_rule(number, actor=SUPERVISOR, reason="in force")
    return number


@dataclass(frozen=True)
class Decision:
    entry_number: str
    importer_number: str
    district: str
    channel: str
    targeted_channel: str
    basis: str
    rules: str
    reason: str
    run_id: str

    @property
    def rule_versions(self) -> set[str]:
        return set(self.rules.split(",")) - {""}

    @property
    def rule_numbers(self) -> set[str]:
        return {version.split("@")[0] for version in self.rule_versions}


def decisions(app: ComplianceCases) -> dict[str, Decision]:
    tables = targeting_tables(app).tables
    found = tables.rows(
        "SELECT entry_number, importer_number, district, channel, targeted_channel, basis, "
        f"rules, reason, run_id FROM {tables.name('channel_decisions')} "
        "ORDER BY entry_number")
    return {row[0]: Decision(*(str(value) for value in row)) for row in found}


def count_events(app: ComplianceCases) -> int:
    return app.recorder.max_notification_id() or 0
