"""`compliance risk assess|top|show`, `compliance tiers`, `compliance rates`."""

from __future__ import annotations

import click

from application.errors import NotFoundError
from domain.values import parse_district, parse_importer_number
from interfaces.analysis_composition import build_risk_run, risk_tables
from interfaces.cli.context import cli_context, emit_json, run_guarded
from interfaces.cli.progress import progress_bar


@click.group()
def risk() -> None:
    """Risk scores: expected non-compliant value, adjusted by history, explained."""


@risk.command("assess")
@click.option("--year", type=click.IntRange(1990, 2100), default=None,
              help="Year of trade activity and samples (default: the current year).")
@click.option("--actor", default="system:risk", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def assess_command(year: int | None, actor: str, as_json: bool) -> None:
    """Tier, rate and score every importer; record a RiskAssessed event per change."""
    def action() -> None:
        context = cli_context()
        run = build_risk_run(context.app)
        chosen = year or context.app.clock().year
        with progress_bar(transient=True) as bar:
            task = bar.add_task("risk run", total=6)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"risk run: {stage}", completed=done, total=total)

            summary = run.assess(chosen, actor=actor, progress=progress)
        if as_json:
            emit_json(summary)
            return
        click.echo(f"risk run {summary.run_id} for {summary.year} ({summary.method_version}): "
                   f"{summary.importers:,} importers scored, {summary.changed:,} changed "
                   f"(RiskAssessed events recorded), inputs: {len(summary.input_batches)} "
                   "batch(es)")
        click.echo("next: compliance risk top --limit 20; compliance tiers; "
                   "compliance rates --by industry")
    run_guarded(action)


@risk.command("top")
@click.option("--limit", type=click.IntRange(1, 100_000), default=20, show_default=True)
@click.option("--district", default=None)
@click.option("--tier", type=click.IntRange(1, 4), default=None)
@click.option("--by", type=click.Choice(["score", "likelihood"]), default="score",
              show_default=True, help="score: expected non-compliant value, adjusted; "
              "likelihood: lowest estimated compliance first (importers with examined lines).")
@click.option("--json", "as_json", is_flag=True)
def top_command(limit: int, district: str | None, tier: int | None, by: str,
                as_json: bool) -> None:
    """The importers ranked by risk score, highest first."""
    def action() -> None:
        tables = risk_tables(cli_context().app)
        rows = tables.ranking(limit, parse_district(district) if district else None, tier, by)
        if as_json:
            emit_json(rows)
            return
        if not rows:
            click.echo("no risk scores yet: run `compliance risk assess`")
            return
        click.echo(f"{'#':>4} {'importer':<13} {'dist':<4} {'ind':<3} {'tier':<4} "
                   f"{'score':>16} {'compliance (95% CI)':<22} {'category':<9} top factor")
        for rank, row in enumerate(rows, start=1):
            factors = row["explanation"]
            extra = next((f for f in factors[4:]), factors[1])
            click.echo(f"{rank:>4} {row['importer_number']:<13} {row['district']:<4} "
                       f"{row['industry']:<3} {row['tier']:<4} {row['score']:>16,.2f} "
                       f"{row['compliance_rate']:>6.1%} ({row['compliance_low']:.1%}-"
                       f"{row['compliance_high']:.1%}) {row['category']:<9} "
                       f"{extra['factor']}: {extra['value']}")
    run_guarded(action)


@risk.command("show")
@click.argument("importer_number")
@click.option("--json", "as_json", is_flag=True)
def show_command(importer_number: str, as_json: bool) -> None:
    """One importer's score with every contributing factor."""
    def action() -> None:
        number = parse_importer_number(importer_number)
        row = risk_tables(cli_context().app).score_of(number)
        if row is None:
            raise NotFoundError("risk score of importer", number)
        result = row
        if as_json:
            emit_json(result)
            return
        click.echo(f"importer {number}: score {row['score']:,.2f} ({row['category']} risk, "
                   f"{row['impact_level']} impact, tier {row['tier']}, {row['method_version']})")
        for factor in result["explanation"]:
            click.echo(f"  {factor['factor']}: {factor['value']}"
                       + (f" (x{factor['effect']:.2f})" if factor["effect"] != 1 else ""))
    run_guarded(action)


@click.command("tiers")
@click.option("--json", "as_json", is_flag=True)
def tiers_command(as_json: bool) -> None:
    """Importers and value share per account tier (from the latest risk run)."""
    def action() -> None:
        found = {int(r["tier"]): r for r in risk_tables(cli_context().app).tiers()}
        total = sum(float(r["value"] or 0) for r in found.values()) or 1.0
        result = [{"tier": tier, "importers": int(found[tier]["importers"]) if tier in found
                   else 0,
                   "value": round(float(found[tier]["value"] or 0), 2) if tier in found else 0.0,
                   "value_share": float(found[tier]["value"] or 0) / total if tier in found
                   else 0.0} for tier in (1, 2, 3, 4)] if found else []
        if as_json:
            emit_json(result)
            return
        if not result:
            click.echo("no tiers yet: run `compliance risk assess`")
        for row in result:
            click.echo(f"tier {row['tier']}: {row['importers']:>8,} importers carry "
                       f"{row['value_share']:6.1%} of value ({row['value']:,.2f})")
    run_guarded(action)


@click.command("rates")
@click.option("--by", "grain", type=click.Choice(["industry", "district", "area"]),
              default="industry", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def rates_command(grain: str, as_json: bool) -> None:
    """Compliance rates with 95% intervals from the random samples, lowest first."""
    def action() -> None:
        rows = risk_tables(cli_context().app).rates(grain)
        if as_json:
            emit_json(rows)
            return
        if not rows:
            click.echo("no rates yet: import samples, then run `compliance risk assess`")
        for row in rows:
            click.echo(f"{grain} {row['key']:<15} {row['compliance_rate']:7.2%} "
                       f"({row['compliance_low']:.2%}-{row['compliance_high']:.2%}) "
                       f"{row['discrepancies']:,} of {row['lines']:,} lines")
    run_guarded(action)
