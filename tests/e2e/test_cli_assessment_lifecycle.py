"""A compliance officer's whole path through the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.cli import Cli

IMPORTER = "31-4159265AB"
WHO = ("--actor", "user:officer-7", "--reason")


def today() -> str:
    """The ledger's today (its clock is UTC): a survey is dated from the day its
    assessment was opened, never after today."""
    return datetime.now(UTC).date().isoformat()


def register(cli: Cli, number: str = IMPORTER, district: str = "11") -> None:
    cli.ok("accounts", "register", "--importer-number", number, "--name", "Jade River Apparel",
           "--district", district, "--industry", "61", "--registered-on", "2019-04-01",
           "--actor", "user:registrar", "--reason", "new importer of record")


def open_assessment(cli: Cli, number: str = IMPORTER) -> str:
    result = cli.ok("assessments", "open", number, "--origin", "risk_selection",
                    "--period-start", "2025-01-01", "--period-end", "2025-12-31",
                    "--scope", "classification,origin", "--actor", "user:analyst",
                    "--reason", "top of the risk ranking", "--json")
    case_number: str = result.json()["number"]
    return case_number


def test_help_lists_every_command_group() -> None:
    result = Cli({}).ok("--help")
    for command in ("init", "demo", "accounts", "assessments", "history", "verify", "status"):
        assert command in result.out


def test_an_assessment_goes_from_opening_to_closure_with_full_history(cli: Cli) -> None:
    register(cli)
    number = open_assessment(cli)
    assert number.startswith("CA-")
    assert number.endswith("-00001")
    cli.ok("assessments", "assign", number, "--officer", "user:officer-7", *WHO, "workload")
    cli.ok("assessments", "survey", number, "--rating", "classification=weak",
           "--rating", "origin=strong", "--on", today(), *WHO, "site visit")
    cli.ok("assessments", "test", number, "--area", "classification", "--lines", "200",
           "--discrepancies", "18", "--value-tested", "400000", "--value-in-error", "52000",
           "--revenue-loss", "6100.50", *WHO, "sample of 200 lines")
    cli.ok("assessments", "test", number, "--area", "origin", "--lines", "150",
           "--discrepancies", "0", "--value-tested", "250000", "--value-in-error", "0",
           "--revenue-loss", "0", *WHO, "sample of 150 lines")
    findings = cli.ok("assessments", "findings", number, "--duty-paid", "900000", *WHO,
                      "testing complete", "--json").json()
    assert findings["outcome"] == "improvement_plan_required"
    plan_number = findings["plan_number"]
    assert plan_number.startswith("IP-")
    assert findings["enforcement_number"] is None
    by_area = {f["area"]: f for f in findings["findings"]}
    assert by_area["classification"]["acceptable"] is False
    assert by_area["origin"]["acceptable"] is True
    cli.ok("assessments", "close", number, *WHO, "findings sent to the importer")

    listed = cli.ok("assessments", "list", "--state", "closed", "--json").json()
    assert [(row["number"], row["state"]) for row in listed] == [(number, "closed")]
    assert listed[0]["id"]
    accounts = cli.ok("accounts", "list", "--district", "11", "--json").json()
    assert [(a["number"], a["state"]) for a in accounts] == [(IMPORTER, "active")]

    history = cli.ok("history", number, "--json").json()
    events = [(e["version"], e["event"], e["actor"]) for e in history["events"]]
    assert [e[1] for e in events] == [
        "Assessment.Opened", "Assessment.OfficerAssigned", "Assessment.SurveyRecorded",
        "Assessment.SampleTestRecorded", "Assessment.SampleTestRecorded",
        "Assessment.FindingsIssued", "Assessment.Closed"]
    assert [e[0] for e in events] == list(range(1, 8))
    assert history["events"][2]["reason"] == "site visit"
    assert history["events"][1]["changes"]["state"] == {"from": "opened", "to": "assigned"}

    as_of = cli.ok("history", number, "--as-of", "3", "--json").json()
    assert as_of["state"] == "surveyed"
    assert as_of["tests"] == []
    moment = history["events"][1]["recorded_at"]
    assert cli.ok("history", number, "--as-of", moment, "--json").json()["version"] == 2
    changes = cli.ok("history", number, "--diff", "3", "6", "--json").json()
    assert changes["state"] == {"from": "surveyed", "to": "findings_issued"}
    assert set(changes) >= {"tests", "findings", "outcome"}

    importer_history = cli.ok("history", IMPORTER, "--json").json()
    assert importer_history["cases"] == [{"kind": "assessment", "number": number},
                                         {"kind": "improvement_plan", "number": plan_number}]

    status = cli.ok("status", "--json").json()
    assert status["aggregates"]["Assessment"] == {"closed": 1}
    assert status["aggregates"]["ImprovementPlan"] == {"draft": 1}
    assert status["aggregates"]["ImporterAccount"] == {"active": 1}
    verified = cli.ok("verify", "--json").json()
    assert verified["ok"] is True
    assert verified["events"] == status["events"]


def add_user(cli: Cli, name: str, role: str, *districts: str) -> None:
    cli.ok("users", "add", name, "--role", role,
           *[option for d in districts for option in ("--district", d)],
           "--actor", "user:admin", "--reason", "staff named by the test")


def test_account_management_commands_are_recorded_with_actor_and_reason(cli: Cli) -> None:
    register(cli)
    add_user(cli, "am-01", "officer")  # a national account manager
    cli.ok("accounts", "assign-manager", IMPORTER, "--manager", "user:am-01", *WHO, "tier 1")
    cli.ok("accounts", "join", IMPORTER, "--programme", "trusted_trader", "--on", "2024-02-01",
           *WHO, "validated")
    cli.ok("accounts", "set-class", IMPORTER, "--class", "a", *WHO, "good record")
    cli.ok("accounts", "suspend", IMPORTER, *WHO, "bond lapsed")
    cli.ok("accounts", "reinstate", IMPORTER, *WHO, "bond renewed")
    shown = cli.ok("accounts", "show", IMPORTER, "--json").json()
    assert shown["account_manager"] == "user:am-01"
    assert shown["partnerships"] == ["trusted_trader"]
    assert shown["compliance_class"] == "a"
    assert shown["state"] == "active"
    assert shown["version"] == 6
    stale = cli("accounts", "close", IMPORTER, *WHO, "ceased", "--expected-version", "3")
    assert stale.code == 5
    assert "version 6" in stale.err
    assert "expected version 3" in stale.err
    cli.ok("accounts", "close", IMPORTER, *WHO, "ceased", "--expected-version", "6")
    refused = cli("accounts", "set-class", IMPORTER, "--class", "b", *WHO, "late")
    assert refused.code == 3
    assert "closed" in refused.err


def test_only_an_officer_of_the_case_s_district_is_given_work(cli: Cli) -> None:
    """Nobody who is not a user, not an officer or works elsewhere is named as a case's
    officer or an account's manager: exit 2 naming the field, nothing recorded."""
    register(cli)
    number = open_assessment(cli)
    add_user(cli, "officer-12", "officer", "12")
    add_user(cli, "analyst-11", "analyst", "11")
    add_user(cli, "sup", "supervisor", "11")
    refusals = [
        (("assessments", "assign", number, "--officer", "user:ghost"),
         "officer='user:ghost': user:ghost is not a user of this ledger"),
        (("assessments", "assign", number, "--officer", "user:officer-12"),
         "officer='user:officer-12': user:officer-12 does not work in district 11"),
        (("assessments", "assign", number, "--officer", "user:analyst-11"),
         "user:analyst-11 is not an officer"),
        (("assessments", "assign", number, "--officer", "system:anything"),
         "system:anything is not a person"),
        (("accounts", "assign-manager", IMPORTER, "--manager", "user:manager-11"),
         "manager='user:manager-11': user:manager-11 is not a user of this ledger"),
    ]
    for command, message in refusals:
        refused = cli.as_is(*command, "--actor", "user:sup", "--reason", "workload")
        assert (refused.code, refused.out) == (2, ""), refused.err
        assert message in refused.err
    assert cli.ok("assessments", "show", number, "--json").json()["version"] == 1
    assert cli.ok("accounts", "show", IMPORTER, "--json").json()["account_manager"] is None
