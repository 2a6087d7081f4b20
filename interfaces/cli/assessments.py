"""`compliance assessments ...`: the compliance assessment lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from application.compliance_cases import ComplianceCases
from application.queries import assessment_summary
from domain.assessment import AssessmentOrigin, AssessmentState, SampleTest
from domain.errors import InvalidValueError
from domain.reference import ComplianceArea
from domain.values import parse_period
from interfaces.cli.context import (
    actor_option,
    case_list,
    case_show,
    case_step,
    cli_context,
    common,
    emit_json,
    idempotency_option,
    json_option,
    reason_option,
    run_guarded,
    to_plain,
    version_option,
)


@click.group()
def assessments() -> None:
    """Compliance assessments: open, assign, survey, test, findings, close, cancel."""


def _recorded(number: str, step: str) -> None:
    assessment = cli_context().app.get_assessment(number)
    click.echo(f"{assessment.number}: {step} (state {assessment.state.value}, "
               f"version {assessment.version})")


@assessments.command("open")
@click.argument("importer_number")
@click.option("--origin", required=True, type=click.Choice([o.value for o in AssessmentOrigin]))
@click.option("--period-start", required=True, help="ISO date: first day under review.")
@click.option("--period-end", required=True, help="ISO date: last day under review.")
@click.option("--scope", required=True,
              help=f"Comma-separated areas: {', '.join(a.value for a in ComplianceArea)}.")
@actor_option
@reason_option
@click.option("--expected-version", type=int, default=None,
              help="Refuse if the importer account has changed since this version.")
@idempotency_option
@json_option
def open_command(importer_number: str, origin: str, period_start: str, period_end: str,
                 scope: str, actor: str, reason: str, expected_version: int | None,
                 idempotency_key: str | None, as_json: bool) -> None:
    """Open an assessment of one importer."""
    def action() -> None:
        app = cli_context().app
        areas = [part.strip() for part in scope.split(",") if part.strip()]
        number = app.open_assessment(importer_number, origin=origin,
                                     period=parse_period(period_start, period_end),
                                     scope=areas, actor=actor, reason=reason,
                                     expected_version=expected_version,
                                     idempotency_key=idempotency_key)
        if as_json:
            emit_json(assessment_summary(app.get_assessment(number)))
        else:
            click.echo(f"opened {number} for importer {importer_number.upper()}")
    run_guarded(action)


@assessments.command()
@click.argument("number")
@click.option("--officer", required=True, help="user:<id> of the compliance officer.")
@actor_option
@reason_option
@version_option
@idempotency_option
def assign(number: str, officer: str, actor: str, reason: str,
           expected_version: int | None, idempotency_key: str | None) -> None:
    """Assign (or reassign) the officer."""
    def action() -> None:
        cli_context().app.assign_officer(number, officer, actor=actor, reason=reason,
                                         expected_version=expected_version,
                                         idempotency_key=idempotency_key)
        _recorded(number, f"officer {officer} assigned")
    run_guarded(action)


@assessments.command()
@click.argument("number")
@click.option("--rating", "ratings", multiple=True, required=True,
              help="AREA=RATING (strong, adequate, weak, none); once per scoped area.")
@click.option("--on", "surveyed_on", required=True, help="ISO date of the survey.")
@actor_option
@reason_option
@version_option
@idempotency_option
def survey(number: str, ratings: tuple[str, ...], surveyed_on: str, actor: str, reason: str,
           expected_version: int | None, idempotency_key: str | None) -> None:
    """Record the pre-assessment survey of internal controls."""
    def action() -> None:
        parsed: dict[str, str] = {}
        for item in ratings:
            area, sep, rating = item.partition("=")
            if not sep:
                raise InvalidValueError("rating", item, "expected AREA=RATING, e.g. value=weak")
            parsed[area.strip()] = rating.strip()
        cli_context().app.record_survey(number, parsed, surveyed_on, actor=actor, reason=reason,
                                        expected_version=expected_version,
                                        idempotency_key=idempotency_key)
        _recorded(number, "survey recorded")
    run_guarded(action)


@assessments.command()
@click.argument("number")
@click.option("--area", required=True)
@click.option("--lines", "lines_tested", required=True, help="Lines tested.")
@click.option("--discrepancies", required=True)
@click.option("--value-tested", required=True)
@click.option("--value-in-error", required=True)
@click.option("--revenue-loss", required=True)
@actor_option
@reason_option
@version_option
@idempotency_option
def test(number: str, area: str, lines_tested: str, discrepancies: str, value_tested: str,
         value_in_error: str, revenue_loss: str, actor: str, reason: str,
         expected_version: int | None, idempotency_key: str | None) -> None:
    """Record a sample test in one scoped area."""
    def action() -> None:
        sample = SampleTest.parse(area, lines_tested, discrepancies, value_tested,
                                  value_in_error, revenue_loss)
        cli_context().app.record_test(number, sample, actor=actor, reason=reason,
                                      expected_version=expected_version,
                                      idempotency_key=idempotency_key)
        _recorded(number, f"test in {sample.area.value} recorded")
    run_guarded(action)


@assessments.command()
@click.argument("number")
@click.option("--duty-paid", default=None, help="Duty paid in the period (for materiality).")
@click.option("--fraud-indicators", is_flag=True, help="Refer for enforcement regardless.")
@actor_option
@reason_option
@version_option
@idempotency_option
@json_option
def findings(number: str, duty_paid: str | None, fraud_indicators: bool, actor: str,
             reason: str, expected_version: int | None, idempotency_key: str | None,
             as_json: bool) -> None:
    """Issue findings: per-area rate with 95% interval, revenue loss, outcome."""
    def action() -> None:
        app = cli_context().app
        result = app.issue_findings(number, duty_paid=duty_paid,
                                    fraud_indicators=fraud_indicators, actor=actor,
                                    reason=reason, expected_version=expected_version,
                                    idempotency_key=idempotency_key)
        assessment = app.get_assessment(number)
        if as_json:
            emit_json({"number": assessment.number, "outcome": result.outcome.value,
                       "plan_number": result.plan_number,
                       "enforcement_number": result.enforcement_number,
                       "findings": to_plain(assessment.findings)})
            return
        for f in assessment.findings:
            click.echo(f"  {f.area.value:<18} rate {f.compliance_rate:.2%} "
                       f"[{f.rate_lower:.2%}, {f.rate_upper:.2%}] loss {f.revenue_loss} "
                       f"{'acceptable' if f.acceptable else 'DEFICIENT'}")
        click.echo(f"{assessment.number}: outcome {result.outcome.value}")
        if result.plan_number:
            click.echo(f"improvement plan {result.plan_number} drafted")
        if result.enforcement_number:
            click.echo(f"enforcement action {result.enforcement_number} proposed")
    run_guarded(action)


def _stepped(step: str) -> Callable[[str, object], str]:
    def describe(number: str, version: object) -> str:
        state = cli_context().app.get_assessment(number).state.value
        return f"{number}: {step} (state {state}, version {version})"
    return describe


assessments.add_command(case_step(
    "close", "Close an assessment whose findings are issued.",
    lambda app, n, o: app.close_assessment(n, **common(o)), _stepped("closed")))
assessments.add_command(case_step(
    "cancel", "Cancel an assessment before findings are issued.",
    lambda app, n, o: app.cancel_assessment(n, **common(o)), _stepped("cancelled")))


def _assessment_details(app: ComplianceCases, number: str) -> dict[str, Any]:
    assessment = app.get_assessment(number)
    return {**assessment_summary(assessment), "survey": to_plain(assessment.survey),
            "tests": to_plain(assessment.tests), "findings": to_plain(assessment.findings)}


assessments.add_command(case_list(
    "List assessments.", "assessment", [s.value for s in AssessmentState],
    lambda r: (f"{r['number']}  {r['importer_number']}  {r['district']}  {r['state']:<16} "
               f"{r['outcome'] or ''}"), "assessment(s)"))
assessments.add_command(case_show("Show one assessment, with its tests and findings.",
                                  _assessment_details))
