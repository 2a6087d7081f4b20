"""Selection plans on both stores, over a generated population (1,500 importers, a year of
trade and 6,000 examined sample lines) imported and risk-assessed through the real paths:
capacity and random share exactly, risk picks at the top of the ranking, exclusions
counted, partners measured but not targeted, reasons, and opening the assessments."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import IngestKind
from application.targeting.selection import PlanResult
from domain.errors import InvalidValueError
from domain.selection_plan import SelectionPlan
from domain.values import Period
from infrastructure.csv_files import read_csv_file
from interfaces.analysis_composition import (
    build_ingestion,
    build_risk_run,
    build_selection,
    risk_tables,
)
from interfaces.national_data import NationalFiles, write_national_files
from tests.builders import FakeClock
from tests.integration.targeting_support import SUPERVISOR, columns, count_events

YEAR = 2025
PERIOD = Period(date(2025, 1, 1), date(2025, 12, 31))
IMPORTERS = 1500
PLANNER = "user:planner.one"


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> NationalFiles:
    return write_national_files(tmp_path_factory.mktemp("national"), year=YEAR,
                                today=date(2026, 3, 1), importers=IMPORTERS, samples=6000)


@pytest.fixture
def scored(app: ComplianceCases, clock: FakeClock,
           national: NationalFiles) -> list[dict[str, Any]]:
    """The population imported and risk-assessed; every score, highest first."""
    ingestion = build_ingestion(app)
    for kind, path in ((IngestKind.ACCOUNTS, national.accounts),
                       (IngestKind.TRADE, national.trade),
                       (IngestKind.SAMPLES, national.samples)):
        report = ingestion.import_file(kind, read_csv_file(path, columns(kind)),
                                       actor="system:loader")
        assert report.status == "loaded", report.errors[:3]
    clock.advance()
    build_risk_run(app).assess(YEAR, actor="system:risk")
    clock.advance()
    scores = risk_tables(app).all_scores()
    assert len(scores) == IMPORTERS
    assert all(float(row["score"]) > 0 for row in scores)
    return scores


def _plan(app: ComplianceCases, clock: FakeClock, capacity: int = 50,
          random_share: float = 0.2, **options: Any) -> PlanResult:
    clock.advance()
    return build_selection(app).plan(options.pop("period", PERIOD), capacity, random_share,
                                     actor=PLANNER, **options)


def _basis(result: PlanResult, basis: str) -> list[str]:
    return [pick.importer_number for pick in result.picks if pick.basis == basis]


def test_capacity_and_random_share_are_met_exactly_and_every_pick_says_why(
        app: ComplianceCases, clock: FakeClock, scored: list[dict[str, Any]]) -> None:
    result = _plan(app, clock, capacity=50, random_share=0.2, seed=3)

    risk, random = _basis(result, "risk"), _basis(result, "random")
    assert (len(risk), len(random), len(result.picks)) == (40, 10, 50)
    assert len({pick.importer_number for pick in result.picks}) == 50
    assert risk == [row["importer_number"] for row in scored[:40]]
    assert [pick.rank for pick in result.picks if pick.basis == "risk"] == list(range(1, 41))
    assert all(pick.rank == 0 for pick in result.picks if pick.basis == "random")
    assert set(random) <= {row["importer_number"] for row in scored[40:]}
    assert (result.excluded["assessed_recently"], result.excluded[
        "partnership_exempt_from_risk"], result.excluded["no_risk_found"]) == (0, 0, 0)
    assert (result.opened, result.not_opened) == ([], {})

    recorded: SelectionPlan = app.repository.get(UUID(result.plan_id))
    assert isinstance(recorded, SelectionPlan)
    assert recorded.picks == tuple(result.picks)

    by_number = {row["importer_number"]: row for row in scored}
    for pick in result.picks:
        row = by_number[pick.importer_number]
        assert (pick.tier, pick.district) == (int(row["tier"]), row["district"])
        assert pick.score == round(float(row["score"]), 2)
        if pick.basis == "risk":
            assert pick.reason.startswith(f"rank {pick.rank} by risk score ")
            assert f"{row['category']} risk, tier {row['tier']}" in pick.reason
        else:
            assert pick.reason.startswith("random draw (20% of capacity, seed 3) from ")
            assert f"from {IMPORTERS - 40:,} eligible accounts" in pick.reason


def test_the_split_rounds_the_share_and_a_seed_repeats_its_draw(
        app: ComplianceCases, clock: FakeClock, scored: list[dict[str, Any]]) -> None:
    for capacity, share, risk, random in ((8, 0.25, 6, 2), (10, 0.0, 10, 0), (10, 1.0, 0, 10),
                                          (7, 0.3, 5, 2), (3, 0.1, 3, 0), (1, 0.4, 1, 0)):
        result = _plan(app, clock, capacity=capacity, random_share=share)
        assert (len(_basis(result, "risk")), len(_basis(result, "random"))) == (risk, random)
        assert _basis(result, "risk") == [row["importer_number"] for row in scored[:risk]]

    first, again, other = (_plan(app, clock, seed=seed) for seed in (11, 11, 12))
    assert first.plan_id != again.plan_id
    assert _basis(first, "random") == _basis(again, "random")
    assert _basis(first, "random") != _basis(other, "random")
    assert _basis(first, "risk") == _basis(other, "risk")


def test_an_account_assessed_within_the_window_is_excluded_and_counted(
        app: ComplianceCases, clock: FakeClock, scored: list[dict[str, Any]]) -> None:
    top, second = scored[0]["importer_number"], scored[1]["importer_number"]
    clock.advance()
    app.open_assessment(top, origin="referral", period=Period(date(2023, 1, 1),
                                                              date(2023, 12, 31)),
                        scope=["value"], actor=SUPERVISOR, reason="tip from a competitor")
    result = _plan(app, clock, capacity=50, random_share=0.2)

    assert result.excluded["assessed_recently"] == 1
    assert top not in {pick.importer_number for pick in result.picks}
    risk = _basis(result, "risk")
    assert risk[0] == second
    assert risk == [row["importer_number"] for row in scored[1:41]]
    random_reason = next(p.reason for p in result.picks if p.basis == "random")
    assert f"from {IMPORTERS - 1 - 40:,} eligible accounts" in random_reason


def test_a_trusted_trader_is_not_a_risk_pick_but_can_be_drawn_at_random(
        app: ComplianceCases, clock: FakeClock, scored: list[dict[str, Any]]) -> None:
    trader = scored[0]["importer_number"]
    clock.advance()
    app.join_partnership(trader, "trusted_trader", "2025-06-01", actor=SUPERVISOR,
                         reason="validated controls")
    targeted = _plan(app, clock, capacity=50, random_share=0.2)
    assert trader not in _basis(targeted, "risk")
    assert _basis(targeted, "risk") == [row["importer_number"] for row in scored[1:41]]
    assert (targeted.excluded["assessed_recently"], targeted.excluded[
        "partnership_exempt_from_risk"], targeted.excluded["no_risk_found"]) == (0, 1, 0)
    random_reason = next(p.reason for p in targeted.picks if p.basis == "random")
    assert f"from {IMPORTERS - 40:,} eligible accounts" in random_reason

    everyone = _plan(app, clock, capacity=IMPORTERS, random_share=1.0)
    assert trader in _basis(everyone, "random")
    assert len(_basis(everyone, "random")) == IMPORTERS


@pytest.mark.usefixtures("scored")
def test_opening_the_plan_opens_an_assessment_per_pick_with_its_origin(
        app: ComplianceCases, clock: FakeClock) -> None:
    result = _plan(app, clock, capacity=10, random_share=0.3, open_cases=True)

    assert result.not_opened == {}
    assert len(result.opened) == len(set(result.opened)) == 10
    for pick, number in zip(result.picks, result.opened, strict=True):
        assessment = app.get_assessment(number)
        assert assessment.importer_number == pick.importer_number
        assert assessment.origin.value == ("risk_selection" if pick.basis == "risk"
                                           else "random")
        assert assessment.period == PERIOD
        assert assessment.state.value == "opened"
    assert {p.basis for p in result.picks} == {"risk", "random"}

    following = _plan(app, clock, capacity=10, random_share=0.3)
    assert following.excluded["assessed_recently"] == 10
    assert not {p.importer_number for p in following.picks} & {
        p.importer_number for p in result.picks}


def test_an_account_closed_since_the_risk_run_is_not_picked(
        app: ComplianceCases, clock: FakeClock, scored: list[dict[str, Any]]) -> None:
    """Eligibility comes from the accounts as they are now (a partnership joined after the
    run already exempts an account), so an account closed after the run is not picked:
    it can never be assessed, and a pick of it wastes capacity."""
    closed = scored[2]["importer_number"]
    clock.advance()
    app.close_importer(closed, actor=SUPERVISOR, reason="ceased trading")
    result = _plan(app, clock, capacity=10, random_share=0.2, open_cases=True)

    picked = [p.importer_number for p in result.picks]
    assert closed not in picked, result.not_opened
    assert len(picked) == 10
    assert result.not_opened == {}
    assert {app.get_assessment(n).importer_number for n in result.opened} == set(picked)


@pytest.mark.usefixtures("scored")
def test_a_period_not_yet_ended_cannot_be_opened_and_records_nothing(
        app: ComplianceCases, clock: FakeClock) -> None:
    today = clock.now.date()
    before = count_events(app)
    for period in (Period(date(2026, 1, 1), date(2026, 12, 31)),
                   Period(date(2026, 1, 1), today)):
        with pytest.raises(InvalidValueError) as refused:
            _plan(app, clock, open_cases=True, period=period)
        assert refused.value.field == "period"
    assert count_events(app) == before

    ended = _plan(app, clock, capacity=2, random_share=0.0, open_cases=True,
                  period=Period(date(2026, 1, 1), today - timedelta(days=1)))
    assert len(ended.opened) == 2
    planned = _plan(app, clock, capacity=2, random_share=0.0,
                    period=Period(date(2026, 1, 1), date(2026, 12, 31)))
    assert len(planned.picks) == 2
    assert planned.opened == []


def test_a_bad_capacity_or_share_is_refused_and_records_nothing(
        app: ComplianceCases, clock: FakeClock) -> None:
    before = count_events(app)
    for capacity, share, field in ((0, 0.1, "capacity"), (-5, 0.1, "capacity"),
                                   (True, 0.1, "capacity"), (10, 1.5, "random_share"),
                                   (10, -0.1, "random_share")):
        with pytest.raises(InvalidValueError) as refused:
            _plan(app, clock, capacity=capacity, random_share=share)
        assert refused.value.field == field
    assert count_events(app) == before

