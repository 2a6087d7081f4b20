"""`--expected-version` and `--idempotency-key` through the real CLI: every command that
records something takes them (issue 12), a key is bound to the command, its arguments and
its actor, and a key reused for anything else is refused with exit 3, naming it."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import pytest

from interfaces.cli.main import cli as compliance
from tests.e2e.cli import Cli, Result
from tests.e2e.test_cli_assessment_lifecycle import IMPORTER, open_assessment, register

KEY = "e2e-key-2026-03-01-0001"
WHO = ("--actor", "user:officer-7", "--reason")
REUSED = "[IdempotencyKeyReused]"

# The commands README.md lists that record something; creating commands have no case to
# hold at a version yet, except `open` and `propose`, which hold the importer's.
CASE_COMMANDS = {
    "accounts": ("assign-manager", "join", "leave", "set-class", "suspend", "reinstate",
                 "close"),
    "assessments": ("open", "assign", "survey", "test", "findings", "close", "cancel"),
    "plans": ("add-action", "change-action", "remove-action", "submit", "approve",
              "send-back", "amend-action", "complete-action", "report-implementation",
              "escalate"),
    "verifications": ("assign", "retest", "conclude", "cancel"),
    "enforcement": ("propose", "review", "conclude-review", "issue", "penalty-notice",
                    "respond", "decide", "pay", "refer-collection", "withdraw", "close",
                    "change-culpability"),
    "rules": ("approve", "publish", "amend", "retire"),
}
CREATING_COMMANDS = {"accounts": ("register",), "rules": ("draft",)}


def _options(group: str, name: str) -> set[str]:
    context = click.Context(compliance)
    found = compliance.get_command(context, group)
    assert isinstance(found, click.Group), group
    command = found.get_command(context, name)
    assert command is not None, f"{group} {name}"
    return {option for param in command.params for option in getattr(param, "opts", [])}


@pytest.mark.parametrize(("group", "name"), [
    (group, name) for group, names in CASE_COMMANDS.items() for name in names])
def test_every_command_on_a_case_takes_an_expected_version_and_an_idempotency_key(
        group: str, name: str) -> None:
    assert {"--expected-version", "--idempotency-key"} <= _options(group, name)


@pytest.mark.parametrize(("group", "name"), [
    (group, name) for group, names in CREATING_COMMANDS.items() for name in names])
def test_every_command_that_creates_a_case_takes_an_idempotency_key(group: str,
                                                                     name: str) -> None:
    assert "--idempotency-key" in _options(group, name)


def _register(cli: Cli, number: str, key: str = KEY) -> Result:
    return cli("accounts", "register", "--importer-number", number, "--name",
               "Jade River Apparel", "--district", "11", "--industry", "61",
               "--registered-on", "2019-04-01", "--actor", "user:registrar", "--reason",
               "new importer of record", "--idempotency-key", key)


def test_a_key_reused_for_another_importer_is_refused_with_exit_3_naming_it(cli: Cli) -> None:
    first = _register(cli, IMPORTER)
    assert first.code == 0, first
    events = cli.events()

    again = _register(cli, IMPORTER)
    reused = _register(cli, "24-0000002AB")

    assert (again.code, again.out) == (0, first.out)
    assert reused.code == 3, reused
    assert REUSED in reused.err
    assert (f"idempotency key '{KEY}' was already used for register_importer with other "
            "arguments or by another actor; use a new key") in reused.err
    assert reused.out == ""
    assert cli.events() == events
    assert cli("accounts", "show", "24-0000002AB").code == 4
    assert _register(cli, "24-0000002AB", key=f"{KEY}-new").code == 0


def test_assign_survey_and_test_take_an_expected_version_and_an_idempotency_key(
        cli: Cli) -> None:
    register(cli)
    number = open_assessment(cli)
    assign = ("assessments", "assign", number, "--officer", "user:officer-7", *WHO,
              "workload", "--expected-version", "1", "--idempotency-key", f"{KEY}-assign")
    survey = ("assessments", "survey", number, "--rating", "classification=weak",
              "--rating", "origin=strong", "--on", datetime.now(UTC).date().isoformat(),
              *WHO, "site visit",
              "--idempotency-key", f"{KEY}-survey")
    test = ("assessments", "test", number, "--area", "origin", "--lines", "150",
            "--discrepancies", "0", "--value-tested", "250000", "--value-in-error", "0",
            "--revenue-loss", "0", *WHO, "sample", "--expected-version", "3",
            "--idempotency-key", f"{KEY}-test")

    assert "version 2" in cli.ok(*assign).out
    stale = cli(*survey, "--expected-version", "1")
    assert stale.code == 5, stale
    assert (f"assessment {number} was changed by someone else since you read it (you "
            "expected version 1, it is now at version 2); nothing was recorded") in stale.err
    cli.ok(*survey, "--expected-version", "2")
    cli.ok(*test)
    events = cli.events()

    for command in (assign, (*survey, "--expected-version", "2"), test):
        cli.ok(*command)  # a repeat: the first result, nothing written
    other_officer = cli.as_is(*assign[:4], "user:officer-8", *assign[5:])  # key checked first
    assert other_officer.code == 3, other_officer
    assert REUSED in other_officer.err
    assert f"{KEY}-assign" in other_officer.err
    assert cli.events() == events
    shown = cli.ok("assessments", "show", number, "--json").json()
    assert (shown["version"], shown["officer"], len(shown["tests"])) == (4, "user:officer-7", 1)


def test_rule_commands_take_an_expected_version_and_an_idempotency_key(cli: Cli) -> None:
    draft = ("rules", "draft", "--name", "Footwear from Viet Nam", "--condition",
             "hs_prefix=6403", "--condition", "origin=VN", "--channel", "red", "--from",
             "2026-01-01", "--actor", "user:ana", "--reason", "origin pattern",
             "--idempotency-key", f"{KEY}-draft")
    number = cli.ok(*draft, "--json").json()["number"]
    assert cli.ok(*draft, "--json").json()["number"] == number
    cli.provision(["user:bo"])  # its user first: the count below is of the steps
    events = cli.events()

    def step(verb: str, version: int, *extra: str) -> tuple[str, ...]:
        return ("rules", verb, number, *extra, "--actor", "user:bo", "--reason", verb,
                "--expected-version", str(version), "--idempotency-key", f"{KEY}-{verb}",
                "--json")

    assert cli.ok(*step("approve", 1)).json()["state"] == "approved"
    stale = cli(*step("publish", 1))
    assert stale.code == 5, stale
    assert f"targeting rule {number}" in stale.err
    assert cli.ok(*step("publish", 2)).json()["state"] == "published"
    amend = step("amend", 3, "--name", "Footwear from VN and KH", "--condition",
                 "hs_prefix=64", "--condition", "origin=VN,KH", "--channel", "amber",
                 "--from", "2026-02-01")
    assert cli.ok(*amend).json()["version"] == 2
    assert cli.ok(*step("retire", 4)).json()["state"] == "retired"
    assert cli.events() == events + 8  # each step's event and its receipt

    for command in (step("approve", 1), step("publish", 2), amend, step("retire", 4)):
        cli.ok(*command)  # repeats: nothing written
    assert cli.events() == events + 8  # each step's event and its receipt
    reused = cli(*step("retire", 4)[:-3], "--idempotency-key", f"{KEY}-approve")
    assert reused.code == 3, reused
    assert f"'{KEY}-approve' was already used for approve_rule, not retire_rule" in reused.err


def test_open_and_propose_hold_the_importer_at_the_expected_version(cli: Cli) -> None:
    register(cli)
    cli.ok("accounts", "set-class", IMPORTER, "--class", "b", *WHO, "annual review")
    opening = ("assessments", "open", IMPORTER, "--origin", "referral", "--period-start",
               "2025-01-01", "--period-end", "2025-12-31", "--scope", "origin", *WHO,
               "referral")
    proposal = ("enforcement", "propose", IMPORTER, "--kind", "informed_compliance",
                "--legal-basis", "19 U.S.C. 1484", "--facts", "late filings", *WHO, "advice")

    for command in (opening, proposal):
        stale = cli(*command, "--expected-version", "1")
        assert stale.code == 5, stale
        assert (f"importer {IMPORTER} was changed by someone else since you read it (you "
                "expected version 1, it is now at version 2)") in stale.err
    events = cli.events()
    assert "CA-2026-00001" in cli.ok(*opening, "--expected-version", "2").out
    assert "EA-2026-00001" in cli.ok(*proposal, "--expected-version", "2").out
    assert cli.events() > events
