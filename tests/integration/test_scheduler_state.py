"""The scheduler's state on SQLite and on PostgreSQL (infrastructure.scheduler_state) and
its runner (interfaces.scheduler.runner): a due job is claimed once, its outcome and next
run recorded; a tick runs the due jobs as system:scheduler, a failing job becomes a
failed outcome without stopping the others; the seal job seals only what is new, the
verify job fails naming what it could not check; and the leader lease admits one holder
at a time, handing over when the holder lets go."""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from application.access import current_caller
from application.compliance_cases import ComplianceCases
from application.history import history
from domain.user import Role
from infrastructure.schedule_settings import ScheduleSettings
from infrastructure.scheduler_state import (
    JobRunLog,
    PostgresLease,
    SqliteLease,
    lock_path,
)
from infrastructure.settings import Settings, load_settings
from infrastructure.sql_tables import SqlTables
from infrastructure.verify import LedgerReport
from interfaces.composition import initialise_store
from interfaces.scheduler import integrity_jobs
from interfaces.scheduler.integrity_jobs import SEAL_JOB, VERIFY_JOB
from interfaces.scheduler.jobs import Job, JobContext, JobOutcome
from interfaces.scheduler.runner import SCHEDULER_ACTOR, tick
from tests.builders import START
from tests.conftest import drop_schema, unique_schema

HOUR = timedelta(hours=1)


def schedule_for(*jobs: Job) -> ScheduleSettings:
    return ScheduleSettings(jobs=tuple(job.name for job in jobs),
                            intervals={job.name: job.default_every for job in jobs})


def log_of(app: ComplianceCases) -> JobRunLog:
    return JobRunLog(SqlTables(app.recorder))


def test_a_due_job_is_claimed_once_and_its_run_recorded(app: ComplianceCases) -> None:
    log = log_of(app)
    assert log.claim("seal", "run-1", "host:1:a", START, START + HOUR)
    assert not log.claim("seal", "run-2", "host:2:b", START, START + HOUR), "claimed twice"
    running = log.record("seal")
    assert running is not None
    assert running.running
    assert running.last_run_id == "run-1"
    assert log.finish("seal", "run-1", START + timedelta(seconds=3), ok=True,
                      summary="seal 1", details={"seal": 1})
    [record] = log.records().values()
    assert (record.name, record.last_ok, record.last_summary, record.last_details,
            record.runs, record.next_run_at, record.last_instance) == (
        "seal", True, "seal 1", {"seal": 1}, 1, START + HOUR, "host:1:a")
    assert not log.claim("seal", "run-3", "host:1:a", START + HOUR - timedelta(seconds=1),
                         START + 2 * HOUR), "claimed before it was due"
    assert log.claim("seal", "run-4", "host:1:a", START + HOUR, START + 2 * HOUR)
    assert not log.finish("seal", "run-1", START + HOUR, ok=False, summary="late",
                          details={}), "an older run overwrote the newer claim"
    assert log.finish("seal", "run-4", START + HOUR, ok=False, summary="broke", details={})
    record = log.record("seal")
    assert record is not None
    assert (record.runs, record.last_ok, record.last_summary) == (
        2, False, "broke")


def test_a_tick_runs_due_jobs_as_the_scheduler_and_a_failure_stops_no_other(
        make_app: Callable[..., ComplianceCases], store: Settings) -> None:
    seen: list[tuple[str, str | None]] = []

    def broken(_ctx: JobContext) -> JobOutcome:
        raise RuntimeError("the mail server said no")

    def fine(ctx: JobContext) -> JobOutcome:
        caller = current_caller()
        seen.append((ctx.now.isoformat(), None if caller is None else caller.actor))
        return JobOutcome("did its work", {"count": 3})

    first = Job("a-broken", timedelta(minutes=5), broken, "raises")
    second = Job("b-fine", timedelta(minutes=10), fine, "works")
    app = make_app(access_control=True)
    report = tick(app, store, START, [first, second], schedule=schedule_for(first, second))

    assert [(r.job, r.outcome.ok) for r in report.runs] == [("a-broken", False),
                                                             ("b-fine", True)]
    failed = report.runs[0].outcome
    assert "RuntimeError: the mail server said no" in failed.summary
    assert report.runs[0].run_id in failed.summary
    assert seen == [(START.isoformat(), SCHEDULER_ACTOR)]
    records = log_of(app).records()
    assert (records["a-broken"].last_ok, records["a-broken"].next_run_at) == (
        False, START + timedelta(minutes=5))
    assert (records["b-fine"].last_details, records["b-fine"].next_run_at) == (
        {"count": 3}, START + timedelta(minutes=10))

    again = tick(app, store, START + timedelta(minutes=5), [first, second],
                 schedule=schedule_for(first, second))
    assert [r.job for r in again.runs] == ["a-broken"]
    assert again.not_due == {"b-fine": START + timedelta(minutes=10)}
    assert len(seen) == 1


def test_the_seal_job_seals_what_is_new_and_nothing_twice(
        make_app: Callable[..., ComplianceCases], store: Settings) -> None:
    setup = make_app()
    app = make_app(access_control=True)
    schedule = schedule_for(SEAL_JOB)
    empty = tick(app, store, START, [SEAL_JOB], schedule=schedule)
    assert empty.runs[0].outcome.summary == "the ledger is empty: nothing to seal"

    setup.add_user("officer-1", roles=[Role.OFFICER], actor="system:test-setup",
                   reason="someone to seal")
    first = tick(app, store, START + HOUR, [SEAL_JOB], schedule=schedule)
    assert first.runs[0].outcome.details.get("seal") == 1, first.runs[0].outcome
    idle = tick(app, store, START + 2 * HOUR, [SEAL_JOB], schedule=schedule)
    assert idle.runs[0].outcome.details == {"sealed": False, "latest_seal": 1}
    assert "nothing recorded since seal 1" in idle.runs[0].outcome.summary

    setup.add_user("officer-2", roles=[Role.OFFICER], actor="system:test-setup",
                   reason="something new")
    second = tick(app, store, START + 3 * HOUR, [SEAL_JOB], schedule=schedule)
    assert second.runs[0].outcome.details.get("seal") == 2, second.runs[0].outcome
    actors = [entry.actor for entry in history(setup, integrity_jobs.SEAL_LOG_ID)]
    assert actors == [SCHEDULER_ACTOR] * 3  # the log's start and two seals


def test_the_verify_job_passes_an_intact_ledger_and_fails_naming_what_broke(
        make_app: Callable[..., ComplianceCases], store: Settings, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_app().add_user("officer-1", roles=[Role.OFFICER], actor="system:test-setup",
                        reason="something to verify")
    app = make_app(access_control=True)
    intact = tick(app, store, START, [VERIFY_JOB], schedule=schedule_for(VERIFY_JOB))
    assert intact.ok
    assert intact.runs[0].outcome.summary.endswith("intact")

    alerts: list[LedgerReport] = []
    monkeypatch.setattr(integrity_jobs, "on_verify_failed",
                        lambda _ctx, report: alerts.append(report))
    keyless = dataclasses.replace(store, seal_public_key_path=tmp_path / "gone.pub")
    failed = tick(app, keyless, START + timedelta(days=1), [VERIFY_JOB],
                  schedule=schedule_for(VERIFY_JOB))
    outcome = failed.runs[0].outcome
    assert not outcome.ok
    assert "signing key" in outcome.summary
    assert "gone.pub" in \
        outcome.summary
    assert len(alerts) == 1
    assert not alerts[0].ok
    record = log_of(app).record("verify")
    assert record is not None
    assert record.last_ok is False


def test_one_sqlite_lease_at_a_time_naming_its_holder(tmp_path: Path) -> None:
    settings = load_settings({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "ledger.db"),
                              "COMPLIANCE_SEAL_KEY": str(tmp_path / "keys" / "seal.key")})
    initialise_store(settings)
    first, second = SqliteLease(settings), SqliteLease(settings)
    try:
        assert first.try_acquire(START)
        assert first.is_leader
        assert not second.try_acquire(START)
        assert not second.is_leader
        assert lock_path(settings).exists()
        message = str(second.refuse())
        assert f"pid {os.getpid()} on {socket.gethostname()}" in message
        assert "already runs on this SQLite ledger" in message
        assert "one is enough" in message
        first.close()
        assert second.try_acquire(START + HOUR)
    finally:
        first.close()
        second.close()


@pytest.fixture
def postgres_settings(postgres_url: str, tmp_path: Path) -> Iterator[Settings]:
    schema = unique_schema()
    try:
        settings = load_settings({"COMPLIANCE_DATABASE_URL": postgres_url,
                                  "COMPLIANCE_POSTGRES_SCHEMA": schema,
                                  "COMPLIANCE_SEAL_KEY": str(tmp_path / "keys" / "seal.key")})
        initialise_store(settings)
        yield settings
    finally:
        drop_schema(postgres_url, schema)


@pytest.mark.postgres
def test_one_postgres_lease_at_a_time_and_the_next_takes_over(
        postgres_settings: Settings, make_leader_log: Callable[[Settings], JobRunLog]) -> None:
    first, second = PostgresLease(postgres_settings), PostgresLease(postgres_settings)
    log = make_leader_log(postgres_settings)
    try:
        assert first.try_acquire(START)
        assert not second.try_acquire(START), "two leaders"
        assert second.holder() == f"pid {os.getpid()} on {socket.gethostname()}"
        leader = log.leader()
        assert leader is not None
        assert leader.holder == first.instance
        assert first.heartbeat(START + timedelta(seconds=10))
        leader = log.leader()
        assert leader is not None
        assert leader.heartbeat_at == START + timedelta(seconds=10)

        first.close()
        assert log.leader() is None
        assert second.try_acquire(START + HOUR), "the lease was not released"
        leader = log.leader()
        assert leader is not None
        assert leader.holder == second.instance
        assert not first.try_acquire(START + HOUR), "the old holder took it back"
    finally:
        first.close()
        second.close()


@pytest.fixture
def make_leader_log() -> Iterator[Callable[[Settings], JobRunLog]]:
    from interfaces.composition import build_application

    built: list[ComplianceCases] = []

    def make(settings: Settings) -> JobRunLog:
        app = build_application(settings, access_control=False)
        built.append(app)
        return log_of(app)

    yield make
    for app in built:
        app.close()
