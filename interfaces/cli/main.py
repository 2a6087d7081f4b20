"""`compliance`: the command line of Compliance Ledger."""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import click

from domain.errors import InvalidValueError
from infrastructure.seal import load_private_key, seal_ledger
from infrastructure.seal_records import SealRecord
from infrastructure.settings import SettingsError
from interfaces.cli.accounts import accounts
from interfaces.cli.assessments import assessments
from interfaces.cli.audit import (
    history_command,
    seal_command,
    status_command,
    verify_command,
)
from interfaces.cli.context import (
    CliContext,
    cli_context,
    fail,
    guard_unexpected,
    load_context,
    run_guarded,
)
from interfaces.cli.enforcement import enforcement
from interfaces.cli.lazy_group import LazyGroup
from interfaces.cli.plans import plans
from interfaces.cli.progress import progress_bar, stage_reporter
from interfaces.cli.step_times import StepTimes
from interfaces.cli.tokens import tokens
from interfaces.cli.users import users
from interfaces.cli.verifications import verifications
from interfaces.cli.views import (
    audit_command,
    project_command,
    rebuild_command,
    register_command,
    stats_command,
    views_group,
    worklist_command,
)
from interfaces.composition import build_password_hasher, initialise_store, utc_now
from interfaces.demo_population import DemoClock, generate
from interfaces.demo_users import DEMO_PASSWORD, login_lines
from projections import queries
from projections.worker import Projections

ANALYSIS_COMMANDS = {
    "import": "interfaces.cli.imports:import_group",
    "risk": "interfaces.cli.risk:risk",
    "tiers": "interfaces.cli.risk:tiers_command",
    "rates": "interfaces.cli.risk:rates_command",
    "rules": "interfaces.cli.targeting:rules",
    "channel": "interfaces.cli.targeting:channel_command",
    "select": "interfaces.cli.targeting:select_command",
    "effectiveness": "interfaces.cli.targeting:effectiveness_command",
    "serve": "interfaces.cli.serve:serve_command",
    "report": "interfaces.cli.reports:report",
    "scheduler": "interfaces.cli.scheduler:scheduler",
    "outbox": "interfaces.cli.outbox:outbox",
}


@click.group(cls=LazyGroup, lazy_subcommands=ANALYSIS_COMMANDS)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Compliance Ledger: event-sourced trade-compliance cases.

    Uses the SQLite file ./var/compliance.db unless COMPLIANCE_DATABASE_URL names a
    PostgreSQL database (postgresql://user@host:5432/db).
    """
    try:
        context = load_context()
    except SettingsError as error:
        fail(error)
    ctx.obj = context
    ctx.call_on_close(context.close)


@cli.command()
def init() -> None:
    """Create the ledger: every table, function and view (brings an existing one up to
    date, like migrate). The only commands that change the schema are init, migrate and
    demo; every other command only opens what init created."""
    def action() -> None:
        context = cli_context()
        for line in initialise_store(context.settings).lines():
            click.echo(line)
        click.echo(f"event store ready: {context.settings.describe}")
    run_guarded(action)


@cli.command()
def migrate() -> None:
    """Bring an existing ledger up to the current schema (idempotent); prints what it did."""
    def action() -> None:
        for line in initialise_store(cli_context().settings).lines():
            click.echo(line)
    run_guarded(action)


@cli.command()
@click.option("--scale", type=click.Choice(["cases", "national"]), default="cases",
              show_default=True,
              help="cases: 5,000 importers with cases in every state, and a small year of "
                   "trade, samples and declarations for them; national: 443,000 importers, "
                   "a year of trade, samples and 1,000,000 declarations.")
@click.option("--accounts", "count", type=click.IntRange(min=50), default=None,
              help="Importer accounts to generate [default: 5,000, national 443,000].")
@click.option("--samples", type=click.IntRange(min=100), default=None,
              help="Examined sample lines [default: in proportion to the accounts, 120,000 "
                   "for 443,000, at least 1,000].")
@click.option("--entries", type=click.IntRange(min=0), default=None,
              help="Declarations to channel; exam results come back as samples [default: in "
                   "proportion to the accounts, 1,000,000 for 443,000, at least 2,000].")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--today", default=None,
              help="ISO date the demo ends on (default: today once its evening is over, at "
                   "20:30 UTC, else yesterday, so that no event is in the future).")
def demo(scale: str, count: int | None, samples: int | None, entries: int | None, seed: int,
         today: str | None) -> None:
    """Load a realistic, reproducible demo population into an empty store."""
    def action() -> None:
        context: CliContext = cli_context()
        try:
            end = date.fromisoformat(today) if today else demo_end(utc_now())
        except ValueError:
            raise InvalidValueError("today", today, "not an ISO date") from None
        initialise_store(context.settings)
        if context.app.recorder.max_notification_id():
            click.echo("error: the store already holds events; the demo needs an empty store "
                       f"({context.settings.describe})", err=True)
            sys.exit(3)
        # Imported here: they load numpy and pyarrow, which other commands do without.
        from interfaces.cli.national_demo import (
            describe_trade_and_targeting,
            load_demo_trade,
            load_national,
        )
        from interfaces.national_data import (
            NATIONAL_ENTRIES,
            NATIONAL_IMPORTERS,
            NATIONAL_SAMPLES,
            scaled,
        )
        accounts = count or (NATIONAL_IMPORTERS if scale == "national" else 5000)
        lines = samples if samples is not None else scaled(NATIONAL_SAMPLES, accounts, 1000)
        declarations = (entries if entries is not None
                        else scaled(NATIONAL_ENTRIES, accounts, 2000))
        if scale == "national":
            times = StepTimes()
            load_national(context, importers=accounts, samples=lines, entries=declarations,
                          seed=seed, today=end, directory=context.settings.sqlite_path.parent
                          / "national", times=times)
            _seal_and_project(context, times)
            click.echo("time by step (wall clock, and this process's peak memory so far):")
            for line in times.lines():
                click.echo(line)
            click.echo("try next: compliance risk top --limit 20; compliance tiers; "
                       "compliance rates --by industry; compliance risk show IMPORTER")
            return
        clock = DemoClock(context.app.clock())
        context.app.clock = clock
        password_hash = build_password_hasher(context.settings).hash(DEMO_PASSWORD)
        with progress_bar() as bar:
            accounts_task = bar.add_task("importer accounts", total=accounts)
            cases_task = bar.add_task("assessments", total=max(60, accounts // 15))
            summary = generate(context.app, clock, accounts=accounts, seed=seed, today=end,
                               on_accounts=lambda n: bar.advance(accounts_task, n),
                               on_assessment=lambda: bar.advance(cases_task),
                               password_hash=password_hash)
        # Trade, risk and targeting at the end of the demo's last day, so that its dates
        # (up to --today) are never in the future of the imports that check them; a second
        # apart, as runs are told apart by their time.
        evening, ticks = datetime.combine(end, time(18), tzinfo=UTC), itertools.count()
        context.app.clock = lambda: evening + timedelta(seconds=next(ticks))
        loaded = load_demo_trade(context, summary.importers, samples=lines,
                                 entries=declarations, seed=seed, today=end)
        scanned = _first_due_scan(context, datetime.combine(end, time(20), tzinfo=UTC))
        context.app.clock = utc_now
        _seal_and_project(context)
        click.echo(f"demo loaded into {context.settings.describe}:")
        click.echo(f"  {summary.accounts} importer accounts in 42 districts, "
                   f"{summary.assessments} assessments")
        shares = ", ".join(f"{k} of importers carry {v:.0%} of value"
                           for k, v in summary.top_shares.items())
        click.echo(f"  value concentration: {shares}")
        describe_trade_and_targeting(context, loaded, tiers=False)
        click.echo(f"  {context.app.recorder.max_notification_id() or 0} events")
        click.echo(f"  the scheduler's first due scan: {scanned}")
        click.echo("try next:")
        click.echo("  compliance status")
        click.echo("  compliance assessments list --state findings_issued")
        click.echo("  compliance history CA-" + str(end.year) + "-00001")
        click.echo("  compliance verify")
        due = Counter(row["district"] for row in queries.due_items(
            Projections(context.app).store, end))
        click.echo(f"  compliance worklist --district {due.most_common(1)[0][0] if due else '11'}"
                   " --due")
        click.echo("  compliance stats compliance --by industry")
        click.echo("  compliance risk top --limit 10; compliance tiers; compliance rates")
        click.echo("  compliance rules list; compliance effectiveness")
        click.echo("  compliance outbox list; compliance scheduler tick   (mails go to "
                   f"{context.settings.mail.smtp_host}:{context.settings.mail.smtp_port})")
        for line in login_lines(summary.logins):
            click.echo(line)
    run_guarded(action)


def demo_end(now: datetime) -> date:
    """The demo's last day records its trade, risk run and due scan in the evening (18:00
    to 20:00 UTC); by default it ends on the last day whose evening is over, so that
    `history --as-of now`, the outbox's queued mails and the dashboards never meet an
    event from later today."""
    return now.date() if now.time() >= time(20, 30) else now.date() - timedelta(days=1)


def _first_due_scan(context: CliContext, at: datetime) -> str:
    """The scheduler's due scan once, on the demo's last evening, as `system:scheduler`,
    so the demo's reminders, overdue flags, escalations and digests are there, their mails
    queued in the outbox (sent by `compliance scheduler tick` or `compliance outbox
    send`)."""
    from interfaces.scheduler.due_scan_job import run as due_scan
    from interfaces.scheduler.jobs import JobContext

    ticks = itertools.count()
    context.app.clock = lambda: at + timedelta(milliseconds=next(ticks))
    outcome = due_scan(JobContext(context.app, context.settings, at))
    return outcome.summary


def _seal_and_project(context: CliContext, times: StepTimes | None = None) -> SealRecord:
    """Seal what the demo recorded and bring the views up to date."""
    times = times or StepTimes()
    settings = context.settings
    key = load_private_key(settings.seal_key_path)
    with times.step("sealing"):
        seal = seal_ledger(context.app, key, settings.seal_witness_path, "system:demo")
    click.echo(f"  sealed {seal.events:,} events (seal {seal.number}) with key {seal.key_id} "
               f"({settings.seal_key_path}; keep the private key away from the database; "
               f"witness {settings.seal_witness_path})")
    with times.step("views caught up"), progress_bar(transient=True) as bar:
        Projections(context.app).catch_up(progress=stage_reporter(bar, "view "))
    return seal


cli.add_command(accounts)
cli.add_command(plans)
cli.add_command(enforcement)
cli.add_command(verifications)
cli.add_command(assessments)
cli.add_command(history_command)
cli.add_command(verify_command)
cli.add_command(status_command)
cli.add_command(seal_command)
cli.add_command(users)
cli.add_command(tokens)
for _command in (project_command, rebuild_command, views_group, worklist_command,
                 register_command, stats_command, audit_command):
    cli.add_command(_command)


def main() -> None:
    guard_unexpected(lambda: cli(prog_name="compliance"))
