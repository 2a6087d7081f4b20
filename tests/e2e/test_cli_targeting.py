"""Targeting through the real executable on both stores: the national demo (3,000 importers,
9,000 sample lines, 30,000 declarations channelled under 4 published rules, exam results
loaded back as samples) run once per store, then effectiveness, backtest, selection and
import refusals on it; and a rule's whole lifecycle with its exit codes on a fresh store."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from interfaces.cli.national_demo import DEMO_RULES
from interfaces.national_data import PLANTED_AREAS, write_national_files
from tests.e2e.cli import Cli
from tests.e2e.ingest_files import run_together, write_csv

TODAY = "2026-11-23"
YEAR = date.today().year
"""Rule numbers carry the year they were drafted in (the real clock's)."""
FIRST_RULE = f"TR-{YEAR}-00001"
ENTRIES_HEADER = ("entry_number", "importer_number", "entry_date", "district", "hs_code",
                  "origin_country", "entered_value", "duty")


@dataclass
class Demo:
    cli: Cli
    reads: dict[str, Any]
    """The JSON of read commands run once, side by side, right after the demo."""

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        """`statement` with `{table}` names, straight on the store (no process)."""
        url = self.cli.env.get("COMPLIANCE_DATABASE_URL")
        if url is None:
            with closing(sqlite3.connect(self.cli.env["COMPLIANCE_SQLITE_PATH"])) as conn:
                return [tuple(row) for row in conn.execute(statement.format_map(
                    _Names(lambda name: name)))]
        schema = self.cli.env["COMPLIANCE_POSTGRES_SCHEMA"]
        with psycopg.connect(url) as conn:
            return [tuple(row) for row in conn.execute(statement.format_map(_Names(
                lambda name: sql.Identifier(schema, name).as_string(conn))))]

    def events(self) -> int:
        table = ("compliancecases_events" if "COMPLIANCE_DATABASE_URL" in self.cli.env
                 else "stored_events")
        return int(self.query(f"SELECT COUNT(*) FROM {{{table}}}")[0][0])


class _Names(dict[str, str]):
    def __init__(self, qualify: Any) -> None:
        super().__init__()
        self.qualify = qualify

    def __missing__(self, key: str) -> str:
        return str(self.qualify(key))


READS = {
    "rules": ("rules", "list", "--json"),
    "effectiveness": ("effectiveness", "--json"),
    "backtest": ("rules", "backtest", FIRST_RULE, "--json"),
    "select": ("select", "--period", "2025", "--capacity", "20", "--random-share", "0.1",
               "--json"),
}


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def demo(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One national demo per store for the whole module, and its reads, made once. The
    generated files go beside the SQLite path on both stores, not into ./var."""
    home = tmp_path_factory.mktemp(f"targeting-{request.param}")
    env = {"COMPLIANCE_SQLITE_PATH": str(home / "var" / "compliance.db")}
    schema = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        schema = f"e2e_{uuid.uuid4().hex[:12]}"
        env.update({"COMPLIANCE_DATABASE_URL": url, "COMPLIANCE_POSTGRES_SCHEMA": schema,
                    "COMPLIANCE_SEAL_KEY": str(home / "seal.key")})
    cli = Cli(env)
    cli.ok("demo", "--scale", "national", "--accounts", "3000", "--samples", "9000",
           "--entries", "30000", "--today", TODAY)
    results = run_together(cli, *READS.values())
    for args, result in zip(READS.values(), results, strict=True):
        assert result.code == 0, f"{args} failed ({result.code}): {result.err}"
    yield Demo(cli, {key: result.json() for key, result in zip(READS, results, strict=True)})
    if schema is not None:
        with psycopg.connect(env["COMPLIANCE_DATABASE_URL"], autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


def _interval_holds(rate: dict[str, Any]) -> bool:
    return bool(0 <= rate["low"] <= rate["rate"] <= rate["high"] <= 1
                and rate["hits"] <= rate["examined"])


def test_the_demo_publishes_its_four_rules(demo: Demo) -> None:
    rules = demo.reads["rules"]
    assert [rule["definition"]["name"] for rule in rules] == [r[0] for r in DEMO_RULES]
    for rule, (_name, conditions, channel, districts) in zip(rules, DEMO_RULES, strict=True):
        assert (rule["state"], rule["version"], rule["in_force_version"]) == ("published", 1,
                                                                              1)
        assert rule["in_force"] == rule["definition"]
        assert rule["in_force"]["channel"] == channel
        assert rule["in_force"]["districts"] == list(districts)
        assert rule["in_force"]["conditions"]["hs_prefixes"] == conditions["hs_prefix"]
    assert [rule["number"] for rule in rules] == [f"TR-{YEAR}-{i:05d}" for i in range(1, 5)]
    decided = demo.query("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM {channel_decisions}")
    assert tuple(decided[0]) == (30_000, 1)


def test_targeting_beats_random_selection_beyond_doubt(demo: Demo) -> None:
    result = demo.reads["effectiveness"]
    overall = result["overall"]
    targeted, random = overall["targeted"], overall["random"]
    assert overall["key"] == "national"
    assert overall["clearly_better"] is True
    assert targeted["low"] > random["high"]
    assert targeted["rate"] > random["rate"]
    assert overall["lift"] > 1
    assert targeted["examined"] > 1000
    assert random["examined"] > 1000
    for row in [overall, *result["by_district"], *result["by_rule"]]:
        assert _interval_holds(row["targeted"]), row
        assert _interval_holds(row["random"]), row
        assert row["clearly_better"] == (row["targeted"]["examined"] > 0
                                         and row["targeted"]["low"] > row["random"]["high"])
    by_rule = {row["key"]: row for row in result["by_rule"]}
    assert set(by_rule) <= {rule["number"] for rule in demo.reads["rules"]}
    assert FIRST_RULE in by_rule
    assert by_rule[FIRST_RULE]["targeted"]["rate"] > random["rate"]
    assert sum(row["targeted"]["examined"] for row in result["by_district"]) == \
        targeted["examined"]


def test_a_rule_backtests_above_the_random_lines_it_misses(demo: Demo) -> None:
    result = demo.reads["backtest"]
    assert (result["rule"], result["version"]) == (FIRST_RULE, 1)
    matched, baseline = result["matched"], result["all_random"]
    assert matched["examined"] > 100
    assert baseline["examined"] > 1000
    assert matched["rate"] > baseline["rate"]
    assert result["matched_random"]["examined"] <= matched["examined"]
    assert all(_interval_holds(result[key])
               for key in ("matched", "matched_random", "all_random"))


def test_select_keeps_capacity_and_random_share_with_reasons(demo: Demo) -> None:
    result = demo.reads["select"]
    picks = result["picks"]
    assert (result["period"], result["capacity"]) == ("2025-01-01..2025-12-31", 20)
    risk = [p for p in picks if p["basis"] == "risk"]
    random = [p for p in picks if p["basis"] == "random"]
    assert (len(risk), len(random)) == (18, 2)
    assert len({p["importer_number"] for p in picks}) == 20
    top = demo.query("SELECT importer_number FROM {risk_scores} "
                     "ORDER BY score DESC, importer_number LIMIT 18")
    assert [p["importer_number"] for p in risk] == [row[0] for row in top]
    assert [p["rank"] for p in risk] == list(range(1, 19))
    for pick in risk:
        assert pick["reason"].startswith(f"rank {pick['rank']} by risk score")
    for pick in random:
        assert pick["reason"].startswith("random draw (10% of capacity, seed 0) from ")
    assert (result["opened"], result["not_opened"]) == ([], {})
    assert set(result["excluded"]) >= {"assessed_recently", "partnership_exempt_from_risk",
                                       "no_risk_found"}


def test_bad_entries_and_an_unfinished_period_are_refused_recording_nothing(
        demo: Demo, tmp_path: Path) -> None:
    importer = demo.reads["select"]["picks"][0]["importer_number"]
    path = write_csv(tmp_path / "entries.csv", ENTRIES_HEADER, [
        ("X26-0000001", importer, "2026-11-20", "11", "6403990000", "VN", "1200.00", "60.00"),
        ("X26-0000002", importer, "2026-11-20", "99", "6403990000", "VN", "1200.00", "60.00"),
        ("X26-0000003", importer, "2026-02-30", "11", "6403990000", "VN", "1200.00", "60.00"),
        ("X26-0000004", importer, "2026-11-20", "11", "6403990000", "XX", "1200.00", "60.00"),
        ("X26-0000005", importer, "2026-11-20", "11", "6403990000", "VN", "-5.00", "60.00"),
    ])
    before = demo.events()
    imported, not_ended = run_together(
        demo.cli, ("import", "entries", str(path)),
        ("select", "--period", "2026", "--capacity", "5", "--open", "--json"))
    assert imported.code == 2, imported
    assert "REJECTED" in imported.out
    for row, column in ((3, "district"), (4, "entry_date"), (5, "origin_country"),
                        (6, "entered_value")):
        assert f"row {row}, column {column}:" in imported.err, imported.err
    assert "row 2," not in imported.err
    assert not_ended.code == 2, not_ended
    assert "period=" in not_ended.err
    assert demo.events() == before
    assert demo.query("SELECT COUNT(*) FROM {entries} WHERE entry_number LIKE 'X26-%'") == [
        (0,)]


# -- a rule's lifecycle on a fresh store -------------------------------------------------

DRAFT = ("--name", "Footwear from Viet Nam", "--condition", "hs_prefix=6403",
         "--condition", "origin=VN", "--channel", "red", "--from", "2026-01-01")


def test_a_rule_is_drafted_approved_published_amended_and_retired(cli: Cli) -> None:
    drafted = cli.ok("rules", "draft", *DRAFT, "--actor", "user:ana", "--reason",
                     "origin pattern", "--json").json()
    number = drafted["number"]
    assert (drafted["state"], drafted["version"], drafted["in_force"]) == ("drafted", 1, None)
    assert drafted["definition"]["conditions"]["hs_prefixes"] == ["6403"]
    assert drafted["definition"]["describe"] == "HS 6403, origin VN"

    own, bad = run_together(
        cli, ("rules", "approve", number, "--actor", "user:ana", "--reason", "mine"),
        ("rules", "draft", "--name", "Bad", "--channel", "red", "--from", "2026-01-01",
         "--condition", "origin=VN", "--condition", "tier=5", "--actor", "user:ana",
         "--reason", "test"))
    assert own.code == 3, own
    assert "ApproverIsNotTheAuthor" in own.err
    assert bad.code == 2, bad
    assert "conditions.tier=" in bad.err

    cli.ok("rules", "approve", number, "--actor", "user:bo", "--reason", "reviewed")
    published = cli.ok("rules", "publish", number, "--actor", "user:bo", "--reason",
                       "in force", "--json").json()
    assert (published["state"], published["in_force_version"]) == ("published", 1)

    amended = cli.ok("rules", "amend", number, "--name", "Footwear from VN and KH",
                     "--condition", "hs_prefix=64", "--condition", "origin=VN,KH",
                     "--channel", "amber", "--from", "2026-02-01", "--to", "2026-12-31",
                     "--district", "24", "--actor", "user:cy", "--reason", "widened",
                     "--json").json()
    assert (amended["state"], amended["version"], amended["in_force_version"]) == (
        "drafted", 2, 1)
    assert amended["in_force"] == published["in_force"]
    assert amended["definition"]["conditions"]["origins"] == ["KH", "VN"]
    assert amended["definition"]["districts"] == ["24"]
    assert amended["definition"]["effective_to"] == "2026-12-31"

    retired = cli.ok("rules", "retire", number, "--actor", "user:bo", "--reason",
                     "pattern gone", "--json").json()
    assert (retired["state"], retired["version"], retired["in_force"]) == ("retired", 2,
                                                                          None)


# -- the national demo's risk figures (same demo) ---------------------------------------------

DEMO_IMPORTERS, DEMO_SAMPLES = 3000, 9000


def test_the_tiers_reproduce_the_seed_value_curve(demo: Demo) -> None:
    tiers = demo.cli.ok("tiers", "--json").json()
    assert [row["tier"] for row in tiers] == [1, 2, 3, 4]
    assert sum(row["importers"] for row in tiers) == DEMO_IMPORTERS
    shares = [row["value_share"] for row in tiers]
    assert shares == pytest.approx([0.50, 0.10, 0.22, 0.18], abs=0.03)
    assert tiers[0]["importers"] < DEMO_IMPORTERS * 0.005


def test_the_ranking_finds_the_planted_importers_far_above_chance(demo: Demo,
                                                                  tmp_path: Path) -> None:
    truth = write_national_files(tmp_path / "truth", year=2026, today=date(2026, 11, 23),
                                 importers=DEMO_IMPORTERS, samples=DEMO_SAMPLES)
    picked = demo.cli.ok("risk", "top", "--by", "likelihood", "--limit", "100",
                         "--json").json()
    hits = sum(1 for row in picked if row["importer_number"] in truth.risky_importers)
    chance = 100 * len(truth.risky_importers) / DEMO_IMPORTERS
    assert hits >= 5 * chance, (hits, chance)
    for row in picked:
        assert "estimated non-compliance" in [f["factor"] for f in row["explanation"]]


def test_the_planted_industries_have_the_lowest_compliance_rates(demo: Demo) -> None:
    rates = demo.cli.ok("rates", "--by", "industry", "--json").json()
    lowest = {row["key"] for row in rates[:4]}
    strongest = {code for code, (_, extra) in PLANTED_AREAS.items() if extra >= 0.08}
    assert strongest <= lowest
    for row in rates:
        assert row["compliance_low"] <= row["compliance_rate"] <= row["compliance_high"]


def test_every_score_is_an_event_the_log_verifies_and_a_rerun_changes_nothing(
        demo: Demo) -> None:
    before = demo.events()
    assert before >= 2 * DEMO_IMPORTERS
    assert "intact" in demo.cli.ok("verify").out
    again = demo.cli.ok("risk", "assess", "--year", "2026", "--json").json()
    assert (again["changed"], again["importers"]) == (0, DEMO_IMPORTERS)
    assert demo.events() == before
