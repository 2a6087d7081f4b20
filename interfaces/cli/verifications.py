"""`compliance verifications ...`: follow-up verifications of improvement plans."""

from __future__ import annotations

from typing import Any

import click

from application.compliance_cases import ComplianceCases, VerificationResult
from application.queries import verification_summary
from domain.assessment import SampleTest
from domain.follow_up_verification import VerificationState
from interfaces.cli.context import (
    case_list,
    case_show,
    case_step,
    common,
    recorded,
    to_plain,
)


@click.group()
def verifications() -> None:
    """Follow-up verifications: assign, re-test, conclude, cancel."""


def _mark_overdue(app: ComplianceCases, rows: list[dict[str, Any]],
                  _: dict[str, Any]) -> list[dict[str, Any]]:
    today = app.clock().date().isoformat()
    for row in rows:
        row["overdue"] = row["state"] in ("scheduled", "testing") and row["due_on"] < today
    return rows


def _only_overdue(app: ComplianceCases, options: dict[str, Any]) -> dict[str, Any]:
    """--overdue: open verifications due before today, found by the list's own query so
    that every page is full."""
    return {"overdue_on": app.clock().date()} if options["overdue"] else {}


def _verification_details(app: ComplianceCases, number: str) -> dict[str, Any]:
    found = app.get_verification(number)
    return {**verification_summary(found), "tests": to_plain(found.tests),
            "findings": to_plain(found.findings)}


verifications.add_command(case_list(
    "List follow-up verifications.", "follow_up_verification",
    [s.value for s in VerificationState],
    lambda r: (f"{r['number']}  {r['importer_number']}  {r['district']}  {r['state']:<24} "
               f"{r['officer'] or 'unassigned':<24} "
               f"due {r['due_on']}{'  OVERDUE' if r['overdue'] else ''}"), "verification(s)",
    refine=_mark_overdue,
    extra=(click.option("--overdue", is_flag=True, help="Only those past their due date."),),
    filters=_only_overdue))
verifications.add_command(case_show("Show a verification with its re-tests and findings.",
                                    _verification_details))


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
    "assign", "Assign (or reassign) the officer who re-tests and concludes.",
    lambda app, n, o: app.assign_verification_officer(n, o["officer"], **common(o)),
    lambda number, version: f"{number}: officer assigned (version {version})",
    (click.option("--officer", required=True,
                  help="user:<id> of the officer responsible for the re-tests."),)))
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
