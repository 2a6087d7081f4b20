"""Whole cases worked over HTTP by the people they take, against a real server process.

An assessment of api.importer11: opened and worked by officer11, assigned by
supervisor11, findings with a deficient area, so a plan follows; the importer's
representative rep11 drafts and submits the plan's actions, supervisor11 approves, rep11
completes them with evidence and reports the plan implemented, which schedules a follow-up
verification (its reporter may never verify it, so not officer11: rule
VerifierIsNotTheImplementationReporter); supervisor11 assigns it to officer11, who
re-tests, effective, and concludes: the plan closes effective. And a penalty: proposed
by officer11, reviewed by supervisor11b and supervisor11c (never the proposer),
concluded and decided by supervisor11, answered by rep11, paid and closed.

Then every event of these cases is read back from the store: each must name, as its actor,
the user whose request wrote it (never a body field, never the server). An auditor reads
each case's history over HTTP and sees the same actors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from tests.e2e.http.server import Served

TODAY = datetime.now(UTC).date()


@pytest.fixture
def served(api_environ: Mapping[str, str]) -> Iterator[Served]:
    with Served(api_environ) as running:
        yield running


@dataclass
class Call:
    username: str
    method: str
    path: str
    start: int
    """The log's head before the call: it wrote the notifications after this..."""
    stop: int
    """...up to and including this one."""


@dataclass
class Workflow:
    """Sends each request as one user and remembers which notifications it wrote."""

    served: Served
    calls: list[Call] = field(default_factory=list)

    def post(self, username: str, path: str, body: dict[str, Any],
             expect: int = 200) -> dict[str, Any]:
        client = self.served.as_user(username)
        before = self.served.head()
        response = client.post(path, json=body)
        after = self.served.head()
        assert response.status_code == expect, (
            f"{username} POST {path}: {response.status_code} {response.text}")
        self.calls.append(Call(username, "POST", path, before, after))
        assert after > before, f"{username} POST {path} wrote nothing"
        document = response.json()
        assert isinstance(document, dict)
        return document

    def get(self, username: str, path: str) -> dict[str, Any]:
        response = self.served.as_user(username).get(path)
        assert response.status_code == 200, f"{username} GET {path}: {response.text}"
        document = response.json()
        assert isinstance(document, dict)
        return document


def _reason(text: str) -> dict[str, str]:
    return {"reason": text}


def work_an_assessment_to_a_closed_plan(flow: Workflow, importer: str) -> dict[str, str]:
    opened = flow.post("officer11", "/api/assessments", {
        "importer_number": importer, "origin": "risk_selection",
        "period_start": "2025-01-01", "period_end": "2025-12-31",
        "scope": ["value", "classification"], "reason": "selected by risk"}, expect=201)
    assessment = opened["number"]
    base = f"/api/assessments/{assessment}"
    flow.post("supervisor11", f"{base}/assign",
              {"officer": "user:officer11", **_reason("next on the rota")})
    flow.post("officer11", f"{base}/survey", {
        "ratings": {"value": "weak", "classification": "adequate"},
        "surveyed_on": TODAY.isoformat(), **_reason("survey interviews held")})
    for area, discrepancies, error, loss in (("value", "40", "9000.00", "700.00"),
                                             ("classification", "2", "1500.50", "120.25")):
        flow.post("officer11", f"{base}/test", {
            "area": area, "lines_tested": "200", "discrepancies": discrepancies,
            "value_tested": "100000.00", "value_in_error": error, "revenue_loss": loss,
            **_reason(f"sample of {area} lines")})
    findings = flow.post("officer11", f"{base}/findings",
                         {"duty_paid": "250000.00", **_reason("testing complete")})
    assert findings["result"]["outcome"] == "improvement_plan_required", findings
    plan = findings["result"]["plan_number"]
    plan_path = f"/api/plans/{plan}"
    action = flow.post("rep11", f"{plan_path}/add-action", {
        "area": "value", "description": "retrain the valuation clerks",
        "owner": "user:rep11", "due_on": (TODAY + timedelta(days=30)).isoformat(),
        **_reason("corrective action proposed by the importer")})
    action_id = action["result"]
    assert isinstance(action_id, str), action
    flow.post("rep11", f"{plan_path}/submit", _reason("our proposal"))
    flow.post("supervisor11", f"{plan_path}/approve", _reason("addresses the findings"))
    flow.post("rep11", f"{plan_path}/complete-action", {
        "action_id": action_id, "evidence": "training record",
        "document": "dms://evidence/training-record",
        "sha256": hashlib.sha256(b"training record").hexdigest(),
        "completed_on": TODAY.isoformat(), **_reason("clerks retrained")})
    reported = flow.post("rep11", f"{plan_path}/report-implementation",
                         _reason("importer reports the plan implemented"))
    verification = reported["result"]
    assert isinstance(verification, str), reported
    check = f"/api/verifications/{verification}"
    flow.post("supervisor11", f"{check}/assign",
              {"officer": "user:officer11", **_reason("follow-up on the rota")})
    for area in flow.get("officer11", check)["case"]["areas"]:
        flow.post("officer11", f"{check}/retest", {
            "area": area, "lines_tested": "500", "discrepancies": "10",
            "value_tested": "100000.00", "value_in_error": "800.00", "revenue_loss": "40.00",
            **_reason(f"re-test of {area}")})
    flow.post("officer11", f"{check}/conclude", _reason("re-tests done"))
    assert flow.get("officer11", plan_path)["case"]["state"] == "closed_effective"
    assert flow.get("officer11", check)["case"]["state"] == "concluded_effective"
    return {"assessment": assessment, "plan": plan, "verification": verification}


def work_a_penalty(flow: Workflow, importer: str) -> str:
    proposed = flow.post("officer11", "/api/enforcement", {
        "importer_number": importer, "kind": "penalty", "legal_basis": "19 U.S.C. 1592",
        "facts": "undervaluation found on entries of 2025", "culpability": "negligence",
        "revenue_loss": "1000.00", "domestic_value": "50000.00",
        "dutiable_value": "40000.00", "amount": "1500.00",
        **_reason("repeated undervaluation")}, expect=201)
    number = proposed["number"]
    base = f"/api/enforcement/{number}"
    due = (TODAY + timedelta(days=30)).isoformat()
    for reviewer in ("supervisor11b", "supervisor11c"):
        flow.post(reviewer, f"{base}/review", {"vote": "approve",
                                               **_reason("facts support it")})
    flow.post("supervisor11", f"{base}/conclude-review", _reason("the team approved"))
    flow.post("officer11", f"{base}/issue",
              {"response_due_on": due, **_reason("pre-penalty notice sent")})
    flow.post("officer11", f"{base}/penalty-notice",
              {"response_due_on": due, **_reason("no reply to the pre-penalty notice")})
    flow.post("rep11", f"{base}/respond", {
        "kind": "petition", "summary": "first offence; controls since improved",
        **_reason("our petition")})
    flow.post("supervisor11", f"{base}/decide",
              {"amount": "1200.00", **_reason("mitigated for a first offence")})
    flow.post("officer11", f"{base}/pay",
              {"amount": "1200.00", "paid_on": TODAY.isoformat(), **_reason("paid in full")})
    state = flow.get("officer11", base)["case"]["state"]
    if state != "closed":
        flow.post("officer11", f"{base}/close", _reason("penalty paid"))
    assert flow.get("officer11", base)["case"]["state"] == "closed"
    return str(number)


def case_ids(served: Served, numbers: dict[str, str]) -> dict[UUID, str]:
    app = served.ledger
    loaders = {"assessment": app.get_assessment, "plan": app.get_plan,
               "verification": app.get_verification, "enforcement": app.get_enforcement}
    return {loaders[kind](number).id: number for kind, number in numbers.items()}


def test_cases_worked_by_the_people_they_take(served: Served) -> None:
    flow = Workflow(served)
    for user in ("officer11", "supervisor11", "supervisor11b", "supervisor11c", "rep11",
                 "auditor"):
        served.as_user(user)  # logins write too: all before the first command
    numbers = work_an_assessment_to_a_closed_plan(flow, served.importer11)
    numbers["enforcement"] = work_a_penalty(flow, served.importer11)
    cases = case_ids(served, numbers)

    actors: dict[UUID, dict[int, str]] = {case: {} for case in cases}
    for call in flow.calls:
        for notification in served.ledger.recorder.select_notifications(
                call.start + 1, limit=1000, stop=call.stop):
            event = served.ledger.decode_stored_event(notification)
            if event.originator_id in actors:
                assert event.actor == f"user:{call.username}", (
                    f"{call.method} {call.path} by {call.username} wrote "
                    f"{type(event).__qualname__} of {cases[event.originator_id]} as "
                    f"{event.actor}")
                actors[event.originator_id][event.originator_version] = event.actor
    for case, number in cases.items():
        recorded = {e.originator_version: _actor(e) for e in served.ledger.events.get(case)}
        assert recorded == actors[case], f"{number}: events no request of the test wrote"

    auditor = served.as_user("auditor")
    for case, number in cases.items():
        response = auditor.get(f"/api/history/{number}")
        assert response.status_code == 200, response.text
        seen = {entry["version"]: entry["actor"] for entry in response.json()["events"]}
        assert seen == actors[case], number
    assert _reviewers(served, numbers["enforcement"]) == {"user:supervisor11b",
                                                          "user:supervisor11c"}


def _actor(event: Any) -> str:
    return str(event.actor)


def _reviewers(served: Served, number: str) -> set[str]:
    action = served.ledger.get_enforcement(number)
    return {vote.reviewer for vote in action.votes}


def test_a_proposer_may_not_review_nor_conclude_its_own_proposal(served: Served) -> None:
    """Four eyes over HTTP: the refusals are 422 naming the rule, and write nothing."""
    flow = Workflow(served)
    proposed = flow.post("supervisor11", "/api/enforcement", {
        "importer_number": served.importer11, "kind": "penalty",
        "legal_basis": "19 U.S.C. 1592", "facts": "undervaluation", "culpability": "negligence",
        "revenue_loss": "1000.00", "domestic_value": "50000.00",
        "dutiable_value": "40000.00", "amount": "1500.00", **_reason("undervaluation")},
        expect=201)
    base = f"/api/enforcement/{proposed['number']}"
    proposer = served.as_user("supervisor11")
    before = served.head()
    own_vote = proposer.post(f"{base}/review", json={"vote": "approve", **_reason("mine")})
    assert own_vote.status_code == 422, own_vote.text
    assert own_vote.json()["rule"] == "ReviewerIsNotTheProposer"
    for reviewer in ("supervisor11b", "supervisor11c"):
        flow.post(reviewer, f"{base}/review", {"vote": "approve", **_reason("agreed")})
    middle = served.head()
    own_conclusion = proposer.post(f"{base}/conclude-review", json=_reason("concluding"))
    assert own_conclusion.status_code == 422, own_conclusion.text
    assert own_conclusion.json()["rule"] == "ReviewConcluderIsNotTheProposer"
    assert served.head() == middle
    assert middle > before  # only the two reviews were written
