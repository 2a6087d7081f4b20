"""`compliance verifications ...`: follow-up verifications of improvement plans."""

from __future__ import annotations

from typing import Any

import click

from application.compliance_cases import ComplianceCases, VerificationResult
from application.queries import list_verifications, verification_summary
from domain.assessment import SampleTest
from domain.follow_up_verification import VerificationState
from interfaces.cli.context import (
    case_step,
    cli_context,
    common,
    emit_json,
    json_option,
    recorded,
    run_guarded,
    to_plain,
)


@click.group()
def verifications() -> None:
    """Follow-up verifications: re-test, conclude, cancel."""


@verifications.command("list")
@click.option("--state", type=click.Choice([s.value for s in VerificationState]),
              default=None)
@click.option("--district", default=None)
@click.option("--importer", "importer_number", default=None)
@click.option("--overdue", is_flag=True, help="Only those past their due date.")
@json_option
def list_command(state: str | None, district: str | None, importer_number: str | None,
                 overdue: bool, as_json: bool) -> None:
    """List follow-up verifications."""
    def action() -> None:
        app = cli_context().app
        rows = list_verifications(app, district=district, state=state,
                                  importer_number=importer_number)
        today = app.clock().date().isoformat()
        for row in rows:
            row["overdue"] = row["state"] in ("scheduled", "testing") and row["due_on"] < today
        if overdue:
            rows = [row for row in rows if row["overdue"]]
        if as_json:
            emit_json(rows)
            return
        for row in rows:
            flag = "  OVERDUE" if row["overdue"] else ""
            click.echo(f"{row['number']}  {row['importer_number']}  {row['district']}  "
                       f"{row['state']:<24} due {row['due_on']}{flag}")
        click.echo(f"{len(rows)} verification(s)")
    run_guarded(action)


@verifications.command()
@click.argument("number")
@json_option
def show(number: str, as_json: bool) -> None:
    """Show a verification with its re-tests and findings."""
    def action() -> None:
        found = cli_context().app.get_verification(number)
        summary = verification_summary(found)
        summary["tests"] = to_plain(found.tests)
        summary["findings"] = to_plain(found.findings)
        if as_json:
            emit_json(summary)
            return
        for key, value in summary.items():
            click.echo(f"{key:>16}: {value}")
    run_guarded(action)


def _retest(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    sample = SampleTest.parse(o["area"], o["lines_tested"], o["discrepancies"],
                              o["value_tested"], o["value_in_error"], o["revenue_loss"])
    return app.record_retest(number, sample, **common(o))


def _concluded(number: str, result: VerificationResult) -> str:
    if result.effective:
        return (f"{number}: effective at {result.verified_rate}; plan closed, importer class "
                f"now {result.compliance_class}")
    return (f"{number}: NOT effective at {result.verified_rate}; plan escalated, enforcement "
            f"{result.enforcement_number} proposed")


verifications.add_command(case_step(
    "retest", "Record a re-test of one area.", _retest, recorded,
    (click.option("--area", required=True), click.option("--lines", "lines_tested",
                                                         required=True),
     click.option("--discrepancies", required=True),
     click.option("--value-tested", required=True),
     click.option("--value-in-error", required=True),
     click.option("--revenue-loss", required=True))))
verifications.add_command(case_step(
    "conclude", "Conclude: effective closes the plan; not effective escalates it.",
    lambda app, n, o: app.conclude_verification(n, **common(o)), _concluded))
verifications.add_command(case_step(
    "cancel", "Cancel a verification with a reason.",
    lambda app, n, o: app.cancel_verification(n, **common(o)), recorded))
