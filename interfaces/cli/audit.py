"""`compliance history|verify|status`: what auditors and supervisors read."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click
from rich.progress import Progress

from application.history import diff, history, resolve_case, state_as_of
from application.queries import status_counts
from domain.errors import InvalidValueError
from infrastructure.seal import (
    SealKeyError,
    SealRefusedError,
    create_key,
    load_private_key,
    load_public_key,
    seal_ledger,
    verify_with_seal,
)
from infrastructure.verify import verify_snapshots
from interfaces.cli.context import cli_context, emit_json, json_option, run_guarded, to_plain


def _short(value: Any) -> str:
    text = str(to_plain(value))
    return text if len(text) <= 90 else text[:87] + "..."


def _parse_as_of(value: str) -> tuple[int | None, datetime | None]:
    if value.isdigit():
        return int(value), None
    try:
        return None, datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValueError("as_of", value, "expected a version number or an ISO "
                                "timestamp such as 2026-03-01T12:00:00+00:00") from None


@click.command("history")
@click.argument("case")
@click.option("--as-of", default=None, help="VERSION or ISO-TIMESTAMP: print the state then.")
@click.option("--diff", "versions", nargs=2, type=int, default=None,
              help="V1 V2: field-by-field changes between two versions.")
@json_option
def history_command(case: str, as_of: str | None, versions: tuple[int, int] | None,
                    as_json: bool) -> None:
    """Every event of a case (case number, importer number or id): who, when, what, why."""
    def action() -> None:
        app = cli_context().app
        aggregate_id = resolve_case(case)
        if as_of is not None:
            version, moment = _parse_as_of(as_of)
            state = state_as_of(app, aggregate_id, version=version, moment=moment)
            if as_json:
                emit_json(state)
            else:
                for key, value in state.items():
                    click.echo(f"{key:>18}: {_short(value)}")
            return
        if versions is not None:
            changes = diff(app, aggregate_id, versions[0], versions[1])
            if as_json:
                emit_json({k: {"from": v[0], "to": v[1]} for k, v in changes.items()})
            else:
                for key, (old, new) in changes.items():
                    click.echo(f"{key}: {_short(old)} -> {_short(new)}")
                if not changes:
                    click.echo("no differences")
            return
        entries = history(app, aggregate_id)
        cases = _importer_cases(case)
        if as_json:
            emit_json({"id": str(aggregate_id), "events": [
                {"version": e.version, "recorded_at": e.recorded_at, "actor": e.actor,
                 "event": e.event, "reason": e.reason, "data": e.data,
                 "changes": {k: {"from": v[0], "to": v[1]} for k, v in e.changes.items()}}
                for e in entries], "cases": cases})
            return
        for e in entries:
            click.echo(f"v{e.version:<4} {e.recorded_at.isoformat()}  {e.actor:<24} {e.event}")
            click.echo(f"      reason: {e.reason}")
            for key, (old, new) in e.changes.items():
                click.echo(f"      {key}: {_short(old)} -> {_short(new)}")
        for ref in cases:
            click.echo(f"case: {ref['kind']} {ref['number']}")
    run_guarded(action)


def _importer_cases(case: str) -> list[dict[str, str]]:
    from domain.values import parse_importer_number

    try:
        number = parse_importer_number(case)
    except InvalidValueError:
        return []
    return [{"kind": c.kind, "number": c.number}
            for c in cli_context().app.get_case_file(number)]


@click.command("verify")
@json_option
def verify_command(as_json: bool) -> None:
    """Recompute every aggregate's hash chain; exit 1 naming what was altered."""
    def action() -> None:
        context = cli_context()
        app = context.app
        total = app.recorder.max_notification_id() or 0
        with Progress(transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
            task = bar.add_task("verifying chains", total=total)
            public_key = load_public_key(context.settings.seal_public_key_path)
            report, seal = verify_with_seal(app.recorder, app.events, public_key,
                                            lambda n: bar.advance(task, n))
            if app.snapshots is not None:
                interval = context.settings.snapshot_interval
                long_ones = sum(1 for v in report.heads.values() if v >= interval)
                snap_task = bar.add_task("verifying snapshots", total=long_ones)
                report.snapshots, problems = verify_snapshots(
                    app.events, app.snapshots, report.heads, interval,
                    lambda n: bar.advance(snap_task, n))
                report.problems.extend(problems)
        seal_ok = not seal.problems
        if as_json:
            emit_json({"ok": report.ok, "events": report.events,
                       "aggregates": report.aggregates, "snapshots": report.snapshots,
                       "seal": None if seal.seal is None else {
                           "sealed_at": seal.sealed_at, "checkpoint": seal.seal.checkpoint,
                           "events": seal.seal.events, "aggregates": seal.seal.aggregates,
                           "key_id": seal.seal.key_id, "ok": seal_ok,
                           "problems": seal.problems},
                       "seal_note": seal.note,
                       "problems": [{"aggregate_id": p.aggregate_id, "version": p.version,
                                     "problem": p.problem} for p in report.problems]})
        else:
            for problem in report.problems:
                click.echo(f"TAMPERED: {problem}", err=True)
            for seal_problem in seal.problems:
                click.echo(f"TAMPERED: {seal_problem}", err=True)
            verdict = "intact" if report.ok else f"{len(report.problems)} problem(s)"
            click.echo(f"verified {report.events} events in {report.aggregates} aggregates "
                       f"and {report.snapshots} snapshots: {verdict}")
            if seal.seal is not None and seal.sealed_at is not None:
                click.echo(f"latest seal {seal.sealed_at.isoformat()} ({seal.seal.events} "
                           f"events, key {seal.seal.key_id}): "
                           f"{'holds' if seal_ok else 'BROKEN'}")
            if seal.note:
                click.echo(f"note: {seal.note}")
        if not report.ok or not seal_ok:
            sys.exit(1)
    run_guarded(action)


@click.command("seal")
@click.option("--actor", default="system:sealer", show_default=True,
              help="Who seals: user:<id> or system:<job>.")
@click.option("--new-key", is_flag=True, help="Create the Ed25519 key pair first.")
def seal_command(actor: str, new_key: bool) -> None:
    """Sign a checkpoint of every aggregate's chain head (key kept outside the database)."""
    def action() -> None:
        context = cli_context()
        path = context.settings.seal_key_path
        try:
            key = create_key(path) if new_key else load_private_key(path)
            record = seal_ledger(context.app, key, actor)
        except (SealKeyError, SealRefusedError) as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(3)
        click.echo(f"sealed {record.events} events in {record.aggregates} aggregates up to "
                   f"notification {record.checkpoint}: root {record.merkle_root[:16]}..., key "
                   f"{record.key_id} (public key {context.settings.seal_public_key_path})")
    run_guarded(action)


@click.command("status")
@json_option
def status_command(as_json: bool) -> None:
    """Counts of aggregates by type and state, and the number of events."""
    def action() -> None:
        context = cli_context()
        counts = status_counts(context.app)
        counts["store"] = context.settings.describe
        if as_json:
            emit_json(counts)
            return
        click.echo(f"store: {counts['store']}")
        for kind, states in counts["aggregates"].items():
            listed = ", ".join(f"{state} {n}" for state, n in states.items())
            click.echo(f"{kind}: {counts['totals'][kind]} ({listed})")
        click.echo(f"events: {counts['events']}")
    run_guarded(action)
