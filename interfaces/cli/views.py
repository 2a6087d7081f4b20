"""Read-model commands: the projection worker, rebuilds, dumps, and the lists and
statistics officers, supervisors and analysts work from.

The commands that read views first catch them up to the end of the log, in this process
(cheap when little is behind; a progress bar on a terminal when much is), so a case
recorded a moment ago is on the work list without a worker running. When that cannot be
done (a role that may only read, another process writing to the SQLite file, a view
stopped at an event it cannot apply) they read the views as they are and say on stderr
how far behind the log they are."""

from __future__ import annotations

import faulthandler
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from domain.values import parse_district
from infrastructure.settings import Settings
from interfaces.cli.context import (
    cli_context,
    emit_json,
    json_option,
    run_guarded,
    write_refused,
)
from interfaces.cli.progress import progress_bar, stage_reporter
from interfaces.cli.text import one_line, shown
from projections import queries
from projections.runner import ProjectionFailedError
from projections.view import View
from projections.views.account_register import AccountRegister
from projections.views.audit_log import AuditLog
from projections.views.statistics import (
    ComplianceStatistics,
    EnforcementStatistics,
    PlanProgress,
)
from projections.views.worklist import WorkList
from projections.worker import Projections, views_named

_DISTRICT = click.option("--district", default=None,
                         help="Only this district (01-42); national when omitted.")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
SHOW_PROGRESS_FROM = 1000
"""A catch-up of at least this many events shows a progress bar (on a terminal)."""
HEADERS = {"importer_number": "IMPORTER", "compliance_class": "CLASS", "case_ref": "CASE",
           "days_overdue": "DAYS OVERDUE", "due_item": "DUE ITEM", "due_on": "DUE ON",
           "mean_days_to_decision": "MEAN DAYS TO DECISION", "plan_number": "PLAN"}


def _projections() -> Projections:
    return Projections(cli_context().app)


def _current(views: Iterable[type[View]]) -> Projections:
    """The projections, with `views` first caught up to the end of the log; when they
    cannot be, a warning on stderr saying how far behind they are and why."""
    projections = _projections()
    chosen = list(views)
    behind = max(projections.lag(view) for view in chosen)
    if not behind:
        return projections
    why = _cannot_write(cli_context().settings)
    if why is None:
        try:
            if behind < SHOW_PROGRESS_FROM:
                projections.catch_up(chosen)
            else:
                with progress_bar(transient=True) as bar:
                    projections.catch_up(chosen,
                                         progress=stage_reporter(bar, "catching up view "))
            return projections
        except Exception as error:  # a role that may only read, a view stopped at an
            # event it cannot apply, a database that went away
            if write_refused(error):
                why = "this role cannot write to catch them up"
            elif isinstance(error, ProjectionFailedError):
                why = str(error)
            else:
                why = f"catching up failed: {type(error).__name__}"
    left = max(projections.lag(view) for view in chosen)
    if left:
        events = f"{left:,} event" + ("" if left == 1 else "s")
        click.echo(one_line(f"warning: views are {events} behind the log ({why}); "
                            "run compliance project --once"), err=True)
    return projections


def _cannot_write(settings: Settings) -> str | None:
    """Why the SQLite file cannot be written now (another process holds its write lock,
    or it is read-only), found without waiting; None when it can (and on PostgreSQL,
    where catching up does not wait behind imports)."""
    if settings.database_url is not None:
        return None
    uri = f"file:{quote(str(settings.sqlite_path.resolve()))}?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=0.1, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except sqlite3.Error as error:
        if "locked" in str(error) or "busy" in str(error):
            return "another process is writing to the database"
        return f"the database cannot be written: {error}"
    return None


def _cell(value: Any) -> str:
    return shown(value)


def _numeric(values: list[Any]) -> bool:
    """A column of numbers (or amounts as text, like "1200.50"), some perhaps missing."""
    present = [value for value in values if value is not None]
    return bool(present) and all(
        (isinstance(value, int | float) and not isinstance(value, bool))
        or (isinstance(value, str) and NUMBER.fullmatch(value) is not None)
        for value in present)


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Rows as aligned columns under a header line (numbers right-aligned), then the count."""
    headers = [HEADERS.get(c, c.replace("_", " ").upper()) for c in columns]
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    numeric = [_numeric([row.get(c) for row in rows]) for c in columns]
    widths = [max([len(h), *(len(line[i]) for line in cells)]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        padded = [value.rjust(width) if right else value.ljust(width)
                  for value, width, right in zip(values, widths, numeric, strict=True)]
        return "  ".join(padded).rstrip()

    click.echo(line(headers))
    for values in cells:
        click.echo(line(values))
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
        # `kill -USR1` prints every thread's stack to stderr: what a worker that does not
        # stop or does not advance is waiting for, without stopping it.
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        threading.Thread(target=_exit_if_stop_stalls, args=(stop,), daemon=True).start()
        click.echo(f"following the log for {', '.join(v.name for v in chosen)} "
                   f"({cli_context().settings.describe}); Ctrl-C to stop", err=True)
        projections.follow(stop, chosen)
    _guard_projection(action)


STOP_GRACE_S = 15.0
"""How long a stopping worker may take to finish its batches before it exits anyway."""


def _exit_if_stop_stalls(stop: threading.Event) -> None:
    """Once asked to stop, a worker that has not exited within STOP_GRACE_S (a batch stuck
    on a lock, a thread that does not end) prints every thread's stack and exits: its open
    transactions roll back, so no batch is half applied and the next worker resumes from
    the tracking records. A service manager's stop is then bounded and explained."""
    stop.wait()
    time.sleep(STOP_GRACE_S)
    click.echo(f"warning: the worker had not stopped {STOP_GRACE_S:.0f} s after being asked "
               "to; exiting now (open transactions roll back). Its threads:", err=True)
    faulthandler.dump_traceback(all_threads=True)
    sys.stderr.flush()
    os._exit(0)


@click.command("rebuild")
@click.argument("views", nargs=-1)
def rebuild_command(views: tuple[str, ...]) -> None:
    """Rebuild views from the whole log; commands go on being accepted meanwhile."""
    def action() -> None:
        projections = _projections()
        total = projections.app.recorder.max_notification_id() or 0
        columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                   TaskProgressColumn(show_speed=True), TimeRemainingColumn())
        chosen = views_named(views)
        with Progress(*columns, disable=not sys.stderr.isatty()) as bar:
            # One read of the log folds every chosen view (projections.rebuild_views).
            task = bar.add_task(", ".join(v.name for v in chosen)[:24], total=total)
            applied = projections.rebuild_all(chosen, lambda n: bar.advance(task, n))
            bar.update(task, completed=total)
        for view in chosen:
            click.echo(f"{view.name}: rebuilt from {applied[view.name]} event(s)")
    _guard_projection(action)


@click.group("views")
def views_group() -> None:
    """Inspect the views."""


@views_group.command("dump")
@click.argument("views", nargs=-1)
def dump_command(views: tuple[str, ...]) -> None:
    """Print every row of the views, sorted (compare two dumps to compare two states)."""
    def action() -> None:
        chosen = views_named(views)
        projections = _current(chosen)
        emit_json({view.name: projections.store.dump(view) for view in chosen})
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


def _checked_district(district: str | None) -> None:
    """Refuse a bad district (exit 2) before catching anything up."""
    if district is not None:
        parse_district(district)


def _responsible(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For printing: the officer responsible, or `unassigned`."""
    return [{**row, "officer": row["officer"] or queries.UNASSIGNED} for row in rows]


@click.command("worklist")
@_DISTRICT
@click.option("--officer", default=None,
              help="Only the cases this officer is responsible for (user:<id>), or "
                   "`unassigned`.")
@click.option("--due", "due_only", is_flag=True, help="Due items instead of cases.")
@click.option("--overdue", is_flag=True, help="Only overdue due items.")
@json_option
def worklist_command(district: str | None, officer: str | None, due_only: bool,
                     overdue: bool, as_json: bool) -> None:
    """Open cases (or due items) by district and officer responsible, with days overdue."""
    def action() -> None:
        _checked_district(district)
        projections = _current([WorkList])
        today = projections.app.clock().date()
        if due_only or overdue:
            rows = queries.due_items(projections.store, today, district=district,
                                     overdue_only=overdue, officer=officer)
            columns = ["due_on", "days_overdue", "district", "officer", "due_item"]
            shown = [{**row, "due_item": f"{row['case_number']} {row['description']}"}
                     for row in _responsible(rows)]
        else:
            rows = queries.worklist(projections.store, today, district=district,
                                    officer=officer)
            columns = ["number", "state", "district", "officer", "due_on", "days_overdue",
                       "next_step"]
            shown = _responsible(rows)
        emit_json(rows) if as_json else _table(shown, columns)
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
        _checked_district(district)
        rows = queries.account_register(_current([AccountRegister]).store, district=district,
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
        _checked_district(district)
        projections = _current([{"compliance": ComplianceStatistics,
                                 "enforcement": EnforcementStatistics,
                                 "plans": PlanProgress}[kind]])
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
        rows = queries.audit_log(_current([AuditLog]).store, actor=actor, case=case,
                                 since=since, until=until, limit=limit)
        emit_json(rows) if as_json else _table(rows, [
            "recorded_at", "actor", "case_ref", "event", "reason"])
    _guard_projection(action)
