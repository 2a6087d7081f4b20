"""What each view query computes, on small hand-made cases on the real databases: days
overdue against the date asked for, due items appearing and leaving, open cases counted
up and down, statistics summed from findings, exact cents, the audit log searched by
actor, case and period (the views as a whole: test_views)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from application.compliance_cases import ComplianceCases
from infrastructure.settings import Settings
from projections import queries
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
    RawLog,
    differences,
    dump_all,
    projections,
    rebuilt_dumps,
)

__all__ = ["projections"]  # fixtures, used by name



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
