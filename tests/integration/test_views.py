"""The read models on the real databases: a view kept current from the log holds exactly
what a view rebuilt from scratch holds and what the cases replayed from the log say; the
queries are scoped by district and compute what they claim."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
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
from projections import queries
from projections.catalogue import VIEWS
from projections.worker import Projections
from tests.integration.view_support import (
    DEMO_TODAY,
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
