"""/api/verifications: follow-up verifications of improvement plans — assign the officer,
record re-tests, conclude (effective closes the plan and sets the importer's class; not
effective escalates the plan and proposes enforcement), cancel; one verification with its
re-tests and findings; the list (from the work list, with `overdue`).

Verifications are scheduled by a plan's implementation report, never here; whoever
reported it may neither be assigned nor conclude (the domain's four eyes)."""

from __future__ import annotations

from typing import Any

import msgspec

from application.compliance_cases import ComplianceCases, VerificationResult
from application.queries import verification_summary
from domain.assessment import SampleTest
from domain.case_numbers import case_id
from domain.reference import ComplianceArea
from domain.values import parse_actor, parse_count, parse_enum, parse_money
from interfaces.http.case_lists import Rows, build_case_list
from interfaces.http.commands import (
    CommandSpec,
    Common,
    ReasonOnly,
    build_command_handler,
    checked,
)
from interfaces.http.reads import build_case_read

RESOURCE = "verifications"


class AssignVerifier(msgspec.Struct, forbid_unknown_fields=True):
    officer: str
    """user:<id> of the officer who re-tests and concludes."""
    reason: str


class RecordRetest(msgspec.Struct, forbid_unknown_fields=True):
    """One area's re-test, as `compliance verifications retest` takes it (counts and
    amounts as text, like the CLI's options, so "1200.50" is never a float)."""

    area: str
    lines_tested: str
    discrepancies: str
    value_tested: str
    value_in_error: str
    revenue_loss: str
    reason: str


def load(app: ComplianceCases, number: str) -> Any:
    return app.get_verification(number)


def describe(app: ComplianceCases, number: str) -> dict[str, Any]:
    """As `compliance verifications show --json`: the summary, re-tests and findings."""
    found = app.get_verification(number)
    return {**verification_summary(found), "tests": msgspec.to_builtins(found.tests),
            "findings": msgspec.to_builtins(found.findings)}



def _assign(app: ComplianceCases, number: str, body: AssignVerifier, common: Common) -> int:
    checked(body.reason, officer=lambda: parse_actor(body.officer, "officer"))
    return app.assign_verification_officer(number, body.officer, **common.kwargs())


def _retest(app: ComplianceCases, number: str, body: RecordRetest, common: Common) -> int:
    checked(body.reason,
             area=lambda: parse_enum(ComplianceArea, body.area, "area"),
             lines_tested=lambda: parse_count(body.lines_tested, "lines_tested"),
             discrepancies=lambda: parse_count(body.discrepancies, "discrepancies"),
             value_tested=lambda: parse_money(body.value_tested, "value_tested"),
             value_in_error=lambda: parse_money(body.value_in_error, "value_in_error"),
             revenue_loss=lambda: parse_money(body.revenue_loss, "revenue_loss"))
    sample = SampleTest.parse(body.area, body.lines_tested, body.discrepancies,
                              body.value_tested, body.value_in_error, body.revenue_loss)
    return app.record_retest(number, sample, **common.kwargs())


def _conclude(app: ComplianceCases, number: str, body: ReasonOnly,
              common: Common) -> VerificationResult:
    checked(body.reason)
    return app.conclude_verification(number, **common.kwargs())


def _cancel(app: ComplianceCases, number: str, body: ReasonOnly, common: Common) -> int:
    checked(body.reason)
    return app.cancel_verification(number, **common.kwargs())


def mark_overdue(app: ComplianceCases, rows: Rows) -> Rows:
    """Each row's `overdue`: open and due before today (as the CLI's list shows it)."""
    today = app.clock().date().isoformat()
    for row in rows:
        row["overdue"] = row["state"] in ("scheduled", "testing") and row["due_on"] < today
    return rows


SPECS = [
    CommandSpec(RESOURCE, "assign", AssignVerifier, "assign_verification_officer", _assign,
                "Assign (or reassign) the officer who re-tests and concludes"),
    CommandSpec(RESOURCE, "retest", RecordRetest, "record_retest", _retest,
                "Record a re-test of one area"),
    CommandSpec(RESOURCE, "conclude", ReasonOnly, "conclude_verification", _conclude,
                "Conclude: effective closes the plan; not effective escalates it"),
    CommandSpec(RESOURCE, "cancel", ReasonOnly, "cancel_verification", _cancel,
                "Cancel a verification, saying why"),
]

COLUMNS = ("id", "number", "importer_number", "district", "state", "plan_number", "officer",
           "areas", "due_on", "verified_rate", "version", "overdue")
"""The list's CSV header: the keys of application.queries.verification_summary and
`overdue`."""

ROUTES = [build_command_handler(spec, load) for spec in SPECS]
ROUTES += [build_case_read(RESOURCE, "read:verifications", describe, case_id),
           build_case_list(RESOURCE, "follow_up_verification", "read:verifications",
                           COLUMNS, refine=mark_overdue, with_overdue=True)]
