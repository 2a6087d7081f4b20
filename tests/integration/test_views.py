"""The read models on the real databases: a view kept current from the log holds exactly
what a view rebuilt from scratch holds and what the cases replayed from the log say; the
queries are scoped by district and compute what they claim; a live runner picks up new
commands; two runners of one view apply every event exactly once; an event a view cannot
handle stops it at that event and, once fixed, it resumes there without skipping any."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.utils import _topic_cache, register_topic
from psycopg import sql

from application.compliance_cases import CASE_TYPES, ComplianceCases
from application.log_replay import replay
from domain.assessment import FINAL_STATES, Assessment
from domain.base import CaseAggregate
from domain.enforcement_action import ENFORCEMENT_FINAL_STATES, EnforcementAction
from domain.errors import InvalidValueError
from domain.follow_up_verification import VERIFICATION_FINAL_STATES, FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import PLAN_FINAL_STATES, ImprovementPlan
from domain.reference import DISTRICTS
from infrastructure.settings import Settings, load_settings
from infrastructure.stores import postgres_conninfo
from interfaces.composition import build_application, initialise_store
from interfaces.demo_population import DemoClock, DemoSummary, generate
from projections import queries
from projections.catalogue import VIEWS
from projections.runner import ProjectionFailedError
from projections.stores import ViewStore
from projections.view import View
from projections.views.account_register import AccountRegister
from projections.views.audit_log import AuditLog
from projections.worker import Projections
from tests.builders import (
    ACTOR,
    ENFORCER,
    OFFICER,
    SUPERVISOR,
    FakeClock,
    evidence,
    propose_penalty,
    record_retests,
    register_importer,
    retest,
    walk_assessment,
    walk_enforcement,
    walk_plan,
    walk_to_findings,
)
from tests.conftest import drop_schema, unique_schema

DEMO_TODAY = date(2026, 11, 1)
FOLLOW_TIMEOUT_S = 10.0


# -- helpers ------------------------------------------------------------------------------


def load_demo(app: ComplianceCases, *, accounts: int = 300, seed: int = 11,
              on_assessment: Callable[[], None] | None = None) -> DemoSummary:
    """The demo population (as `compliance demo` loads it) driven through `app`."""
    clock = DemoClock(app.clock())
    app.clock = clock
    return generate(app, clock, accounts=accounts, seed=seed, today=DEMO_TODAY,
                    on_assessment=on_assessment)


def dump_all(store: ViewStore) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    return {view.name: store.dump(view) for view in VIEWS.values()}


def rebuilt_dumps(projections: Projections) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Every view rebuilt from the whole log, then dumped."""
    for view in VIEWS.values():
        projections.rebuild(view)
    return dump_all(projections.store)


def differences(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Per view and table, the rows only on one side (for a readable failure)."""
    found: dict[str, Any] = {}
    for view in sorted(set(left) | set(right)):
        for table in sorted(set(left.get(view, {})) | set(right.get(view, {}))):
            a = Counter(left.get(view, {}).get(table, []))
            b = Counter(right.get(view, {}).get(table, []))
            if a != b:
                found[f"{view}.{table}"] = {"only_left": list((a - b).elements())[:5],
                                            "only_right": list((b - a).elements())[:5]}
    return found


def wait_until(condition: Callable[[], bool], timeout: float = FOLLOW_TIMEOUT_S,
               what: str = "condition", state: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s {state()}")
        time.sleep(0.05)


def positions(projections: Projections) -> dict[str, int]:
    return {view.name: projections.store.position(view) or 0 for view in VIEWS.values()}


def all_current(projections: Projections) -> bool:
    newest = projections.app.recorder.max_notification_id() or 0
    return all(position == newest for position in positions(projections).values())


class RawLog:
    """The events table itself, read and written with plain SQL (no library code)."""

    def __init__(self, app: ComplianceCases, settings: Settings) -> None:
        self.table = app.recorder.events_table_name  # type: ignore[attr-defined]
        self.settings = settings
        self.is_sqlite = settings.database_url is None

    def notification_ids(self) -> list[int]:
        if self.is_sqlite:
            with closing(sqlite3.connect(self.settings.sqlite_path, timeout=30)) as conn:
                return [int(row[0]) for row in conn.execute(
                    f"SELECT rowid FROM {self.table} ORDER BY rowid")]
        with psycopg.connect(postgres_conninfo(self.settings)) as conn:
            return [int(row[0]) for row in conn.execute(sql.SQL(
                "SELECT notification_id FROM {} ORDER BY notification_id").format(
                    sql.Identifier(self.settings.postgres_schema, self.table)))]

    def insert(self, originator_id: UUID, version: int, topic: str, state: bytes) -> int:
        """Inserts one row and returns its notification id."""
        if self.is_sqlite:
            with closing(sqlite3.connect(self.settings.sqlite_path, timeout=30)) as conn, conn:
                cursor = conn.execute(
                    f"INSERT INTO {self.table} (originator_id, originator_version, topic, "
                    "state) VALUES (?, ?, ?, ?)", (originator_id.hex, version, topic, state))
                assert cursor.lastrowid is not None
                return int(cursor.lastrowid)
        with psycopg.connect(postgres_conninfo(self.settings)) as conn:
            row = conn.execute(sql.SQL(
                "INSERT INTO {} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s) RETURNING notification_id").format(
                    sql.Identifier(self.settings.postgres_schema, self.table)),
                (originator_id, version, topic, state)).fetchone()
            assert row is not None
            return int(row[0])


def audit_ids(store: ViewStore) -> list[int]:
    return [int(row[0]) for row in store.rows(
        f"SELECT notification_id FROM {store.qualified('al_events')} ORDER BY notification_id")]


@pytest.fixture
def projections(app: ComplianceCases) -> Projections:
    return Projections(app)


# -- 1. caught-up views equal rebuilt views and agree with the cases -----------------------


def test_every_view_caught_up_after_a_demo_dumps_identically_to_the_view_rebuilt_from_scratch(
        app: ComplianceCases, projections: Projections) -> None:
    summary = load_demo(app)

    applied = projections.catch_up()

    assert applied["audit_log"] == summary.events  # the audit log sees every event
    assert all(applied[view] > 0 for view in VIEWS), applied
    assert positions(projections) == dict.fromkeys(VIEWS, summary.events)
    caught_up = dump_all(projections.store)
    for view, tables in caught_up.items():  # the demo exercised every table
        assert all(rows for rows in tables.values()), (view, {t: len(r) for t, r in
                                                              tables.items()})
    rebuilt = rebuilt_dumps(projections)
    assert differences(caught_up, rebuilt) == {}
    assert caught_up == rebuilt
    assert positions(projections) == dict.fromkeys(VIEWS, summary.events)


def test_views_caught_up_in_many_small_steps_while_the_demo_runs_equal_views_built_in_one_pass(
        app: ComplianceCases, projections: Projections) -> None:
    steps = {"count": 0}

    def catch_up_now_and_then() -> None:
        steps["count"] += 1
        if steps["count"] % 4 == 0:
            projections.catch_up()

    load_demo(app, on_assessment=catch_up_now_and_then)
    projections.catch_up()

    incremental = dump_all(projections.store)
    assert differences(incremental, rebuilt_dumps(projections)) == {}


CASE_KINDS = {Assessment: "assessment", ImprovementPlan: "improvement_plan",
              EnforcementAction: "enforcement_action",
              FollowUpVerification: "follow_up_verification"}
FINAL: dict[type, tuple[Any, ...]] = {
    Assessment: FINAL_STATES, ImprovementPlan: PLAN_FINAL_STATES,
    EnforcementAction: ENFORCEMENT_FINAL_STATES,
    FollowUpVerification: VERIFICATION_FINAL_STATES}


def cents_text(amount: Decimal | None) -> str:
    return f"{amount or Decimal(0):.2f}"


def test_the_views_agree_with_the_cases_replayed_from_the_log(
        app: ComplianceCases, projections: Projections) -> None:
    load_demo(app)
    projections.catch_up()
    store = projections.store
    aggregates = list(replay(app.recorder, app.mapper, CASE_TYPES).values())
    accounts = [a for a in aggregates if isinstance(a, ImporterAccount)]
    cases = [a for a in aggregates if not isinstance(a, ImporterAccount)]
    open_cases = [c for c in cases if c.state not in FINAL[type(c)]]

    # the account register: one row per importer, as the account says
    register = {row["importer_number"]: row for row in queries.account_register(store)}
    assert set(register) == {a.importer_number for a in accounts}
    open_per_importer = Counter(c.importer_number for c in open_cases)
    for account in accounts:
        row = register[account.importer_number]
        assert (row["district"], row["industry"], row["tier"], row["status"],
                row["compliance_class"], row["manager"], row["partnerships"],
                row["annual_value"], row["open_cases"]) == (
            account.district, account.industry, account.tier, account.status.value,
            account.compliance_class.value if account.compliance_class else None,
            account.account_manager, sorted(str(p) for p in account.partnerships),
            None if account.annual_value is None else f"{account.annual_value:.2f}",
            open_per_importer[account.importer_number]), account.importer_number
    assert sum(row["open_cases"] for row in register.values()) == len(open_cases) > 0

    # the work list: exactly the open cases, in their current state
    worklist = queries.worklist(store, DEMO_TODAY)
    assert sorted((r["number"], r["kind"], r["state"], r["district"]) for r in worklist) == \
        sorted((c.number, CASE_KINDS[type(c)], c.state.value, c.district) for c in open_cases)

    # due items: open plan actions and re-tests of open cases, with their due dates
    due = {(r["kind"], r["case_number"], r["due_on"]) for r in
           queries.due_items(store, DEMO_TODAY) if r["kind"] in ("plan_action", "verification")}
    expected_due = {("plan_action", c.number, action.due_on.isoformat())
                    for c in open_cases if isinstance(c, ImprovementPlan)
                    for action in c.actions if not action.is_completed}
    expected_due |= {("verification", c.number, c.due_on.isoformat())
                     for c in open_cases if isinstance(c, FollowUpVerification)}
    assert due == expected_due
    responses = {r["case_number"] for r in queries.due_items(store, DEMO_TODAY)
                 if r["kind"] == "enforcement_response"}
    assert responses == {c.number for c in open_cases if isinstance(c, EnforcementAction)
                         and c.state.value in ("issued", "penalty_notice_issued")
                         and c.response_due_on is not None}

    # plan progress: every plan with its actions
    plans = [c for c in cases if isinstance(c, ImprovementPlan)]
    assert sorted((r["plan_number"], r["state"], r["actions"], r["completed"])
                  for r in queries.plan_progress(store, DEMO_TODAY)) == sorted(
        (p.number, p.state.value, len(p.actions), sum(a.is_completed for a in p.actions))
        for p in plans)

    # enforcement statistics: counts and amounts per kind and state
    actions = [c for c in cases if isinstance(c, EnforcementAction)]
    expected: dict[tuple[str, str], list[Any]] = defaultdict(
        lambda: [0, Decimal(0), Decimal(0), Decimal(0)])
    for action in actions:
        totals = expected[(action.kind.value, action.state.value)]
        totals[0] += 1
        for index, amount in ((1, action.proposed_amount), (2, action.decided_amount),
                              (3, action.paid_amount)):
            totals[index] += amount or Decimal(0)
    assert {(r["kind"], r["state"]): [r["actions"], r["proposed"], r["decided"], r["paid"]]
            for r in queries.enforcement_statistics(store)} == {
        key: [count, cents_text(p), cents_text(d), cents_text(paid)]
        for key, (count, p, d, paid) in expected.items()}

    # compliance statistics: the findings of assessments and concluded verifications
    findings = [(c, f) for c in cases if isinstance(c, Assessment | FollowUpVerification)
                for f in (c.findings or ())]
    by_area: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0), 0])
    for _, finding in findings:
        totals = by_area[finding.area.value]
        totals[0] += finding.lines_tested
        totals[1] += finding.discrepancies
        totals[2] += finding.revenue_loss
        totals[3] += 1
    assert {r["area"]: [r["lines_tested"], r["discrepancies"], r["revenue_loss"],
                        r["findings"]] for r in queries.compliance_statistics(store)} == {
        area: [lines, errors, f"{loss:.2f}", count]
        for area, (lines, errors, loss, count) in by_area.items()}
    by_source = Counter()
    for case, finding in findings:
        by_source["assessment" if isinstance(case, Assessment) else "verification"] += \
            finding.lines_tested
    assert {r["source"]: r["lines_tested"] for r in
            queries.compliance_statistics(store, by="source")} == dict(by_source)


def test_a_district_query_returns_only_that_districts_rows_and_the_national_query_all(
        app: ComplianceCases, projections: Projections) -> None:
    load_demo(app)
    projections.catch_up()
    store = projections.store

    def scoped(query: Callable[..., list[dict[str, Any]]], key: str = "district",
               ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        national = query(None)
        per_district = {d: query(d) for d in DISTRICTS}
        for district, rows in per_district.items():
            assert all(row[key] == district for row in rows), (query, district)
        return national, per_district

    def rows_of(per_district: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return [row for rows in per_district.values() for row in rows]

    def same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
        return sorted(map(repr, a)) == sorted(map(repr, b))

    national, per_district = scoped(lambda d: queries.worklist(store, DEMO_TODAY, district=d))
    assert national
    assert same_rows(national, rows_of(per_district))
    assert len([d for d, rows in per_district.items() if rows]) > 5
    national, per_district = scoped(lambda d: queries.due_items(store, DEMO_TODAY, district=d))
    assert national
    assert same_rows(national, rows_of(per_district))
    national, register = scoped(lambda d: queries.account_register(store, district=d))
    assert len(national) == 300
    assert same_rows(national, rows_of(register))
    national, per_district = scoped(lambda d: queries.plan_progress(store, DEMO_TODAY,
                                                                    district=d))
    assert national
    assert same_rows(national, rows_of(per_district))
    # district codes are normalised as everywhere else: "3" is district 03
    assert queries.account_register(store, district="3") == register["03"] != []

    # statistics: the per-district figures add up to the national ones
    by_district = {r["district"]: r for r in
                   queries.compliance_statistics(store, by="district")}
    for district in DISTRICTS:
        rows = queries.compliance_statistics(store, by="district", district=district)
        assert rows == ([by_district[district]] if district in by_district else [])
    national_areas = queries.compliance_statistics(store)
    lines = Counter()
    for district in DISTRICTS:
        for row in queries.compliance_statistics(store, district=district):
            lines[row["area"]] += row["lines_tested"]
    assert lines == Counter({row["area"]: row["lines_tested"] for row in national_areas})
    national_enforcement = queries.enforcement_statistics(store)
    actions = Counter()
    for district in DISTRICTS:
        for row in queries.enforcement_statistics(store, district=district):
            actions[(row["kind"], row["state"])] += row["actions"]
    assert actions == Counter({(r["kind"], r["state"]): r["actions"]
                               for r in national_enforcement})

    for query in (lambda: queries.worklist(store, DEMO_TODAY, district="43"),
                  lambda: queries.due_items(store, DEMO_TODAY, district="00"),
                  lambda: queries.account_register(store, district="nowhere"),
                  lambda: queries.compliance_statistics(store, district="99"),
                  lambda: queries.enforcement_statistics(store, district="4 2"),
                  lambda: queries.plan_progress(store, DEMO_TODAY, district="")):
        with pytest.raises(InvalidValueError, match="district"):
            query()


# -- 1b. what each query computes, on small hand-made cases --------------------------------


def test_worklist_days_overdue_are_counted_against_the_date_asked_for(
        app: ComplianceCases, clock: FakeClock, projections: Projections) -> None:
    importer = register_importer(app, district="11")
    assessment, result = walk_to_findings(app, importer, clock=clock)
    plan = result.plan_number
    assert plan is not None
    proposal_due = app.get_plan(plan).proposal_due_on
    projections.catch_up()

    def plan_row(today: date) -> dict[str, Any]:
        rows = [r for r in queries.worklist(projections.store, today) if r["number"] == plan]
        assert len(rows) == 1
        return rows[0]

    assert plan_row(proposal_due - timedelta(days=3))["days_overdue"] == 0
    assert plan_row(proposal_due)["days_overdue"] == 0
    assert plan_row(proposal_due + timedelta(days=1))["days_overdue"] == 1
    assert plan_row(proposal_due + timedelta(days=40))["days_overdue"] == 40
    assert plan_row(proposal_due)["due_on"] == proposal_due.isoformat()
    # a case without a due date is never overdue
    opened = [r for r in queries.worklist(projections.store, proposal_due + timedelta(days=999))
              if r["number"] == assessment]
    assert opened[0]["due_on"] is None
    assert opened[0]["days_overdue"] == 0
    # the proposal is a due item, overdue only after its date
    items = queries.due_items(projections.store, proposal_due + timedelta(days=5))
    assert [(i["kind"], i["days_overdue"]) for i in items if i["case_number"] == plan] == [
        ("plan_proposal", 5)]
    assert [i for i in queries.due_items(projections.store, proposal_due, overdue_only=True)
            if i["case_number"] == plan] == []
    assert len([i for i in queries.due_items(projections.store,
                                             proposal_due + timedelta(days=1),
                                             overdue_only=True)
                if i["case_number"] == plan]) == 1
    # the officer filter
    assert {r["number"] for r in queries.worklist(projections.store, proposal_due,
                                                  officer=OFFICER)} >= {assessment}
    # once the proposal is submitted, its date no longer dates the plan: its actions' do
    walk_plan(app, plan, "submitted", clock=clock)
    projections.catch_up()
    action_due = min(a.due_on for a in app.get_plan(plan).actions)
    assert action_due != proposal_due
    today = proposal_due + timedelta(days=5)
    submitted = plan_row(today)
    assert (submitted["due_on"], submitted["days_overdue"]) == (
        action_due.isoformat(), max(0, (today - action_due).days))


def test_the_due_items_of_a_plan_action_appear_and_disappear_when_completed(
        app: ComplianceCases, clock: FakeClock, projections: Projections) -> None:
    importer = register_importer(app, district="20")
    _, result = walk_to_findings(app, importer, clock=clock)
    plan = result.plan_number
    assert plan is not None
    projections.catch_up()

    def open_items() -> list[tuple[str, str]]:
        projections.catch_up()
        return sorted((r["kind"], r["due_on"]) for r in
                      queries.due_items(projections.store, clock().date(), district="20")
                      if r["case_number"] == plan)

    proposal_due = app.get_plan(plan).proposal_due_on.isoformat()
    assert open_items() == [("plan_proposal", proposal_due)]
    due = clock().date() + timedelta(days=30)
    first = app.add_plan_action(plan, area="value", description="retrain the valuation desk",
                                owner="user:importer.broker", due_on=due, actor=ACTOR,
                                reason="corrective action proposed")
    second = app.add_plan_action(plan, area="value", description="audit related-party prices",
                                 owner="user:importer.broker", due_on=due + timedelta(days=10),
                                 actor=ACTOR, reason="corrective action proposed")
    assert open_items() == [("plan_action", due.isoformat()),
                            ("plan_action", (due + timedelta(days=10)).isoformat()),
                            ("plan_proposal", proposal_due)]
    app.submit_plan(plan, actor=ACTOR, reason="importer proposal received")
    assert open_items() == [("plan_action", due.isoformat()),
                            ("plan_action", (due + timedelta(days=10)).isoformat())]
    app.approve_plan(plan, actor=SUPERVISOR, reason="actions address the findings")
    clock.advance(timedelta(days=2))
    app.complete_plan_action(plan, first, evidence=evidence("training record"),
                             completed_on=clock().date(), actor=ACTOR, reason="evidence in")
    assert open_items() == [("plan_action", (due + timedelta(days=10)).isoformat())]
    assert [(r["actions"], r["completed"]) for r in
            queries.plan_progress(projections.store, clock().date(), district="20")] == [(2, 1)]
    app.complete_plan_action(plan, second, evidence=evidence("price audit"),
                             completed_on=clock().date(), actor=ACTOR, reason="evidence in")
    assert open_items() == []
    assert [(r["actions"], r["completed"], r["overdue"]) for r in
            queries.plan_progress(projections.store, due + timedelta(days=60),
                                  district="20")] == [(2, 2, 0)]


def test_a_response_no_longer_awaited_leaves_the_due_items_once_the_action_is_decided(
        app: ComplianceCases, clock: FakeClock, projections: Projections) -> None:
    importer = register_importer(app, district="07")
    number = propose_penalty(app, importer)
    walk_enforcement(app, number, "penalty_notice_issued", clock=clock)
    projections.catch_up()
    responses = [r for r in queries.due_items(projections.store, clock().date())
                 if r["case_number"] == number]
    assert [r["kind"] for r in responses] == ["enforcement_response"]

    # no reply came: the officer decides without one (allowed from the penalty notice)
    clock.advance(timedelta(days=45))
    app.decide_enforcement(number, "1200.00", actor=SUPERVISOR, reason="no reply received")
    projections.catch_up()

    assert [r for r in queries.due_items(projections.store, clock().date())
            if r["case_number"] == number] == []
    assert differences(dump_all(projections.store), rebuilt_dumps(projections)) == {}


def test_the_account_register_counts_open_cases_up_and_down(
        app: ComplianceCases, clock: FakeClock, projections: Projections) -> None:
    importer = register_importer(app, district="15", industry="61")

    def register_row() -> dict[str, Any]:
        projections.catch_up()
        rows = queries.account_register(projections.store, importer_number=importer.lower())
        assert len(rows) == 1
        return rows[0]

    assert register_row()["open_cases"] == 0
    assessment, result = walk_to_findings(app, importer, clock=clock)
    row = register_row()
    assert row["open_cases"] == 2  # the assessment and the plan its findings drafted
    assert row["last_assessment"] == assessment
    assert row["last_assessment_on"] == clock().date().isoformat()
    app.close_assessment(assessment, actor=ACTOR, reason="findings accepted")
    assert register_row()["open_cases"] == 1
    penalty = propose_penalty(app, importer)
    assert register_row()["open_cases"] == 2
    app.withdraw_enforcement(penalty, actor=ENFORCER, reason="facts do not hold")
    assert register_row()["open_cases"] == 1
    plan = result.plan_number
    assert plan is not None
    verification = walk_plan(app, plan, clock=clock)
    assert verification is not None
    assert register_row()["open_cases"] == 2  # the plan and its follow-up verification
    record_retests(app, verification, effective=True, clock=clock)
    app.conclude_verification(verification, actor=OFFICER, reason="re-tests complete")
    assert app.get_plan(plan).state.value == "closed_effective"
    assert register_row()["open_cases"] == 0
    app.suspend_importer(importer, actor=ACTOR, reason="unpaid duty")
    assert register_row()["status"] == "suspended"
    assert [r["importer_number"] for r in queries.account_register(
        projections.store, district="15")] == [importer]
    assert queries.account_register(projections.store, district="16") == []


def test_compliance_statistics_sum_the_lines_of_the_findings(
        app: ComplianceCases, clock: FakeClock, projections: Projections) -> None:
    north = register_importer(app, district="11", industry="73")
    south = register_importer(app, district="20", industry="61")
    first = walk_assessment(app, north, "findings_issued", clock=clock)   # value, class.
    second = walk_assessment(app, south, "findings_issued", clock=clock)
    walk_assessment(app, register_importer(app, district="20"), "testing", clock=clock)
    projections.catch_up()
    store = projections.store

    rows = {r["area"]: r for r in queries.compliance_statistics(store)}
    assert set(rows) == {"value", "classification"}
    for area in ("value", "classification"):  # two findings of 200 lines, 2 errors each
        assert rows[area] == {"area": area, "lines_tested": 400, "discrepancies": 4,
                              "compliance_rate": 0.99, "revenue_loss": "240.50",
                              "findings": 2}
    findings = [*app.get_assessment(first).findings, *app.get_assessment(second).findings]
    assert sum(r["lines_tested"] for r in rows.values()) == sum(
        f.lines_tested for f in findings) == 800
    assert {r["district"]: r["lines_tested"] for r in
            queries.compliance_statistics(store, by="district")} == {"11": 400, "20": 400}
    assert {r["industry"]: r["discrepancies"] for r in
            queries.compliance_statistics(store, by="industry")} == {"61": 4, "73": 4}
    assert [(r["period"], r["findings"]) for r in
            queries.compliance_statistics(store, by="period")] == [
        (clock().strftime("%Y-%m"), 4)]
    assert [r["lines_tested"] for r in
            queries.compliance_statistics(store, district="20")] == [200, 200]
    assert queries.compliance_statistics(store, district="30") == []

    # a follow-up verification's re-tests count as their own source
    _, result = walk_to_findings(app, register_importer(app, district="11", industry="73"),
                                 clock=clock)
    assert result.plan_number is not None
    verification = walk_plan(app, result.plan_number, clock=clock)
    assert verification is not None
    record_retests(app, verification, effective=False, clock=clock)
    app.conclude_verification(verification, actor=OFFICER, reason="re-tests complete")
    projections.catch_up()
    retests = app.get_verification(verification).findings
    by_source = {r["source"]: r for r in queries.compliance_statistics(store, by="source")}
    assert by_source["verification"]["lines_tested"] == sum(
        f.lines_tested for f in retests) == retest("value", effective=False).lines_tested
    assert by_source["verification"]["revenue_loss"] == "300.00"
    assert differences(dump_all(store), rebuilt_dumps(projections)) == {}


def test_enforcement_statistics_carry_amounts_as_exact_cents_rendered_as_strings(
        app: ComplianceCases, clock: FakeClock, projections: Projections) -> None:
    importer = register_importer(app, district="11")
    paid = propose_penalty(app, importer, amount="1999.99")
    clock.advance(timedelta(days=10))
    walk_enforcement(app, paid, "decided", decided_amount="1234.57", clock=clock)
    app.record_payment(paid, "1234.57", clock().date(), actor=ENFORCER,
                       reason="payment received")
    withdrawn = propose_penalty(app, importer, amount="0.01")
    app.withdraw_enforcement(withdrawn, actor=ENFORCER, reason="facts do not hold")
    propose_penalty(app, register_importer(app, district="12"), amount="1000.10")
    projections.catch_up()

    rows = queries.enforcement_statistics(projections.store)
    assert rows == [
        {"kind": "penalty", "state": "paid", "actions": 1, "proposed": "1999.99",
         "decided": "1234.57", "paid": "1234.57", "mean_days_to_decision": 10.0},
        {"kind": "penalty", "state": "proposed", "actions": 1, "proposed": "1000.10",
         "decided": "0.00", "paid": "0.00", "mean_days_to_decision": None},
        {"kind": "penalty", "state": "withdrawn", "actions": 1, "proposed": "0.01",
         "decided": "0.00", "paid": "0.00", "mean_days_to_decision": None},
    ]
    assert [r["state"] for r in
            queries.enforcement_statistics(projections.store, district="12")] == ["proposed"]
    assert all(isinstance(r[k], str) for r in rows for k in ("proposed", "decided", "paid"))
    cents = projections.store.rows(
        f"SELECT proposed_cents, decided_cents, paid_cents FROM "
        f"{projections.store.qualified('es_actions')} WHERE number = ?", [paid])
    assert [tuple(int(v) for v in row) for row in cents] == [(199999, 123457, 123457)]


def test_the_audit_log_is_searched_by_actor_case_and_period(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        projections: Projections) -> None:
    importer = register_importer(app)
    start = clock()
    first = walk_assessment(app, importer, "surveyed", clock=clock)   # 3 events
    clock.advance(timedelta(days=1))
    middle = clock()
    second = walk_assessment(app, register_importer(app), "assigned", clock=clock)
    clock.advance(timedelta(days=1))
    app.cancel_assessment(second, actor="user:supervisor.x", reason="opened in error")
    projections.catch_up()
    everything = queries.audit_log(projections.store, limit=10_000)
    assert [r["notification_id"] for r in everything] == RawLog(app, store).notification_ids()
    views = projections.store

    by_case = queries.audit_log(views, case=first)
    assert [(r["event"], r["actor"]) for r in by_case] == [
        ("Opened", ACTOR), ("OfficerAssigned", ACTOR), ("SurveyRecorded", OFFICER)]
    assert {r["aggregate"] for r in by_case} == {"Assessment"}
    assert by_case[0]["reason"] == "selected by risk profile"
    assert len(by_case) == app.get_assessment(first).version
    assert [r["event"] for r in queries.audit_log(views, case=f" {second} ")] == [
        "Opened", "OfficerAssigned", "Cancelled"]
    assert [r["event"] for r in queries.audit_log(views, case=importer)] [:1] == ["Registered"]

    by_actor = queries.audit_log(views, actor="user:supervisor.x")
    assert [(r["case_ref"], r["event"]) for r in by_actor] == [(second, "Cancelled")]
    assert {r["actor"] for r in queries.audit_log(views, actor=OFFICER)} == {OFFICER}
    assert [r["case_ref"] for r in queries.audit_log(views, actor=OFFICER)] == [first]

    after_middle = queries.audit_log(views, since=middle.isoformat())
    assert after_middle
    assert all(r["recorded_at"] >= middle.isoformat() for r in after_middle)
    assert second in {r["case_ref"] for r in after_middle}
    assert first not in {r["case_ref"] for r in after_middle}
    before_middle = queries.audit_log(views, since=start.isoformat(), until=middle.isoformat(),
                                      limit=10_000)
    assert len(before_middle) + len(after_middle) == len(everything)
    assert queries.audit_log(views, actor=ACTOR, case=second, since=middle.isoformat()) == [
        r for r in queries.audit_log(views, case=second) if r["actor"] == ACTOR]
    assert len(queries.audit_log(views, limit=2)) == 2


# -- 2. live following, and two runners at once -------------------------------------------


def test_a_runner_following_live_picks_up_commands_made_after_it_started(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    walk_assessment(app, register_importer(app), "assigned", clock=clock)
    follower = Projections(make_app())
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            follower.follow(stop)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        wait_until(lambda: all_current(follower), what="the initial catch-up")
        importer = register_importer(app, district="33")
        assessment, result = walk_to_findings(app, importer, clock=clock)
        app.set_compliance_class(importer, "b", actor=ACTOR, reason="annual review")
        newest = app.recorder.max_notification_id()

        wait_until(lambda: all(p == newest for p in positions(follower).values()),
                   what=f"every view at notification {newest}",
                   state=lambda: positions(follower))
        store = follower.store
        [row] = queries.account_register(store, importer_number=importer)
        assert (row["open_cases"], row["compliance_class"]) == (2, "b")
        assert {r["number"] for r in queries.worklist(store, clock().date(), district="33")} \
            == {assessment, result.plan_number}
        assert audit_ids(store)[-1] == newest
        # and again, a single event
        app.suspend_importer(importer, actor=ACTOR, reason="unpaid duty")
        wait_until(lambda: queries.account_register(store, importer_number=importer)[0][
            "status"] == "suspended", what="the suspension in the register")
        wait_until(lambda: all_current(follower), what="every view at the newest event",
                   state=lambda: positions(follower))
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "the follower did not stop when told to"
    assert errors == []
    assert all_current(follower)
    assert differences(dump_all(follower.store), rebuilt_dumps(follower)) == {}


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Settings]:
    schema = unique_schema()
    try:
        settings = load_settings({"COMPLIANCE_DATABASE_URL": postgres_url,
                                  "COMPLIANCE_POSTGRES_SCHEMA": schema})
        initialise_store(settings)
        yield settings
    finally:
        drop_schema(postgres_url, schema)


@pytest.mark.postgres
def test_two_runners_of_every_view_at_once_apply_each_event_exactly_once(
        postgres_store: Settings) -> None:
    apps = [build_application(postgres_store) for _ in range(4)]
    writer, *readers = apps
    try:
        runners = [Projections(app) for app in readers]
        stops = [threading.Event() for _ in range(2)]
        errors: list[BaseException] = []
        writing = threading.Event()

        def follow(projections: Projections, stop: threading.Event) -> None:
            try:
                projections.follow(stop)
            except BaseException as error:
                errors.append(error)

        def catch_up_repeatedly(projections: Projections) -> None:
            try:
                while writing.is_set():
                    projections.catch_up()
                    time.sleep(0.01)
            except BaseException as error:
                errors.append(error)

        writing.set()
        threads = [threading.Thread(target=follow, args=(runners[i], stops[i]), daemon=True)
                   for i in range(2)]
        threads.append(threading.Thread(target=catch_up_repeatedly, args=(runners[2],),
                                        daemon=True))
        for thread in threads:
            thread.start()
        load_demo(writer, accounts=300, seed=5)
        writing.clear()
        newest = writer.recorder.max_notification_id()
        for projections in runners[:2]:
            wait_until(lambda p=projections: all_current(p), timeout=30,
                       what=f"both followers at {newest}",
                       state=lambda p=projections: positions(p))
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []

        store = runners[0].store
        assert positions(runners[0]) == dict.fromkeys(VIEWS, newest)
        assert audit_ids(store) == RawLog(writer, postgres_store).notification_ids()
        assert len(audit_ids(store)) == newest  # one row per id, none twice, no gaps
        followed = dump_all(store)
        assert differences(followed, rebuilt_dumps(Projections(writer))) == {}
    finally:
        for app in apps:
            app.close()


def test_a_batch_another_runner_partly_applied_meanwhile_is_applied_only_from_there_on(
        app: ComplianceCases, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
        make_app: Callable[..., ComplianceCases]) -> None:
    importer = register_importer(app)
    walk_assessment(app, importer, "opened", clock=clock)
    app.set_compliance_class(importer, "a", actor=ACTOR, reason="annual review")
    first, second = Projections(make_app()), Projections(make_app())
    mine, other = first.runner(AccountRegister), second.runner(AccountRegister)
    page = app.recorder.select_notifications(start=1, limit=100,
                                             topics=AccountRegister.topics)
    assert len(page) == 3  # registered, assessment opened, class set
    apply_batch = first.store.apply

    def other_commits_first(*args: Any, **kwargs: Any) -> int:
        # The interleaving two processes can produce: this runner has read the position
        # and decoded its batch; the other runner commits the first two events now.
        assert other.apply(page[:2]) == 2
        return apply_batch(*args, **kwargs)

    monkeypatch.setattr(first.store, "apply", other_commits_first)
    applied = mine.apply(page)

    [row] = queries.account_register(first.store)
    assert (row["open_cases"], row["compliance_class"]) == (1, "a")  # one open assessment
    assert applied == 1
    assert mine.position() == page[-1].id
    monkeypatch.undo()
    assert mine.apply(page) == 0  # nothing new: nothing applied
    kept = first.store.dump(AccountRegister)
    first.rebuild(AccountRegister)
    assert kept == first.store.dump(AccountRegister)


def test_two_workers_starting_at_once_on_a_fresh_store_both_start(
        make_app: Callable[..., ComplianceCases]) -> None:
    workers = [Projections(make_app()) for _ in range(3)]
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def start(projections: Projections) -> None:
        try:
            barrier.wait(timeout=10)
            for view in VIEWS.values():  # what the first `compliance project` does
                projections.runner(view)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert all(rows == [] for tables in dump_all(workers[0].store).values()
               for rows in tables.values())


def test_a_rebuild_while_a_worker_follows_keeps_what_the_worker_applied_meanwhile(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        make_app: Callable[..., ComplianceCases]) -> None:
    walk_assessment(app, register_importer(app), "assigned", clock=clock)
    follower = Projections(make_app())
    stop = threading.Event()
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            follower.follow(stop, [AuditLog, AccountRegister])
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    registered: list[str] = []
    try:
        for view in (AuditLog, AccountRegister):
            wait_until(lambda v=view: follower.store.position(v) ==
                       app.recorder.max_notification_id(), what=f"{view.name} current")
        rebuilder = Projections(make_app())
        for view in (AuditLog, AccountRegister):
            pages = {"seen": 0}

            def command_while_rebuilding(_: int, view: type[View] = view,
                                         pages: dict[str, int] = pages) -> None:
                # After each of the rebuild's two passes a command arrives, and the live
                # worker applies it before the rebuilt view takes over.
                pages["seen"] += 1
                if pages["seen"] <= 2:
                    registered.append(register_importer(app))
                    newest = app.recorder.max_notification_id()
                    wait_until(lambda: follower.store.position(view) == newest,
                               what=f"the worker applying {newest} to {view.name}")

            rebuilder.rebuild(view, command_while_rebuilding)
            assert pages["seen"] >= 2
        registered.append(register_importer(app))
        wait_until(lambda: all(follower.store.position(v) == app.recorder.max_notification_id()
                               for v in (AuditLog, AccountRegister)), what="worker current")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert errors == []
    assert audit_ids(follower.store) == RawLog(app, store).notification_ids()
    numbers = {r["importer_number"] for r in queries.account_register(follower.store)}
    assert set(registered) <= numbers
    live = {v.name: follower.store.dump(v) for v in (AuditLog, AccountRegister)}
    for view in (AuditLog, AccountRegister):
        follower.rebuild(view)
    assert live == {v.name: follower.store.dump(v) for v in (AuditLog, AccountRegister)}


def test_a_polling_subscription_delivers_an_event_committed_while_it_starts(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite only: the polling subscription is SQLite's (PostgreSQL has LISTEN/NOTIFY)."""
    settings = load_settings({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "ledger.db")})
    initialise_store(settings)
    reader = build_application(settings)
    writer = build_application(settings, access_control=False)  # its actor is no user
    try:
        register_importer(writer)
        recorder: Any = reader.recorder
        main = threading.current_thread()
        first_query_done = threading.Event()
        select, newest_id = recorder.select_notifications, recorder.max_notification_id

        def select_then_commit(*args: Any, **kwargs: Any) -> Any:
            found = select(*args, **kwargs)
            if not first_query_done.is_set():  # the pull thread's first query
                register_importer(writer)      # ... and a commit right after it
                first_query_done.set()
            return found

        def newest() -> Any:
            if threading.current_thread() is main:  # the subscription starting up
                first_query_done.wait(timeout=1)
            return newest_id()

        monkeypatch.setattr(recorder, "select_notifications", select_then_commit)
        monkeypatch.setattr(recorder, "max_notification_id", newest)
        received: list[int] = []
        with recorder.subscribe(gt=0) as subscription:
            consumer = threading.Thread(
                target=lambda: received.extend(n.id for n in subscription), daemon=True)
            consumer.start()
            assert first_query_done.wait(timeout=5)
            wait_until(lambda: received[-1:] == [newest_id()], timeout=5,
                       what="the event committed during start-up",
                       state=lambda: (received, newest_id()))
            subscription.stop()
        consumer.join(timeout=5)
        assert received == list(range(1, newest_id() + 1))
    finally:
        reader.close()
        writer.close()


# -- 3. an event a view cannot handle --------------------------------------------------------


GHOST_TOPIC = "domain.nowhere:Ghost.Appeared"


class Ghost(CaseAggregate):
    """Stands in for code deployed after the event was written: the fix."""

    class Appeared(CaseAggregate.Event):
        sighting: str


@pytest.fixture
def ghost_topic() -> Iterator[str]:
    yield GHOST_TOPIC
    _topic_cache.pop(GHOST_TOPIC, None)  # the "fix" must not outlive the test


def test_an_event_the_audit_log_cannot_decode_stops_it_there_and_after_the_fix_it_resumes(
        app: ComplianceCases, clock: FakeClock, store: Settings, ghost_topic: str,
        projections: Projections) -> None:
    walk_assessment(app, register_importer(app), "surveyed", clock=clock)
    projections.catch_up()
    before = app.recorder.max_notification_id()
    raw = RawLog(app, store)
    state = (b'{"actor":"user:ghost.hunter","reason":"seen in the archive",'
             b'"sighting":"north wing","timestamp":"2026-03-01T10:00:00+00:00"}')
    ghost_id = raw.insert(uuid4(), 1, ghost_topic, state)
    assert ghost_id == before + 1
    walk_assessment(app, register_importer(app), "assigned", clock=clock)  # after the ghost
    newest = app.recorder.max_notification_id()
    assert newest > ghost_id
    audit = projections.runner(AuditLog)

    for _ in range(2):  # a retry without the fix fails the same way
        with pytest.raises(ProjectionFailedError) as failure:
            audit.catch_up()
        assert failure.value.notification_id == ghost_id
        assert f"notification {ghost_id}" in str(failure.value)
        assert "audit_log" in str(failure.value)
        assert audit.position() == ghost_id - 1
        assert max(audit_ids(projections.store)) == ghost_id - 1
    with pytest.raises(ProjectionFailedError, match=f"notification {ghost_id}"):
        projections.catch_up()  # the worker's path too; views of other topics carry on
    for view in VIEWS.values():
        if view is not AuditLog:
            assert projections.store.position(view) == newest, view.name
    assert projections.store.position(AuditLog) == ghost_id - 1

    register_topic(ghost_topic, Ghost.Appeared)
    applied = audit.catch_up()

    assert applied == newest - ghost_id + 1
    assert audit.position() == newest
    assert audit_ids(projections.store) == raw.notification_ids() == list(range(1, newest + 1))
    [row] = queries.audit_log(projections.store, actor="user:ghost.hunter")
    assert (row["notification_id"], row["aggregate"], row["event"], row["reason"],
            row["recorded_at"]) == (ghost_id, "Ghost", "Appeared", "seen in the archive",
                                    datetime(2026, 3, 1, 10, tzinfo=UTC).isoformat())


def test_an_undecodable_event_in_the_middle_of_a_batch_keeps_nothing_of_that_batch(
        app: ComplianceCases, clock: FakeClock, store: Settings, ghost_topic: str,
        projections: Projections) -> None:
    walk_assessment(app, register_importer(app), "opened", clock=clock)
    ghost_id = RawLog(app, store).insert(
        uuid4(), 1, ghost_topic, b'{"actor":"user:ghost.hunter","reason":"r",'
        b'"sighting":"attic","timestamp":"2026-03-01T10:00:00+00:00"}')
    walk_assessment(app, register_importer(app), "opened", clock=clock)
    audit = projections.runner(AuditLog)

    with pytest.raises(ProjectionFailedError) as failure:
        audit.catch_up()

    assert failure.value.notification_id == ghost_id
    assert audit.position() < ghost_id
    assert [i for i in audit_ids(projections.store) if i >= ghost_id] == []
    register_topic(ghost_topic, Ghost.Appeared)
    audit.catch_up()
    assert audit_ids(projections.store) == RawLog(app, store).notification_ids()
    assert projections.store.position(AccountRegister) is None  # untouched by the above
