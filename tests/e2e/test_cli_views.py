"""The read-model commands of the real `compliance` executable after a small demo: work
list, register, statistics, audit log, view status and dumps answer in JSON, consistent
with one another and scoped as asked; a bad view name or district is refused with exit 2
naming it, and changes nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.e2e.cli import Cli

ACCOUNTS = 200
VIEW_NAMES = {"worklist", "account_register", "compliance_statistics",
              "enforcement_statistics", "plan_progress", "people", "audit_log"}
MONEY = re.compile(r"^\d+\.\d\d$")


@dataclass
class Loaded:
    cli: Cli
    events: int
    dump: dict[str, dict[str, list[list[Any]]]]

    def json(self, *args: str) -> Any:
        return self.cli.ok(*args, "--json").json()


@pytest.fixture(scope="module", params=[
    "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def loaded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    """One demo per store for the whole module (the commands below only read)."""
    root = tmp_path_factory.mktemp(f"views-{request.param}")
    schema = None
    if request.param == "sqlite":
        cli = Cli({"COMPLIANCE_SQLITE_PATH": str(root / "var" / "compliance.db")})
    else:
        url = request.getfixturevalue("postgres_url")
        schema = f"e2e_{uuid.uuid4().hex[:12]}"
        cli = Cli({"COMPLIANCE_DATABASE_URL": url, "COMPLIANCE_POSTGRES_SCHEMA": schema,
                   "COMPLIANCE_SEAL_KEY": str(root / "seal.key")})
    # ends a month ago, so that some due dates have passed by the real today
    cli.ok("demo", "--accounts", str(ACCOUNTS), "--seed", "5",
           "--today", (date.today() - timedelta(days=30)).isoformat())
    try:
        yield Loaded(cli, cli.events(), cli.ok("views", "dump").json())
    finally:
        if schema is not None:
            with psycopg.connect(request.getfixturevalue("postgres_url"),
                                 autocommit=True) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)))


def utc_today() -> date:
    return datetime.now(UTC).date()


def test_views_status_shows_every_view_current_after_the_demo(loaded: Loaded) -> None:
    status = loaded.json("views", "status")
    assert {row["view"] for row in status} == VIEW_NAMES
    assert all((row["position"], row["behind"]) == (loaded.events, 0) for row in status)
    text = loaded.cli.ok("views", "status").out
    assert "7 row(s)" in text


def test_views_dump_prints_every_table_of_the_named_views(loaded: Loaded) -> None:
    assert set(loaded.dump) == VIEW_NAMES
    assert len(loaded.dump["audit_log"]["al_events"]) == loaded.events
    assert len(loaded.dump["account_register"]["ar_accounts"]) == ACCOUNTS
    some = loaded.cli.ok("views", "dump", "worklist", "audit_log").json()
    assert some == {"worklist": loaded.dump["worklist"], "audit_log": loaded.dump["audit_log"]}


def test_the_worklist_lists_open_cases_with_days_overdue_against_today(loaded: Loaded) -> None:
    before = utc_today()
    rows = loaded.json("worklist")
    after = utc_today()
    open_cases = [r for r in loaded.dump["worklist"]["wl_cases"] if r[-1] == "0"]
    assert len(rows) == len(open_cases) > 0
    for row in rows:
        due = date.fromisoformat(row["due_on"]) if row["due_on"] else None
        assert row["days_overdue"] in {0 if due is None else max(0, (today - due).days)
                                       for today in (before, after)}, row
    assert any(row["days_overdue"] > 0 for row in rows)
    text = loaded.cli.ok("worklist").out
    assert f"{len(rows)} row(s)" in text

    district = rows[0]["district"]
    in_district = loaded.json("worklist", "--district", district)
    assert in_district == [r for r in rows if r["district"] == district]
    officer = next(r["officer"] for r in rows if r["officer"])
    assert loaded.json("worklist", "--officer", officer) == [
        r for r in rows if r["officer"] == officer]


def test_the_due_list_and_the_overdue_list_agree(loaded: Loaded) -> None:
    due = loaded.json("worklist", "--due")
    overdue = loaded.json("worklist", "--overdue")
    assert due
    assert overdue
    assert {r["item"] for r in overdue} == {r["item"] for r in due if r["days_overdue"] > 0}
    assert [r["due_on"] for r in due] == sorted(r["due_on"] for r in due)
    district = overdue[0]["district"]
    assert loaded.json("worklist", "--overdue", "--district", district) == [
        r for r in overdue if r["district"] == district]


def test_the_register_lists_every_importer_scoped_by_district_and_number(
        loaded: Loaded) -> None:
    rows = loaded.json("register")
    assert len(rows) == ACCOUNTS
    assert sum(r["open_cases"] for r in rows) == len(
        [r for r in loaded.dump["worklist"]["wl_cases"] if r[-1] == "0"])
    assert all(r["annual_value"] is None or MONEY.match(r["annual_value"]) for r in rows)
    assert loaded.json("register", "--limit", "5") == rows[:5]
    number = rows[7]["importer_number"]
    assert loaded.json("register", "--importer", number.lower()) == [rows[7]]
    district = rows[7]["district"]
    assert loaded.json("register", "--district", district) == [
        r for r in rows if r["district"] == district]


def test_compliance_statistics_add_up_the_findings_in_every_grouping(loaded: Loaded) -> None:
    findings = loaded.dump["compliance_statistics"]["cs_findings"]
    lines = sum(int(row[6]) for row in findings)
    assert lines > 0
    for grouping in ("area", "industry", "district", "period", "source"):
        rows = loaded.json("stats", "compliance", "--by", grouping)
        assert sum(r["lines_tested"] for r in rows) == lines, grouping
        assert sum(r["findings"] for r in rows) == len(findings), grouping
        assert all(MONEY.match(r["revenue_loss"]) for r in rows)
    by_district = {r["district"]: r for r in loaded.json("stats", "compliance", "--by",
                                                         "district")}
    district = sorted(by_district)[0]
    assert loaded.json("stats", "compliance", "--by", "district", "--district", district) == [
        by_district[district]]


def test_enforcement_and_plan_statistics_count_every_action_and_plan(loaded: Loaded) -> None:
    enforcement = loaded.json("stats", "enforcement")
    assert sum(r["actions"] for r in enforcement) == len(
        loaded.dump["enforcement_statistics"]["es_actions"]) > 0
    for row in enforcement:
        assert all(MONEY.match(row[k]) for k in ("proposed", "decided", "paid")), row
    plans = loaded.json("stats", "plans")
    assert {r["plan_number"] for r in plans} == {
        row[1] for row in loaded.dump["plan_progress"]["pp_plans"]}
    assert all(0 <= r["completed"] <= r["actions"] for r in plans)
    district = plans[0]["district"]
    assert loaded.json("stats", "plans", "--district", district) == [
        r for r in plans if r["district"] == district]


def test_the_audit_log_is_searched_by_case_actor_and_period(loaded: Loaded) -> None:
    case = sorted(row[1] for row in loaded.dump["worklist"]["wl_cases"])[0]
    rows = loaded.json("audit", "--case", case)
    assert rows
    assert {r["case_ref"] for r in rows} == {case}
    assert rows[0]["event"] in {"Opened", "Drafted", "Proposed", "Scheduled"}
    assert [r["notification_id"] for r in rows] == sorted(r["notification_id"] for r in rows)
    actor = rows[-1]["actor"]
    by_actor = loaded.json("audit", "--actor", actor, "--limit", "5")
    assert 0 < len(by_actor) <= 5
    assert {r["actor"] for r in by_actor} == {actor}
    moment = rows[-1]["recorded_at"]
    since = loaded.json("audit", "--case", case, "--since", moment)
    until = loaded.json("audit", "--case", case, "--until", moment)
    assert until + since == rows
    assert since
    assert all(r["recorded_at"] >= moment for r in since)
    assert all(r["recorded_at"] < moment for r in until)


@pytest.mark.parametrize(("args", "named"), [
    (("rebuild", "nosuch"), "nosuch"),
    (("rebuild", "worklist", "audit-log"), "audit-log"),
    (("views", "dump", "worklist", "nosuch"), "nosuch"),
    (("project", "--once", "ghosts"), "ghosts"),
    (("worklist", "--district", "99"), "district='99'"),
    (("worklist", "--due", "--district", "0"), "district='0'"),
    (("register", "--district", "43"), "district='43'"),
    (("stats", "compliance", "--district", "eleven"), "district='eleven'"),
    (("stats", "enforcement", "--district", "00"), "district='00'"),
    (("stats", "plans", "--district", "4x"), "district='4x'"),
])
def test_an_unknown_view_or_district_is_refused_with_exit_2_naming_it(
        loaded: Loaded, args: tuple[str, ...], named: str) -> None:
    result = loaded.cli(*args)
    assert result.code == 2, (args, result.code, result.err)
    assert named in result.err
    assert "invalid input" in result.err
    assert result.out == ""
    if args[0] in ("rebuild", "project"):
        assert loaded.cli.ok("views", "dump").json() == loaded.dump  # nothing changed
