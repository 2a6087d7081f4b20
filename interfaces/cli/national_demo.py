"""`compliance demo --scale national`: the national population through the real import
and risk paths, with progress."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from rich.progress import Progress

from application.compliance_cases import ComplianceCases
from application.ingest.ingestion import Ingestion
from application.ingest.schemas import SCHEMAS, IngestKind
from domain.targeting_rule import RuleDefinition
from infrastructure.csv_files import read_csv_file
from interfaces.analysis_composition import (
    build_channel,
    build_effectiveness,
    build_ingestion,
    build_risk_run,
    risk_tables,
    targeting_tables,
)
from interfaces.cli.context import CliContext
from interfaces.cli.progress import progress_bar, stage_reporter
from interfaces.national_data import (
    write_entries,
    write_exam_results,
    write_national_files,
)

DEMO_RULES = (
    ("Steel from China (AD/CVD evasion)", {"hs_prefix": ["72"], "origin": ["CN"]}, "red", ()),
    ("Footwear from Viet Nam (origin claims)", {"hs_prefix": ["64"], "origin": ["VN"]}, "red",
     ()),
    ("Telecom equipment from Taiwan (IPR), southern ports", {"hs_prefix": ["85"],
                                                              "origin": ["TW"]}, "red",
     ("24", "26")),
    ("Apparel, tier 4 importers (classification)", {"hs_prefix": ["61", "62"], "tier": [4]},
     "amber", ()),
)
ANALYST, SUPERVISOR = "user:analyst.national", "user:supervisor.national"


def publish_demo_rules(app: ComplianceCases, year: int) -> list[str]:
    numbers = []
    for name, conditions, channel, districts in DEMO_RULES:
        definition = RuleDefinition.parse(name=name, conditions=conditions, channel=channel,
                                          districts=list(districts),
                                          effective_from=f"{year}-01-01")
        number = app.draft_rule(definition, actor=ANALYST,
                                reason="pattern found by the national risk centre")
        app.approve_rule(number, actor=SUPERVISOR, reason="criterion reviewed")
        app.publish_rule(number, actor=SUPERVISOR, reason="in force nationally")
        numbers.append(number)
    return numbers


def load_national(context: CliContext, *, importers: int, samples: int, entries: int,
                  seed: int, today: date, directory: Path) -> None:
    app = context.app
    year = today.year
    with progress_bar() as bar:
        generating = bar.add_task("generating national files", total=1)
        files = write_national_files(directory, year=year, today=today, importers=importers,
                                     samples=samples, seed=seed)
        bar.update(generating, completed=1)
        ingestion = build_ingestion(app)
        for kind, path in ((IngestKind.ACCOUNTS, files.accounts),
                           (IngestKind.TRADE, files.trade), (IngestKind.SAMPLES, files.samples)):
            _import(ingestion, kind, path, bar)
        risk_task = bar.add_task("risk assessment", total=6)
        summary = build_risk_run(app).assess(
            year, actor="system:demo",
            progress=lambda stage, done, _total: bar.update(
                risk_task, description=f"risk assessment: {stage}", completed=done))
        if entries:
            rules = publish_demo_rules(app, year)
            entries_path = directory / "entries.csv"
            write_entries(entries_path, files, count=entries, year=year, today=today)
            _import(ingestion, IngestKind.ENTRIES, entries_path, bar)
            channel_task = bar.add_task("channel decisions", total=entries)
            channelled = build_channel(app).decide(
                actor="system:demo", random_share=float(context.settings.channel_random_share),
                seed=seed, progress=lambda _stage, done, total: bar.update(
                    channel_task, completed=done, total=total))
            exams_path = directory / "exam-results.csv"
            write_exam_results(exams_path, targeting_tables(app).examined_entries(),
                               files.risky_importers, seed=seed)
            _import(ingestion, IngestKind.SAMPLES, exams_path, bar)
            rerun = bar.add_task("risk assessment with the exam results", total=6)
            summary = build_risk_run(app).assess(
                year, actor="system:demo",
                progress=lambda stage, done, _total: bar.update(
                    rerun, description=f"risk assessment: {stage}", completed=done))
    click.echo(f"national demo loaded into {context.settings.describe}:")
    click.echo(f"  {files.importers:,} importer accounts, {files.trade_rows:,} trade rows, "
               f"{files.sample_rows:,} examined sample lines for {year} (files in {directory})")
    click.echo(f"  risk run scored {summary.importers:,} importers "
               f"({summary.changed:,} RiskAssessed events)")
    for row in risk_tables(app).tiers():
        click.echo(f"  tier {row['tier']}: {int(row['importers']):,} importers")
    if entries:
        click.echo(f"  {entries:,} declarations channelled: "
                   + ", ".join(f"{k} {v:,}" for k, v in channelled.counts.items())
                   + f" ({channelled.random_exams:,} at random) under rules {', '.join(rules)}; "
                   "exam results loaded as samples")
        overall = build_effectiveness(app).measure().overall
        click.echo(f"  targeting hit rate {overall.targeted.rate:.1%} "
                   f"({overall.targeted.low:.1%}-{overall.targeted.high:.1%}) against random "
                   f"{overall.random.rate:.1%} ({overall.random.low:.1%}-"
                   f"{overall.random.high:.1%})")
    planted = files.risky_importers
    likely = risk_tables(app).ranking(1000, by="likelihood")
    hits = sum(1 for row in likely if row["importer_number"] in planted)
    click.echo(f"  planted non-compliant importers among the 1,000 least likely to comply: "
               f"{hits} (chance would give about {len(planted) * 1000 / files.importers:.0f})")


def _import(ingestion: Ingestion, kind: IngestKind, path: Path, bar: Progress) -> None:
    csv_file = read_csv_file(path, SCHEMAS[kind](date.min).columns)
    report = ingestion.import_file(kind, csv_file, actor="system:demo",
                                   progress=stage_reporter(bar, f"{kind.value}: "))
    if report.status not in ("loaded", "already_imported"):
        raise click.ClickException(f"{kind.value} import {report.status}: {report.errors[:3]}")
