"""`compliance risk assess|top|show`, `tiers` and `rates` through the real executable, on a
data set small enough to work the tiers out by hand: 60 importers in 3 industries whose
2026 values put 2 importers in tier 1, 1 in tier 2, 6 in tier 3 and 51 in tier 4, and
samples where three importers have many discrepancies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli import Cli, Result
from tests.e2e.ingest_files import (
    ACCOUNTS_HEADER,
    SAMPLES_HEADER,
    TRADE_HEADER,
    event_count,
    run_together,
    write_csv,
)

YEAR = "2026"
IMPORTERS = [f"20-{i:07d}RK" for i in range(1, 61)]
INDUSTRIES = ("61", "84", "30")
DISTRICTS = ("11", "12", "13")
BIGGEST, RISKY, RISKIER, SHAKY = IMPORTERS[0], IMPORTERS[1], IMPORTERS[2], IMPORTERS[3]
NO_VALUE = IMPORTERS[59]

VALUES: dict[str, int] = {
    BIGGEST: 450_000,  # tier 1: nothing ranks above it
    RISKY: 100_000,  # tier 1: 45% above it, it completes the first 50%
    RISKIER: 60_000,  # tier 2: 55% above it
    **dict.fromkeys(IMPORTERS[3:9], 40_000),  # tier 3: 61% to 81% above them
    **dict.fromkeys(IMPORTERS[9:59], 3_000),  # tier 4: 85% and more above them
    NO_VALUE: 0,  # tier 4: no trade in 2026 (only in 2025)
}
TIERS = {1: (2, 550_000), 2: (1, 60_000), 3: (6, 240_000), 4: (51, 150_000)}
"""tier -> (importers, value), by hand from VALUES; the total value is 1,000,000."""

DISCREPANT: dict[str, list[str]] = {
    RISKY: ["value"] * 5 + ["classification"] * 3,
    RISKIER: ["value"] * 4 + ["classification"] * 2 + ["origin"],
    SHAKY: ["value"] * 3 + ["classification", "origin", "origin"],
}
"""The areas of the discrepant lines of the importers with many (each has 10 lines)."""


def _industry(number: str) -> str:
    return INDUSTRIES[IMPORTERS.index(number) % 3]


def _district(number: str) -> str:
    return DISTRICTS[IMPORTERS.index(number) // 20]


def _accounts() -> list[tuple[str, ...]]:
    return [(number, f"Risk Importer {i}", _district(number), _industry(number), "2019-05-01")
            for i, number in enumerate(IMPORTERS, start=1)]


def _trade() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [
        (BIGGEST, f"{YEAR}-01", "30", "90", "300000.00", "15000.00", "61", "CN"),
        (BIGGEST, f"{YEAR}-06", "15", "40", "150000.00", "7500.00", "61", "VN"),
        (NO_VALUE, "2025-12", "9", "9", "900000.00", "0", "30", "IN")]
    rows += [(number, f"{YEAR}-03", "2", "4", f"{value}.00", f"{value // 20}.00",
              _industry(number), "DE")
             for number, value in VALUES.items() if number != BIGGEST and value]
    return rows


def _samples() -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for i, number in enumerate(IMPORTERS, start=1):
        found = DISCREPANT.get(number, [])
        lines = 20 if number == BIGGEST else 10 if found else 2
        chapter = _industry(number)
        for line in range(1, lines + 1):
            area = found[line - 1] if line <= len(found) else ""
            rows.append((f"S{i:04d}", str(line), number, f"{YEAR}-04-{1 + line:02d}",
                         f"{chapter}0910", "CN", "1000.00", "random",
                         "true" if area else "false", area, "100.00" if area else "0"))
    return rows


def _import_all(cli: Cli, tmp_path: Path) -> None:
    """The register, then a year of trade and the samples, imported through the CLI."""
    files = {kind: (write_csv(tmp_path / f"{kind}.csv", header, rows), len(rows))
             for kind, header, rows in (("accounts", ACCOUNTS_HEADER, _accounts()),
                                        ("trade", TRADE_HEADER, _trade()),
                                        ("samples", SAMPLES_HEADER, _samples()))}
    results = [cli("import", "accounts", str(files["accounts"][0]), "--json"),
               *run_together(cli, *(("import", kind, str(files[kind][0]), "--json")
                                    for kind in ("trade", "samples")))]
    for kind, result in zip(files, results, strict=True):
        assert result.code == 0, result.err
        report = result.json()
        assert (report["status"], report["rows_loaded"]) == ("loaded", files[kind][1]), report


def _assess(result: Result) -> dict[str, Any]:
    assert result.code == 0, result.err
    summary: dict[str, Any] = result.json()
    return summary


ASSESS = ("risk", "assess", "--year", YEAR, "--json")


def test_a_risk_run_tiers_rates_and_explains_every_open_importer(
        cli: Cli, tmp_path: Path) -> None:
    _import_all(cli, tmp_path)
    events = event_count(cli)

    run, district = run_together(cli, ASSESS, ("risk", "top", "--district", "99", "--json"))

    first = _assess(run)
    assert (first["year"], first["importers"], first["changed"]) == (2026, 60, 60)
    assert len(first["input_batches"]) == 2  # the trade and the samples batch
    assert event_count(cli) == events + 60
    assert district.code == 2, district.err
    assert "district='99'" in district.err

    run, unknown = run_together(cli, ASSESS, ("risk", "show", "12-9999999ZZ", "--json"))

    second = _assess(run)
    assert (second["importers"], second["changed"]) == (60, 0)
    assert second["run_id"] != first["run_id"]
    assert event_count(cli) == events + 60
    assert unknown.code == 4, unknown.err
    assert "12-9999999ZZ" in unknown.err

    top, tiers = run_together(cli, ("risk", "top", "--limit", "5", "--json"),
                              ("tiers", "--json"))

    ranked = top.json()
    assert len(ranked) == 5
    assert [row["score"] for row in ranked] == sorted((row["score"] for row in ranked),
                                                      reverse=True)
    # Many discrepancies outweigh the biggest importer's value with none.
    assert [row["importer_number"] for row in ranked[:3]] == [RISKY, RISKIER, SHAKY]
    for row in ranked:
        assert {"importer_number", "score", "tier", "explanation"} <= row.keys()
        assert row["explanation"], row
        for factor in row["explanation"]:
            assert set(factor) == {"factor", "value", "effect"}, factor
    risky = next(row for row in ranked if row["importer_number"] == RISKY)
    assert (risky["tier"], risky["lines"], risky["discrepancies"]) == (1, 10, 8)
    assert risky["annual_value"] == pytest.approx(VALUES[RISKY])
    assert risky["explanation"][0] == {"factor": "annual value",
                                       "value": "100,000.00 (tier 1)", "effect": 1.0}

    by_tier = tiers.json()
    assert [(row["tier"], row["importers"]) for row in by_tier] == [
        (tier, count) for tier, (count, _) in TIERS.items()]
    assert [row["value"] for row in by_tier] == [
        pytest.approx(value) for _, value in TIERS.values()]
    assert [row["value_share"] for row in by_tier] == [
        pytest.approx(value / 1_000_000) for _, value in TIERS.values()]
    assert sum(row["value_share"] for row in by_tier) == pytest.approx(1.0)

    rates, closed = run_together(
        cli, ("rates", "--by", "area", "--json"),
        ("accounts", "close", RISKY, "--actor", "user:officer", "--reason", "ceased trading"))

    areas = rates.json()
    assert [row["key"] for row in areas][:3] == ["value", "classification", "origin"]
    for row in areas:
        assert row["grain"] == "area"
        assert row["compliance_low"] <= row["compliance_rate"] <= row["compliance_high"], row
    assert [row["compliance_rate"] for row in areas] == sorted(
        row["compliance_rate"] for row in areas)

    # The closed account keeps its score until the next run, which leaves it out.
    assert closed.code == 0, closed.err
    events = event_count(cli)

    third = _assess(cli(*ASSESS))

    assert third["importers"] == 59
    assert event_count(cli) == events + third["changed"]
    ranking = cli.ok("risk", "top", "--limit", "100", "--json").json()
    assert sorted(row["importer_number"] for row in ranking) == [
        number for number in IMPORTERS if number != RISKY]
