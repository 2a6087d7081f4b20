"""Inputs for the benchmarks, built with the domain's own factories and commands."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from application.compliance_cases import ComplianceCases
from domain.assessment import AssessmentState
from domain.importer_account import ComplianceClass, ImporterAccount, Registration
from domain.reference import DISTRICTS
from interfaces.demo_population import DemoClock, build_accounts, walk_assessment

ACTOR = "system:bench"
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
        walk_assessment(app, clock, rng, account, states[index % len(states)], opened)
        if on_assessment:
            on_assessment()
