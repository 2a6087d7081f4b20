"""What a newcomer meets first (issue 12), through the real CLI on both stores: the views a
command reads are caught up first, so a case opened a moment ago is on the work list
without a worker (and when they cannot be, the command says how far behind they are);
lists print aligned headers; the work list names the officer responsible (`unassigned`
until there is one) and describes due items by case number and action; verifications get
an officer; `history --diff` prints whole values; a channel run with nothing new is
refused; a rate over no exams says so."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.cli import Cli

IMPORTER = "31-4159265AB"
ANALYST = ("--actor", "user:analyst-11", "--reason")
OFFICER = ("--actor", "user:officer-7", "--reason")
REP = ("--actor", "user:rep-acme", "--reason")
BOSS = ("--actor", "user:supervisor-11", "--reason")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
FIRST_ACTION = ("classification review before filing by a licensed broker, with a second "
                "check of every tariff line against the binding rulings")
SECOND_ACTION = "quarterly classification audit of the ten largest suppliers"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def register(cli: Cli) -> None:
    cli.ok("accounts", "register", "--importer-number", IMPORTER, "--name", "Jade River",
           "--district", "11", "--industry", "61", "--registered-on", "2019-04-01",
           "--actor", "user:registrar", "--reason", "new importer of record")


def open_assessment(cli: Cli) -> str:
    number: str = cli.ok("assessments", "open", IMPORTER, "--origin", "random",
                         "--period-start", "2025-01-01", "--period-end", "2025-12-31",
                         "--scope", "classification", *ANALYST, "random pick",
                         "--json").json()["number"]
    return number


def row_of(rows: list[dict[str, Any]], number: str) -> dict[str, Any]:
    [row] = [r for r in rows if r["number"] == number]
    return row


def table(text: str) -> tuple[str, list[str]]:
    """The header line and the rows of a printed table (without the count line)."""
    lines = text.rstrip("\n").split("\n")
    assert re.fullmatch(r"\d+ row\(s\)", lines[-1]), text
    return lines[0], lines[1:-1]


def assert_aligned(text: str, columns: list[str]) -> None:
    """Each named (left-aligned) column starts where its header starts, on every row."""
    header, rows = table(text)
    for column in columns:
        start = header.index(column)
        for row in rows:
            assert row[start] != " ", (column, row)
            assert start == 0 or row[start - 1] == " ", (column, row)


# -- views caught up by the commands that read them ---------------------------------------


def test_a_case_follows_the_work_list_from_opening_to_its_verification(cli: Cli) -> None:
    register(cli)
    assessment = open_assessment(cli)

    # on the work list at once, no worker running: nobody responsible yet
    listed = cli.ok("worklist")
    assert listed.err == ""
    header, rows = table(listed.out)
    assert header.split() == ["NUMBER", "STATE", "DISTRICT", "OFFICER", "DUE", "ON", "DAYS",
                              "OVERDUE", "NEXT", "STEP"]
    assert [row.split()[:4] for row in rows] == [[assessment, "opened", "11", "unassigned"]]
    assert row_of(cli.ok("worklist", "--json").json(), assessment)["officer"] is None
    assert [r["number"] for r in cli.ok("worklist", "--officer", "unassigned",
                                        "--json").json()] == [assessment]
    status = {r["view"]: r["behind"] for r in cli.ok("views", "status", "--json").json()}
    assert status["worklist"] == 0  # caught up by the work list...
    assert status["audit_log"] > 0  # ...and only the view it reads
    assert [r["event"] for r in cli.ok("audit", "--case", assessment, "--json").json()] == [
        "Opened"]
    assert cli.ok("register", "--importer", IMPORTER, "--json").json()[0]["open_cases"] == 1
    register_header, _ = table(cli.ok("register").out)
    assert register_header.split()[:3] == ["IMPORTER", "DISTRICT", "INDUSTRY"]
    views_header, view_rows = table(cli.ok("views", "status").out)
    assert views_header.split() == ["VIEW", "POSITION", "BEHIND"]
    assert len(view_rows) == 7

    # assigned: the officer responsible, not the analyst who opened it
    cli.ok("assessments", "assign", assessment, "--officer", "user:officer-7", *BOSS, "mine")
    assert (row_of(cli.ok("worklist", "--json").json(), assessment)["officer"],
            row_of(cli.ok("worklist", "--json").json(), assessment)["state"]) == (
        "user:officer-7", "assigned")
    cli.ok("assessments", "survey", assessment, "--rating", "classification=adequate",
           "--on", today(), *OFFICER, "visit")
    cli.ok("assessments", "test", assessment, "--area", "classification", "--lines", "200",
           "--discrepancies", "12", "--value-tested", "300000", "--value-in-error", "9000",
           "--revenue-loss", "900", *OFFICER, "sample")
    # a reassignment in testing changes who, not the state
    cli.ok("assessments", "assign", assessment, "--officer", "user:officer-9", *BOSS, "leave")
    moved = row_of(cli.ok("worklist", "--json").json(), assessment)
    assert (moved["officer"], moved["state"]) == ("user:officer-9", "testing")
    cli.ok("assessments", "assign", assessment, "--officer", "user:officer-7", *BOSS, "back")
    plan = cli.ok("assessments", "findings", assessment, "--duty-paid", "5000000", *OFFICER,
                  "testing complete", "--json").json()["plan_number"]

    # the plan's officer is its assessment's; its due items are described, not ids
    due = (date.today() + timedelta(days=45)).isoformat()
    for description in (FIRST_ACTION, SECOND_ACTION):
        cli.ok("plans", "add-action", plan, "--area", "classification", "--description",
               description, "--owner", "user:rep-acme", "--due-on", due, *REP, "proposal")
    worklist = cli.ok("worklist", "--json").json()
    assert row_of(worklist, plan)["officer"] == "user:officer-7"
    due_text = cli.ok("worklist", "--due").out
    header, rows = table(due_text)
    assert header.split() == ["DUE", "ON", "DAYS", "OVERDUE", "DISTRICT", "OFFICER", "DUE",
                              "ITEM"]
    assert_aligned(due_text, ["DUE ON", "OFFICER", "DUE ITEM"])
    assert not UUID_TEXT.search(due_text)
    assert f"{plan} action A1 ({FIRST_ACTION})" in due_text
    assert f"{plan} action A2 ({SECOND_ACTION})" in due_text
    assert f"{plan} proposal of corrective actions" in due_text
    items = cli.ok("worklist", "--due", "--json").json()
    assert {(i["case_number"], i["description"], i["officer"]) for i in items} == {
        (plan, "proposal of corrective actions", "user:officer-7"),
        (plan, f"action A1 ({FIRST_ACTION})", "user:officer-7"),
        (plan, f"action A2 ({SECOND_ACTION})", "user:officer-7")}

    # history --diff prints whole values: the second action is there, nothing cut short
    diff = cli.ok("history", plan, "--diff", "1", "3").out
    [actions] = [line for line in diff.splitlines() if line.startswith("actions:")]
    assert FIRST_ACTION in actions
    assert SECOND_ACTION in actions
    assert "..." not in actions
    listing = cli.ok("history", plan).out.splitlines()
    second = listing.index(next(line for line in listing if line.startswith("v3 ")))
    [changed] = [line for line in listing[second:second + 4]
                 if line.strip().startswith("actions:")]
    before, after = changed.split(": ", 1)[1].split(" -> ")
    assert before != after  # shortened sides would have been equal
    assert SECOND_ACTION in after

    # to the verification: scheduled by the importer's representative, unassigned
    cli.ok("plans", "submit", plan, *REP, "proposed")
    cli.ok("plans", "approve", plan, *BOSS, "adequate")
    digest = hashlib.sha256(b"procedure v2").hexdigest()
    for action in ("A1", "A2"):
        cli.ok("plans", "complete-action", plan, "--action", action, "--evidence",
               "new procedure", "--document", "DMS-4471", "--sha256", digest,
               "--completed-on", date.today().isoformat(), *REP, "done")
    verification = cli.ok("plans", "report-implementation", plan, *REP, "implemented",
                          "--json").json()["result"]
    listed_verification = row_of(cli.ok("worklist", "--json").json(), verification)
    assert listed_verification["officer"] is None
    assert f"{verification} re-test of classification" in cli.ok("worklist", "--due").out
    assert "unassigned" in next(line for line in cli.ok("worklist").out.splitlines()
                                if line.startswith(verification))
    assert cli.ok("verifications", "show", verification, "--json").json()["officer"] is None

    # the representative who reported the implementation may not verify it: not an officer
    refused = cli("verifications", "assign", verification, "--officer", "user:rep-acme",
                  *BOSS, "workload")
    assert refused.code == 2, refused
    assert "officer='user:rep-acme': user:rep-acme is not an officer" in refused.err
    stale = cli("verifications", "assign", verification, "--officer", "user:officer-7",
                *BOSS, "workload", "--expected-version", "7")
    assert stale.code == 5, stale
    events = cli.events()
    assigned = cli.ok("verifications", "assign", verification, "--officer", "user:officer-7",
                      *BOSS, "workload", "--expected-version", "1", "--idempotency-key",
                      "assign-fv-1", "--json").json()
    assert assigned == {"number": verification, "step": "assign", "result": 2}
    again = cli.ok("verifications", "assign", verification, "--officer", "user:officer-7",
                   *BOSS, "workload", "--expected-version", "1", "--idempotency-key",
                   "assign-fv-1", "--json").json()
    assert again == assigned
    assert cli.events() == events + 2  # the event and its receipt, once
    assert cli.ok("verifications", "show", verification, "--json").json()["officer"] == \
        "user:officer-7"
    assert "user:officer-7" in next(
        line for line in cli.ok("verifications", "list").out.splitlines()
        if line.startswith(verification))
    mine = cli.ok("worklist", "--officer", "user:officer-7", "--json").json()
    assert {r["number"] for r in mine} == {assessment, plan, verification}
    mine_due = cli.ok("worklist", "--officer", "user:officer-7", "--due", "--json").json()
    assert [i["description"] for i in mine_due
            if i["case_number"] == verification] == ["re-test of classification"]
    history = cli.ok("history", verification, "--json").json()["events"]
    assert history[-1]["event"] == "FollowUpVerification.OfficerAssigned"
    assert cli.ok("verify", "--json").json()["ok"] is True


def test_a_reading_command_that_cannot_catch_up_says_how_far_behind_it_reads(
        sqlite_cli: Cli) -> None:
    """Another process holds the SQLite write lock (a long import): the work list does
    not wait for it; it reads the view as it is and says so."""
    register(sqlite_cli)
    assessment = open_assessment(sqlite_cli)
    behind = {r["view"]: r["behind"]
              for r in sqlite_cli.ok("views", "status", "--json").json()}["worklist"]
    assert behind > 0
    writer = sqlite3.connect(Path(sqlite_cli.env["COMPLIANCE_SQLITE_PATH"]),
                             isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        stale = sqlite_cli("worklist")
        stale_json = sqlite_cli("worklist", "--json")
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert (stale.code, stale_json.code) == (0, 0)
    assert stale.err.strip() == (
        f"warning: views are {behind} events behind the log (another process is writing "
        "to the database); run compliance project --once")
    assert assessment not in stale.out
    assert stale_json.json() == []
    fresh = sqlite_cli.ok("worklist")
    assert fresh.err == ""
    assert assessment in fresh.out


def test_migrate_drops_a_work_list_of_the_old_schema_and_the_next_read_rebuilds_it(
        sqlite_cli: Cli) -> None:
    """A ledger of schema version 1: its due items had no description. Reading commands
    refuse it until `migrate`, which drops the old work-list tables (derived data); the
    next work list rebuilds them from the log."""
    register(sqlite_cli)
    assessment = open_assessment(sqlite_cli)
    sqlite_cli.ok("project", "--once")
    path = Path(sqlite_cli.env["COMPLIANCE_SQLITE_PATH"])
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE wl_due DROP COLUMN description")
        conn.execute("UPDATE compliance_meta SET value = '1' WHERE key = 'schema_version'")
    refused = sqlite_cli("worklist")
    assert refused.code == 6
    assert "run compliance migrate" in refused.err
    migrated = sqlite_cli.ok("migrate").out
    assert "migrated from schema version 1" in migrated
    assert "reset view(s) whose tables changed: worklist;" in migrated
    assert [r["number"] for r in sqlite_cli.ok("worklist", "--json").json()] == [assessment]
    assert {r["view"]: r["behind"] for r in sqlite_cli.ok(
        "views", "status", "--json").json()}["worklist"] == 0
    assert "already current: nothing to do" in sqlite_cli.ok("migrate").out


# -- targeting with nothing to work on ---------------------------------------------------


def test_a_channel_run_with_nothing_new_is_refused_and_rates_over_no_exams_say_so(
        cli: Cli) -> None:
    events = cli.events()
    refused = cli("channel")
    assert refused.code == 3, refused
    assert "no new declarations to channel" in refused.err
    assert refused.out == ""
    assert cli.events() == events  # no empty run recorded

    rule = cli.ok("rules", "draft", "--name", "Footwear from Viet Nam", "--condition",
                  "hs_prefix=64", "--condition", "origin=VN", "--channel", "red", "--from",
                  "2026-01-01", "--actor", "user:ana", "--reason", "origin pattern",
                  "--json").json()["number"]
    backtest = cli.ok("rules", "backtest", rule).out
    assert backtest.count("no exams yet") == 3, backtest
    effectiveness = cli.ok("effectiveness").out
    assert "no exams yet" in effectiveness
    assert "0/0" not in effectiveness
    assert "0.0%" not in effectiveness
