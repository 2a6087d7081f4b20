"""Bad input is refused with an error naming the field or value, and nothing is written:
the notification log's last id is unchanged.

Every case must reach the application: the refusal is raised from inside the named command
method (its frame is on the traceback), never by a test builder before the application is
called, which would leave the "nothing written" check checking nothing. Value objects the
application takes already parsed (Registration, SampleTest, Period) are therefore built here
so that they parse, or, for a sample, without its parser (dataclasses.replace), so that it
is the command that checks the sample's rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from domain.errors import DomainError, InvalidValueError, RuleViolationError
from domain.values import Period
from tests.builders import (
    ACTOR,
    OFFICER,
    FakeClock,
    register_importer,
    registration,
    sample_test,
    walk_assessment,
)


@dataclass(frozen=True)
class World:
    importer: str
    surveyed: str   # assessment with a survey and no sample tests
    testing: str    # assessment with a sample test in every scoped area


@pytest.fixture
def world(app: ComplianceCases, clock: FakeClock) -> World:
    return World(
        importer=(importer := register_importer(app)),
        surveyed=walk_assessment(app, importer, "surveyed", clock=clock),
        testing=walk_assessment(app, register_importer(app), "testing", clock=clock),
    )


APPLICATION = Path(__file__).resolve().parents[2] / "application"


@dataclass(frozen=True)
class Refusal:
    error: type[Exception]
    names: tuple[str, ...]          # what the message must mention
    method: str                     # the ComplianceCases command the refusal comes from
    command: Callable[[ComplianceCases, World], object]
    field: str | None = None        # InvalidValueError.field
    rule: str | None = None         # RuleViolationError.rule


def open_for(importer: str) -> Callable[[ComplianceCases, World], object]:
    return lambda app, _w: app.open_assessment(
        importer, origin="random", period=Period(date(2024, 1, 1), date(2024, 12, 31)),
        scope=["value"], actor=ACTOR, reason="random selection")


REFUSALS = {
    "unknown importer opening an assessment": Refusal(
        NotFoundError, ("importer", "99-9999999ZZ"), "open_assessment",
        open_for("99-9999999ZZ")),
    "unknown importer given an account manager": Refusal(
        NotFoundError, ("importer", "98-7654321ZZ"), "assign_account_manager",
        lambda app, _w: app.assign_account_manager("98-7654321ZZ", "user:manager.one",
                                                   actor=ACTOR, reason="new account")),
    # A district that does not exist cannot reach the application: register_importer takes
    # a parsed Registration (Registration.parse refuses it, tests/unit). What the command
    # itself refuses in a registration is a date after today.
    "registration dated in the future": Refusal(
        RuleViolationError, ("registered_on", "2027-01-15", "future"), "register_importer",
        lambda app, _w: app.register_importer(registration(registered_on="2027-01-15"),
                                              actor=ACTOR, reason="new importer"),
        rule="RegistrationDateIsNotInTheFuture"),
    "findings without a test in every scoped area": Refusal(
        RuleViolationError, ("untested", "classification", "value"), "issue_findings",
        lambda app, w: app.issue_findings(w.surveyed, actor=OFFICER, reason="done"),
        rule="FindingsNeedATestInEveryScopedArea"),
    # The two samples below are built without SampleTest.parse, which would refuse them
    # first: record_test checks a sample's rules again, whoever built it.
    "value in error above value tested": Refusal(
        RuleViolationError, ("value_in_error (150000.00)", "value_tested (100000.00)"),
        "record_test",
        lambda app, w: app.record_test(
            w.testing, replace(sample_test("value"), value_in_error=Decimal("150000.00")),
            actor=OFFICER, reason="sample"),
        rule="ValueInErrorDoesNotExceedValueTested"),
    "negative lines tested": Refusal(
        RuleViolationError, ("lines_tested", "at least 1"), "record_test",
        lambda app, w: app.record_test(w.testing, replace(sample_test("value"),
                                                          lines_tested=-3),
                                       actor=OFFICER, reason="sample"),
        rule="SampleHasAtLeastOneLine"),
    "negative annual value": Refusal(
        InvalidValueError, ("annual_value", "-1.00", "negative"), "set_tier",
        lambda app, w: app.set_tier(w.importer, 1, Decimal("-1.00"), Decimal("0.5"), 2025,
                                    actor=ACTOR, reason="tiering"),
        field="annual_value"),
    "negative duty paid": Refusal(
        InvalidValueError, ("duty_paid", "-100.00", "negative"), "issue_findings",
        lambda app, w: app.issue_findings(w.testing, duty_paid="-100.00", actor=OFFICER,
                                          reason="testing complete"),
        field="duty_paid"),
    "impossible partnership date": Refusal(
        InvalidValueError, ("joined_on", "2026-02-30", "YYYY-MM-DD"), "join_partnership",
        lambda app, w: app.join_partnership(w.importer, "trusted_trader", "2026-02-30",
                                            actor=ACTOR, reason="validated"),
        field="joined_on"),
    "survey date in the wrong format": Refusal(
        InvalidValueError, ("surveyed_on", "20/01/2026"), "record_survey",
        lambda app, w: app.record_survey(w.surveyed, {"value": "weak",
                                                      "classification": "strong"},
                                         "20/01/2026", actor=OFFICER, reason="resurvey"),
        field="surveyed_on"),
    # A period end that is not a date cannot reach the application (open_assessment takes
    # a Period; parse_period refuses it, tests/unit). The command refuses a period that has
    # not ended by the day the assessment opens (2026-03-01 on the test clock).
    "period under review not yet over": Refusal(
        RuleViolationError, ("period_end", "2026-12-31", "before the assessment opens"),
        "open_assessment",
        lambda app, w: app.open_assessment(
            w.importer, origin="random", period=Period(date(2026, 1, 1), date(2026, 12, 31)),
            scope=["value"], actor=ACTOR, reason="random selection"),
        rule="PeriodUnderReviewEndsBeforeOpening"),
    "unknown case number": Refusal(
        NotFoundError, ("assessment", "CA-2026-99999"), "assign_officer",
        lambda app, _w: app.assign_officer("CA-2026-99999", OFFICER, actor=ACTOR,
                                           reason="rota")),
    "malformed case number": Refusal(
        InvalidValueError, ("case_number", "CA-26-7"), "close_assessment",
        lambda app, _w: app.close_assessment("CA-26-7", actor=ACTOR, reason="done"),
        field="case_number"),
    "unknown scope area": Refusal(
        InvalidValueError, ("scope", "tariffs"), "open_assessment",
        lambda app, w: app.open_assessment(
            w.importer, origin="random", period=Period(date(2024, 1, 1), date(2024, 12, 31)),
            scope=["value", "tariffs"], actor=ACTOR, reason="random selection"),
        field="scope"),
    "actor without a kind": Refusal(
        InvalidValueError, ("actor", "bob"), "assign_officer",
        lambda app, w: app.assign_officer(w.surveyed, OFFICER, actor="bob", reason="rota"),
        field="actor"),
}


@pytest.mark.parametrize("refusal", REFUSALS.values(), ids=REFUSALS.keys())
def test_bad_input_is_refused_by_name_and_leaves_no_event(
        app: ComplianceCases, world: World, refusal: Refusal) -> None:
    last_event = app.recorder.max_notification_id()
    versions = {n: app.get_assessment(n).version for n in (world.surveyed, world.testing)}

    with pytest.raises(refusal.error) as refused:
        refusal.command(app, world)

    # Raised inside the application's command, not by a builder before it was called.
    entered = [entry for entry in refused.traceback
               if entry.name == refusal.method
               and Path(entry.path).resolve().is_relative_to(APPLICATION)]
    assert entered, (f"refused before ComplianceCases.{refusal.method} was entered: "
                     f"{refused.traceback[-1]}")
    message = str(refused.value)
    for name in refusal.names:
        assert name in message, f"{name!r} not named in {message!r}"
    if refusal.field is not None:
        assert isinstance(refused.value, InvalidValueError)
        assert refused.value.field == refusal.field
    if refusal.rule is not None:
        assert isinstance(refused.value, RuleViolationError)
        assert refused.value.rule == refusal.rule
    assert app.recorder.max_notification_id() == last_event
    assert {n: app.get_assessment(n).version for n in versions} == versions


def test_a_refused_command_does_not_block_the_next_good_one(
        app: ComplianceCases, world: World) -> None:
    with pytest.raises(DomainError):
        app.issue_findings(world.surveyed, actor=OFFICER, reason="too early")

    app.record_test(world.surveyed, sample_test("value"), actor=OFFICER, reason="sample")
    app.record_test(world.surveyed, sample_test("classification"), actor=OFFICER,
                    reason="sample")
    app.issue_findings(world.surveyed, actor=OFFICER, reason="testing complete")

    assert app.get_assessment(world.surveyed).state.value == "findings_issued"
