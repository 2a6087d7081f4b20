"""`compliance rules …`, `compliance channel`, `compliance select`,
`compliance effectiveness`: national criteria, channel decisions, selection plans and
the performance evaluation of targeting."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import click

from application.targeting.effectiveness import Comparison, HitRate
from domain.errors import InvalidValueError
from domain.targeting_rule import RuleDefinition, TargetingRule
from domain.values import Period, parse_date
from interfaces.analysis_composition import build_channel, build_effectiveness, build_selection
from interfaces.cli.context import (
    cli_context,
    emit_json,
    idempotency_option,
    run_guarded,
    version_option,
)
from interfaces.cli.progress import progress_bar
from interfaces.cli.text import one_line


@click.group()
def rules() -> None:
    """National criteria (targeting rules): draft, approve, publish, amend, retire."""


def _conditions(pairs: tuple[str, ...]) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise InvalidValueError("condition", pair, "expected FIELD=VALUE, e.g. origin=VN")
        key = name.strip()
        if key in ("min_risk_score", "min_value"):
            conditions[key] = value.strip()
        else:
            conditions.setdefault(key, []).extend(v.strip() for v in value.split(","))
    return conditions


def _definition(name: str, condition: tuple[str, ...], channel: str, district: tuple[str, ...],
                effective_from: str, effective_to: str | None) -> RuleDefinition:
    return RuleDefinition.parse(name=name, conditions=_conditions(condition), channel=channel,
                                districts=list(district), effective_from=effective_from,
                                effective_to=effective_to)


def _definition_options(command: Any) -> Any:
    for option in reversed((
        click.option("--name", required=True),
        click.option("--condition", "condition", multiple=True,
                     help="FIELD=VALUE[,VALUE]: hs_prefix, origin, tier, compliance_class, "
                          "risk_category, min_risk_score, min_value; repeat for more."),
        click.option("--channel", type=click.Choice(["amber", "red"]), required=True),
        click.option("--district", multiple=True,
                     help="Publish only to these districts (default: all 42)."),
        click.option("--from", "effective_from", required=True, help="ISO date in force from."),
        click.option("--to", "effective_to", default=None, help="ISO date in force to."),
    )):
        command = option(command)
    return command


def _actor_options(command: Any) -> Any:
    command = click.option("--reason", required=True)(command)
    command = click.option("--actor", required=True, help="user:NAME")(command)
    return click.option("--json", "as_json", is_flag=True)(command)


def _rule_json(rule: TargetingRule) -> dict[str, Any]:
    def definition(value: RuleDefinition | None) -> dict[str, Any] | None:
        if value is None:
            return None
        result = asdict(value)
        result["describe"] = value.conditions.describe()
        return result
    return {"number": rule.number, "state": rule.state.value, "version": rule.rule_version,
            "in_force_version": rule.in_force_version, "author": rule.author,
            "definition": definition(rule.definition), "in_force": definition(rule.in_force)}


@rules.command("draft")
@_definition_options
@_actor_options
@idempotency_option
def draft_command(name: str, condition: tuple[str, ...], channel: str, district: tuple[str, ...],
                  effective_from: str, effective_to: str | None, actor: str, reason: str,
                  as_json: bool, idempotency_key: str | None) -> None:
    """Draft a rule (an analyst); it fires once approved by someone else and published."""
    def action() -> None:
        app = cli_context().app
        number = app.draft_rule(_definition(name, condition, channel, district,
                                            effective_from, effective_to),
                                actor=actor, reason=reason, idempotency_key=idempotency_key)
        if as_json:
            emit_json(_rule_json(app.get_rule(number)))
        else:
            click.echo(f"drafted {number}")
    run_guarded(action)


@rules.command("amend")
@click.argument("number")
@_definition_options
@_actor_options
@version_option
@idempotency_option
def amend_command(number: str, name: str, condition: tuple[str, ...], channel: str,
                  district: tuple[str, ...], effective_from: str, effective_to: str | None,
                  actor: str, reason: str, as_json: bool, expected_version: int | None,
                  idempotency_key: str | None) -> None:
    """A new version; the published one stays in force until this one is published."""
    def action() -> None:
        app = cli_context().app
        app.amend_rule(number, _definition(name, condition, channel, district, effective_from,
                                           effective_to), actor=actor, reason=reason,
                       expected_version=expected_version, idempotency_key=idempotency_key)
        _show(app.get_rule(number), as_json)
    run_guarded(action)


def _step_command(verb: str, help_text: str) -> click.Command:
    @click.command(verb, help=help_text)
    @click.argument("number")
    @_actor_options
    @version_option
    @idempotency_option
    def command(number: str, actor: str, reason: str, as_json: bool,
                expected_version: int | None, idempotency_key: str | None) -> None:
        def action() -> None:
            app = cli_context().app
            getattr(app, f"{verb}_rule")(number, actor=actor, reason=reason,
                                         expected_version=expected_version,
                                         idempotency_key=idempotency_key)
            _show(app.get_rule(number), as_json)
        run_guarded(action)
    return command


for _verb, _help in (("approve", "Approve the drafted version (not by its author)."),
                     ("publish", "Put the approved version in force."),
                     ("retire", "Stop the rule firing.")):
    rules.add_command(_step_command(_verb, _help))


def _show(rule: TargetingRule, as_json: bool) -> None:
    if as_json:
        emit_json(_rule_json(rule))
        return
    click.echo(f"{rule.number} v{rule.rule_version} {rule.state.value}: "
               f"{one_line(rule.definition.name)}")
    click.echo(f"  latest: {rule.definition.conditions.describe()} -> "
               f"{rule.definition.channel.value}; districts "
               f"{', '.join(rule.definition.districts) or 'all'}; from "
               f"{rule.definition.effective_from}"
               + (f" to {rule.definition.effective_to}" if rule.definition.effective_to else ""))
    if rule.in_force is not None:
        click.echo(f"  in force: v{rule.in_force_version} "
                   f"{rule.in_force.conditions.describe()} -> {rule.in_force.channel.value}")
    else:
        click.echo("  in force: none")


@rules.command("show")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
def show_command(number: str, as_json: bool) -> None:
    """One rule: its latest version and the version in force."""
    run_guarded(lambda: _show(cli_context().app.get_rule(number), as_json))


@rules.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_command(as_json: bool) -> None:
    """Every rule with its state."""
    def action() -> None:
        found = cli_context().app.rules()
        if as_json:
            emit_json([_rule_json(rule) for rule in found])
            return
        for rule in found:
            click.echo(f"{rule.number} v{rule.rule_version} {rule.state.value:<9} "
                       f"{rule.definition.channel.value:<5} {one_line(rule.definition.name)}")
    run_guarded(action)


def _rate_text(rate: HitRate) -> str:
    if not rate.examined:  # an interval over nothing says nothing
        return "no exams yet"
    return (f"{rate.rate:6.1%} ({rate.low:.1%}-{rate.high:.1%}) "
            f"{rate.hits:,}/{rate.examined:,}")


@rules.command("backtest")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True)
def backtest_command(number: str, as_json: bool) -> None:
    """The rule's hit rate on the loaded samples, against the random lines it misses."""
    def action() -> None:
        app = cli_context().app
        result = build_effectiveness(app).backtest(app.get_rule(number))
        if as_json:
            emit_json(result)
            return
        click.echo(f"{result.rule} v{result.version} on the loaded samples:")
        click.echo(f"  lines it selects       {_rate_text(result.matched)}")
        click.echo(f"  random lines it selects {_rate_text(result.matched_random)}")
        click.echo(f"  random lines it misses  {_rate_text(result.all_random)}")
    run_guarded(action)


@click.command("channel")
@click.option("--random-share", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Share of every channel sent to exam at random [default: setting "
                   "COMPLIANCE_CHANNEL_RANDOM_SHARE, 0.02].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--actor", default="system:channel", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def channel_command(random_share: float | None, seed: int, actor: str, as_json: bool) -> None:
    """Decide green / amber / red for every loaded declaration not yet decided."""
    def action() -> None:
        context = cli_context()
        share = (random_share if random_share is not None
                 else float(context.settings.channel_random_share))
        with progress_bar(transient=True) as bar:
            task = bar.add_task("channel decisions", total=None)
            summary = build_channel(context.app).decide(
                actor=actor, random_share=share, seed=seed,
                progress=lambda stage, done, total: bar.update(
                    task, description=f"channel decisions: {stage}", completed=done,
                    total=total))
        if as_json:
            emit_json(summary)
            return
        click.echo(f"channelled {summary.entries:,} declarations (run {summary.run_id}): "
                   + ", ".join(f"{k} {v:,}" for k, v in summary.counts.items())
                   + f"; {summary.random_exams:,} chosen at random; rules in force: "
                   + (", ".join(summary.rule_versions) or "none"))
    run_guarded(action)


def _period(text: str) -> Period:
    if "..." in text or ".." in text:
        start, _, end = text.replace("...", "..").partition("..")
        first, last = parse_date(start, "period"), parse_date(end, "period")
    elif text.strip().isdigit() and len(text.strip()) == 4:
        year = int(text)
        first, last = date(year, 1, 1), date(year, 12, 31)
    else:
        raise InvalidValueError("period", text, "expected YYYY or YYYY-MM-DD..YYYY-MM-DD")
    if last < first:
        raise InvalidValueError("period", text, "ends before it starts")
    return Period(first, last)


@click.command("select")
@click.option("--period", "period_text", required=True,
              help="Review period: YYYY or YYYY-MM-DD..YYYY-MM-DD.")
@click.option("--capacity", type=click.IntRange(min=1), required=True)
@click.option("--random-share", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option("--exclude-months", type=click.IntRange(min=0), default=None,
              help="Leave out accounts assessed this recently [default: setting "
                   "COMPLIANCE_SELECTION_EXCLUDE_MONTHS, 24].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--open", "open_cases", is_flag=True, help="Open the assessments now.")
@click.option("--actor", default="system:selection", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def select_command(period_text: str, capacity: int, random_share: float,
                   exclude_months: int | None, seed: int, open_cases: bool, actor: str,
                   as_json: bool) -> None:
    """Pick the next assessments within capacity by risk, keeping a random share."""
    def action() -> None:
        context = cli_context()
        months = (exclude_months if exclude_months is not None
                  else context.settings.selection_exclude_months)
        result = build_selection(context.app).plan(
            _period(period_text), capacity, random_share, actor=actor, exclude_months=months,
            seed=seed, open_cases=open_cases)
        if as_json:
            emit_json({"plan_id": result.plan_id, "period": result.period,
                       "capacity": result.capacity, "random_share": result.random_share,
                       "excluded": result.excluded, "opened": result.opened,
                       "not_opened": result.not_opened,
                       "picks": [asdict(pick) for pick in result.picks]})
            return
        click.echo(f"selection plan {result.plan_id} for {result.period}: "
                   f"{len(result.picks)} of capacity {result.capacity} "
                   f"({sum(p.basis == 'random' for p in result.picks)} random); excluded: "
                   + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in result.excluded.items()))
        for pick in result.picks:
            click.echo(f"  {pick.basis:<6} {pick.importer_number} dist {pick.district} "
                       f"tier {pick.tier}: {pick.reason}")
        if result.opened:
            click.echo(f"opened {len(result.opened)} assessments: {', '.join(result.opened)}")
        for importer, why in result.not_opened.items():
            click.echo(one_line(f"not opened for {importer}: {why}"))
    run_guarded(action)


def _comparison(row: Comparison) -> dict[str, Any]:
    return {"key": row.key, "targeted": asdict(row.targeted), "random": asdict(row.random),
            "lift": row.lift, "clearly_better": row.clearly_better}


@click.command("effectiveness")
@click.option("--json", "as_json", is_flag=True)
def effectiveness_command(as_json: bool) -> None:
    """Hit rate of targeted vs random exams, national, by district and by rule."""
    def action() -> None:
        result = build_effectiveness(cli_context().app).measure()
        if as_json:
            emit_json({"overall": _comparison(result.overall),
                       "by_district": [_comparison(r) for r in result.by_district],
                       "by_rule": [_comparison(r) for r in result.by_rule]})
            return
        click.echo(f"{'':<16} {'targeted hit rate (95% CI)':<36} {'random hit rate (95% CI)':<36}")
        for label, rows in (("", [result.overall]), ("district ", result.by_district),
                            ("rule ", result.by_rule)):
            for row in rows:
                click.echo(f"{label + row.key:<16} {_rate_text(row.targeted):<36} "
                           f"{_rate_text(row.random):<36}"
                           + (" better than chance" if row.clearly_better else ""))
    run_guarded(action)
