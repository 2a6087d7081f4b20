"""Rules of selection plans and channel runs that no other test runs, on both stores, over
a small scored world built through the real paths (registration, trade and sample imports,
a risk run):

* an account with no risk found (a score of 0: no trade in the year) is no risk pick, is
  counted under `no_risk_found`, and stays eligible for the random draw;
* an opening the application refuses is reported in `not_opened` with the refusal, and the
  other picks are opened all the same;
* a channel run's random share must lie in [0, 1): outside it the run is refused and
  records nothing, with declarations to channel or without."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.compliance_cases import ComplianceCases
from application.ingest.schemas import IngestKind
from application.targeting.selection import SelectionPlanner
from domain.errors import InvalidValueError
from domain.selection_plan import SelectionPlan
from domain.values import Period
from infrastructure.account_directory import AccountDirectory
from interfaces.analysis_composition import build_channel, build_risk_run, risk_tables
from tests.builders import FakeClock
from tests.integration.targeting_support import (
    SUPERVISOR,
    Entry,
    count_events,
    decisions,
    import_entries,
    import_rows,
    register,
)

PERIOD = Period(date(2025, 1, 1), date(2025, 12, 31))
PLANNER = "user:planner.one"


@dataclass(frozen=True)
class World:
    ranked: list[str]
    """The three traders, highest score first."""
    idle: str
    """Registered, but no trade in 2025: a score of 0."""


@pytest.fixture
def world(app: ComplianceCases, clock: FakeClock, tmp_path: Path) -> World:
    first, second, third, idle = register(app, [("11", "64")] * 4)
    values = {first: 900_000, second: 600_000, third: 300_000}
    import_rows(app, tmp_path, IngestKind.TRADE, [
        [number, "2025-06", 5, 10, f"{value}.00", f"{value // 20}.00", "64", "VN"]
        for number, value in values.items()])
    samples: list[list[Any]] = []
    for number in values:              # the same record each, so value alone ranks them
        for line in range(20):
            found = line < 4
            samples.append([f"S{len(samples):06d}", 1, number, "2025-07-01", "6403990000",
                            "VN", "1000.00", "random", "true" if found else "false",
                            "origin" if found else "", "50.00" if found else "0"])
    import_rows(app, tmp_path, IngestKind.SAMPLES, samples)
    clock.advance()
    build_risk_run(app).assess(2025, actor="system:risk")
    scores = {row["importer_number"]: float(row["score"])
              for row in risk_tables(app).all_scores()}
    assert scores[idle] == 0.0
    assert scores[first] > scores[second] > scores[third] > 0
    return World([first, second, third], idle)


def planner(app: ComplianceCases, open_assessment: Any = None) -> SelectionPlanner:
    """As interfaces.analysis_composition.build_selection composes it, with the command
    that opens each pick's assessment replaceable."""
    return SelectionPlanner(risk_tables(app), AccountDirectory(app.recorder), app.save,
                            open_assessment or app.open_assessment, app.clock)


def test_an_account_with_no_risk_found_is_no_risk_pick_but_can_be_drawn_at_random(
        app: ComplianceCases, clock: FakeClock, world: World) -> None:
    clock.advance()
    targeted = planner(app).plan(PERIOD, 4, 0.0, actor=PLANNER)
    # Capacity 4, all for risk: the three traders; the idle account does not fill the
    # fourth place, because a score of 0 is no risk found.
    assert [(p.importer_number, p.basis, p.rank) for p in targeted.picks] == [
        (number, "risk", rank) for rank, number in enumerate(world.ranked, start=1)]
    assert targeted.excluded == {"closed": 0, "assessed_recently": 0,
                                 "partnership_exempt_from_risk": 0, "no_risk_found": 1}
    recorded: SelectionPlan = app.repository.get(UUID(targeted.plan_id))
    assert isinstance(recorded, SelectionPlan)
    assert recorded.picks == tuple(targeted.picks)

    clock.advance()
    drawn = planner(app).plan(PERIOD, 4, 1.0, actor=PLANNER)
    # All four places drawn at random from the four eligible accounts: the idle one too.
    assert {p.importer_number for p in drawn.picks} == {*world.ranked, world.idle}
    assert {p.basis for p in drawn.picks} == {"random"}
    assert drawn.excluded["no_risk_found"] == 1
    idle_pick = next(p for p in drawn.picks if p.importer_number == world.idle)
    assert (idle_pick.score, idle_pick.rank) == (0.0, 0)
    assert idle_pick.reason.startswith("random draw (100% of capacity, seed 0) from 4 ")


def test_a_refused_opening_is_reported_and_the_other_picks_are_opened(
        app: ComplianceCases, clock: FakeClock, world: World) -> None:
    first, second, third = world.ranked
    interloper: list[str] = []

    def open_assessment(importer_number: str, **command: Any) -> str:
        # Between the plan and the opening of its second pick, another analyst opens an
        # assessment of that importer for the same period (a referral).
        if importer_number == second and not interloper:
            interloper.append(app.open_assessment(
                second, origin="referral", period=PERIOD, scope=["value"], actor=SUPERVISOR,
                reason="tip from a competitor"))
        return app.open_assessment(importer_number, **command)

    clock.advance()
    result = planner(app, open_assessment).plan(PERIOD, 3, 0.0, actor=PLANNER,
                                                open_cases=True)

    assert [p.importer_number for p in result.picks] == [first, second, third]
    assert list(result.not_opened) == [second]
    assert result.not_opened[second] == (
        f"importer {second} already has an open assessment for an overlapping period: "
        f"{interloper[0]}")
    assert len(result.opened) == 2
    opened = [app.get_assessment(number) for number in result.opened]
    assert [a.importer_number for a in opened] == [first, third]
    assert {a.origin.value for a in opened} == {"risk_selection"}
    # the refused opening recorded nothing: the second importer has the referral alone
    assert [case.number for case in app.get_case_file(second)
            if case.kind == "assessment"] == interloper
    assert app.get_assessment(interloper[0]).origin.value == "referral"


@pytest.mark.parametrize("share", [1.0, 1.5, -0.01], ids=["one", "above one", "negative"])
def test_a_channel_run_with_a_share_outside_zero_to_one_is_refused_and_records_nothing(
        app: ComplianceCases, clock: FakeClock, tmp_path: Path, world: World,
        share: float) -> None:
    channel = build_channel(app)
    before = count_events(app)
    clock.advance()
    # no declarations yet: the run would record itself alone
    with pytest.raises(InvalidValueError) as refused:
        channel.decide(actor="system:channel", random_share=share)
    assert refused.value.field == "random_share"
    assert count_events(app) == before

    import_entries(app, tmp_path, [Entry(f"E26-{i:07d}", world.ranked[i % 3])
                                   for i in range(6)])
    before = count_events(app)
    clock.advance()
    with pytest.raises(InvalidValueError) as refused:
        channel.decide(actor="system:channel", random_share=share)
    assert refused.value.field == "random_share"
    assert "expected a share in [0, 1)" in str(refused.value)
    assert count_events(app) == before
    assert decisions(app) == {}

    clock.advance()
    summary = channel.decide(actor="system:channel", random_share=0.5, seed=1)
    assert summary.entries == 6
    assert len(decisions(app)) == 6
