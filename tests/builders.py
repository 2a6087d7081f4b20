"""Test data builders: a controllable clock, importers with unique numbers, and assessments,
improvement plans, follow-up verifications and enforcement actions walked to a given state
through the application's own commands."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from application.compliance_cases import ComplianceCases, FindingsResult
from domain.assessment import SampleTest
from domain.importer_account import Registration
from domain.improvement_plan import Evidence
from domain.reference import ComplianceArea
from domain.values import Period

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTOR = "user:tester"
OFFICER = "user:officer.one"
DEFAULT_SCOPE = (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION)
DEFAULT_PERIOD = Period(date(2025, 1, 1), date(2025, 12, 31))

ASSESSMENT_STATES = ("opened", "assigned", "surveyed", "testing", "findings_issued",
                     "closed", "cancelled")
_WALK = ("opened", "assigned", "surveyed", "testing", "findings_issued", "closed")


class FakeClock:
    """Timezone-aware UTC time that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta = timedelta(minutes=1)) -> datetime:
        self.now = self.now + delta
        return self.now


_serials = itertools.count()


def unique_importer_number() -> str:
    """NN-NNNNNNNXX: random digits plus a per-process counter as the two check letters."""
    digits = f"{uuid.uuid4().int % 10**9:09d}"
    serial = next(_serials)
    letters = chr(ord("A") + serial // 26 % 26) + chr(ord("A") + serial % 26)
    return f"{digits[:2]}-{digits[2:]}{letters}"


def registration(importer_number: str | None = None, *, legal_name: str = "Acme Imports Ltd",
                 district: str = "11", industry: str = "73",
                 registered_on: date | str = "2020-01-15") -> Registration:
    return Registration.parse(importer_number or unique_importer_number(), legal_name,
                              district, industry, registered_on)


def register_importer(app: ComplianceCases, importer_number: str | None = None,
                      **fields: object) -> str:
    """Registers an importer (unique number unless given) and returns its number."""
    reg = registration(importer_number, **fields)  # type: ignore[arg-type]
    app.register_importer(reg, actor=ACTOR, reason="registered for the test")
    return reg.importer_number


def sample_test(area: ComplianceArea | str, *, lines_tested: int = 200,
                discrepancies: int = 2, value_tested: str = "100000.00",
                value_in_error: str = "1500.50", revenue_loss: str = "120.25") -> SampleTest:
    return SampleTest.parse(area, lines_tested, discrepancies, value_tested, value_in_error,
                            revenue_loss)


def walk_assessment(app: ComplianceCases, importer_number: str, to: str = "opened", *,
                    scope: Iterable[ComplianceArea | str] = DEFAULT_SCOPE,
                    period: Period = DEFAULT_PERIOD, clock: FakeClock | None = None,
                    step: timedelta = timedelta(hours=1)) -> str:
    """Opens an assessment and takes it through the lifecycle up to state `to` (one of
    ASSESSMENT_STATES); a given clock advances by `step` before every command."""
    if to not in ASSESSMENT_STATES:
        raise ValueError(f"unknown assessment state {to!r}; expected one of "
                         f"{', '.join(ASSESSMENT_STATES)}")
    areas = tuple(scope)

    def tick() -> None:
        if clock is not None:
            clock.advance(step)

    tick()
    number = app.open_assessment(importer_number, origin="risk_selection", period=period,
                                 scope=areas, actor=ACTOR, reason="selected by risk profile")
    if to == "cancelled":
        tick()
        app.cancel_assessment(number, actor=ACTOR, reason="opened in error")
        return number
    target = _WALK.index(to)
    if target >= _WALK.index("assigned"):
        tick()
        app.assign_officer(number, OFFICER, actor=ACTOR, reason="next officer on the rota")
    if target >= _WALK.index("surveyed"):
        tick()
        app.record_survey(number, dict.fromkeys(areas, "adequate"), app.clock().date(),
                          actor=OFFICER, reason="survey interviews held")
    if target >= _WALK.index("testing"):
        for area in areas:
            tick()
            app.record_test(number, sample_test(area), actor=OFFICER,
                            reason=f"sample of {ComplianceArea(area).value} lines")
    if target >= _WALK.index("findings_issued"):
        tick()
        app.issue_findings(number, duty_paid=Decimal("250000.00"), actor=OFFICER,
                           reason="testing complete")
    if target >= _WALK.index("closed"):
        tick()
        app.close_assessment(number, actor=ACTOR, reason="findings accepted")
    return number


# -- the workflow after findings: plans, verifications, enforcement actions --------------

ENFORCER = "user:enforcement.officer"
REVIEWERS = ("user:reviewer.one", "user:reviewer.two")
SUPERVISOR = "user:supervisor.one"
"""Approves plans, concludes enforcement reviews and decides penalties: four eyes keep
these from whoever drafted or submitted the plan (OFFICER, ACTOR) or proposed the action
(ENFORCER, or OFFICER for a referral from findings)."""
DUTY_PAID = Decimal("250000.00")


def deficient_test(area: ComplianceArea | str) -> SampleTest:
    """A sample bad enough to make its area deficient (80% compliant) on its own, with
    an immaterial loss, so findings call for an improvement plan, not a referral."""
    return sample_test(area, lines_tested=200, discrepancies=40, value_in_error="9000.00",
                       revenue_loss="700.00")


def retest(area: ComplianceArea | str, *, effective: bool,
           revenue_loss: str = "300.00") -> SampleTest:
    """A follow-up re-test: 98% compliant (lower bound above 95%) or 85% compliant; an
    ineffective one loses `revenue_loss` (errors need not cost duty: "0.00")."""
    if effective:
        return sample_test(area, lines_tested=500, discrepancies=10, value_in_error="800.00",
                           revenue_loss="40.00")
    return sample_test(area, lines_tested=200, discrepancies=30, value_in_error="5000.00",
                       revenue_loss=revenue_loss)


def evidence(label: str = "training record") -> Evidence:
    return Evidence.parse(label, f"dms://evidence/{label.replace(' ', '-')}",
                          hashlib.sha256(label.encode()).hexdigest())


def ready_for_findings(app: ComplianceCases, importer_number: str, *,
                       deficient: Iterable[ComplianceArea] = (ComplianceArea.VALUE,),
                       clock: FakeClock | None = None) -> str:
    """An assessment with a sample test in every scoped area, plus a bad sample in each
    `deficient` area: issuing findings will require an improvement plan (or a referral
    when fraud is indicated)."""
    number = walk_assessment(app, importer_number, "testing", clock=clock)
    for area in deficient:
        if clock is not None:
            clock.advance()
        app.record_test(number, deficient_test(area), actor=OFFICER,
                        reason=f"second sample of {ComplianceArea(area).value} lines")
    return number


def walk_to_findings(app: ComplianceCases, importer_number: str,
                     outcome: str = "improvement_plan_required", *,
                     clock: FakeClock | None = None) -> tuple[str, FindingsResult]:
    """Findings issued with the given outcome; returns the assessment number and the
    findings result (naming the plan or enforcement action created with them)."""
    if outcome == "acceptable":
        number = walk_assessment(app, importer_number, "testing", clock=clock)
    else:
        number = ready_for_findings(app, importer_number, clock=clock)
    if clock is not None:
        clock.advance()
    result = app.issue_findings(number, duty_paid=DUTY_PAID,
                                fraud_indicators=outcome == "referral_for_enforcement",
                                actor=OFFICER, reason="testing complete")
    assert result.outcome.value == outcome, result
    return number, result


PLAN_STEPS = ("draft", "actions_added", "submitted", "approved", "actions_completed",
              "verification_scheduled")


def walk_plan(app: ComplianceCases, plan_number: str, to: str = "verification_scheduled", *,
              clock: FakeClock | None = None) -> str | None:
    """Takes a drafted plan through its steps up to `to` (one of PLAN_STEPS): one action
    per deficient area, due in 30 days. Returns the follow-up verification's number once
    implementation is reported, else None."""
    if to not in PLAN_STEPS:
        raise ValueError(f"unknown plan step {to!r}; expected one of {', '.join(PLAN_STEPS)}")
    target = PLAN_STEPS.index(to)

    def tick() -> None:
        if clock is not None:
            clock.advance()

    actions = []
    if target >= PLAN_STEPS.index("actions_added"):
        for area in app.get_plan(plan_number).deficient_areas:
            tick()
            actions.append(app.add_plan_action(
                plan_number, area=area, description=f"retrain staff on {area.value}",
                owner="user:importer.broker", due_on=app.clock().date() + timedelta(days=30),
                actor=ACTOR, reason="corrective action proposed by the importer"))
    if target >= PLAN_STEPS.index("submitted"):
        tick()
        app.submit_plan(plan_number, actor=ACTOR, reason="importer proposal received")
    if target >= PLAN_STEPS.index("approved"):
        tick()
        app.approve_plan(plan_number, actor=SUPERVISOR,
                         reason="actions address the findings")
    if target >= PLAN_STEPS.index("actions_completed"):
        for action_id in actions:
            tick()
            app.complete_plan_action(plan_number, action_id, evidence=evidence(action_id),
                                     completed_on=app.clock().date(), actor=ACTOR,
                                     reason="evidence of completion received")
    if target >= PLAN_STEPS.index("verification_scheduled"):
        tick()
        return app.report_implementation(plan_number, actor=ACTOR,
                                         reason="importer reports the plan implemented")
    return None


def record_retests(app: ComplianceCases, verification_number: str, *, effective: bool,
                   revenue_loss: str = "300.00", clock: FakeClock | None = None) -> None:
    """A re-test in every area the verification covers."""
    for area in app.get_verification(verification_number).areas:
        if clock is not None:
            clock.advance()
        app.record_retest(verification_number,
                          retest(area, effective=effective, revenue_loss=revenue_loss),
                          actor=OFFICER, reason=f"re-test of {area.value}")


def propose_penalty(app: ComplianceCases, importer_number: str, *,
                    culpability: str = "negligence", amount: str = "1500.00",
                    revenue_loss: str = "1000.00", domestic_value: str = "50000.00",
                    dutiable_value: str = "40000.00", **kwargs: object) -> str:
    """A penalty proposed by ENFORCER; the negligence cap here is 2000.00."""
    return app.propose_enforcement(
        importer_number, kind="penalty", legal_basis="19 U.S.C. 1592",
        facts="undervaluation found on entries of 2025", culpability=culpability,
        revenue_loss=revenue_loss, domestic_value=domestic_value,
        dutiable_value=dutiable_value, amount=amount, actor=ENFORCER,
        reason="repeated undervaluation", **kwargs)  # type: ignore[arg-type]


ENFORCEMENT_STEPS = ("proposed", "reviewed", "issued", "penalty_notice_issued",
                     "response_received", "decided")


def walk_enforcement(app: ComplianceCases, number: str, to: str = "decided", *,
                     start: str = "proposed", decided_amount: str = "1200.00",
                     clock: FakeClock | None = None) -> None:
    """Takes a penalty from step `start` (where it is now) through review and notices up
    to `to` (both ENFORCEMENT_STEPS); responses are due 30 days after the clock's date."""
    for step in (start, to):
        if step not in ENFORCEMENT_STEPS:
            raise ValueError(f"unknown enforcement step {step!r}; expected one of "
                             f"{', '.join(ENFORCEMENT_STEPS)}")
    begin, target = ENFORCEMENT_STEPS.index(start), ENFORCEMENT_STEPS.index(to)

    def due(step: str) -> bool:
        return begin < ENFORCEMENT_STEPS.index(step) <= target

    def tick() -> None:
        if clock is not None:
            clock.advance()

    if due("reviewed"):
        for reviewer in REVIEWERS:
            tick()
            app.record_review_vote(number, "approve", actor=reviewer,
                                   reason="facts support the proposal")
        tick()
        assert app.conclude_review(number, actor=SUPERVISOR, reason="team approved")
    if due("issued"):
        tick()
        app.issue_enforcement(number, response_due_on=app.clock().date() + timedelta(days=30),
                              actor=ENFORCER, reason="pre-penalty notice sent")
    if due("penalty_notice_issued"):
        tick()
        app.issue_penalty_notice(number,
                                 response_due_on=app.clock().date() + timedelta(days=30),
                                 actor=ENFORCER, reason="no reply to the pre-penalty notice")
    if due("response_received"):
        tick()
        app.record_enforcement_response(number, "petition", "asks for mitigation: first "
                                        "offence, controls since improved", actor=ENFORCER,
                                        reason="petition received")
    if due("decided"):
        tick()
        app.decide_enforcement(number, decided_amount, actor=SUPERVISOR,
                               reason="mitigated for a first offence")
