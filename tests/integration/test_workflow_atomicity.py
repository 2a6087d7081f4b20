"""A workflow step commits every aggregate it changes in one transaction: when any part of
it is refused, fails in code, or fails in the database at commit, nothing of it is stored:
the deciding case keeps its version, no follow-on case exists, its number is not consumed
and the events table has not grown. The same step then succeeds with the next gap-free
number and the hash chains verify."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, PersistenceError
from psycopg import sql

from application.compliance_cases import ComplianceCases
from domain.assessment import AssessmentState
from domain.case_file import case_file_id
from domain.case_numbers import case_id, sequence_id
from domain.errors import InvalidTransitionError
from domain.follow_up_verification import VerificationState
from domain.importer_account import importer_account_id
from domain.improvement_plan import PlanState
from infrastructure.settings import Settings
from infrastructure.stores import postgres_conninfo
from tests.builders import (
    ACTOR,
    DUTY_PAID,
    OFFICER,
    FakeClock,
    ready_for_findings,
    record_retests,
    register_importer,
    registration,
    walk_plan,
    walk_to_findings,
)
from tests.integration.raw_store import RawEvents
from tests.integration.workflow_support import SaveSpy, event_name, last_serial
from tests.ledger_check import verify_app


@dataclass(frozen=True)
class Step:
    """A workflow step on a subject case that opens a follow-on case numbered `prefix`."""

    prepare: Callable[[ComplianceCases, FakeClock], str]
    send: Callable[[ComplianceCases, str], str | None]
    subject: Callable[[ComplianceCases, str], Any]
    prefix: str


def _drafted_plan(app: ComplianceCases, clock: FakeClock) -> str:
    _, findings = walk_to_findings(app, register_importer(app), clock=clock)
    assert findings.plan_number is not None
    return findings.plan_number


def _plan_with_actions_completed(app: ComplianceCases, clock: FakeClock) -> str:
    plan = _drafted_plan(app, clock)
    walk_plan(app, plan, "actions_completed", clock=clock)
    return plan


def _verification_gone_wrong(app: ComplianceCases, clock: FakeClock) -> str:
    verification = walk_plan(app, _drafted_plan(app, clock), clock=clock)
    assert verification is not None
    record_retests(app, verification, effective=False, clock=clock)
    return verification


STEPS = {
    "findings drafting a plan": Step(
        lambda app, clock: ready_for_findings(app, register_importer(app), clock=clock),
        lambda app, n: app.issue_findings(n, duty_paid=DUTY_PAID, actor=OFFICER,
                                          reason="testing complete").plan_number,
        lambda app, n: app.get_assessment(n), "IP"),
    "findings referred for enforcement": Step(
        lambda app, clock: ready_for_findings(app, register_importer(app), clock=clock),
        lambda app, n: app.issue_findings(n, duty_paid=DUTY_PAID, fraud_indicators=True,
                                          actor=OFFICER,
                                          reason="testing complete").enforcement_number,
        lambda app, n: app.get_assessment(n), "EA"),
    "implementation reported": Step(
        _plan_with_actions_completed,
        lambda app, n: app.report_implementation(n, actor=ACTOR, reason="implemented"),
        lambda app, n: app.get_plan(n), "FV"),
    "verification concluded not effective": Step(
        _verification_gone_wrong,
        lambda app, n: app.conclude_verification(n, actor=OFFICER,
                                                 reason="re-tests complete").enforcement_number,
        lambda app, n: app.get_verification(n), "EA"),
    "plan escalated by hand": Step(
        _drafted_plan,
        lambda app, n: app.escalate_plan(n, actor=OFFICER, reason="overdue beyond grace"),
        lambda app, n: app.get_plan(n), "EA"),
}


@dataclass(frozen=True)
class Stored:
    """What the store holds that a step could change."""

    rows: int
    last_event: int | None
    subject_version: int
    subject_state: str
    follow_on_exists: bool
    last_serial: int
    case_file: tuple[str, ...]


def stored(app: ComplianceCases, raw: RawEvents, step: Step, subject: str) -> Stored:
    case = step.subject(app, subject)
    return Stored(
        rows=raw.count(), last_event=app.recorder.max_notification_id(),
        subject_version=case.version, subject_state=case.state.value,
        follow_on_exists=app.find_aggregate(case_id(f"{step.prefix}-2026-00001")) is not None,
        last_serial=last_serial(app, step.prefix),
        case_file=tuple(ref.number for ref in app.get_case_file(case.importer_number)))


def injected_failure(*_: object, **__: object) -> None:
    raise RuntimeError("injected failure part way through the step")


@pytest.mark.parametrize("failing", ["filing the new case", "storing the events"])
@pytest.mark.parametrize("step", STEPS.values(), ids=STEPS.keys())
def test_a_step_failing_part_way_stores_none_of_it_and_then_succeeds_gap_free(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        monkeypatch: pytest.MonkeyPatch, step: Step, failing: str) -> None:
    """Filing fails after the subject decided and a number was issued in memory; storing
    fails with every changed aggregate's events in hand."""
    subject = step.prepare(app, clock)
    raw = RawEvents.of(app, store)
    before = stored(app, raw, step, subject)
    attempted: list[str] = []
    if failing == "filing the new case":
        monkeypatch.setattr(app, "_file_case", injected_failure)
    else:
        def refusing_put(events: list[Any], **_: object) -> None:
            attempted.extend(event_name(e) for e in events)
            injected_failure()
        monkeypatch.setattr(app.events, "put", refusing_put)
    clock.advance()

    with pytest.raises(RuntimeError, match="injected failure"):
        step.send(app, subject)

    if attempted:
        # The failed save carried the decision, the number and the new case together.
        assert {"CaseNumberSequence", "ImporterCaseFile", type(
            step.subject(app, subject)).__name__} <= {n.split(".")[0] for n in attempted}
    assert stored(app, raw, step, subject) == before
    monkeypatch.undo()
    assert step.send(app, subject) == f"{step.prefix}-2026-00001"
    assert step.subject(app, subject).version > before.subject_version
    assert verify_app(app).ok


@pytest.mark.parametrize("step", [
    STEPS["findings referred for enforcement"], STEPS["verification concluded not effective"],
    STEPS["plan escalated by hand"]], ids=["referral", "ineffective verification",
                                           "escalation"])
def test_enforcement_refused_for_a_closed_importer_leaves_the_deciding_case_unchanged(
        app: ComplianceCases, clock: FakeClock, store: Settings, step: Step) -> None:
    """The subject case decides first; proposing enforcement is then refused by the
    importer's account (ensure_open_for_cases), so the decision is not stored either."""
    subject = step.prepare(app, clock)
    importer = step.subject(app, subject).importer_number
    app.close_importer(importer, actor=ACTOR, reason="ceased trading")
    raw = RawEvents.of(app, store)
    before = stored(app, raw, step, subject)

    with pytest.raises(InvalidTransitionError) as refused:
        step.send(app, subject)

    assert f"importer {importer} is closed: cannot open a case" in str(refused.value)
    assert stored(app, raw, step, subject) == before


def test_an_effective_verification_closes_the_plan_but_leaves_a_closed_account_alone(
        app: ComplianceCases, clock: FakeClock, store: Settings) -> None:
    """A closed account takes no command, so it keeps its last class; the verification and
    the plan still conclude, in one transaction."""
    importer = register_importer(app)
    _, findings = walk_to_findings(app, importer, clock=clock)
    assert findings.plan_number is not None
    verification_number = walk_plan(app, findings.plan_number, clock=clock)
    assert verification_number is not None
    record_retests(app, verification_number, effective=True, clock=clock)
    app.close_importer(importer, actor=ACTOR, reason="ceased trading")
    raw = RawEvents.of(app, store)
    rows = raw.count()
    versions = [app.get_verification(verification_number).version,
                app.get_plan(findings.plan_number).version,
                app.get_importer(importer).version]

    result = app.conclude_verification(verification_number, actor=OFFICER,
                                       reason="re-tested")

    assert result.effective
    assert result.compliance_class is not None
    assert raw.count() == rows + 2
    assert [app.get_verification(verification_number).version,
            app.get_plan(findings.plan_number).version,
            app.get_importer(importer).version] == [versions[0] + 1, versions[1] + 1,
                                                    versions[2]]
    assert app.get_verification(verification_number).state is (
        VerificationState.CONCLUDED_EFFECTIVE)
    assert app.get_plan(findings.plan_number).state is PlanState.CLOSED_EFFECTIVE
    assert app.get_importer(importer).compliance_class is None


# -- a real database error at commit (PostgreSQL) ------------------------------------------

postgres_only = pytest.mark.parametrize(
    "store_environ", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


@contextmanager
def failing_at_commit(app: ComplianceCases, store: Settings, when: str) -> Iterator[None]:
    """A DEFERRABLE INITIALLY DEFERRED constraint trigger on the events table that raises
    at commit of any transaction that inserted a row matching `when` (SQL on NEW)."""
    schema = store.postgres_schema
    table = sql.Identifier(schema, app.recorder.events_table_name)  # type: ignore[attr-defined]
    function = sql.Identifier(schema, "fail_at_commit")
    with psycopg.connect(postgres_conninfo(store), autocommit=True) as conn:
        conn.execute(sql.SQL(
            "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'injected commit failure on % version %', "
            "NEW.topic, NEW.originator_version; END $$").format(function=function))
        conn.execute(sql.SQL(
            "CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({when}) "
            "EXECUTE FUNCTION {function}()").format(table=table, when=sql.SQL(when),
                                                    function=function))
        deferred = conn.execute(
            "SELECT tgdeferrable, tginitdeferred FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE t.tgname = 'fail_at_commit' AND n.nspname = %s", (schema,)).fetchall()
        assert deferred == [(True, True)]
    try:
        yield
    finally:
        with psycopg.connect(postgres_conninfo(store), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TRIGGER fail_at_commit ON {table}").format(table=table))
            conn.execute(sql.SQL("DROP FUNCTION {function}()").format(function=function))


def chain_head_versions(app: ComplianceCases, aggregates: dict[str, Any]) -> dict[str, bool]:
    """For each aggregate: whether the in-process chain-head cache holds a head at the
    version the failed save would have written."""
    heads = app.events.heads  # type: ignore[attr-defined]
    return {label: heads.get(aggregate_id, version) is not None
            for label, (aggregate_id, version) in aggregates.items()}


@postgres_only
def test_a_deferred_constraint_failing_at_commit_stores_nothing_of_the_findings_step(
        app: ComplianceCases, clock: FakeClock, store: Settings) -> None:
    importer = register_importer(app)
    number = ready_for_findings(app, importer, clock=clock)
    assessment = app.get_assessment(number)
    case_file_version = app.find_aggregate(case_file_id(importer)).version
    raw = RawEvents.of(app, store)
    rows = raw.count()
    spy = SaveSpy(app)
    clock.advance()

    def issue() -> Any:
        return app.issue_findings(number, duty_paid=DUTY_PAID, actor=OFFICER,
                                  reason="testing complete",
                                  idempotency_key="findings-ca-2026-00001")

    with failing_at_commit(app, store, "NEW.topic LIKE '%ImprovementPlan.Drafted%'"), \
            pytest.raises(PersistenceError, match=r"injected commit failure on \S+"
                          r"ImprovementPlan\.Drafted version 1") as failed:
        issue()

    # The library's persistence error, caused by the database's (SQLSTATE P0001), and
    # not mistaken for a version conflict.
    assert isinstance(failed.value.__cause__, psycopg.errors.RaiseException)
    assert not isinstance(failed.value, IntegrityError)
    [attempt] = spy.attempts
    assert "ImprovementPlan.Drafted" in attempt
    assert "CommandReceipt.Recorded" in attempt
    assert spy.saves == []
    assert raw.count() == rows
    assert raw.versions(assessment.id) == list(range(1, assessment.version + 1))
    assert app.get_assessment(number).state is AssessmentState.TESTING
    assert app.find_aggregate(case_id("IP-2026-00001")) is None
    assert last_serial(app, "IP") == 0
    assert [ref.number for ref in app.get_case_file(importer)] == [number]
    assert chain_head_versions(app, {
        "assessment": (assessment.id, assessment.version + 1),
        "case file": (case_file_id(importer), case_file_version + 1),
        "sequence": (sequence_id("IP", 2026), 2),
        "plan": (case_id("IP-2026-00001"), 1),
    }) == dict.fromkeys(["assessment", "case file", "sequence", "plan"], False)

    # The failed attempt left no receipt behind: the same key runs the command now.
    result = issue()
    assert result.plan_number == "IP-2026-00001"
    assert issue() == result
    assert app.get_plan("IP-2026-00001").assessment_number == number
    assert verify_app(app).ok
    app.set_compliance_class(importer, "c", actor=ACTOR, reason="findings issued")
    assert verify_app(app).ok


@postgres_only
def test_a_deferred_constraint_failing_at_commit_of_a_bulk_copy_stores_none_of_the_batch(
        app: ComplianceCases, store: Settings) -> None:
    """From 256 events a save goes through COPY; the whole batch commits or none of it."""
    registrations = [registration() for _ in range(300)]
    spoiler = importer_account_id(registrations[150].importer_number)
    raw = RawEvents.of(app, store)
    rows = raw.count()

    with failing_at_commit(app, store, f"NEW.originator_id = '{spoiler}'"), \
            pytest.raises(PersistenceError, match="injected commit failure"):
        app.register_importers(registrations, actor=ACTOR, reason="bulk load")

    assert raw.count() == rows
    assert app.find_aggregate(importer_account_id(registrations[0].importer_number)) is None
    outcome = app.register_importers(registrations, actor=ACTOR, reason="bulk load")
    assert (outcome.registered, outcome.already_registered) == (300, 0)
    assert raw.count() == rows + 300
    assert verify_app(app).ok

