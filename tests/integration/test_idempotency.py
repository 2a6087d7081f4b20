"""Commands sent with an idempotency key run at most once: a repeat (from any process, even
concurrently) returns the first result and writes nothing; a key belongs to one command,
its arguments and its actor, and is refused with anything else; a refused or failed
command keeps no receipt, so its key is still free."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from application.compliance_cases import ComplianceCases, FindingsResult, VerificationResult
from application.receipts import CommandReceipt, receipt_id
from domain.assessment import Outcome
from domain.errors import InvalidValueError, RuleViolationError
from domain.importer_account import AccountStatus, ComplianceClass, importer_account_id
from domain.values import Period
from infrastructure.settings import Settings
from tests.builders import (
    ACTOR,
    DUTY_PAID,
    OFFICER,
    REVIEWERS,
    SUPERVISOR,
    FakeClock,
    propose_penalty,
    ready_for_findings,
    record_retests,
    register_importer,
    registration,
    sample_test,
    walk_assessment,
    walk_plan,
    walk_to_findings,
)
from tests.integration.raw_store import RawEvents
from tests.integration.test_concurrency import RendezvousClock, race
from tests.integration.test_mapper_round_trip import assert_identical
from tests.integration.workflow_support import assert_refused, stored_event_names
from tests.ledger_check import verify_app

KEY = "req-7f3c-2026-03-01-0001"


def open_assessment(app: ComplianceCases, importer: str, key: str | None) -> str:
    return app.open_assessment(importer, origin="risk_selection",
                               period=Period(date(2025, 1, 1), date(2025, 12, 31)),
                               scope=["value", "classification"], actor=ACTOR,
                               reason="selected by risk profile", idempotency_key=key)


def issue_findings(app: ComplianceCases, number: str, key: str | None) -> FindingsResult:
    return app.issue_findings(number, duty_paid=DUTY_PAID, actor=OFFICER,
                              reason="testing complete", idempotency_key=key)


def _drafted_plan(app: ComplianceCases, clock: FakeClock) -> str:
    _, findings = walk_to_findings(app, register_importer(app), clock=clock)
    assert findings.plan_number is not None
    return findings.plan_number


def _plan_with_actions_completed(app: ComplianceCases, clock: FakeClock) -> str:
    plan = _drafted_plan(app, clock)
    walk_plan(app, plan, "actions_completed", clock=clock)
    return plan


def _verification_re_tested(app: ComplianceCases, clock: FakeClock) -> str:
    verification = walk_plan(app, _drafted_plan(app, clock), clock=clock)
    assert verification is not None
    record_retests(app, verification, effective=True, clock=clock)
    return verification


def _penalty_voted_on(app: ComplianceCases, _clock: FakeClock) -> str:
    number = propose_penalty(app, register_importer(app))
    for reviewer in REVIEWERS:
        app.record_review_vote(number, "approve", actor=reviewer, reason="facts hold")
    return number


@dataclass(frozen=True)
class Idempotent:
    command: str
    prepare: Callable[[ComplianceCases, FakeClock], Any]
    send: Callable[[ComplianceCases, Any, str], object]
    first_result: Callable[[Any], object]


COMMANDS = {c.command: c for c in (
    Idempotent("open_assessment", lambda app, _c: register_importer(app), open_assessment,
               lambda _: "CA-2026-00001"),
    Idempotent("issue_findings",
               lambda app, clock: ready_for_findings(app, register_importer(app), clock=clock),
               issue_findings,
               lambda _: FindingsResult(Outcome.IMPROVEMENT_PLAN_REQUIRED,
                                        plan_number="IP-2026-00001")),
    Idempotent("report_implementation", _plan_with_actions_completed,
               lambda app, plan, key: app.report_implementation(
                   plan, actor=ACTOR, reason="implemented", idempotency_key=key),
               lambda _: "FV-2026-00001"),
    Idempotent("conclude_verification", _verification_re_tested,
               lambda app, number, key: app.conclude_verification(
                   number, actor=OFFICER, reason="re-tested", idempotency_key=key),
               lambda _: VerificationResult(True, Decimal("0.9800"),
                                            compliance_class="a")),
    Idempotent("propose_enforcement", lambda app, _c: register_importer(app),
               lambda app, importer, key: propose_penalty(app, importer, idempotency_key=key),
               lambda _: "EA-2026-00001"),
    Idempotent("conclude_review", _penalty_voted_on,
               lambda app, number, key: app.conclude_review(
                   number, actor=SUPERVISOR, reason="team approved", idempotency_key=key),
               lambda _: True),
    Idempotent("add_plan_action", _drafted_plan,
               lambda app, plan, key: app.add_plan_action(
                   plan, area="value", description="retrain staff", owner="user:broker",
                   due_on="2026-06-30", actor=ACTOR, reason="proposed", idempotency_key=key),
               lambda _: "A1"),
    Idempotent("set_compliance_class", lambda app, _c: register_importer(app),
               lambda app, importer, key: app.set_compliance_class(
                   importer, "b", actor=ACTOR, reason="annual review", idempotency_key=key),
               lambda _: 2),
    Idempotent("register_importer", lambda _app, _c: registration(),
               lambda app, reg, key: app.register_importer(reg, actor=ACTOR,
                                                           reason="registered",
                                                           idempotency_key=key),
               lambda reg: importer_account_id(reg.importer_number)),
)}


@pytest.mark.parametrize("case", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_repeated_command_returns_the_first_result_and_writes_nothing(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        make_app: Callable[..., ComplianceCases], case: Idempotent) -> None:
    context = case.prepare(app, clock)
    raw = RawEvents.of(app, store)
    first = case.send(app, context, KEY)
    assert_identical(case.first_result(context), first, case.command)
    rows, last_event = raw.count(), app.recorder.max_notification_id()
    clock.advance()

    again = case.send(app, context, KEY)
    # Another process, with the key as a client might pad it.
    elsewhere = case.send(make_app(), context, f"  {KEY}  ")

    assert_identical(first, again, f"{case.command} repeated")
    assert_identical(first, elsewhere, f"{case.command} repeated elsewhere")
    assert raw.count() == rows
    assert app.recorder.max_notification_id() == last_event
    receipt = app.find_aggregate(receipt_id(KEY))
    assert isinstance(receipt, CommandReceipt)
    assert (receipt.key, receipt.command, receipt.version) == (KEY, case.command, 1)
    assert len(receipt.fingerprint) == len("sha256:") + 64


REUSED = "with other arguments or by another actor; use a new key"


def test_a_key_sent_again_for_another_importer_is_refused_naming_it_and_registers_nothing(
        app: ComplianceCases, make_app: Callable[..., ComplianceCases]) -> None:
    """Issue 12: the key of one registration, sent with another importer number, used to
    print the first importer's id and register nothing."""
    first, second = registration(), registration()
    account_id = app.register_importer(first, actor=ACTOR, reason="registered",
                                       idempotency_key=KEY)

    for sender in (app, make_app()):
        assert_refused(app, lambda s=sender: s.register_importer(  # type: ignore[misc]
            second, actor=ACTOR, reason="registered", idempotency_key=KEY),
            RuleViolationError, rule="IdempotencyKeyReused",
            mentions=(f"idempotency key {KEY!r} was already used for register_importer "
                      f"{REUSED}",))

    assert app.find_aggregate(importer_account_id(second.importer_number)) is None
    assert app.register_importer(first, actor=ACTOR, reason="registered",
                                 idempotency_key=KEY) == account_id


CHANGED_MINDS: dict[str, Callable[[ComplianceCases, str], object]] = {
    "another argument": lambda app, importer: app.set_compliance_class(
        importer, "d", actor=ACTOR, reason="annual review", idempotency_key=KEY),
    "another reason": lambda app, importer: app.set_compliance_class(
        importer, "b", actor=ACTOR, reason="annual review, again", idempotency_key=KEY),
    "another actor": lambda app, importer: app.set_compliance_class(
        importer, "b", actor="user:someone.else", reason="annual review",
        idempotency_key=KEY),
}


@pytest.mark.parametrize("changed", CHANGED_MINDS.keys())
def test_a_key_sent_again_with_anything_changed_is_refused_and_writes_nothing(
        app: ComplianceCases, changed: str) -> None:
    """The key names one request: a retry that changed its mind is a new request."""
    importer = register_importer(app)
    app.set_compliance_class(importer, "b", actor=ACTOR, reason="annual review",
                             idempotency_key=KEY)

    assert_refused(app, lambda: CHANGED_MINDS[changed](app, importer), RuleViolationError,
                   rule="IdempotencyKeyReused",
                   mentions=(KEY, f"set_compliance_class {REUSED}"))
    assert app.get_importer(importer).compliance_class is ComplianceClass.B


def test_the_expected_version_is_not_part_of_the_request(app: ComplianceCases) -> None:
    """A retry of a command that succeeded carries a version that is stale by now: it
    still gets the first result, not a conflict."""
    importer = register_importer(app)
    version = app.get_importer(importer).version
    first = app.set_compliance_class(importer, "b", actor=ACTOR, reason="annual review",
                                     expected_version=version, idempotency_key=KEY)

    rows = app.recorder.max_notification_id()
    for expected in (version, None, first):
        assert app.set_compliance_class(importer, "b", actor=ACTOR, reason="annual review",
                                        expected_version=expected,
                                        idempotency_key=KEY) == first
    assert app.recorder.max_notification_id() == rows


def test_arguments_given_as_an_iterator_are_read_once_and_fingerprinted_by_value(
        app: ComplianceCases) -> None:
    importer = register_importer(app)
    period = Period(date(2025, 1, 1), date(2025, 12, 31))

    def send(scope: Any) -> str:
        return app.open_assessment(importer, origin="risk_selection", period=period,
                                   scope=scope, actor=ACTOR, reason="selected",
                                   idempotency_key=KEY)

    number = send(area for area in ("value", "classification"))

    assert send(["value", "classification"]) == number
    assert {a.value for a in app.get_assessment(number).scope} == {"value", "classification"}
    assert_refused(app, lambda: send(("value",)), RuleViolationError,
                   rule="IdempotencyKeyReused", mentions=(KEY, "open_assessment"))


def test_a_key_already_used_for_another_command_is_refused_and_writes_nothing(
        app: ComplianceCases) -> None:
    importer = register_importer(app)
    app.set_compliance_class(importer, "b", actor=ACTOR, reason="annual review",
                             idempotency_key=KEY)

    assert_refused(app, lambda: app.close_importer(importer, actor=ACTOR, reason="ceased",
                                                   idempotency_key=KEY),
                   RuleViolationError, rule="IdempotencyKeyReused",
                   mentions=(f"idempotency key {KEY!r} was already used for "
                             "set_compliance_class, not close_importer; use a new key",))
    assert_refused(app, lambda: open_assessment(app, importer, KEY), RuleViolationError,
                   rule="IdempotencyKeyReused", mentions=("open_assessment",))
    assert app.get_importer(importer).status is AccountStatus.ACTIVE
    assert app.get_case_file(importer) == ()


@pytest.mark.parametrize("key", ["1234567", "", "   abc    ", "k" * 201],
                         ids=["seven characters", "empty", "short once stripped", "too long"])
def test_a_malformed_key_is_refused_by_name_and_writes_nothing(app: ComplianceCases,
                                                               key: str) -> None:
    importer = register_importer(app)

    assert_refused(app, lambda: open_assessment(app, importer, key), InvalidValueError,
                   field="idempotency_key", mentions=("8 to 200 characters",))
    assert app.get_case_file(importer) == ()


def test_a_refused_command_keeps_no_receipt_so_its_key_works_once_it_can_succeed(
        app: ComplianceCases, clock: FakeClock) -> None:
    number = walk_assessment(app, register_importer(app), "surveyed", clock=clock)

    assert_refused(app, lambda: issue_findings(app, number, KEY), RuleViolationError,
                   rule="FindingsNeedATestInEveryScopedArea")
    assert app.find_aggregate(receipt_id(KEY)) is None
    for area in ("value", "classification"):
        app.record_test(number, sample_test(area), actor=OFFICER, reason="sample")
    result = issue_findings(app, number, KEY)

    assert result == FindingsResult(Outcome.ACCEPTABLE)
    assert issue_findings(app, number, KEY) == result


OPENED_ONCE = Counter({"CaseNumberSequence.Started": 1, "CaseNumberSequence.NumberIssued": 1,
                       "ImporterCaseFile.Started": 1, "ImporterCaseFile.CaseAdded": 1,
                       "Assessment.Opened": 1, "CommandReceipt.Recorded": 1})
FINDINGS_ONCE = Counter({"Assessment.FindingsIssued": 1, "CaseNumberSequence.Started": 1,
                         "CaseNumberSequence.NumberIssued": 1, "ImporterCaseFile.CaseAdded": 1,
                         "ImprovementPlan.Drafted": 1, "CommandReceipt.Recorded": 1})


@pytest.mark.parametrize("senders", ["two applications", "two threads of one application"])
@pytest.mark.parametrize("command", ["open_assessment", "issue_findings"])
def test_the_same_key_sent_concurrently_writes_once_and_both_get_the_same_result(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        make_app: Callable[..., ComplianceCases], senders: str, command: str) -> None:
    """Both senders miss the receipt and decide; their clocks hold them until both have,
    so both try to save. One commits; the other conflicts, finds the winner's receipt
    and returns its result."""
    importer = register_importer(app)
    if command == "open_assessment":
        subject, send, written = importer, open_assessment, OPENED_ONCE
        expected: object = "CA-2026-00001"
    else:
        subject = ready_for_findings(app, importer, clock=clock)
        send, written = issue_findings, FINDINGS_ONCE  # type: ignore[assignment]
        expected = FindingsResult(Outcome.IMPROVEMENT_PLAN_REQUIRED,
                                  plan_number="IP-2026-00001")
    barrier = threading.Barrier(2)
    if senders == "two applications":
        writers = [make_app(clock_=RendezvousClock(clock, barrier)) for _ in range(2)]
    else:
        writers = [make_app(clock_=RendezvousClock(clock, barrier))] * 2
    raw = RawEvents.of(app, store)
    rows = raw.count()
    before = stored_event_names(app)

    outcomes = race([partial(send, writer, subject, KEY) for writer in writers])

    assert outcomes == [expected, expected], outcomes
    assert stored_event_names(app) - before == written
    assert raw.count() == rows + written.total()
    assert verify_app(app).ok


def test_the_same_key_sent_concurrently_for_two_importers_registers_one_and_refuses_the_other(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    """Both miss the receipt and decide; one commits, the other conflicts on the receipt,
    finds it was sent with other arguments and is refused, naming the key."""
    barrier = threading.Barrier(2)
    writers = [make_app(clock_=RendezvousClock(clock, barrier)) for _ in range(2)]
    registrations = [registration(), registration()]

    outcomes = race([partial(writer.register_importer, reg, actor=ACTOR, reason="registered",
                             idempotency_key=KEY)
                     for writer, reg in zip(writers, registrations, strict=True)])

    [refused] = [o for o in outcomes if isinstance(o, RuleViolationError)]
    assert refused.rule == "IdempotencyKeyReused"
    assert KEY in str(refused)
    [winner] = [reg for reg, o in zip(registrations, outcomes, strict=True)
                if o == importer_account_id(reg.importer_number)]
    [loser] = [reg for reg in registrations if reg is not winner]
    assert app.find_aggregate(importer_account_id(loser.importer_number)) is None
    assert verify_app(app).ok


class Gate:
    """Holds a command after its receipt check, before it loads its case, until the
    first sender's command has committed."""

    def __init__(self) -> None:
        self.reached, self.go = threading.Event(), threading.Event()

    def around(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            self.reached.set()
            assert self.go.wait(timeout=20)
            return method(*args, **kwargs)
        return held


LATE_REPEATS: dict[str, tuple[str, Callable[[ComplianceCases, FakeClock], str],
                              Callable[[ComplianceCases, str, str], object]]] = {
    "open_assessment": ("get_importer", lambda app, _clock: register_importer(app),
                        open_assessment),
    "issue_findings": ("get_assessment",
                       lambda app, clock: ready_for_findings(app, register_importer(app),
                                                             clock=clock),
                       issue_findings),
    "close_importer": ("get_importer", lambda app, _clock: register_importer(app),
                       lambda app, importer, key: app.close_importer(
                           importer, actor=ACTOR, reason="ceased trading",
                           idempotency_key=key)),
}


@pytest.mark.parametrize("command", LATE_REPEATS.keys())
def test_a_repeat_that_found_no_receipt_before_the_first_committed_returns_its_result(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        make_app: Callable[..., ComplianceCases], monkeypatch: pytest.MonkeyPatch,
        command: str) -> None:
    """The repeat checks for a receipt while the first is still running, then loads the
    case after the first committed: the case now refuses the step (already opened,
    findings issued, closed), but the repeat must still get the first result."""
    loader, prepare, send = LATE_REPEATS[command]
    subject = prepare(app, clock)
    late, gate = make_app(), Gate()
    monkeypatch.setattr(late, loader, gate.around(getattr(late, loader)))
    raw = RawEvents.of(app, store)

    with ThreadPoolExecutor(max_workers=1) as pool:
        repeat = pool.submit(send, late, subject, KEY)
        assert gate.reached.wait(timeout=20)
        first = send(app, subject, KEY)
        rows = raw.count()
        gate.go.set()
        assert_identical(first, repeat.result(timeout=30), f"{command} repeated")

    assert raw.count() == rows
