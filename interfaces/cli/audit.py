"""`compliance history|verify|status`: what auditors and supervisors read."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click
from rich.progress import Progress

from application.compliance_cases import ComplianceCases
from application.history import case_label, diff, history, resolve_case, state_as_of
from domain.errors import InvalidValueError
from infrastructure.case_names import name_subjects
from infrastructure.seal import (
    SealKeyError,
    SealRefusedError,
    full_verify,
    load_private_key,
    load_public_key,
    seal_ledger,
)
from infrastructure.seal_records import WitnessError
from infrastructure.settings import Settings
from infrastructure.snapshot_check import verify_snapshots
from interfaces.cli.context import cli_context, emit_json, json_option, run_guarded, to_plain
from interfaces.cli.text import one_line, shown
from interfaces.cli.views import _current
from projections.queries import RECORDED, status_counts_from_views
from projections.views.account_register import AccountRegister
from projections.views.worklist import WorkList


def _whole(value: Any) -> str:
    """A value on one line, however long (nested fields included)."""
    return shown(to_plain(value))


def _short(value: Any) -> str:
    text = _whole(value)
    return text if len(text) <= 90 else text[:87] + "..."


def _change(old: Any, new: Any) -> str:
    """`old -> new`, shortened unless shortening would hide what changed."""
    before, after = _short(old), _short(new)
    if before == after:
        before, after = _whole(old), _whole(new)
    return f"{before} -> {after}"


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
    """Every event of a case (case number, importer number or id) or of a user (user:NAME):
    who, when, what, why. Password and token hashes show as <redacted>."""
    def action() -> None:
        app = cli_context().app
        aggregate_id = resolve_case(case)
        label = case_label(case)
        if as_of is not None:
            version, moment = _parse_as_of(as_of)
            state = state_as_of(app, aggregate_id, version=version, moment=moment,
                                label=label)
            if as_json:
                emit_json(state)
            else:
                for key, value in state.items():
                    click.echo(f"{one_line(key):>18}: {_short(value)}")
            return
        if versions is not None:
            changes = diff(app, aggregate_id, versions[0], versions[1], label)
            if as_json:
                emit_json({k: {"from": v[0], "to": v[1]} for k, v in changes.items()})
            else:
                for key, (old, new) in changes.items():
                    click.echo(f"{one_line(key)}: {_whole(old)} -> {_whole(new)}")
                if not changes:
                    click.echo("no differences")
            return
        entries = history(app, aggregate_id, label)
        cases = _importer_cases(case)
        if as_json:
            emit_json({"id": str(aggregate_id), "events": [
                {"version": e.version, "recorded_at": e.recorded_at, "actor": e.actor,
                 "event": e.event, "reason": e.reason, "data": e.data,
                 "changes": {k: {"from": v[0], "to": v[1]} for k, v in e.changes.items()}}
                for e in entries], "cases": cases})
            return
        for e in entries:
            click.echo(one_line(f"v{e.version:<4} {e.recorded_at.isoformat()}  "
                                f"{e.actor:<24} {e.event}"))
            click.echo(f"      reason: {one_line(e.reason)}")
            for key, (old, new) in e.changes.items():
                click.echo(f"      {one_line(key)}: {_change(old, new)}")
        for ref in cases:
            click.echo(one_line(f"case: {ref['kind']} {ref['number']}"))
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
    """Prove nothing was altered: chains, commit signatures, seals against the witness,
    sealed heads, snapshots and ingest digests; exit 1 naming each case and version."""
    def action() -> None:
        context = cli_context()
        settings = context.settings
        app = context.app  # no ledger to open: exit 6 saying so, before any key problem
        try:
            public_key = load_public_key(settings.seal_public_key_path)
        except SealKeyError as error:
            click.echo(f"TAMPERED: cannot verify: {one_line(error)}", err=True)
            sys.exit(1)
        total = app.recorder.max_notification_id() or 0
        with Progress(transient=True, disable=as_json or not sys.stderr.isatty()) as bar:
            task = bar.add_task("verifying chains and signatures", total=total)
            report = full_verify(app.recorder, public_key, settings.seal_witness_path,
                                 lambda n: bar.advance(task, n))
            if app.snapshots is not None:
                interval = settings.snapshot_interval
                long_ones = sum(1 for v, _ in report.heads.values() if v >= interval)
                snap_task = bar.add_task("verifying snapshots", total=long_ones)
                report.snapshots, problems = verify_snapshots(
                    app.events, app.snapshots, report.heads, interval,
                    lambda n: bar.advance(snap_task, n))
                name_subjects(app.recorder, problems)
                report.findings.extend(problems)
        report.notes.extend(_key_placement_notes(settings))
        if not report.seals:
            report.notes.append("no seal yet: the newest events are protected by their "
                                "commit signatures only (compliance seal)")
        latest = report.latest_seal
        if as_json:
            emit_json({"ok": report.ok, "events": report.events,
                       "aggregates": report.aggregates, "commits": report.commits,
                       "snapshots": report.snapshots, "import_batches": report.batches,
                       "key_id": report.key_id,
                       "seals": len(report.seals), "witness_seals": report.witness_seals,
                       "latest_seal": None if latest is None else {
                           "number": latest.number, "sealed_at": latest.sealed_at,
                           "checkpoint": latest.checkpoint, "events": latest.events,
                           "aggregates": latest.aggregates, "key_id": latest.key_id},
                       "notes": report.notes,
                       "problems": [{"subject": f.subject, "version": f.version,
                                     "problem": f.problem} for f in report.findings]})
        else:
            for finding in report.findings:
                click.echo(f"TAMPERED: {one_line(str(finding))}", err=True)
            verdict = "intact" if report.ok else f"{len(report.findings)} problem(s)"
            click.echo(f"verified {report.events} events in {report.aggregates} aggregates "
                       f"({report.commits} signed commits, key {report.key_id}), "
                       f"{report.snapshots} snapshots and {report.batches} import batches: "
                       f"{verdict}")
            if latest is not None:
                click.echo(f"latest seal: {latest.describe()} ({latest.events} events); "
                           f"witness holds {report.witness_seals or 0} seal(s)")
            for note in report.notes:
                click.echo(f"note: {note}")
        if not report.ok:
            sys.exit(1)
    run_guarded(action)


def _key_placement_notes(settings: Settings) -> list[str]:
    """The signing key beside the database defeats its purpose in production."""
    if settings.database_url is not None:
        return []
    key_dir = settings.seal_key_path.resolve().parent
    db_dir = settings.sqlite_path.resolve().parent
    if key_dir == db_dir or db_dir in key_dir.parents:
        return [f"the signing key {settings.seal_key_path} sits under the "
                f"database's folder {settings.sqlite_path.parent}: whoever can copy that "
                "folder can also forge; keep COMPLIANCE_SEAL_KEY elsewhere in production"]
    return []


@click.command("seal")
@click.option("--actor", default="system:sealer", show_default=True,
              help="Who seals: user:<id> or system:<job>.")
def seal_command(actor: str) -> None:
    """Verify everything, then sign a checkpoint of every chain head linked to the previous
    seal, and append it to the witness file outside the database."""
    def action() -> None:
        context = cli_context()
        settings = context.settings
        try:
            key = load_private_key(settings.seal_key_path)
            total = context.app.recorder.max_notification_id() or 0
            with Progress(transient=True, disable=not sys.stderr.isatty()) as bar:
                task = bar.add_task("verifying before sealing", total=total)
                record = seal_ledger(context.app, key, settings.seal_witness_path, actor,
                                     lambda n: bar.advance(task, n))
        except (SealKeyError, SealRefusedError, WitnessError) as error:
            click.echo(f"error: {one_line(str(error))}", err=True)
            sys.exit(1)
        click.echo(f"seal {record.number}: {record.events} events in {record.aggregates} "
                   f"aggregates up to notification {record.checkpoint}, root "
                   f"{record.merkle_root[:16]}..., key {record.key_id}; witness "
                   f"{settings.seal_witness_path}")
    run_guarded(action)


def status_counts(app: ComplianceCases) -> dict[str, Any]:
    """National counts from the work list and the account register (caught up first, as
    every command that reads views does) and the events table: never a replay of the log,
    so a damaged case is not found here but by `verify`."""
    return status_counts_from_views(_current([WorkList, AccountRegister]).store, app.recorder)


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
        if any(RECORDED in states for states in counts["aggregates"].values()):
            click.echo(f"note: types no view holds are counted from their first events, "
                       f"without their states ({RECORDED})")
    run_guarded(action)
