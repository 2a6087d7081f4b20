"""/api/assessments: compliance assessments — open, assign, survey, test, findings,
close, cancel; one assessment; the list (from the work-list view)."""

from __future__ import annotations

from typing import Any

import msgspec

from application.compliance_cases import ComplianceCases
from application.queries import assessment_summary
from domain.assessment import SampleTest
from domain.case_numbers import case_id
from domain.values import parse_period, parse_reason
from interfaces.http.case_lists import build_case_list, one_route
from interfaces.http.commands import (
    CommandSpec,
    Common,
    ReasonOnly,
    build_command_handler,
    parse_fields,
)
from interfaces.http.reads import build_case_read

RESOURCE = "assessments"


class OpenAssessment(msgspec.Struct, forbid_unknown_fields=True):
    importer_number: str
    origin: str
    period_start: str
    period_end: str
    scope: list[str]
    reason: str


class AssignOfficer(msgspec.Struct, forbid_unknown_fields=True):
    officer: str
    reason: str


class RecordSurvey(msgspec.Struct, forbid_unknown_fields=True):
    ratings: dict[str, str]
    surveyed_on: str
    reason: str


class RecordTest(msgspec.Struct, forbid_unknown_fields=True):
    area: str
    lines_tested: str
    discrepancies: str
    value_tested: str
    value_in_error: str
    revenue_loss: str
    reason: str


class IssueFindings(msgspec.Struct, forbid_unknown_fields=True):
    reason: str
    duty_paid: str | None = None
    fraud_indicators: bool = False



def load(app: ComplianceCases, number: str) -> Any:
    return app.get_assessment(number)


def describe(app: ComplianceCases, number: str) -> dict[str, Any]:
    assessment = app.get_assessment(number)
    return {**assessment_summary(assessment), "survey": msgspec.to_builtins(assessment.survey),
            "tests": msgspec.to_builtins(assessment.tests),
            "findings": msgspec.to_builtins(assessment.findings)}


def _open(app: ComplianceCases, _: str, body: OpenAssessment, common: Common) -> str:
    parsed = parse_fields(period=lambda: parse_period(body.period_start, body.period_end),
                          reason=lambda: parse_reason(body.reason))
    return app.open_assessment(body.importer_number, origin=body.origin,
                               period=parsed["period"], scope=body.scope,
                               **common.without_version())


def _test(app: ComplianceCases, number: str, body: RecordTest, common: Common) -> int:
    sample = SampleTest.parse(body.area, body.lines_tested, body.discrepancies,
                              body.value_tested, body.value_in_error, body.revenue_loss)
    return app.record_test(number, sample, **common.kwargs())


def _findings(app: ComplianceCases, number: str, body: IssueFindings,
              common: Common) -> dict[str, Any]:
    result = app.issue_findings(number, duty_paid=body.duty_paid,
                                fraud_indicators=body.fraud_indicators, **common.kwargs())
    return {"outcome": result.outcome.value, "plan_number": result.plan_number,
            "enforcement_number": result.enforcement_number}


SPECS = [
    CommandSpec(RESOURCE, "open", OpenAssessment, "open_assessment", _open,
                "Open an assessment of one importer", creates=True),
    CommandSpec(RESOURCE, "assign", AssignOfficer, "assign_officer",
                lambda app, n, b, c: app.assign_officer(n, b.officer, **c.kwargs()),
                "Assign (or reassign) the officer"),
    CommandSpec(RESOURCE, "survey", RecordSurvey, "record_survey",
                lambda app, n, b, c: app.record_survey(n, b.ratings, b.surveyed_on,
                                                       **c.kwargs()),
                "Record the pre-assessment survey of internal controls"),
    CommandSpec(RESOURCE, "test", RecordTest, "record_test", _test,
                "Record a sample test in one scoped area"),
    CommandSpec(RESOURCE, "findings", IssueFindings, "issue_findings", _findings,
                "Issue findings: per-area rates with intervals, loss, outcome"),
    CommandSpec(RESOURCE, "close", ReasonOnly, "close_assessment",
                lambda app, n, _b, c: app.close_assessment(n, **c.kwargs()),
                "Close an assessment whose findings are issued"),
    CommandSpec(RESOURCE, "cancel", ReasonOnly, "cancel_assessment",
                lambda app, n, _b, c: app.cancel_assessment(n, **c.kwargs()),
                "Cancel an assessment before findings are issued"),
]

COLUMNS = ("id", "number", "importer_number", "district", "origin", "state", "officer",
           "period", "scope", "outcome", "opened_on", "version")
"""The list's CSV header: the keys of application.queries.assessment_summary."""

CREATE = next(spec for spec in SPECS if spec.creates)
ROUTES: list[Any] = [build_command_handler(spec, load) for spec in SPECS if not spec.creates]
ROUTES.append(build_case_read(RESOURCE, "read:assessments", describe, case_id))
ROUTES.append(one_route(  # POST and GET /api/assessments: one path, registered together
    build_command_handler(CREATE, load, lambda result, _: str(result)),
    build_case_list(RESOURCE, "assessment", "read:assessments", COLUMNS)))
