"""The end-to-end tests run most commands in this process (tests/e2e/in_process.py); here
the same commands run both ways, in this process and as the installed executable, must
give the same exit code, stdout and stderr, byte for byte: help wrapped to the same
width, usage errors, refusals, not found, JSON, an empty stdin, a missing ledger, a bad
setting. And what a command may leave behind in this process is put back."""

from __future__ import annotations

import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.cli import Cli, Result
from tests.e2e.test_cli_assessment_lifecycle import IMPORTER, WHO, register

COMMANDS: list[tuple[str, ...]] = [
    ("--help",),
    ("accounts", "register", "--help"),
    ("accounts", "register", "--importer", "x"),  # usage error, exit 2
    ("accounts", "register", "--importer-number", IMPORTER, "--name", "Again",
     "--district", "11", "--industry", "61", *WHO, "again"),  # refused, exit 3
    ("accounts", "show", "99-9999999ZZ"),  # not found, exit 4
    ("accounts", "show", IMPORTER), ("accounts", "show", IMPORTER, "--json"),
    ("accounts", "list", "--json"), ("history", IMPORTER), ("history", IMPORTER, "--json"),
    ("verify",), ("worklist", "--district", "11"),
    ("users", "add", "newcomer", "--role", "officer", "--password-stdin", *WHO, "hired"),
    ("no-such-command",),
]


def both_ways(cli: Cli, commands: list[tuple[str, ...]]) -> list[tuple[Result, Result]]:
    """Each command in this process, then as a process (side by side: only the refusals
    write, and they write nothing)."""
    here = [cli(*args) for args in commands]
    separate = cli.separate()
    with ThreadPoolExecutor(max_workers=4) as pool:
        there = list(pool.map(lambda args: separate(*args), commands))
    return list(zip(here, there, strict=True))


def test_commands_answer_in_this_process_as_the_executable_does(cli: Cli) -> None:
    register(cli)
    cli.provision([WHO[1]])
    events = cli.events()

    pairs = both_ways(cli, COMMANDS)

    different = {" ".join(args): pair for args, pair in zip(COMMANDS, pairs, strict=True)
                 if pair[0] != pair[1]}
    assert different == {}
    codes = [here.code for here, _ in pairs]
    assert codes == [0, 0, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 2, 2]
    assert "no password on stdin" in pairs[12][0].err
    assert cli.events() == events


def test_a_store_that_is_not_there_a_bad_setting_and_narrow_help_answer_alike(
        tmp_path: Path) -> None:
    missing = Cli({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "nowhere" / "c.db")})
    bad = Cli({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "c.db"),
               "COMPLIANCE_POSTGRES_LOCK_TIMEOUT": "soon"})
    narrow = Cli({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "c.db"), "COLUMNS": "60"})
    for cli, args, code in ((missing, ("status",), 6), (bad, ("status",), 2),
                            (narrow, ("accounts", "register", "--help"), 0)):
        here, there = cli(*args), cli.separate()(*args)
        assert here == there
        assert here.code == code
    assert not (tmp_path / "nowhere").exists()


def test_the_process_is_left_as_it_was(sqlite_cli: Cli) -> None:
    """The environment (keys the store does not name are absent during the call), the
    standard streams, argv, signal handlers and loggers are as before the command; the
    scheduler's stderr logger, added during a tick, is gone."""
    os.environ["COMPLIANCE_SNAPSHOT_INTERVAL"] = "3"  # not the Cli's: hidden from it
    try:
        before = (dict(os.environ), sys.stdout, sys.stderr, sys.stdin, list(sys.argv),
                  signal.getsignal(signal.SIGTERM))
        sqlite_cli.ok("scheduler", "tick", "--job", "verify", "--now",
                      "2026-12-01T06:00:00Z")
        seen = sqlite_cli.ok("status", "--json")
        after = (dict(os.environ), sys.stdout, sys.stderr, sys.stdin, list(sys.argv),
                 signal.getsignal(signal.SIGTERM))
    finally:
        del os.environ["COMPLIANCE_SNAPSHOT_INTERVAL"]
    assert after == before
    assert "COMPLIANCE_SNAPSHOT_INTERVAL" not in sqlite_cli.env
    assert seen.json()["events"] >= 0
    assert logging.getLogger("compliance.scheduler").handlers == []


def test_two_threads_may_not_run_commands_in_this_process_at_once(sqlite_cli: Cli) -> None:
    """They would share os.environ and the standard streams: the second is refused, and
    a Cli of processes is the way to run commands side by side."""
    from tests.e2e import in_process

    with in_process._ONE_AT_A_TIME, pytest.raises(RuntimeError, match="process=True"):
        in_process.run_in_process(sqlite_cli.env, ["status"], None)
    assert in_process.run_in_process(sqlite_cli.env, ["status"], None)[0] == 0
