"""The demo: a realistic population in every state, sealed, verifiable and reproducible."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.cli import Cli

DEMO = ("demo", "--accounts", "400", "--seed", "7", "--today", "2026-11-01")
ASSESSMENT_STATES = {"opened", "assigned", "surveyed", "testing", "findings_issued", "closed",
                     "cancelled"}


def test_the_demo_fills_every_assessment_state_and_verifies_under_its_seal(cli: Cli) -> None:
    loaded = cli.ok(*DEMO)
    assert "400 importer accounts" in loaded.out
    assert "try next" in loaded.out
    status = cli.ok("status", "--json").json()
    assert status["totals"]["ImporterAccount"] == 400
    assert set(status["aggregates"]["Assessment"]) == ASSESSMENT_STATES
    for kind in ("ImprovementPlan", "EnforcementAction", "FollowUpVerification"):
        assert sum(status["aggregates"][kind].values()) > 0, kind
    assert "closed_effective" in status["aggregates"]["ImprovementPlan"]
    assert "escalated" in status["aggregates"]["ImprovementPlan"]
    outcomes = {row["outcome"] for row in cli.ok("assessments", "list", "--json").json()}
    assert {"acceptable", "improvement_plan_required"} <= outcomes
    districts = {row["district"] for row in cli.ok("accounts", "list", "--json").json()}
    assert len(districts) >= 30
    verified = cli.ok("verify", "--json").json()
    assert verified["ok"] is True
    assert verified["problems"] == []
    assert verified["seals"] == verified["witness_seals"] == 1
    assert verified["latest_seal"]["events"] == status["events"] - 2  # the seal log's own
    assert verified["commits"] > 0
    again = cli(*DEMO)
    assert again.code == 3
    assert "already holds events" in again.err


def test_the_same_seed_gives_the_same_population(tmp_path: Path) -> None:
    listings = []
    for run in ("a", "b"):
        cli = Cli({"COMPLIANCE_SQLITE_PATH": str(tmp_path / run / "compliance.db")})
        cli.ok(*DEMO)
        listings.append((cli.ok("accounts", "list", "--json").out,
                         cli.ok("assessments", "list", "--json").out))
    assert listings[0] == listings[1]
    assert len(listings[0][1]) > 1000
