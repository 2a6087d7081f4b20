"""Test data builders: a controllable clock, importers with unique numbers, and assessments
walked to a given state through the application's own commands."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from application.compliance_cases import ComplianceCases
from domain.assessment import SampleTest
from domain.importer_account import Registration
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
        app.record_survey(number, dict.fromkeys(areas, "adequate"), "2026-01-20",
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
