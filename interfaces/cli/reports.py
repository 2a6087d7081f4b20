"""`compliance report ...`: issue the oversight bodies' documents (a case dossier, the Trade
Compliance and Enforcement Plan, the annual report) as PDF/A-3b, list what was issued, fetch
one again, and check a file against the ledger.

Every issued report is archived by its SHA-256 with a `ReportIssued` event naming its kind,
parameters, the log position it was computed at and the generator; issuing the same report
at the same position again gives the same bytes and finds the first record. The actor's
scope applies as everywhere: a dossier only of cases it may see, a plan only of its
districts, a national report only by a national user."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from application.reports.archive import IndexedReport
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_reason
from interfaces.cli.context import (
    actor_option,
    cli_context,
    emit_json,
    json_option,
    run_guarded,
)
from interfaces.report_service import ReportRequest, ReportService

MAX_REPORT_BYTES = 512 * 1024 * 1024


def _service() -> ReportService:
    context = cli_context()
    return ReportService(context.app, context.settings)


def _output(path: str) -> Path:
    target = Path(path)
    if target.exists() and target.is_dir():
        raise InvalidValueError("-o", path, "is a directory: name the file to write")
    if not target.parent.exists():
        raise InvalidValueError("-o", path, f"the directory {target.parent} does not exist")
    return target


def _issue(request: ReportRequest, output: str, actor: str, reason: str | None,
           position: int | None, as_json: bool) -> None:
    def action() -> None:
        target = _output(output)
        who = parse_actor(actor)
        why = parse_reason(reason or f"{request.describe()} requested")
        service = _service()
        caller = service.app.principal_for_actor(who) if service.app.access_control else None
        console = Console(stderr=True)
        with console.status("starting") as status:
            issued, content = service.issue(request, actor=who, reason=why, caller=caller,
                                            position=position,
                                            progress=lambda stage: status.update(stage))
        temporary = target.with_name(target.name + ".part")
        temporary.write_bytes(content)
        temporary.replace(target)
        report = issued.report
        facts = {"sha256": report.sha256, "kind": report.kind, "title": report.title,
                 "parameters": report.parameters, "position": report.position,
                 "generator": report.generator, "bytes": report.size, "file": str(target),
                 "new": issued.new}
        if as_json:
            emit_json(facts)
            return
        state = "issued" if issued.new else "already issued (the same bytes), written again"
        click.echo(f"{report.title}: {state}")
        click.echo(f"  {target} ({report.size:,} bytes), computed at log position "
                   f"{report.position}")
        click.echo(f"  SHA-256 {report.sha256}")
        click.echo(f"  check it any time: compliance report verify {target}")
    run_guarded(action)


position_option = click.option(
    "--position", type=click.IntRange(min=0), default=None,
    help="Compute as of this log position (default: the end of the log).")
output_option = click.option("-o", "--output", "output", required=True,
                             help="The PDF file to write.")
optional_reason = click.option("--reason", default=None,
                               help="Why it is issued (recorded with the event).")


@click.group("report")
def report() -> None:
    """Issue, list, fetch and check PDF reports."""


@report.command("dossier")
@click.argument("subject")
@output_option
@actor_option
@optional_reason
@position_option
@json_option
def dossier_command(subject: str, output: str, actor: str, reason: str | None,
                    position: int | None, as_json: bool) -> None:
    """The dossier of a case (CA-, IP-, EA-, FV-) or an importer with all its cases."""
    _issue(ReportRequest("dossier", subject=subject.strip()), output, actor, reason,
           position, as_json)


@report.command("plan")
@click.option("--period", required=True, help="A quarter (2026-Q1) or a year (2026).")
@click.option("--district", default=None, help="One district (default: national).")
@output_option
@actor_option
@optional_reason
@position_option
@json_option
def plan_command(period: str, district: str | None, output: str, actor: str,
                 reason: str | None, position: int | None, as_json: bool) -> None:
    """The Trade Compliance and Enforcement Plan for a quarter or a year."""
    _issue(ReportRequest("plan", period=period.strip(), district=district), output, actor,
           reason, position, as_json)


@report.command("annual")
@click.option("--year", required=True, help="The year reported on, e.g. 2025.")
@output_option
@actor_option
@optional_reason
@position_option
@json_option
def annual_command(year: str, output: str, actor: str, reason: str | None,
                   position: int | None, as_json: bool) -> None:
    """The annual report to the oversight body."""
    _issue(ReportRequest("annual", year=year.strip()), output, actor, reason, position,
           as_json)


def _row(entry: IndexedReport) -> dict[str, Any]:
    return {"sha256": entry.sha256, "kind": entry.kind, "title": entry.title,
            "parameters": entry.parameters, "position": entry.position,
            "district": entry.district, "importer_number": entry.importer_number,
            "issued_at": entry.issued_at.isoformat(), "issued_by": entry.issued_by,
            "bytes": entry.size, "generator": entry.generator}


@report.command("list")
@click.option("--kind", type=click.Choice(["dossier", "plan", "annual"]), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--actor", default=None,
              help="List only what this user may see (default: everything, as the host's "
                   "operator).")
@json_option
def list_command(kind: str | None, limit: int, actor: str | None, as_json: bool) -> None:
    """The reports issued, newest first."""
    def action() -> None:
        service = _service()
        caller = service.app.principal_for_actor(parse_actor(actor)) if actor else None
        entries = service.listed(caller, kind=kind, limit=limit)
        if as_json:
            emit_json([_row(e) for e in entries])
            return
        table = Table("issued", "kind", "title", "position", "by", "sha256")
        for entry in entries:
            table.add_row(entry.issued_at.isoformat(timespec="minutes"), entry.kind,
                          entry.title, str(entry.position), entry.issued_by,
                          entry.sha256[:16])
        Console(width=200 if not sys.stdout.isatty() else None).print(table)
        click.echo(f"{len(entries)} report(s)")
    run_guarded(action)


@report.command("get")
@click.argument("sha256")
@output_option
def get_command(sha256: str, output: str) -> None:
    """Write an issued report's bytes, exactly as issued, to a file."""
    def action() -> None:
        target = _output(output)
        report_entry, content = _service().get(sha256, None)
        target.write_bytes(content)
        click.echo(f"{report_entry.title}: {target} ({len(content):,} bytes)")
    run_guarded(action)


@report.command("verify")
@click.argument("path", type=click.Path(dir_okay=False))
@json_option
def verify_command(path: str, as_json: bool) -> None:
    """Exit 0 when the file is a report this ledger issued, unaltered (and a dossier's
    attached events equal the ledger's); exit 1 naming what differs."""
    def action() -> None:
        source = Path(path)
        if not source.exists():
            raise InvalidValueError("PATH", path, "no such file")
        if source.stat().st_size > MAX_REPORT_BYTES:
            raise InvalidValueError("PATH", path, "larger than any report this ledger "
                                                  "issues")
        verdict = _service().verify(source.read_bytes())
        if as_json:
            emit_json({"ok": verdict.ok, "problems": verdict.problems,
                       "notes": verdict.notes,
                       "report": None if verdict.report is None else _row(verdict.report)})
        else:
            if verdict.report is not None:
                click.echo(f"{verdict.report.title} (SHA-256 {verdict.report.sha256})")
            for note in verdict.notes:
                click.echo(f"  ok: {note}")
            for problem in verdict.problems:
                click.echo(f"  DIFFERS: {problem}")
            click.echo("VERIFIED" if verdict.ok else "NOT VERIFIED")
        if not verdict.ok:
            sys.exit(1)
    run_guarded(action)
