"""Bad input is refused with an error naming the field or value, and nothing is written:
the notification log's last id is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from domain.assessment import SampleTest
from domain.errors import DomainError, InvalidValueError, RuleViolationError
from domain.values import Period, parse_period
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


@dataclass(frozen=True)
class Refusal:
    error: type[Exception]
    names: tuple[str, ...]          # what the message must mention
    command: Callable[[ComplianceCases, World], object]
    field: str | None = None        # InvalidValueError.field
    rule: str | None = None         # RuleViolationError.rule


def open_for(importer: str) -> Callable[[ComplianceCases, World], object]:
    return lambda app, _w: app.open_assessment(
        importer, origin="random", period=Period(date(2024, 1, 1), date(2024, 12, 31)),
        scope=["value"], actor=ACTOR, reason="random selection")


REFUSALS = {
    "unknown importer opening an assessment": Refusal(
        NotFoundError, ("importer", "99-9999999ZZ"), open_for("99-9999999ZZ")),
    "unknown importer given an account manager": Refusal(
        NotFoundError, ("importer", "98-7654321ZZ"),
        lambda app, _w: app.assign_account_manager("98-7654321ZZ", "user:manager.one",
                                                   actor=ACTOR, reason="new account")),
    "district that does not exist": Refusal(
        InvalidValueError, ("district", "99"),
        lambda app, _w: app.register_importer(registration(district="99"), actor=ACTOR,
                                              reason="new importer"),
        field="district"),
    "findings without a test in every scoped area": Refusal(
        RuleViolationError, ("untested", "classification", "value"),
        lambda app, w: app.issue_findings(w.surveyed, actor=OFFICER, reason="done"),
        rule="FindingsNeedATestInEveryScopedArea"),
    "negative value tested": Refusal(
        InvalidValueError, ("value_tested", "-5.00", "negative"),
        lambda app, w: app.record_test(
            w.testing, SampleTest.parse("value", 10, 1, "-5.00", "0.00", "0.00"),
            actor=OFFICER, reason="sample"),
        field="value_tested"),
    "negative lines tested": Refusal(
        InvalidValueError, ("lines_tested", "-3", "negative"),
        lambda app, w: app.record_test(w.testing, sample_test("value", lines_tested=-3),
                                       actor=OFFICER, reason="sample"),
        field="lines_tested"),
    "negative annual value": Refusal(
        InvalidValueError, ("annual_value", "-1.00", "negative"),
        lambda app, w: app.set_tier(w.importer, 1, Decimal("-1.00"), Decimal("0.5"), 2025,
                                    actor=ACTOR, reason="tiering"),
        field="annual_value"),
    "negative duty paid": Refusal(
        InvalidValueError, ("duty_paid", "-100.00", "negative"),
        lambda app, w: app.issue_findings(w.testing, duty_paid="-100.00", actor=OFFICER,
                                          reason="testing complete"),
        field="duty_paid"),
    "impossible partnership date": Refusal(
        InvalidValueError, ("joined_on", "2026-02-30", "YYYY-MM-DD"),
        lambda app, w: app.join_partnership(w.importer, "trusted_trader", "2026-02-30",
                                            actor=ACTOR, reason="validated"),
        field="joined_on"),
    "survey date in the wrong format": Refusal(
        InvalidValueError, ("surveyed_on", "20/01/2026"),
        lambda app, w: app.record_survey(w.surveyed, {"value": "weak",
                                                      "classification": "strong"},
                                         "20/01/2026", actor=OFFICER, reason="resurvey"),
        field="surveyed_on"),
    "period end that is not a date": Refusal(
        InvalidValueError, ("period_end", "2025-13-01"),
        lambda app, w: app.open_assessment(
            w.importer, origin="random", period=parse_period("2025-01-01", "2025-13-01"),
            scope=["value"], actor=ACTOR, reason="random selection"),
        field="period_end"),
    "unknown case number": Refusal(
        NotFoundError, ("assessment", "CA-2026-99999"),
        lambda app, _w: app.assign_officer("CA-2026-99999", OFFICER, actor=ACTOR,
                                           reason="rota")),
    "malformed case number": Refusal(
        InvalidValueError, ("case_number", "CA-26-7"),
        lambda app, _w: app.close_assessment("CA-26-7", actor=ACTOR, reason="done"),
        field="case_number"),
    "unknown scope area": Refusal(
        InvalidValueError, ("scope", "tariffs"),
        lambda app, w: app.open_assessment(
            w.importer, origin="random", period=Period(date(2024, 1, 1), date(2024, 12, 31)),
            scope=["value", "tariffs"], actor=ACTOR, reason="random selection"),
        field="scope"),
    "actor without a kind": Refusal(
        InvalidValueError, ("actor", "bob"),
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
