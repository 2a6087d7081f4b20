"""Read-model commands: the projection worker, rebuilds, dumps, and the lists and
statistics officers, supervisors and analysts work from."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from interfaces.cli.context import cli_context, emit_json, json_option, run_guarded
from interfaces.cli.text import one_line
from projections import queries
from projections.runner import ProjectionFailedError
from projections.worker import Projections, views_named

_DISTRICT = click.option("--district", default=None,
                         help="Only this district (01-42); national when omitted.")


def _projections() -> Projections:
    return Projections(cli_context().app)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    for row in rows:
        click.echo("  ".join(one_line(row.get(c) if row.get(c) is not None else "-")
                             for c in columns))
    click.echo(f"{len(rows)} row(s)")


def _guard_projection(action: Any) -> None:
    try:
        run_guarded(action)
    except ProjectionFailedError as error:
        click.echo(f"error: projection stopped: {one_line(error)}", err=True)
        sys.exit(7)


@click.command("project")
@click.option("--once", is_flag=True, help="Catch every view up, then exit.")
@click.argument("views", nargs=-1)
def project_command(once: bool, views: tuple[str, ...]) -> None:
    """Keep the views current from the event log (a worker process; Ctrl-C stops it)."""
    def action() -> None:
        projections = _projections()
        chosen = views_named(views)
        if once:
            for name, applied in projections.catch_up(chosen).items():
                click.echo(f"{name}: {applied} event(s) applied")
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"following the log for {', '.join(v.name for v in chosen)} "
                   f"({cli_context().settings.describe}); Ctrl-C to stop", err=True)
        projections.follow(stop, chosen)
    _guard_projection(action)


@click.command("rebuild")
@click.argument("views", nargs=-1)
def rebuild_command(views: tuple[str, ...]) -> None:
    """Rebuild views from the whole log; commands go on being accepted meanwhile."""
    def action() -> None:
        projections = _projections()
        total = projections.app.recorder.max_notification_id() or 0
        columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                   TaskProgressColumn(show_speed=True), TimeRemainingColumn())
        with Progress(*columns, disable=not sys.stderr.isatty()) as bar:
            for view in views_named(views):
                task = bar.add_task(view.name, total=total)

                def advance(count: int, task_id: TaskID = task) -> None:
                    bar.advance(task_id, count)
                applied = projections.rebuild(view, advance)
                bar.update(task, completed=total)
                click.echo(f"{view.name}: rebuilt from {applied} event(s)")
    _guard_projection(action)


@click.group("views")
def views_group() -> None:
    """Inspect the views."""


@views_group.command("dump")
@click.argument("views", nargs=-1)
def dump_command(views: tuple[str, ...]) -> None:
    """Print every row of the views, sorted (compare two dumps to compare two states)."""
    def action() -> None:
        projections = _projections()
        emit_json({view.name: projections.store.dump(view) for view in views_named(views)})
    _guard_projection(action)


@views_group.command("status")
@json_option
def views_status(as_json: bool) -> None:
    """Each view's position in the log and how far behind it is."""
    def action() -> None:
        projections = _projections()
        rows = [{"view": view.name, "position": projections.store.position(view) or 0,
                 "behind": projections.lag(view)} for view in views_named(())]
        if as_json:
            emit_json(rows)
        else:
            _table(rows, ["view", "position", "behind"])
    _guard_projection(action)


@click.command("worklist")
@_DISTRICT
@click.option("--officer", default=None, help="Only this officer's cases (user:<id>).")
@click.option("--due", "due_only", is_flag=True, help="Due items instead of cases.")
@click.option("--overdue", is_flag=True, help="Only overdue due items.")
@json_option
def worklist_command(district: str | None, officer: str | None, due_only: bool,
                     overdue: bool, as_json: bool) -> None:
    """Open cases (or due items) by district and officer, with days overdue."""
    def action() -> None:
        projections = _projections()
        today = projections.app.clock().date()
        if due_only or overdue:
            rows = queries.due_items(projections.store, today, district=district,
                                     overdue_only=overdue)
            columns = ["due_on", "days_overdue", "kind", "case_number", "district", "item"]
        else:
            rows = queries.worklist(projections.store, today, district=district,
                                    officer=officer)
            columns = ["number", "state", "district", "officer", "due_on", "days_overdue",
                       "next_step"]
        emit_json(rows) if as_json else _table(rows, columns)
    _guard_projection(action)


@click.command("register")
@_DISTRICT
@click.option("--importer", "importer_number", default=None)
@click.option("--limit", type=int, default=None)
@json_option
def register_command(district: str | None, importer_number: str | None, limit: int | None,
                     as_json: bool) -> None:
    """The account register: tier, class, partnerships, open cases, last assessment."""
    def action() -> None:
        rows = queries.account_register(_projections().store, district=district,
                                        importer_number=importer_number, limit=limit)
        emit_json(rows) if as_json else _table(rows, [
            "importer_number", "district", "industry", "tier", "compliance_class", "status",
            "open_cases", "last_assessment", "legal_name"])
    _guard_projection(action)


@click.command("stats")
@click.argument("kind", type=click.Choice(["compliance", "enforcement", "plans"]))
@click.option("--by", type=click.Choice(sorted(queries.GROUPS)), default="area",
              show_default=True, help="Grouping of compliance statistics.")
@_DISTRICT
@json_option
def stats_command(kind: str, by: str, district: str | None, as_json: bool) -> None:
    """Compliance rates, enforcement figures or plan progress."""
    def action() -> None:
        projections = _projections()
        if kind == "compliance":
            rows = queries.compliance_statistics(projections.store, by=by, district=district)
            columns = [by, "lines_tested", "discrepancies", "compliance_rate", "revenue_loss"]
        elif kind == "enforcement":
            rows = queries.enforcement_statistics(projections.store, district=district)
            columns = ["kind", "state", "actions", "proposed", "decided", "paid",
                       "mean_days_to_decision"]
        else:
            rows = queries.plan_progress(projections.store, projections.app.clock().date(),
                                         district=district)
            columns = ["plan_number", "district", "state", "actions", "completed", "overdue"]
        emit_json(rows) if as_json else _table(rows, columns)
    _guard_projection(action)


@click.command("audit")
@click.option("--actor", default=None)
@click.option("--case", default=None, help="Case or importer number.")
@click.option("--since", default=None, help="ISO timestamp (inclusive).")
@click.option("--until", default=None, help="ISO timestamp (exclusive).")
@click.option("--limit", type=int, default=200, show_default=True)
@json_option
def audit_command(actor: str | None, case: str | None, since: str | None, until: str | None,
                  limit: int, as_json: bool) -> None:
    """Search the audit log of every case by actor, case and period."""
    def action() -> None:
        rows = queries.audit_log(_projections().store, actor=actor, case=case, since=since,
                                 until=until, limit=limit)
        emit_json(rows) if as_json else _table(rows, [
            "recorded_at", "actor", "case_ref", "event", "reason"])
    _guard_projection(action)
