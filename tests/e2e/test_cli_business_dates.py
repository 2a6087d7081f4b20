"""Business dates through the real executable: a survey dated next year or before its
assessment was opened, an action completed before its plan existed or tomorrow, a programme
joined tomorrow are refused by name with exit 3 and write nothing; the README's own dates
(today's survey and completion, a due date years ahead) are accepted."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from tests.e2e.cli import Cli
from tests.e2e.test_cli_assessment_lifecycle import IMPORTER, WHO, open_assessment, register
from tests.e2e.test_cli_case_workflow import BOSS, OFFICER, REP, deficient_assessment

README_DUE_ON = "2030-06-30"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _tomorrow() -> str:
    return (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


def _refused(cli: Cli, rule: str, message: str, *args: str) -> None:
    before = cli.events()
    result = cli(*args)
    assert result.code == 3, (args, result.code, result.err)
    assert f"[{rule}]" in result.err, result.err
    assert message in result.err, result.err
    assert cli.events() == before


def test_a_survey_is_dated_neither_in_the_future_nor_before_the_assessment(cli: Cli) -> None:
    register(cli)
    number = open_assessment(cli)
    cli.ok("assessments", "assign", number, "--officer", "user:officer-7", *WHO, "workload")
    survey = ("assessments", "survey", number, "--rating", "classification=weak",
              "--rating", "origin=strong", "--on")
    next_year = f"{datetime.now(UTC).year + 1}-01-15"

    _refused(cli, "SurveyedOnIsNotInTheFuture",
             f"surveyed_on: {next_year} is in the future (today is {_today()})",
             *survey, next_year, *WHO, "site visit")
    _refused(cli, "SurveyedOnIsNotBeforeTheAssessmentExisted",
             f"surveyed_on: 2025-06-30 is before the assessment existed ({_today()})",
             *survey, "2025-06-30", *WHO, "site visit")
    cli.ok(*survey, _today(), *WHO, "site visit")  # as the README runs it: $(date +%F)

    refused = cli("accounts", "join", IMPORTER, "--programme", "trusted_trader", "--on",
                  _tomorrow(), *WHO, "validated")
    assert refused.code == 3, refused.err
    assert "[JoinedOnIsNotInTheFuture]" in refused.err


def test_an_action_is_completed_neither_before_its_plan_existed_nor_tomorrow(
        cli: Cli) -> None:
    register(cli)
    findings = cli.ok("assessments", "findings", deficient_assessment(cli), "--duty-paid",
                      "5000000", *OFFICER, "testing complete", "--json").json()
    plan = findings["plan_number"]
    cli.ok("plans", "add-action", plan, "--area", "classification", "--description",
           "review before filing", "--owner", "user:rep-acme", "--due-on", README_DUE_ON,
           *REP, "our proposal")
    cli.ok("plans", "submit", plan, *REP, "proposed")
    cli.ok("plans", "approve", plan, *BOSS, "adequate")
    complete = ("plans", "complete-action", plan, "--action", "A1", "--evidence",
                "new procedure", "--document", "DMS-4471", "--sha256",
                hashlib.sha256(b"procedure").hexdigest(), "--completed-on")

    _refused(cli, "CompletedOnIsNotBeforeThePlanExisted",
             f"completed_on: 2025-01-03 is before the plan existed ({_today()})",
             *complete, "2025-01-03", *REP, "done")
    _refused(cli, "CompletedOnIsNotInTheFuture",
             f"completed_on: {_tomorrow()} is in the future", *complete, _tomorrow(), *REP,
             "done")
    cli.ok(*complete, _today(), *REP, "done")  # as the README runs it: $(date +%F)
    reported = cli.ok("plans", "report-implementation", plan, *REP, "implemented", "--json")
    assert reported.json()["result"].startswith("FV-")
