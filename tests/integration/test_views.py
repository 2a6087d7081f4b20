"""The read models on the real databases: a view kept current from the log holds exactly
what a view rebuilt from scratch holds and what the cases replayed from the log say; the
queries are scoped by district and compute what they claim."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.compliance_cases import CASE_TYPES, ComplianceCases
from application.log_replay import replay
from domain.assessment import FINAL_STATES, Assessment
from domain.enforcement_action import ENFORCEMENT_FINAL_STATES, EnforcementAction
from domain.errors import InvalidValueError
from domain.follow_up_verification import VERIFICATION_FINAL_STATES, FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import PLAN_FINAL_STATES, ImprovementPlan
from domain.reference import DISTRICTS
from infrastructure.settings import Settings
from projections import queries
from projections.catalogue import VIEWS
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
from tests.integration.view_support import (
    DEMO_TODAY,
    RawLog,
    differences,
    dump_all,
    load_demo,
    positions,
    projections,
    rebuilt_dumps,
)

__all__ = ["projections"]  # fixtures, used by name


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
