"""A realistic, seeded demo population: importer values concentrated as in the source
material (top ~0.1% of importers carry ~50% of value, top ~2% carry ~82%), managed large
accounts, partnerships, and assessments in every state with plausible tests and findings,
worked by the users the demo creates first (interfaces.demo_users), so that it runs with
access control on."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from application.compliance_cases import ComplianceCases, FindingsResult
from domain.assessment import AssessmentState, SampleTest
from domain.importer_account import ComplianceClass, ImporterAccount, Registration
from domain.reference import DISTRICTS, ComplianceArea, ControlRating
from domain.user import Role
from domain.values import parse_period
from interfaces.demo_users import (
    create_people,
    district_people,
    give_logins,
    national_people,
    representative,
    representatives,
)
from interfaces.demo_workflow import CaseWalker

NATIONAL_VALUE = Decimal("1422000000000")  # annual import value (source: $1,422 bn)
NATIONAL_IMPORTERS = 443_000
# Seed curve: (share of importers from the top, share of value they carry).
CONCENTRATION = ((0.0, 0.0), (463 / 443_000, 0.50), (1000 / 443_000, 0.60),
                 (8601 / 443_000, 0.82), (1.0, 1.0))
INDUSTRIES = ("61", "62", "64", "72", "73", "84", "85", "87", "39", "94", "95", "03", "30")
# Planted weaknesses: (industry, area) -> extra discrepancy rate.
PLANTED = {("64", ComplianceArea.ORIGIN): 0.09, ("61", ComplianceArea.CLASSIFICATION): 0.07,
           ("62", ComplianceArea.VALUE): 0.06, ("72", ComplianceArea.ADCVD): 0.10,
           ("73", ComplianceArea.ADCVD): 0.08, ("85", ComplianceArea.IPR): 0.05}
TARGET_STATES = ((AssessmentState.OPENED, 8), (AssessmentState.ASSIGNED, 9),
                 (AssessmentState.SURVEYED, 9), (AssessmentState.TESTING, 11),
                 (AssessmentState.FINDINGS_ISSUED, 16), (AssessmentState.CLOSED, 38),
                 (AssessmentState.CANCELLED, 9))
ORIGINS = (("risk_selection", 45), ("national_criteria", 20), ("referral", 10), ("random", 25))
SYSTEM = "system:demo"


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    assessments: int
    events: int
    top_shares: dict[str, float]
    importers: tuple[ImporterAccount, ...] = ()
    """The accounts as registered, largest annual value first."""
    logins: dict[Role, str] = field(default_factory=dict)
    """One user per role to log in as (with the demo password, when one was given)."""


def cumulative_share(top_fraction: float) -> float:
    """Share of value carried by the top `top_fraction` of importers: log-log interpolation
    between the seed points (concave, so values decrease with rank)."""
    if top_fraction <= 0:
        return 0.0
    first_p, first_s = CONCENTRATION[1]
    if top_fraction <= first_p:
        return first_s * math.sqrt(top_fraction / first_p)
    for (p0, s0), (p1, s1) in itertools.pairwise(CONCENTRATION[1:]):
        if top_fraction <= p1:
            k = math.log(s1 / s0) / math.log(p1 / p0)
            return float(s0 * (top_fraction / p0) ** k)
    return 1.0


def importer_values(count: int, rng: random.Random) -> list[Decimal]:
    """Annual import values by rank, total scaled from the national figure."""
    total = float(NATIONAL_VALUE) * count / NATIONAL_IMPORTERS
    values = []
    for rank in range(1, count + 1):
        share = cumulative_share(rank / count) - cumulative_share((rank - 1) / count)
        noisy = share * total * math.exp(rng.gauss(0, 0.05))
        values.append(Decimal(f"{max(noisy, 1000.0):.2f}"))
    return sorted(values, reverse=True)


def tiers_for(values: list[Decimal]) -> list[tuple[int, Decimal]]:
    total = sum(values, Decimal(0))
    running = Decimal(0)
    result = []
    for value in values:
        before = running / total
        running += value
        tier = 1 if before < Decimal("0.50") else 2 if before < Decimal("0.60") else (
            3 if before < Decimal("0.82") else 4)
        result.append((tier, (running / total).quantize(Decimal("0.000001"))))
    return result


def stratified_targets(count: int) -> list[AssessmentState]:
    """Target states in proportion to their weights, so every state appears even in a
    small demo."""
    total = sum(weight for _, weight in TARGET_STATES)
    targets = []
    for index in range(count):
        position = (index + 0.5) / count * total
        for state, weight in TARGET_STATES:
            if position < weight:
                targets.append(state)
                break
            position -= weight
    return targets


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _importer_numbers(count: int, rng: random.Random) -> Iterator[str]:
    seen: set[str] = set()
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    while len(seen) < count:
        number = (f"{rng.randint(10, 99)}-{rng.randint(0, 9_999_999):07d}"
                  f"{rng.choice(letters)}{rng.choice(letters)}")
        if number not in seen:
            seen.add(number)
            yield number


class DemoClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def build_accounts(count: int, rng: random.Random, today: date,
                   at: datetime) -> list[ImporterAccount]:
    values = importer_values(count, rng)
    tiers = tiers_for(values)
    district_weights = [rng.uniform(0.2, 3.0) for _ in DISTRICTS]
    accounts = []
    for index, number in enumerate(_importer_numbers(count, rng)):
        value = values[index]
        tier, share = tiers[index]
        registration = Registration.parse(
            number, f"{rng.choice(_NAMES)} {rng.choice(_SUFFIXES)} {index + 1}",
            rng.choices(list(DISTRICTS), weights=district_weights)[0],
            rng.choice(INDUSTRIES), date(rng.randint(1995, 2024), rng.randint(1, 12),
                                         rng.randint(1, 28)))
        account = ImporterAccount.register(registration, actor=SYSTEM,
                                           reason="national importer register", at=at)
        account.set_tier(tier, value, share, today.year - 1, actor=SYSTEM,
                         reason=f"cumulative value share {share} in {today.year - 1}", at=at)
        if tier <= 2:
            account.assign_account_manager(f"user:am-{rng.randint(1, 60):02d}", actor=SYSTEM,
                                           reason=f"tier {tier} account gets a manager", at=at)
        if tier <= 3 and rng.random() < 0.2:
            account.join_partnership("trusted_trader", registration.registered_on
                                     + timedelta(days=rng.randint(200, 3000)) if
                                     registration.registered_on.year < 2015 else
                                     registration.registered_on, actor=SYSTEM,
                                     reason="validated trusted-trader application", at=at)
        if rng.random() < 0.3:
            account.set_compliance_class(rng.choice(list(ComplianceClass)), actor=SYSTEM,
                                         reason="credit management system rating", at=at)
        if rng.random() < 0.004:
            account.suspend(actor=SYSTEM, reason="bond insufficiency", at=at)
        elif rng.random() < 0.003:
            account.close(actor=SYSTEM, reason="ceased importing", at=at)
        accounts.append(account)
    return accounts


def _sample(rng: random.Random, account: ImporterAccount, area: ComplianceArea,
            weakness: float) -> SampleTest:
    industry = account.industry
    lines = rng.randint(80, 400)
    rate = min(0.6, max(0.0, rng.betavariate(1.0, 250) + PLANTED.get((industry, area), 0)
                        + weakness))
    discrepancies = sum(1 for _ in range(lines) if rng.random() < rate)
    annual = float(account.annual_value or Decimal(100_000))
    value_tested = Decimal(f"{annual * rng.uniform(0.01, 0.08):.2f}")
    in_error = (value_tested * Decimal(discrepancies) / Decimal(lines)
                * Decimal(f"{rng.uniform(0.2, 0.9):.3f}")).quantize(Decimal("0.01"))
    loss = (in_error * Decimal(f"{rng.uniform(0.03, 0.25):.3f}")).quantize(Decimal("0.01"))
    return SampleTest.parse(area, lines, discrepancies, value_tested, in_error, loss)


def walk_assessment(app: ComplianceCases, clock: DemoClock, rng: random.Random,
                    account: ImporterAccount, target: AssessmentState, opened: datetime,
                    today: date) -> tuple[FindingsResult | None, str, str]:
    """Drive one assessment through commands to `target`, days apart, like an officer would."""
    clock.now = opened
    year = opened.year - 1
    scope = rng.sample(list(ComplianceArea)[:7], rng.randint(2, 4))
    officer = f"user:officer-{account.district}-{rng.randint(1, 4)}"
    supervisor = f"user:supervisor-{account.district}"
    number = app.open_assessment(
        account.importer_number, origin=_weighted(rng, ORIGINS),
        period=parse_period(date(year, 1, 1), date(year, 12, 31)), scope=scope,
        actor=f"user:analyst-{account.district}", reason="selected for the annual plan")
    order = [s for s, _ in TARGET_STATES]

    def step(days: int) -> None:
        clock.now = min(clock.now + timedelta(days=days, hours=rng.randint(0, 6)),
                        datetime.combine(today, time(17), tzinfo=UTC))

    if target is AssessmentState.CANCELLED:
        step(rng.randint(3, 20))
        app.cancel_assessment(number, actor=supervisor, reason="importer ceased the activity "
                              "under review")
        return None, officer, supervisor
    if order.index(target) >= order.index(AssessmentState.ASSIGNED):
        step(rng.randint(1, 7))
        app.assign_officer(number, officer, actor=supervisor, reason="district workload plan")
    if order.index(target) >= order.index(AssessmentState.SURVEYED):
        step(rng.randint(7, 21))
        weak = {ControlRating.WEAK, ControlRating.NONE}
        ratings = {a: rng.choices(list(ControlRating), weights=[3, 5, 3, 1])[0] for a in scope}
        app.record_survey(number, dict(ratings), clock.now.date(), actor=officer,
                          reason="pre-assessment survey at the importer's premises")
        weakness = {a: (0.015 if r in weak else 0.0) for a, r in ratings.items()}
    if order.index(target) >= order.index(AssessmentState.TESTING):
        for area in scope:
            step(rng.randint(2, 10))
            app.record_test(number, _sample(rng, account, area, weakness[area]),
                            actor=officer, reason=f"statistical sample of {area.value} lines")
    if order.index(target) >= order.index(AssessmentState.FINDINGS_ISSUED):
        step(rng.randint(5, 15))
        duty = ((account.annual_value or Decimal(0)) * Decimal("0.04")).quantize(Decimal("0.01"))
        result = app.issue_findings(number, duty_paid=duty,
                                    fraud_indicators=rng.random() < 0.03, actor=officer,
                                    reason="sample testing complete")
    else:
        result = None
    if target is AssessmentState.CLOSED:
        step(rng.randint(5, 30))
        app.close_assessment(number, actor=supervisor, reason="findings communicated to the "
                             "importer")
    return result, officer, supervisor


def follow_up(walker: CaseWalker, result: FindingsResult, officer: str,
              supervisor: str) -> None:
    """Take the plan or enforcement that findings started down one of its paths."""
    if result.plan_number:
        for escalation in walker.walk_plan(result.plan_number, officer, supervisor):
            walker.walk_enforcement(escalation, supervisor)
    if result.enforcement_number:
        walker.walk_enforcement(result.enforcement_number, supervisor)


def generate(app: ComplianceCases, clock: DemoClock, *, accounts: int, seed: int, today: date,
             on_accounts: Callable[[int], None] | None = None,
             on_assessment: Callable[[], None] | None = None,
             password_hash: str | None = None) -> DemoSummary:
    """`password_hash`: of the demo password, given to the users in `logins` (none when
    None)."""
    rng = random.Random(seed)
    start = datetime.combine(today - timedelta(days=420), time(9), tzinfo=UTC)
    clock.now = start
    population = build_accounts(accounts, rng, today, start)
    for first in range(0, len(population), 500):
        batch = population[first:first + 500]
        app.save(*batch)
        if on_accounts:
            on_accounts(len(batch))
    eligible = [a for a in population if a.status.value != "closed"]
    count = max(60, accounts // 15)
    weights = [1.0 + 30.0 / a.tier if a.tier else 1.0 for a in eligible]
    chosen: list[ImporterAccount] = []
    picked: set[str] = set()
    while len(chosen) < min(count, len(eligible)):
        candidate = rng.choices(eligible, weights=weights)[0]
        if candidate.importer_number not in picked:
            picked.add(candidate.importer_number)
            chosen.append(candidate)
    targets = stratified_targets(len(chosen))
    rng.shuffle(targets)
    create_people(app, [*national_people(), *district_people(),
                        *representatives(a.importer_number for a in chosen)], start)
    planned: list[str] = []

    def set_clock(moment: datetime) -> None:
        clock.now = moment

    walker = CaseWalker(app, clock, set_clock, rng, today)
    for account, target in zip(chosen, targets, strict=True):
        days_ago = rng.randint(20, 150) if target is not AssessmentState.CLOSED else (
            rng.randint(150, 360))
        opened = datetime.combine(today - timedelta(days=days_ago), time(9), tzinfo=UTC)
        result, officer, supervisor = walk_assessment(app, clock, rng, account, target,
                                                      opened, today)
        if result is not None:
            follow_up(walker, result, officer, supervisor)
            if result.plan_number:
                planned.append(account.importer_number)
        if on_assessment:
            on_assessment()
    others = [a.importer_number for a in rng.sample(eligible, max(10, accounts // 250))]
    walker.propose_other_interventions(
        others, datetime.combine(today - timedelta(days=200), time(9), tzinfo=UTC))
    values = [a.annual_value or Decimal(0) for a in population]
    total = sum(values, Decimal(0))
    shares = {}
    for label, fraction in (("top 0.1%", 0.001), ("top 0.23%", 1000 / 443_000),
                            ("top 2%", 0.0194)):
        top = max(1, round(accounts * fraction))
        shares[label] = float(sum(values[:top], Decimal(0)) / total)
    logins = demo_logins(chosen, planned)
    if password_hash is not None:
        give_logins(app, logins, password_hash, clock.now)
    return DemoSummary(accounts=len(population), assessments=len(chosen),
                       events=app.recorder.max_notification_id() or 0, top_shares=shares,
                       importers=tuple(population), logins=logins)


def demo_logins(chosen: list[ImporterAccount], planned: list[str]) -> dict[Role, str]:
    """A user of each role to try the demo as: the staff of the district with the most
    assessments, and the representative of an importer of theirs with an improvement
    plan (the representative's work)."""
    district = Counter(a.district for a in chosen).most_common(1)[0][0]
    districts = {a.importer_number: a.district for a in chosen}
    ours = [number for number in planned if districts[number] == district]
    importer = (ours or planned or [chosen[0].importer_number])[0]
    return {Role.ADMIN: "admin", Role.OFFICER: f"officer-{district}-1",
            Role.SUPERVISOR: f"supervisor-{district}", Role.ANALYST: f"analyst-{district}",
            Role.AUDITOR: "auditor",
            Role.IMPORTER_REPRESENTATIVE: representative(importer).removeprefix("user:")}


_NAMES = ("Acme", "Pacific", "Golden Bridge", "Northern Star", "Harbour", "Jade River",
          "Silk Road", "Evergreen", "Summit", "Orient", "Meridian", "Blue Ocean", "Keystone",
          "Lotus", "Crescent", "Atlas", "Phoenix", "Great Wall", "Unity", "Horizon")
_SUFFIXES = ("Trading Co.", "Imports Ltd", "Industries", "Logistics", "Manufacturing",
             "Apparel", "Steel Works", "Electronics", "Foods", "Holdings")
