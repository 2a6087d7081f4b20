"""`compliance demo --scale national`: the national population through the real import
and risk paths, with progress."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from application.ingest.schemas import SCHEMAS, IngestKind
from infrastructure.csv_files import read_csv_file
from interfaces.cli.context import CliContext
from interfaces.composition import build_ingestion, build_risk_run, risk_tables
from interfaces.national_data import write_national_files


def load_national(context: CliContext, *, importers: int, samples: int, seed: int,
                  today: date, directory: Path) -> None:
    app = context.app
    year = today.year
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, disable=not sys.stderr.isatty()) as bar:
        generating = bar.add_task("generating national files", total=1)
        files = write_national_files(directory, year=year, today=today, importers=importers,
                                     samples=samples, seed=seed)
        bar.update(generating, completed=1)
        ingestion = build_ingestion(app)
        for kind, path in ((IngestKind.ACCOUNTS, files.accounts),
                           (IngestKind.TRADE, files.trade), (IngestKind.SAMPLES, files.samples)):
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int, kind: IngestKind = kind,
                         tasks: dict[str, TaskID] = tasks) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(f"{kind.value}: {stage}", total=total)
                bar.update(tasks[stage], completed=done, total=total)

            csv_file = read_csv_file(path, SCHEMAS[kind](date.min).columns)
            report = ingestion.import_file(kind, csv_file, actor="system:demo",
                                           progress=progress)
            if report.status not in ("loaded", "already_imported"):
                first = report.errors[:3]
                raise click.ClickException(f"{kind.value} import {report.status}: {first}")
        risk_task = bar.add_task("risk assessment", total=6)
        summary = build_risk_run(app).assess(
            year, actor="system:demo",
            progress=lambda stage, done, _total: bar.update(
                risk_task, description=f"risk assessment: {stage}", completed=done))
    click.echo(f"national demo loaded into {context.settings.describe}:")
    click.echo(f"  {files.importers:,} importer accounts, {files.trade_rows:,} trade rows, "
               f"{files.sample_rows:,} examined sample lines for {year} (files in {directory})")
    click.echo(f"  risk run scored {summary.importers:,} importers "
               f"({summary.changed:,} RiskAssessed events)")
    for row in risk_tables(app).tiers():
        click.echo(f"  tier {row['tier']}: {int(row['importers']):,} importers")
    planted = files.risky_importers
    likely = risk_tables(app).ranking(1000, by="likelihood")
    hits = sum(1 for row in likely if row["importer_number"] in planted)
    click.echo(f"  planted non-compliant importers among the 1,000 least likely to comply: "
               f"{hits} (chance would give about {len(planted) * 1000 / files.importers:.0f})")
