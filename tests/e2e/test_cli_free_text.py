"""Hostile free text at every entrance of the `compliance` command line, on SQLite and
PostgreSQL: NUL and other control characters (BEL, ESC sequences, CR), a direction override,
a line separator, 10,000 characters, and a newline or tab in a single-line field are refused
with exit 2, naming the field (and the character), in one line of error, writing nothing;
the same through the CSV text column. Multi-line text (a reason, a description, facts,
evidence, a summary) keeps its newlines and tabs, and every text output prints it as one
line.

Every hostile text goes through the command line in this process (tests/e2e/in_process.py:
the same commands on the same store; about 100 attempts per store would take minutes as
processes), and one per option through the real executable too. The operating system
cannot pass a NUL in an argument to a process, so NUL goes only through the former (and
through CSV)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.cli import Cli, Result, provision_actors
from tests.e2e.in_process import run_in_process
from tests.e2e.ingest_files import ACCOUNTS_HEADER, count, event_count, write_csv
from tests.e2e.test_cli_assessment_lifecycle import IMPORTER, register
from tests.e2e.test_cli_case_workflow import BOSS, OFFICER, REP

LONG = "x" * 10_000
HOSTILE = [  # (text, what the error names)
    ("Acme\x00 Ltd", "U+0000 (NUL) at position 5"),
    ("\x1b[31mAcme\x1b[0m", "U+001B (ESC) at position 1"),
    ("Acme\x07Ltd", "U+0007 (BEL)"),
    ("Acme\rLtd", "U+000D (CR)"),
    ("dtL \u202eemcA", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("Acme\u2028Ltd", "U+2028 (LINE SEPARATOR)"),
]
ONE_LINE = [("Acme\nLtd", "U+000A (LF)"), ("Acme\tLtd", "U+0009 (TAB)")]
CHARACTERS = [("\x00", "U+0000 (NUL)"), ("\x1b", "U+001B (ESC)"), ("\x07", "U+0007 (BEL)"),
              ("\r", "U+000D (CR)"), ("\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
              ("\u2028", "U+2028 (LINE SEPARATOR)"), ("\n", "U+000A (LF)"),
              ("\t", "U+0009 (TAB)")]
ACTOR_HOSTILE = [(f"user:li{char}", named) for char, named in CHARACTERS]
FORGED = "v99   2026-01-01T00:00:00+00:00  user:boss  ImporterAccount.Closed"
MULTI_LINE = f"checked the books\n{FORGED}\tend"
Build = Callable[[str], Sequence[str]]


def deficient_assessment(cli: Cli) -> str:
    """An assessment whose findings will require an improvement plan (dated today)."""
    number: str = cli.ok("assessments", "open", IMPORTER, "--origin", "random",
                         "--period-start", "2025-01-01", "--period-end", "2025-12-31",
                         "--scope", "classification", *OFFICER, "random pick",
                         "--json").json()["number"]
    cli.ok("assessments", "assign", number, "--officer", "user:officer-7", *BOSS, "mine")
    cli.ok("assessments", "survey", number, "--rating", "classification=adequate", "--on",
           date.today().isoformat(), *OFFICER, "visit")
    cli.ok("assessments", "test", number, "--area", "classification", "--lines", "200",
           "--discrepancies", "12", "--value-tested", "300000", "--value-in-error", "9000",
           "--revenue-loss", "900", *OFFICER, "sample")
    return number


def attempts(texts: Sequence[tuple[str, str]], long_says: str | None
             ) -> list[tuple[str, str]]:
    """The hostile texts, plus 10,000 characters when `long_says` is what that is refused
    with (actor ids and numbers are refused by their shape instead)."""
    return [*texts, *([(LONG, long_says)] if long_says else [])]


def in_process(cli: Cli, args: Sequence[str]) -> Result:
    """The command line run in this process, on the store `cli` points at (even when
    E2E_CLI_PROCESSES=1 makes `cli` run processes: a NUL cannot go through one)."""
    return Result(*run_in_process(cli.env, args, None))


Deferred = list[tuple[str, Sequence[str], str]]
"""(field, command, what the error names): commands to send through the executable."""


def assert_refused(cli: Cli, field: str, build: Build,
                   texts: Sequence[tuple[str, str]], through_processes: Deferred) -> None:
    """Every text, put in `field`'s option by `build(text)`, is refused with exit 2 naming
    the field and what is wrong, in one line of error, and the ledger is unchanged; the
    first text without a NUL is put in `through_processes`, to be sent through the real
    executable as well (`assert_refused_by_processes`, before the case's state changes)."""
    for text, _ in texts:  # the actors' users first (see tests.e2e.cli): nothing after
        provision_actors(cli.env, build(text), cli.known_users)
    before = event_count(cli)
    for text, named in texts:
        check_refused(f"{field} <- {text[:20]!r}", field, named, in_process(cli, build(text)))
    assert event_count(cli) == before, field
    text, named = next((t, n) for t, n in texts if "\x00" not in t)
    through_processes.append((field, build(text), named))


def assert_refused_by_processes(cli: Cli, deferred: Deferred) -> None:
    """The deferred commands (then no longer deferred) as processes of their own, a few at
    a time (a process spends about a second starting), on the ledger in the state they
    were deferred in: each refused as in this process, the ledger unchanged."""
    jobs, before, separate = list(deferred), event_count(cli), cli.separate()
    deferred.clear()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda job: separate.as_is(*job[1]), jobs))
    for (field, args, named), result in zip(jobs, results, strict=True):
        check_refused(f"{field} <- {args} (a process)", field, named, result)
    assert event_count(cli) == before


def check_refused(label: str, field: str, named: str, result: Result) -> None:
    assert result.code == 2, (label, result.code, result.err)
    assert result.err.startswith(f"error: invalid input: {field}="), (label, result.err)
    assert named in result.err, (label, result.err)
    assert result.err.count("\n") == 1, (label, result.err)  # one line: none forged
    assert not {"\x00", "\x07", "\x1b", "\r", "\u202e", "\u2028"} & set(result.err)
    assert result.out == "", (label, result.out)


@pytest.fixture
def ledger(cli: Cli) -> Cli:
    """An importer with an assessment, a draft plan with action A1, and a penalty awaiting
    the importer's response, so that every free-text option has a command to go to."""
    register(cli)
    assessment = deficient_assessment(cli)
    cli.ok("assessments", "findings", assessment, "--duty-paid", "5000000", *OFFICER, "done")
    register(cli, "12-0000002AA")
    cli.ok("assessments", "open", "12-0000002AA", "--origin", "random", "--period-start",
           "2025-01-01", "--period-end", "2025-12-31", "--scope", "value", *OFFICER, "pick")
    due = (date.today() + timedelta(days=45)).isoformat()
    cli.ok("plans", "add-action", "IP-" + assessment[3:], "--area", "classification",
           "--description", "review before filing", "--owner", "user:rep-acme", "--due-on",
           due, *REP, "our proposal")
    action = cli.ok("enforcement", "propose", IMPORTER, "--kind", "penalty", "--legal-basis",
                    "19 U.S.C. 1592", "--facts", "misclassified footwear", "--culpability",
                    "negligence", "--revenue-loss", "2400", "--domestic-value", "50000",
                    "--dutiable-value", "40000", "--amount", "2400", *OFFICER, "referral",
                    "--json").json()["number"]
    for reviewer in ("user:eet-1", "user:eet-2"):
        cli.ok("enforcement", "review", action, "--vote", "approve", "--actor", reviewer,
               "--reason", "supported")
    cli.ok("enforcement", "conclude-review", action, *BOSS, "approved")
    cli.ok("enforcement", "issue", action, "--response-due-on", due, *BOSS, "pre-penalty")
    cli.ok("enforcement", "penalty-notice", action, "--response-due-on", due, *BOSS, "notice")
    return cli


def test_hostile_text_in_every_free_text_option_is_refused_naming_it_and_writes_nothing(
        ledger: Cli) -> None:
    cli = ledger
    assessment = cli.ok("assessments", "list", "--json").json()[0]["number"]
    plan = "IP-" + assessment[3:]
    opened = cli.ok("assessments", "list", "--state", "opened", "--json").json()[0]["number"]
    action = cli.ok("enforcement", "list", "--json").json()[0]["number"]
    due = (date.today() + timedelta(days=45)).isoformat()
    name_texts = attempts(HOSTILE + ONE_LINE, "longer than 200 characters")
    reason_texts = attempts(HOSTILE, "longer than 2000 characters")
    through_processes: Deferred = []

    def refused(field: str, build: Build, texts: Sequence[tuple[str, str]]) -> None:
        assert_refused(cli, field, build, texts, through_processes)

    def register_with(**given: str) -> tuple[str, ...]:
        options = {"--importer-number": "12-0000001AA", "--name": "Jade Sea Textiles",
                   "--district": "11", "--industry": "61", "--actor": "user:registrar",
                   "--reason": "new importer", **given}
        return ("accounts", "register", *(x for pair in options.items() for x in pair))

    refused("legal_name", lambda t: register_with(**{"--name": t}), name_texts)
    refused("reason", lambda t: register_with(**{"--reason": t}), reason_texts)
    refused("actor", lambda t: register_with(**{"--actor": t}), ACTOR_HOSTILE)
    refused("importer_number",
            lambda t: register_with(**{"--importer-number": "12-0000001AA" + t}), CHARACTERS)
    refused("idempotency_key",
            lambda t: (*register_with(), "--idempotency-key", f"key-{t}-0001"), CHARACTERS)
    refused("reason", lambda t: ("accounts", "suspend", IMPORTER, "--actor", "user:sup",
                                 "--reason", t), reason_texts)
    refused("officer", lambda t: ("assessments", "assign", opened, "--officer", t, *BOSS,
                                  "workload"), ACTOR_HOSTILE)
    refused("manager", lambda t: ("accounts", "assign-manager", IMPORTER, "--manager", t,
                                  *BOSS, "cover"), ACTOR_HOSTILE)

    def add_action(description: str = "review", owner: str = "user:rep-acme") -> tuple[str, ...]:
        return ("plans", "add-action", plan, "--area", "classification", "--description",
                description, "--owner", owner, "--due-on", due, *REP, "proposal")

    description_texts = attempts(HOSTILE, "longer than 200 characters")
    refused("description", add_action, description_texts)
    refused("owner", lambda t: add_action(owner=t), ACTOR_HOSTILE)
    refused("description", lambda t: (
        "plans", "change-action", plan, "--action", "A1", "--area", "classification",
        "--description", t, "--owner", "user:rep-acme", "--due-on", due, *REP, "change"),
        description_texts)

    def propose(legal_basis: str = "19 U.S.C. 1592", facts: str = "facts") -> tuple[str, ...]:
        return ("enforcement", "propose", IMPORTER, "--kind", "informed_compliance",
                "--legal-basis", legal_basis, "--facts", facts, *OFFICER, "outreach")

    refused("legal_basis", propose, name_texts)
    refused("facts", lambda t: propose(facts=t), attempts(HOSTILE, "longer than 2000 characters"))
    refused("source_case", lambda t: (*propose(), "--source-case", assessment + t), CHARACTERS)
    refused("summary", lambda t: (
        "enforcement", "respond", action, "--kind", "petition", "--summary", t, *BOSS,
        "petition received"), attempts(HOSTILE, "longer than 2000 characters"))
    refused("name", lambda t: (
        "rules", "draft", "--name", t, "--condition", "origin=VN", "--channel", "red",
        "--from", "2026-01-01", "--actor", "user:ana", "--reason", "pattern"), name_texts)

    assert_refused_by_processes(cli, through_processes)  # before the plan's state changes

    # evidence: only an approved plan takes it
    cli.ok("plans", "submit", plan, *REP, "proposed")
    cli.ok("plans", "approve", plan, *BOSS, "adequate")
    digest = hashlib.sha256(b"procedure v2").hexdigest()

    def complete(evidence: str = "new procedure", document: str = "DMS-1") -> tuple[str, ...]:
        return ("plans", "complete-action", plan, "--action", "A1", "--evidence", evidence,
                "--document", document, "--sha256", digest, "--completed-on",
                date.today().isoformat(), *REP, "done")

    refused("evidence_description", complete, description_texts)
    refused("evidence_document_ref", lambda t: complete(document=t), name_texts)
    refused("description", lambda t: (
        "plans", "amend-action", plan, "--action", "A1", "--description", t, "--owner",
        "user:rep-acme", "--due-on", due, *BOSS, "amended"), description_texts)
    assert_refused_by_processes(cli, through_processes)


def test_hostile_text_in_the_csv_text_column_is_refused_naming_row_and_character(
        cli: Cli, tmp_path: Path) -> None:
    texts = [(f"Acme {text}", named.split(" at ")[0]) for text, named in HOSTILE + ONE_LINE]
    rows = [(f"12-{index:07d}AA", text, "11", "61", "2020-01-01")
            for index, (text, _) in enumerate(texts, start=1)]
    rows.append(("12-0000099AA", "Fine Trading Ltd", "11", "61", "2020-01-01"))
    path = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER, rows)

    result = cli("import", "accounts", str(path), "--json")

    assert result.code == 2, result.err
    report = result.json()
    assert (report["status"], report["rows_loaded"]) == ("rejected", 0)
    errors = {error["row"]: error for error in report["errors"]}
    assert set(errors) == set(range(2, 2 + len(texts)))
    for row, (_, named) in enumerate(texts, start=2):
        assert errors[row]["column"] == "legal_name"
        assert named in errors[row]["reason"], errors[row]
    text = cli("import", "accounts", str(path))
    assert text.code == 2
    for stream in (text.out, text.err):
        assert not {"\x00", "\x07", "\x1b", "\r", "\u202e", "\u2028"} & set(stream)
    assert event_count(cli) == 0
    assert count(cli, "ingest_batches") == 0


def lines_of(result: Result) -> list[str]:
    assert result.code == 0, result.err
    return result.out.split("\n")


def assert_one_line(result: Result, shown: str | None = None) -> None:
    """The forged event line never starts a line of its own; the text shows escaped."""
    printed = lines_of(result)
    assert not any(line.lstrip().startswith("v99") for line in printed), result.out
    assert "\r" not in result.out
    if shown is not None:
        assert shown in result.out, result.out


def test_multi_line_text_is_stored_as_given_and_printed_as_one_line_everywhere(
        cli: Cli) -> None:
    escaped = "checked the books\\nv99   2026-01-01T00:00:00+00:00  user:boss  " \
              "ImporterAccount.Closed\\tend"
    register(cli)
    cli.ok("accounts", "suspend", IMPORTER, *BOSS, MULTI_LINE)
    assessment = deficient_assessment(cli)
    plan = cli.ok("assessments", "findings", assessment, "--duty-paid", "5000000", *OFFICER,
                  MULTI_LINE, "--json").json()["plan_number"]
    due = (date.today() + timedelta(days=45)).isoformat()
    cli.ok("plans", "add-action", plan, "--area", "classification", "--description",
           f"first step\n{FORGED}", "--owner", "user:rep-acme", "--due-on", due, *REP,
           MULTI_LINE)

    stored = cli.ok("history", IMPORTER, "--json").json()["events"]
    assert stored[-1]["reason"] == MULTI_LINE  # kept exactly as given, newline and tab

    history = cli.ok("history", IMPORTER)
    assert_one_line(history, f"reason: {escaped}")
    assert len([line for line in lines_of(history) if line.startswith("v")]) == len(stored)
    for case in (assessment, plan):
        assert_one_line(cli.ok("history", case), escaped)
    assert_one_line(cli.ok("history", plan, "--as-of", "2"))
    assert_one_line(cli.ok("history", plan, "--diff", "1", "2"))
    assert_one_line(cli.ok("plans", "show", plan), "first step\\n")
    assert_one_line(cli.ok("plans", "list"))
    assert_one_line(cli.ok("accounts", "show", IMPORTER))
    assert_one_line(cli.ok("accounts", "list"))

    cli.ok("project", "--once")
    audit = cli.ok("audit", "--case", IMPORTER)
    assert_one_line(audit, escaped)
    assert_one_line(cli.ok("audit", "--case", plan), escaped)
    for command in (("views", "status"), ("worklist",), ("worklist", "--due"), ("register",),
                    ("stats", "plans")):
        assert_one_line(cli.ok(*command))


def test_text_stored_before_the_check_is_printed_escaped(sqlite_cli: Cli) -> None:
    """A ledger written before free text was checked may hold anything: a legal name with
    ESC and a direction override in the register view prints escaped."""
    register(sqlite_cli)
    sqlite_cli.ok("project", "--once")
    database = sqlite_cli.env["COMPLIANCE_SQLITE_PATH"]
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE ar_accounts SET legal_name = ?",
                     ("\x1b[31mJade\u202e\x07 River\nv99 forged",))
    for command in (("register",), ("register", "--importer", IMPORTER)):
        result = sqlite_cli.ok(*command)
        assert "\\x1b[31mJade\\u202e\\x07 River\\nv99 forged" in result.out
        assert not {"\x1b", "\u202e", "\x07"} & set(result.out)
        assert_one_line(result)
