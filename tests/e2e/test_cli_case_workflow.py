"""The whole prescribed-action path through the real CLI: findings -> plan -> actions ->
verification not effective -> enforcement -> penalty decided -> paid -> closed."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from tests.e2e.cli import Cli
from tests.e2e.ingest_files import run_together
from tests.e2e.test_cli_assessment_lifecycle import IMPORTER, register, today

OFFICER = ("--actor", "user:officer-7", "--reason")
REP = ("--actor", "user:rep-acme", "--reason")
BOSS = ("--actor", "user:supervisor-11", "--reason")


def deficient_assessment(cli: Cli) -> str:
    number: str = cli.ok("assessments", "open", IMPORTER, "--origin", "random",
                         "--period-start", "2025-01-01", "--period-end", "2025-12-31",
                         "--scope", "classification", *OFFICER, "random pick",
                         "--json").json()["number"]
    cli.ok("assessments", "assign", number, "--officer", "user:officer-7", *BOSS, "mine")
    cli.ok("assessments", "survey", number, "--rating", "classification=adequate", "--on",
           today(), *OFFICER, "visit")
    cli.ok("assessments", "test", number, "--area", "classification", "--lines", "200",
           "--discrepancies", "12", "--value-tested", "300000", "--value-in-error", "9000",
           "--revenue-loss", "900", *OFFICER, "sample")
    return number


def test_a_plan_that_fails_verification_ends_in_a_paid_penalty(cli: Cli) -> None:
    register(cli)
    assessment = deficient_assessment(cli)
    findings = cli.ok("assessments", "findings", assessment, "--duty-paid", "5000000",
                      *OFFICER, "testing complete", "--json").json()
    assert findings["outcome"] == "improvement_plan_required"
    plan = findings["plan_number"]

    due = (date.today() + timedelta(days=45)).isoformat()
    added = cli.ok("plans", "add-action", plan, "--area", "classification", "--description",
                   "classification review before filing", "--owner", "user:rep-acme",
                   "--due-on", due, *REP, "our proposal", "--json").json()
    assert added["result"] == "A1"
    cli.ok("plans", "submit", plan, *REP, "proposed")
    # The representative who submitted may not approve: no representative may (its role
    # does not allow it, so access control refuses first); the officer whose findings
    # drafted the plan holds the supervisor role here, so four eyes refuse it.
    for who, rule in ((REP, "user:rep-acme may not approve plan"),
                      (OFFICER, "PlanReviewerIsNotTheDrafter")):
        own = cli("plans", "approve", plan, *who, "four eyes")
        assert own.code == 3
        assert rule in own.err
    cli.ok("plans", "approve", plan, *BOSS, "adequate")
    digest = hashlib.sha256(b"procedure v2").hexdigest()
    cli.ok("plans", "complete-action", plan, "--action", "A1", "--evidence",
           "new classification procedure", "--document", "DMS-4471", "--sha256", digest,
           "--completed-on", date.today().isoformat(), *REP, "done")
    reported = cli.ok("plans", "report-implementation", plan, *REP, "implemented",
                      "--json").json()
    verification = reported["result"]
    assert verification.startswith("FV-")
    scheduled_reads(cli, plan, verification, due)

    cli.ok("verifications", "retest", verification, "--area", "classification", "--lines",
           "150", "--discrepancies", "15", "--value-tested", "200000", "--value-in-error",
           "20000", "--revenue-loss", "2400", *OFFICER, "re-test")
    concluded = cli.ok("verifications", "conclude", verification, *OFFICER, "done",
                       "--json").json()["result"]
    assert concluded["effective"] is False
    action = concluded["enforcement_number"]
    assert cli.ok("plans", "show", plan, "--json").json()["state"] == "escalated"

    shown = cli.ok("enforcement", "show", action, "--json").json()
    assert (shown["kind"], shown["state"], shown["proposed_amount"]) == (
        "penalty", "proposed", "2400.00")
    refused = cli("enforcement", "review", action, "--vote", "approve", *OFFICER, "mine")
    assert refused.code == 3
    assert "ReviewerIsNotTheProposer" in refused.err
    for reviewer in ("user:eet-1", "user:eet-2"):
        cli.ok("enforcement", "review", action, "--vote", "approve", "--actor", reviewer,
               "--reason", "supported by the re-test")
    own = cli("enforcement", "conclude-review", action, *OFFICER, "my own proposal")
    assert own.code == 3
    assert "ReviewConcluderIsNotTheProposer" in own.err
    cli.ok("enforcement", "conclude-review", action, *BOSS, "team approved")
    cli.ok("enforcement", "issue", action, "--response-due-on", due, *BOSS, "pre-penalty")
    cli.ok("enforcement", "penalty-notice", action, "--response-due-on", due, *BOSS, "notice")
    cli.ok("enforcement", "respond", action, "--kind", "petition", "--summary",
           "first offence", *BOSS, "petition received")
    too_much = cli("enforcement", "decide", action, "--amount", "2400.01", *BOSS, "no")
    assert too_much.code == 3
    assert "MitigatedAmountDoesNotExceedProposed" in too_much.err
    cli.ok("enforcement", "decide", action, "--amount", "1800.00", *BOSS, "mitigated")
    cli.ok("enforcement", "pay", action, "--amount", "1800.00", "--paid-on",
           date.today().isoformat(), *BOSS, "paid")
    cli.ok("enforcement", "close", action, *BOSS, "paid in full")

    closed = cli.ok("enforcement", "show", action, "--json").json()
    assert (closed["state"], closed["decided_amount"], closed["paid_amount"]) == (
        "closed", "1800.00", "1800.00")
    cases = cli.ok("history", IMPORTER, "--json").json()["cases"]
    assert [c["kind"] for c in cases] == ["assessment", "improvement_plan",
                                          "follow_up_verification", "enforcement_action"]
    for case in (assessment, plan, verification, action):
        assert cli.ok("history", case, "--json").json()["events"]
    status = cli.ok("status", "--json").json()["aggregates"]
    assert status["ImprovementPlan"] == {"escalated": 1}
    assert status["FollowUpVerification"] == {"concluded_not_effective": 1}
    assert status["EnforcementAction"] == {"closed": 1}
    assert cli.ok("verify", "--json").json()["ok"] is True
    concluded_reads(cli, plan, verification, action)


def scheduled_reads(cli: Cli, plan: str, verification: str, action_due: str) -> None:
    """`plans list`, `verifications list` and `verifications show`, in JSON and as text,
    once the implementation is reported and the verification scheduled."""
    plans, plans_text, listed, listed_text, overdue, shown, shown_text = run_together(
        cli, ("plans", "list", "--json"), ("plans", "list", "--state",
                                           "verification_scheduled"),
        ("verifications", "list", "--importer", IMPORTER.lower(), "--json"),
        ("verifications", "list", "--district", "11"),
        ("verifications", "list", "--overdue", "--json"),
        ("verifications", "show", verification, "--json"),
        ("verifications", "show", verification))
    for result in (plans, plans_text, listed, listed_text, overdue, shown, shown_text):
        assert result.code == 0, result
    [row] = plans.json()
    assert (row["number"], row["importer_number"], row["district"], row["state"]) == (
        plan, IMPORTER, "11", "verification_scheduled")
    assert (row["deficient_areas"], row["actions"], row["actions_completed"]) == (
        ["classification"], 1, 1)
    assert (row["verification_number"], row["enforcement_number"]) == (verification, None)
    assert plans_text.out.splitlines()[0].split() == [
        plan, IMPORTER, "11", "verification_scheduled", "actions", "1/1"]
    assert plans_text.out.splitlines()[-1] == "1 plan(s)"

    [found] = listed.json()
    assert (found["number"], found["importer_number"], found["district"], found["state"],
            found["plan_number"], found["areas"], found["verified_rate"]) == (
        verification, IMPORTER, "11", "scheduled", plan, ["classification"], None)
    assert found["due_on"] > action_due > date.today().isoformat()
    assert found["overdue"] is False
    assert overdue.json() == []
    line, count = listed_text.out.splitlines()
    assert line.split()[:4] == [verification, IMPORTER, "11", "scheduled"]
    assert line.split()[-2:] == ["due", found["due_on"]]
    assert count == "1 verification(s)"

    details = shown.json()
    assert {key: details[key] for key in found if key != "overdue"} == {
        key: value for key, value in found.items() if key != "overdue"}
    assert (details["tests"], details["findings"]) == ([], [])
    text = dict(line.strip().split(": ", 1) for line in shown_text.out.splitlines())
    assert (text["number"], text["state"], text["plan_number"], text["areas"]) == (
        verification, "scheduled", plan, "['classification']")
    assert "tests" in text
    assert "findings" in text


def concluded_reads(cli: Cli, plan: str, verification: str, action: str) -> None:
    """`enforcement list` with its filters, and the concluded verification shown."""
    listed, closed_text, other_district, proposed, shown = run_together(
        cli, ("enforcement", "list", "--json"), ("enforcement", "list", "--state", "closed"),
        ("enforcement", "list", "--district", "12", "--json"),
        ("enforcement", "list", "--state", "proposed", "--json"),
        ("verifications", "show", verification, "--json"))
    for result in (listed, closed_text, other_district, proposed, shown):
        assert result.code == 0, result
    [row] = listed.json()
    assert (row["number"], row["importer_number"], row["district"], row["kind"],
            row["state"], row["source_case"]) == (action, IMPORTER, "11", "penalty", "closed",
                                                  verification)
    assert (row["proposed_amount"], row["decided_amount"], row["paid_amount"], row["votes"]) \
        == ("2400.00", "1800.00", "1800.00", 2)
    assert closed_text.out.splitlines()[0].split() == [
        action, IMPORTER, "11", "penalty", "closed", "1800.00"]
    assert closed_text.out.splitlines()[-1] == "1 enforcement action(s)"
    assert other_district.json() == []
    assert proposed.json() == []

    details = shown.json()
    assert (details["state"], details["plan_number"]) == ("concluded_not_effective", plan)
    [retest] = details["tests"]
    assert (retest["area"], retest["lines_tested"], retest["discrepancies"]) == (
        "classification", 150, 15)
    [finding] = details["findings"]
    assert finding["area"] == "classification"
    assert finding["acceptable"] is False
    # 135 of 150 lines compliant: 90.00%
    assert details["verified_rate"] == "0.9000"


def test_a_repeated_command_with_the_same_idempotency_key_writes_once(cli: Cli) -> None:
    register(cli)
    assessment = deficient_assessment(cli)
    args = ("assessments", "findings", assessment, *OFFICER, "done", "--idempotency-key",
            "findings-of-the-week-42", "--json")
    first = cli.ok(*args).json()
    events = cli.events()
    again = cli.ok(*args).json()
    assert again["plan_number"] == first["plan_number"]
    assert cli.events() == events
