"""The national demo at a reduced size: the real import and risk paths, the seed value
curve, and a ranking that finds the planted non-compliance far above chance."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from interfaces.national_data import PLANTED_AREAS, write_national_files
from tests.e2e.cli import Cli

IMPORTERS = 4000
SAMPLES = 12_000
TODAY = "2026-11-23"


@pytest.fixture
def national(cli: Cli) -> Cli:
    cli.ok("demo", "--scale", "national", "--accounts", str(IMPORTERS), "--samples",
           str(SAMPLES), "--today", TODAY)
    return cli


def test_the_tiers_reproduce_the_seed_value_curve(national: Cli) -> None:
    tiers = national.ok("tiers", "--json").json()
    assert [row["tier"] for row in tiers] == [1, 2, 3, 4]
    assert sum(row["importers"] for row in tiers) == IMPORTERS
    shares = [row["value_share"] for row in tiers]
    assert shares == pytest.approx([0.50, 0.10, 0.22, 0.18], abs=0.03)
    assert tiers[0]["importers"] < IMPORTERS * 0.005


def test_the_ranking_finds_the_planted_importers_far_above_chance(national: Cli,
                                                                  tmp_path: Path) -> None:
    truth = write_national_files(tmp_path / "truth", year=2026, today=date(2026, 11, 23),
                                 importers=IMPORTERS, samples=SAMPLES)
    picked = national.ok("risk", "top", "--by", "likelihood", "--limit", "100",
                         "--json").json()
    hits = sum(1 for row in picked if row["importer_number"] in truth.risky_importers)
    chance = 100 * len(truth.risky_importers) / IMPORTERS
    assert hits >= 5 * chance, (hits, chance)
    for row in picked:
        factors = [factor["factor"] for factor in row["explanation"]]
        assert "estimated non-compliance" in factors


def test_the_planted_industries_have_the_lowest_compliance_rates(national: Cli) -> None:
    rates = national.ok("rates", "--by", "industry", "--json").json()
    lowest = {row["key"] for row in rates[:4]}
    strongest = {code for code, (_, extra) in PLANTED_AREAS.items() if extra >= 0.08}
    assert strongest <= lowest | {code for code in strongest if code not in
                                  {row["key"] for row in rates}}
    for row in rates:
        assert row["compliance_low"] <= row["compliance_rate"] <= row["compliance_high"]


def test_the_demo_records_every_score_as_an_event_and_verifies(national: Cli) -> None:
    status = national.ok("status", "--json").json()
    assert status["events"] >= 2 * IMPORTERS
    assert "intact" in national.ok("verify").out
    again = national.ok("risk", "assess", "--year", "2026", "--json").json()
    assert again["changed"] == 0
    assert again["importers"] == IMPORTERS
