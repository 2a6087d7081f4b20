"""`compliance`: the command line of Compliance Ledger."""

from __future__ import annotations

import sys
from datetime import date

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
from interfaces.composition import initialise_store, utc_now
from interfaces.demo_population import DemoClock, generate
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
              help="cases: 5,000 importers with cases in every state; national: 443,000 "
                   "importers, a year of trade and samples, imported and risk-assessed.")
@click.option("--accounts", "count", type=click.IntRange(min=50), default=None,
              help="Importer accounts to generate [default: 5,000, national 443,000].")
@click.option("--samples", type=click.IntRange(min=100), default=120_000, show_default=True,
              help="Examined sample lines (national scale).")
@click.option("--entries", type=click.IntRange(min=0), default=1_000_000, show_default=True,
              help="Declarations to channel (national scale); exam results come back as "
                   "samples.")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--today", default=None, help="ISO date the demo ends on (default today).")
def demo(scale: str, count: int | None, samples: int, entries: int, seed: int,
         today: str | None) -> None:
    """Load a realistic, reproducible demo population into an empty store."""
    def action() -> None:
        context: CliContext = cli_context()
        try:
            end = date.fromisoformat(today) if today else date.today()
        except ValueError:
            raise InvalidValueError("today", today, "not an ISO date") from None
        initialise_store(context.settings)
        if context.app.recorder.max_notification_id():
            click.echo("error: the store already holds events; the demo needs an empty store "
                       f"({context.settings.describe})", err=True)
            sys.exit(3)
        if scale == "national":
            from interfaces.cli.national_demo import load_national
            from interfaces.national_data import NATIONAL_IMPORTERS
            load_national(context, importers=count or NATIONAL_IMPORTERS, samples=samples,
                          entries=entries,
                          seed=seed, today=end, directory=context.settings.sqlite_path.parent
                          / "national")
            _seal_and_project(context)
            click.echo("try next: compliance risk top --limit 20; compliance tiers; "
                       "compliance rates --by industry; compliance risk show IMPORTER")
            return
        count_ = count or 5000
        clock = DemoClock(context.app.clock())
        context.app.clock = clock
        with progress_bar() as bar:
            accounts_task = bar.add_task("importer accounts", total=count_)
            cases_task = bar.add_task("assessments", total=max(60, count_ // 15))
            summary = generate(context.app, clock, accounts=count_, seed=seed, today=end,
                               on_accounts=lambda n: bar.advance(accounts_task, n),
                               on_assessment=lambda: bar.advance(cases_task))
        context.app.clock = utc_now
        _seal_and_project(context)
        click.echo(f"demo loaded into {context.settings.describe}:")
        click.echo(f"  {summary.accounts} importer accounts in 42 districts, "
                   f"{summary.assessments} assessments, {summary.events} events")
        shares = ", ".join(f"{k} of importers carry {v:.0%} of value"
                           for k, v in summary.top_shares.items())
        click.echo(f"  value concentration: {shares}")
        click.echo("try next:")
        click.echo("  compliance status")
        click.echo("  compliance assessments list --state findings_issued")
        click.echo("  compliance history CA-" + str(end.year) + "-00001")
        click.echo("  compliance verify")
        click.echo("  compliance worklist --district 11 --due")
        click.echo("  compliance stats compliance --by industry")
    run_guarded(action)


def _seal_and_project(context: CliContext) -> SealRecord:
    """Seal what the demo recorded and bring the views up to date."""
    settings = context.settings
    key = load_private_key(settings.seal_key_path)
    seal = seal_ledger(context.app, key, settings.seal_witness_path, "system:demo")
    click.echo(f"  sealed {seal.events:,} events (seal {seal.number}) with key {seal.key_id} "
               f"({settings.seal_key_path}; keep the private key away from the database; "
               f"witness {settings.seal_witness_path})")
    with progress_bar(transient=True) as bar:
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
for _command in (project_command, rebuild_command, views_group, worklist_command,
                 register_command, stats_command, audit_command):
    cli.add_command(_command)


def main() -> None:
    guard_unexpected(lambda: cli(prog_name="compliance"))
