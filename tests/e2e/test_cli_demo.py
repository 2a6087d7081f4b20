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


SMALL = ("demo", "--accounts", "100", "--seed", "3", "--today", "2026-11-01")


def test_the_demo_covers_trade_risk_rules_channel_selection_and_effectiveness(
        cli: Cli) -> None:
    """The default demo, at a small size, leaves no part of the system saying "nothing
    yet": trade, samples and declarations of its own importers imported through the
    import commands, a risk run, the demo rules published, declarations channelled with
    their exam results back as samples, and a selection plan."""
    loaded = cli.ok(*SMALL).out
    assert "2,000 declarations channelled" in loaded
    assert "selection plan for 2025-01-01..2025-12-31" in loaded
    status = cli.ok("status", "--json").json()["totals"]
    assert (status["ImportBatch"], status["ChannelRun"], status["SelectionPlan"],
            status["TargetingRule"]) == (4, 1, 1, 4)
    active = [a for a in cli.ok("accounts", "list", "--json").json() if a["state"] != "closed"]
    assert sum(row["importers"] for row in cli.ok("tiers", "--json").json()) == len(active)
    assert len(cli.ok("risk", "top", "--limit", "5", "--json").json()) == 5
    assert cli.ok("rates", "--by", "industry", "--json").json()
    assert {rule["state"] for rule in cli.ok("rules", "list", "--json").json()} == {
        "published"}
    overall = cli.ok("effectiveness", "--json").json()["overall"]
    assert overall["targeted"]["examined"] > 0
    assert overall["random"]["examined"] > 0
    picks = cli.ok("select", "--period", "2025", "--capacity", "5", "--json").json()["picks"]
    assert len(picks) == 5
    events = cli.events()
    nothing_new = cli("channel")
    assert nothing_new.code == 3
    assert "no new declarations to channel" in nothing_new.err
    assert cli.events() == events
    # verifications past their scheduling have an officer; the work list names who
    verifications = cli.ok("verifications", "list", "--json").json()
    assert any(v["officer"] for v in verifications)
    worklist = cli.ok("worklist", "--json").json()
    assert not [r for r in worklist if r["kind"] != "enforcement_action" and r["officer"]
                and r["officer"].startswith(("user:analyst", "user:rep-"))]
    assert cli.ok("verify", "--json").json()["ok"] is True


def test_the_national_demo_scales_its_samples_and_declarations_with_the_accounts(
        cli: Cli, tmp_path: Path) -> None:
    """1,000 importers: 1,000,000 declarations x 1,000 / 443,000; the samples at their
    floor of 1,000 (120,000 x 1,000 / 443,000 would be 271)."""
    if "COMPLIANCE_SQLITE_PATH" not in cli.env:  # the files go beside it, not into ./var
        cli = Cli({**{k: v for k, v in cli.env.items() if k.startswith("COMPLIANCE_")},
                   "COMPLIANCE_SQLITE_PATH": str(tmp_path / "var" / "compliance.db")})
    loaded = cli.ok("demo", "--scale", "national", "--accounts", "1000", "--seed", "3",
                    "--today", "2026-11-01").out
    assert "2,257 declarations channelled" in loaded
    assert "1,000 examined sample lines" in loaded
