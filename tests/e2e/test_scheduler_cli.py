"""`compliance scheduler tick|status|run` as an operator runs them: a tick runs the due
jobs and records them, a second tick at the same moment runs nothing, `status` shows what
ran and what is next; bad settings are refused naming the variable; on SQLite a second
worker refuses to start; on PostgreSQL one of two workers leads, and when it is killed -9
the other takes over within a few heartbeats."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import psycopg
import pytest
from psycopg import sql

from tests.e2e.cli import EXECUTABLE, Cli
from tests.e2e.conftest import initialised

NOW = "2026-12-01T06:00:00Z"
AN_HOUR_LATER = "2026-12-01T07:00:00Z"
INTEGRITY = {"COMPLIANCE_SCHEDULER_JOBS": "seal,verify"}
"""The tests below are about the scheduler, not about the jobs other modules add."""
HEARTBEAT = "0.5"


def with_env(cli: Cli, **extra: str) -> Cli:
    cli.env.update(extra)
    return cli


def test_a_tick_runs_the_due_jobs_once_and_status_shows_them(cli: Cli) -> None:
    with_env(cli, **INTEGRITY)
    cli.provision(["user:officer-1"])  # something to seal

    first = cli.ok("scheduler", "tick", "--now", NOW)
    for expected in ("seal: ok", "seal 1:", "verify: ok", "intact"):
        assert expected in first.out, first.out
    assert "2 job(s) ran, 0 failed, 0 not due" in first.out

    again = cli.ok("scheduler", "tick", "--now", NOW)
    assert "0 job(s) ran, 0 failed, 2 not due" in again.out, again.out
    assert "seal: not due (next run 2026-12-01T07:00:00+00:00)" in again.out

    status = {job["job"]: job for job in
              cli.ok("scheduler", "status", "--json", "--now", NOW).json()["jobs"]}
    seal, verify = status["seal"], status["verify"]
    assert (seal["enabled"], seal["every"], seal["runs"], seal["last_run"]["outcome"],
            seal["next_run_at"], seal["due"]) == (
        True, "1h", 1, "ok", "2026-12-01T07:00:00+00:00", False)
    assert seal["last_run"]["details"]["seal"] == 1
    assert (verify["every"], verify["runs"], verify["next_run_at"]) == (
        "1d", 1, "2026-12-02T06:00:00+00:00")

    later = cli.ok("scheduler", "tick", "--now", AN_HOUR_LATER)
    assert "seal: ok" in later.out
    assert "nothing recorded since seal 1" in later.out
    assert "verify: not due" in later.out

    text = cli.ok("scheduler", "status").out
    assert "seal: enabled every 1h, 2 run(s)" in text, text
    assert "outcome: nothing recorded since seal 1: no new seal" in text
    assert "verify: enabled every 1d, 1 run(s)" in text
    assert "leader: none (no scheduler runs)" in text


def test_a_failed_job_fails_the_tick_and_is_shown(sqlite_cli: Cli, tmp_path: Path) -> None:
    cli = with_env(sqlite_cli, COMPLIANCE_SCHEDULER_JOBS="verify",
                   COMPLIANCE_SEAL_PUBLIC_KEY=str(tmp_path / "missing.pub"))
    result = cli("scheduler", "tick", "--now", NOW)
    assert result.code == 1, result
    assert "verify: FAILED" in result.out
    assert "missing.pub" in result.out
    assert "Traceback" not in result.err
    status = cli.ok("scheduler", "status", "--json").json()
    [verify] = [job for job in status["jobs"] if job["job"] == "verify"]
    assert verify["last_run"]["outcome"] == "failed"


@pytest.mark.parametrize(("variable", "value", "says", "command"), [
    ("COMPLIANCE_SCHEDULE_SEAL", "soon", "expected an interval such as 90s", "tick"),
    ("COMPLIANCE_SCHEDULE_SEAL", "-5m", "must be positive", "status"),
    ("COMPLIANCE_SCHEDULER_JOBS", "nosuchjob", "no job is named 'nosuchjob'", "run"),
])
def test_bad_settings_are_refused_naming_the_variable(
        sqlite_cli: Cli, variable: str, value: str, says: str, command: str) -> None:
    """Refused before anything runs (the other bad values: tests/unit/
    test_schedule_settings.py)."""
    result = with_env(sqlite_cli, **{variable: value})("scheduler", command)
    assert result.code == 2, result
    assert result.err.startswith(f"error: invalid setting: {variable}="), result.err
    assert says in result.err
    assert "Traceback" not in result.err
    assert "started" not in result.out


@pytest.mark.parametrize(("args", "says"), [
    (("--now", "2026-12-01T06:00:00"), "--now='2026-12-01T06:00:00': needs a time zone"),
    (("--now", "tomorrow"), "--now='tomorrow': expected an ISO 8601 timestamp"),
    (("--job", "nosuchjob"), "--job='nosuchjob': no such job"),
])
def test_bad_options_are_refused_naming_the_option(sqlite_cli: Cli, args: tuple[str, ...],
                                                   says: str) -> None:
    result = sqlite_cli("scheduler", "tick", *args)
    assert result.code == 2, result
    assert says in result.err


def test_tick_runs_only_the_named_jobs(sqlite_cli: Cli) -> None:
    result = with_env(sqlite_cli, **INTEGRITY).ok("scheduler", "tick", "--now", NOW,
                                                  "--job", "verify")
    assert "verify: ok" in result.out
    assert "seal" not in result.out


# -- the long-running worker ----------------------------------------------------------------


class Worker:
    """A `compliance scheduler run` process, its output in a file the test reads."""

    def __init__(self, cli: Cli, out: Path) -> None:
        self.out_path = out
        self.out: IO[str] = out.open("w")
        self.process = subprocess.Popen([str(EXECUTABLE), "scheduler", "run"],
                                        env=cli.env, stdout=self.out,
                                        stderr=subprocess.STDOUT, text=True)

    @property
    def text(self) -> str:
        return self.out_path.read_text()

    def leads(self) -> bool:
        return "now leads" in self.text

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.out.close()

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.out.close()


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.1)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.poll() is None:
            worker.stop()


def test_a_second_worker_on_sqlite_refuses_to_start(sqlite_cli: Cli, tmp_path: Path,
                                                    workers: list[Worker]) -> None:
    cli = with_env(sqlite_cli, COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS=HEARTBEAT, **INTEGRITY)
    first = Worker(cli, tmp_path / "first.out")
    workers.append(first)
    wait_for(first.leads, 30, f"the first worker leads: {first.text}")

    second = cli.separate()("scheduler", "run")  # a second worker: a process of its own
    assert second.code == 3, second
    assert (f"error: refused: another scheduler (pid {first.process.pid} on "
            in second.err), second.err
    assert "already runs on this SQLite ledger" in second.err
    assert "one is enough" in second.err

    wait_for(lambda: "verify: ok" in first.text, 30, f"the leader ticks: {first.text}")
    leader = cli.ok("scheduler", "status", "--json").json()["leader"]
    assert leader["pid"] == first.process.pid
    assert not leader["stale"]

    assert first.stop() == 0, first.text
    assert first.text.rstrip().endswith("stopped")
    assert cli.ok("scheduler", "status", "--json").json()["leader"] is None
    third = Worker(cli, tmp_path / "third.out")
    workers.append(third)
    wait_for(third.leads, 30, f"a worker starts once the first stopped: {third.text}")


@pytest.fixture
def postgres_cli(postgres_url: str, tmp_path: Path) -> Iterator[Cli]:
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    try:
        yield initialised(Cli({"COMPLIANCE_DATABASE_URL": postgres_url,
                               "COMPLIANCE_POSTGRES_SCHEMA": schema,
                               "COMPLIANCE_SEAL_KEY": str(tmp_path / "seal.key")}))
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


@pytest.mark.postgres
def test_one_of_two_workers_leads_and_the_other_takes_over_after_a_kill(
        postgres_cli: Cli, tmp_path: Path, workers: list[Worker]) -> None:
    cli = with_env(postgres_cli, COMPLIANCE_SCHEDULER_HEARTBEAT_SECONDS=HEARTBEAT,
                   **INTEGRITY)
    pair = [Worker(cli, tmp_path / "a.out"), Worker(cli, tmp_path / "b.out")]
    workers.extend(pair)
    wait_for(lambda: any(w.leads() for w in pair), 30, "one worker leads")
    wait_for(lambda: all("started on" in w.text for w in pair), 30, "both started")
    time.sleep(4 * float(HEARTBEAT))  # a few heartbeats: the other must not lead too
    assert [w.leads() for w in pair].count(True) == 1, [w.text for w in pair]
    leader, standby = pair if pair[0].leads() else pair[::-1]
    assert f"standby: pid {leader.process.pid} on " in standby.text, standby.text
    status = cli.ok("scheduler", "status", "--json").json()
    assert status["leader"]["pid"] == leader.process.pid

    leader.kill()
    wait_for(standby.leads, 8 * float(HEARTBEAT) + 5,
             f"the standby takes over: {standby.text}")
    wait_for(lambda: cli.ok("scheduler", "status", "--json").json()["leader"]["pid"]
             == standby.process.pid, 10, "status names the new leader")
    runs = {job["job"]: job["runs"] for job in
            cli.ok("scheduler", "status", "--json").json()["jobs"]}
    assert (runs["seal"], runs["verify"]) == (1, 1), f"a job ran twice: {runs}"
    assert standby.stop() == 0


def test_a_bulk_run_is_sealed_within_minutes_not_at_the_next_hour(
        sqlite_cli: Cli, tmp_path: Path) -> None:
    from tests.e2e.ingest_files import ACCOUNTS_HEADER, write_csv

    cli = sqlite_cli
    quiet = cli.ok("scheduler", "tick", "--job", "seal-after-bulk", "--now",
                   "2026-12-01T06:00:00Z")
    assert "no bulk run since the last seal" in quiet.out
    accounts = write_csv(tmp_path / "accounts.csv", ACCOUNTS_HEADER,
                         [("12-3456789AB", "Acme Imports Ltd", "11", "61", "2020-01-15")])
    cli.ok("import", "accounts", str(accounts), "--actor", "system:nightly")
    sealed = cli.ok("scheduler", "tick", "--job", "seal-after-bulk", "--now",
                    "2026-12-01T06:02:00Z")
    assert "seal 1:" in sealed.out
    again = cli.ok("scheduler", "tick", "--job", "seal-after-bulk", "--now",
                   "2026-12-01T06:04:00Z")
    assert "no bulk run since the last seal" in again.out
