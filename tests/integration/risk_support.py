"""Raising the risk and targeting events through the real services: an import batch, a
risk run, a targeting rule's whole lifecycle, a channel run and a selection plan."""

from __future__ import annotations

import csv
import tempfile
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import SCHEMAS, IngestKind
from domain.case_numbers import case_id
from domain.targeting_rule import RuleDefinition
from domain.values import Period
from infrastructure.csv_files import read_csv_file
from interfaces.analysis_composition import (
    build_channel,
    build_ingestion,
    build_risk_run,
    build_selection,
)
from tests.builders import FakeClock, register_importer

ANALYST, SUPERVISOR = "user:analyst.one", "user:supervisor.one"


def write_csv(path: Path, kind: IngestKind, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(SCHEMAS[kind](date.min).columns)
        writer.writerows(rows)
    return path


def load(app: ComplianceCases, kind: IngestKind, path: Path) -> None:
    report = build_ingestion(app).import_file(
        kind, read_csv_file(path, SCHEMAS[kind](date.min).columns), actor=ANALYST)
    assert report.status == "loaded", report.errors


def exercise_risk_and_targeting(app: ComplianceCases, clock: FakeClock) -> dict[str, UUID]:
    today = clock.now.date()
    year = today.year
    importers = [register_importer(app, industry="64") for _ in range(4)]
    period = f"{year}-{max(1, today.month - 1):02d}"
    exam_day = (today - timedelta(days=1)).isoformat()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        load(app, IngestKind.TRADE, write_csv(directory / "trade.csv", IngestKind.TRADE, [
            [number, period, 10, 20, f"{(i + 1) * 100000}.00", "5000.00", "64", "VN"]
            for i, number in enumerate(importers)]))
        load(app, IngestKind.SAMPLES, write_csv(directory / "samples.csv", IngestKind.SAMPLES, [
            [f"E{i:05d}", 1, number, exam_day, "6403990000", "VN", "1000.00", "random",
             "true" if i % 2 else "false", "origin" if i % 2 else "", "50.00" if i % 2 else "0"]
            for i, number in enumerate(importers * 3)]))
        # declarations for the channel run (a run with nothing to decide is refused)
        load(app, IngestKind.ENTRIES, write_csv(directory / "entries.csv", IngestKind.ENTRIES, [
            [f"D{i:05d}", number, exam_day, "11", "6403990000", "VN", "1000.00", "50.00"]
            for i, number in enumerate(importers[:2])]))
    clock.advance()
    build_risk_run(app).assess(year, actor="system:risk")
    definition = RuleDefinition.parse(name="Footwear from VN", channel="red",
                                      conditions={"hs_prefix": ["64"], "origin": "VN"},
                                      effective_from=today.isoformat())
    clock.advance()
    rule = app.draft_rule(definition, actor=ANALYST, reason="origin pattern")
    for step in (lambda: app.approve_rule(rule, actor=SUPERVISOR, reason="reviewed"),
                 lambda: app.publish_rule(rule, actor=SUPERVISOR, reason="in force"),
                 lambda: app.amend_rule(rule, definition, actor=ANALYST, reason="re-dated"),
                 lambda: app.retire_rule(rule, actor=SUPERVISOR, reason="pattern gone")):
        clock.advance()
        step()
    clock.advance()
    channel = build_channel(app).decide(actor="system:channel", random_share=0.0)
    clock.advance()
    plan = build_selection(app).plan(Period(today.replace(month=1, day=1), today), 2, 0.5,
                                     actor=SUPERVISOR)
    assert channel.entries == 2
    assert len(plan.picks) == 2
    # Channel runs and selection plans are single events: no snapshots to compare.
    return {"targeting rule": case_id(rule)}
