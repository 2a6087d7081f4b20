"""`compliance import accounts|trade|samples FILE`: bulk data from the national systems."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click

from application.ingest.ingestion import ImportReport
from application.ingest.schemas import SCHEMAS, IngestKind
from infrastructure.csv_files import read_csv_file, write_rejects
from interfaces.analysis_composition import build_ingestion
from interfaces.cli.context import cli_context, emit_json, run_guarded
from interfaces.cli.progress import progress_bar, stage_reporter
from interfaces.cli.text import one_line

SHOWN_ERRORS = 20


@click.group("import")
def import_group() -> None:
    """Load the importer register, trade activity or compliance samples from CSV.

    The whole file is validated first; by default nothing is loaded if any row is bad.
    Loading the same file twice (same SHA-256) loads nothing the second time.
    """


def _import_command(kind: IngestKind, columns: str) -> click.Command:
    @click.command(kind.value, help=f"Load a {kind.value} CSV file with columns: {columns}.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--actor", default="system:import", show_default=True)
    @click.option("--skip-invalid", is_flag=True,
                  help="Load the good rows; write the bad ones, with their reasons, to "
                       "<name>.rejects.csv beside FILE (trade.csv -> trade.rejects.csv).")
    @click.option("--dry-run", is_flag=True, help="Only validate; write nothing.")
    @click.option("--json", "as_json", is_flag=True)
    def command(file: Path, actor: str, skip_invalid: bool, dry_run: bool,
                as_json: bool) -> None:
        def action() -> None:
            context = cli_context()
            ingestion = build_ingestion(context.app)
            with progress_bar(transient=True) as bar:
                csv_file = read_csv_file(file, _columns(kind))
                report = ingestion.import_file(kind, csv_file, actor=actor,
                                               skip_invalid=skip_invalid, dry_run=dry_run,
                                               progress=stage_reporter(bar, f"{file.name}: "))
            if skip_invalid and report.errors and report.status == "loaded":
                reasons: dict[int, list[str]] = defaultdict(list)
                for error in report.errors:
                    reasons[error.row].append(f"{error.column}: {error.reason}")
                report.rejects_file = str(write_rejects(file, reasons))
            _show(report, as_json)
            if report.status == "rejected" or (dry_run and report.errors):
                sys.exit(2)
        run_guarded(action)
    return command


def _columns(kind: IngestKind) -> tuple[str, ...]:
    return SCHEMAS[kind](date.min).columns


def _show(report: ImportReport, as_json: bool) -> None:
    if as_json:
        emit_json(asdict(report))
        return
    verb = {"loaded": "loaded", "rejected": "REJECTED, nothing loaded",
            "validated": "validated (dry run, nothing loaded)",
            "already_imported": "already imported (same SHA-256), nothing loaded"}
    click.echo(one_line(f"{report.kind} {report.file_name}: {verb[report.status]}"))
    click.echo(f"  rows read {report.rows_read:,}, loaded {report.rows_loaded:,}, "
               f"rejected {report.rows_rejected:,}"
               + (f", unchanged {report.rows_unchanged:,}" if report.kind == "accounts" else "")
               + (f", changed {len(report.changes):,}" if report.changes else ""))
    click.echo(f"  batch {report.batch_id} (sha256 {report.sha256[:16]}...)")
    # The rows' errors go to stderr, like every error; the summary stays on stdout.
    for error in report.errors[:SHOWN_ERRORS]:
        click.echo(one_line(f"row {error.row}, column {error.column}: {error.reason}"),
                   err=True)
    if len(report.errors) > SHOWN_ERRORS:
        click.echo(f"... and {len(report.errors) - SHOWN_ERRORS:,} more (use --json)",
                   err=True)
    for change in report.changes[:SHOWN_ERRORS]:
        diffs = "; ".join(f"{name} registered {old!r}, file {new!r}"
                          for name, (old, new) in change.differences.items())
        click.echo(f"  row {change.row}, importer {change.importer_number} changed, "
                   f"not overwritten: {diffs}")
    if report.rejects_file:
        click.echo(one_line(f"  rejected rows written to {report.rejects_file}"))


for _kind in IngestKind:
    import_group.add_command(_import_command(_kind, ",".join(_columns(_kind))))
