"""Inputs for the benchmarks, built with the domain's own factories and commands."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from application.compliance_cases import ComplianceCases
from domain.assessment import AssessmentState, SampleTest
from domain.importer_account import ComplianceClass, ImporterAccount, Registration
from domain.reference import DISTRICTS, ComplianceArea, ControlRating
from domain.values import parse_period
from interfaces.demo_population import DemoClock, build_accounts, walk_assessment

ACTOR = "system:bench"
OFFICER = "user:officer-bench"
SUPERVISOR = "user:supervisor-bench"
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_NAMES = ("Acme", "Pacific", "Golden Bridge", "Northern Star", "Harbour", "Jade River",
          "Silk Road", "Evergreen", "Summit", "Orient", "Meridian", "Blue Ocean")
_SUFFIXES = ("Trading Co.", "Imports Ltd", "Industries", "Logistics", "Manufacturing",
             "Electronics", "Foods", "Holdings")
_INDUSTRIES = ("61", "62", "64", "72", "73", "84", "85", "87", "39", "94", "95", "03", "30")


def importer_numbers(prefix: int, start: int = 0) -> Iterator[str]:
    """Distinct, valid importer numbers `PP-NNNNNNNXX`; the prefix keeps series apart."""
    for serial in itertools.count(start):
        letters = _LETTERS[serial // 10_000_000 % 24] + _LETTERS[serial // 240_000_000 % 24]
        yield f"{prefix:02d}-{serial % 10_000_000:07d}{letters}"


def registrations(count: int, seed: int = 7, prefix: int = 20) -> list[Registration]:
    """Varied, valid registrations (parsed, as at the edge of the domain)."""
    rng = random.Random(seed)
    districts = list(DISTRICTS)
    numbers = importer_numbers(prefix)
    return [
        Registration.parse(
            next(numbers), f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)} {index + 1}",
            rng.choice(districts), rng.choice(_INDUSTRIES),
            date(rng.randint(1995, 2024), rng.randint(1, 12), rng.randint(1, 28)))
        for index in range(count)
    ]


class FiveEventCommands:
    """Aggregates carrying five pending events each: registration, account manager,
    partnership, compliance class and tier, i.e. one command's worth of decisions."""

    def __init__(self, prefix: int = 30, seed: int = 11) -> None:
        self._numbers = importer_numbers(prefix)
        self._rng = random.Random(seed)

    def __call__(self, at: datetime) -> ImporterAccount:
        rng = self._rng
        registration = Registration.parse(
            next(self._numbers), f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)}",
            f"{rng.randint(1, 42):02d}", rng.choice(_INDUSTRIES), date(2015, 3, 2))
        account = ImporterAccount.register(registration, actor=ACTOR,
                                           reason="national importer register", at=at)
        account.assign_account_manager(f"user:am-{rng.randint(1, 60):02d}", actor=ACTOR,
                                       reason="tier 1 account gets a manager", at=at)
        account.join_partnership("trusted_trader", date(2019, 6, 1), actor=ACTOR,
                                 reason="validated trusted-trader application", at=at)
        account.set_compliance_class(rng.choice(list(ComplianceClass)), actor=ACTOR,
                                     reason="credit management system rating", at=at)
        account.set_tier(1, Decimal(f"{rng.uniform(1e8, 9e9):.2f}"),
                         Decimal(f"{rng.random():.6f}"), at.year - 1, actor=ACTOR,
                         reason="cumulative value share in the top 50%", at=at)
        return account


def populate_accounts(app: ComplianceCases, clock: DemoClock, *, accounts: int,
                      seed: int = 2024, on_accounts: Callable[[int], None] | None = None
                      ) -> list[ImporterAccount]:
    """The demo population's accounts (register, tier, managers, partnerships, classes,
    suspensions, closures), saved 500 per transaction as the demo loader does."""
    rng = random.Random(seed)
    today = date.today()
    start = datetime.combine(today - timedelta(days=420), time(9), tzinfo=UTC)
    clock.now = start
    population = build_accounts(accounts, rng, today, start)
    for first in range(0, len(population), 500):
        batch = population[first:first + 500]
        app.save(*batch)
        if on_accounts:
            on_accounts(len(batch))
    return population


def walk_assessments(app: ComplianceCases, clock: DemoClock, population: list[ImporterAccount],
                     count: int, *, seed: int = 99,
                     on_assessment: Callable[[], None] | None = None) -> None:
    """Assessments walked through the application's commands to every state, as officers
    would (each step is its own load-decide-save command)."""
    rng = random.Random(seed)
    eligible = [a for a in population if a.status.value != "closed"]
    states = list(AssessmentState)
    today = date.today()
    for index, account in enumerate(rng.sample(eligible, min(count, len(eligible)))):
        opened = datetime.combine(today - timedelta(days=rng.randint(20, 360)), time(9),
                                  tzinfo=UTC)
        walk_assessment(app, clock, rng, account, states[index % len(states)], opened, today)
        if on_assessment:
            on_assessment()


# A findings step that requires an improvement plan: two scoped areas under controls rated
# adequate and strong; classification has 30 discrepancies in 200 lines (rate 85%, 95% lower
# bound about 0.80 < 0.95, so deficient) at an immaterial loss (300.00, below 1% of the duty
# paid and below 50,000), value is clean. A deficient area with no weak controls and no
# material loss calls for an improvement plan, not a referral.
PLAN_SCOPE = (ComplianceArea.CLASSIFICATION, ComplianceArea.VALUE)
PLAN_RATINGS = {ComplianceArea.CLASSIFICATION: ControlRating.ADEQUATE,
                ComplianceArea.VALUE: ControlRating.STRONG}
PLAN_TESTS = (
    SampleTest.parse(ComplianceArea.CLASSIFICATION, 200, 30, "100000.00", "5000.00", "300.00"),
    SampleTest.parse(ComplianceArea.VALUE, 200, 0, "80000.00", "0.00", "0.00"),
)
PLAN_DUTY_PAID = Decimal("1000000.00")


def assessments_in_testing(app: ComplianceCases, count: int, *, prefix: int = 40,
                           on_assessment: Callable[[], None] | None = None) -> list[str]:
    """`count` assessments, one per freshly registered importer, walked through the
    application's commands (open, assign, survey, one test per area) to the 'testing'
    state, with the tests above: issuing their findings with duty paid PLAN_DUTY_PAID
    drafts an improvement plan. Returns their numbers."""
    regs = registrations(count, seed=13, prefix=prefix)
    app.register_importers(regs, actor=ACTOR, reason="national importer register")
    year = date.today().year - 1
    period = parse_period(date(year, 1, 1), date(year, 12, 31))
    numbers = []
    for registration in regs:
        number = app.open_assessment(
            registration.importer_number, origin="risk_selection", period=period,
            scope=PLAN_SCOPE, actor="user:analyst-bench", reason="selected for the annual plan")
        app.assign_officer(number, OFFICER, actor=SUPERVISOR, reason="district workload plan")
        app.record_survey(number, PLAN_RATINGS, date.today(), actor=OFFICER,
                          reason="pre-assessment survey at the importer's premises")
        for test in PLAN_TESTS:
            app.record_test(number, test, actor=OFFICER,
                            reason=f"statistical sample of {test.area.value} lines")
        numbers.append(number)
        if on_assessment:
            on_assessment()
    return numbers
