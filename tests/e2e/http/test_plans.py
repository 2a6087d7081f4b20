"""/api/plans over HTTP, on both stores: a plan drafted, submitted, sent back, approved,
amended, completed with evidence and reported implemented by the users whose role it is,
each event recorded as its caller; refusals (403 for a role, 404 for another district's or
another importer's plan) write nothing; If-Match, Idempotency-Key, every bad field."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from domain.case_numbers import case_id
from interfaces.composition import build_application
from tests.builders import walk_to_findings
from tests.e2e.http.conftest import Api


def _head(api: Api) -> int:
    return api.ledger.recorder.max_notification_id() or 0


def _actors_after(api: Api, number: str, version: int) -> set[str]:
    events: list[Any] = list(api.ledger.events.get(case_id(number), gt=version))
    return {event.actor for event in events}


def _draft_plans(api: Api, *importers: str) -> list[str]:
    """A draft plan (deficient in value) from an assessment's findings, per importer."""
    loader = build_application(api.settings, access_control=False)
    try:
        plans = []
        for importer in importers:
            _, result = walk_to_findings(loader, importer)
            assert result.plan_number is not None
            plans.append(result.plan_number)
        return plans
    finally:
        loader.close()


def _action(api: Api, **changes: Any) -> dict[str, Any]:
    due = (api.ledger.clock().date() + timedelta(days=30)).isoformat()
    return {"area": "value", "description": "retrain the valuation team",
            "owner": "user:rep11", "due_on": due, "reason": "corrects the finding", **changes}


def test_a_plan_is_worked_through_by_the_users_whose_role_it_is(api: Api) -> None:
    (number,) = _draft_plans(api, api.importer11)
    today = api.ledger.clock().date().isoformat()
    document = b"training attendance register, March"
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("rep11", "add-action", _action(api)),
        ("rep11", "add-action", _action(api, description="second action")),
        ("rep11", "change-action", {**_action(api, description="second, changed"),
                                    "action_id": "A2"}),
        ("rep11", "remove-action", {"action_id": "A2", "reason": "one action suffices"}),
        ("rep11", "submit", {"reason": "proposal sent"}),
        ("supervisor11", "send-back", {"reason": "say who trains"}),
        ("rep11", "submit", {"reason": "proposal sent again"}),
        ("supervisor11", "approve", {"reason": "addresses the findings"}),
        ("officer11", "amend-action", {
            "action_id": "A1", "description": "retrain, two sessions", "owner": "user:rep11",
            "due_on": _action(api)["due_on"], "reason": "agreed by phone"}),
        ("rep11", "complete-action", {
            "action_id": "A1", "evidence": "attendance register",
            "document": "dms://evidence/a1", "sha256": hashlib.sha256(document).hexdigest(),
            "completed_on": today, "reason": "training held"}),
        ("rep11", "report-implementation", {"reason": "every action done"}),
    ]
    version = api.ledger.get_plan(number).version
    results = []
    for user, command, body in steps:
        response = api.as_user(user).post(f"/api/plans/{number}/{command}", json=body,
                                          headers={"If-Match": f'"{version}"'})
        assert response.status_code == 200, (command, response.text)
        assert _actors_after(api, number, version) == {f"user:{user}"}, command
        version = response.json()["version"]
        assert response.headers["etag"] == f'"{version}"'
        results.append(response.json()["result"])
    assert results[:2] == ["A1", "A2"]
    verification = results[-1]
    assert isinstance(verification, str)
    assert verification.startswith("FV")

    shown = api.as_user("rep11").get(f"/api/plans/{number}")
    assert shown.status_code == 200, shown.text
    case = shown.json()["case"]
    assert case["state"] == "verification_scheduled"
    assert case["verification_number"] == verification
    (action,) = case["action_list"]
    assert action["description"] == "retrain, two sessions"
    assert action["evidence"]["sha256"] == hashlib.sha256(document).hexdigest()
    assert shown.json()["version"] == version


def test_escalation_proposes_enforcement_as_the_officer(api: Api) -> None:
    (number,) = _draft_plans(api, api.importer11)
    api.as_user("rep11")
    before = _head(api)
    assert api.as_user("rep11").post(f"/api/plans/{number}/escalate", json={
        "reason": "not mine to decide"}).status_code == 403
    assert _head(api) == before
    escalated = api.as_user("officer11").post(f"/api/plans/{number}/escalate",
                                              json={"reason": "proposal never came"})
    assert escalated.status_code == 200, escalated.text
    enforcement = escalated.json()["result"]
    assert api.ledger.get_plan(number).state.value == "escalated"
    assert _actors_after(api, enforcement, 0) == {"user:officer11"}


def test_refusals_write_nothing(api: Api) -> None:
    plan11, plan12 = _draft_plans(api, api.importer11, api.importer12)
    users = ("analyst11", "officer11", "rep11", "admin", "officer12", "rep12")
    for user in users:
        api.as_user(user)  # a login is recorded: before counting
    before = _head(api)
    for user, command in [("analyst11", "add-action"), ("officer11", "approve"),
                          ("rep11", "approve"), ("rep11", "escalate"),
                          ("admin", "add-action")]:
        body = _action(api) if command == "add-action" else {"reason": "may I?"}
        refused = api.as_user(user).post(f"/api/plans/{plan11}/{command}", json=body)
        assert refused.status_code == 403, (user, command, refused.text)
    assert api.as_user("admin").get(f"/api/plans/{plan11}").status_code == 403
    for user, number in [("officer12", plan11), ("rep12", plan11), ("rep11", plan12)]:
        client = api.as_user(user)
        assert client.get(f"/api/plans/{number}").status_code == 404, (user, number)
        hidden = client.post(f"/api/plans/{number}/add-action", json=_action(api))
        assert hidden.status_code == 404, (user, number, hidden.text)
        assert hidden.json()["type"].endswith("/not-found")
    assert _head(api) == before
    assert api.as_user("rep11").get(f"/api/plans/{plan11}").status_code == 200
    assert api.as_user("rep12").get(f"/api/plans/{plan12}").status_code == 200


def test_if_match_idempotency_and_bad_bodies(api: Api) -> None:
    (number,) = _draft_plans(api, api.importer11)
    rep = api.as_user("rep11")
    version = api.ledger.get_plan(number).version
    before = _head(api)
    stale = rep.post(f"/api/plans/{number}/add-action", json=_action(api),
                     headers={"If-Match": f'"{version + 5}"'})
    assert stale.status_code == 412, stale.text
    assert stale.json()["current_version"] == version
    assert _head(api) == before

    key = {"Idempotency-Key": "plan-add-action-0001"}
    first = rep.post(f"/api/plans/{number}/add-action", json=_action(api), headers=key)
    assert first.status_code == 200, first.text
    after_first = _head(api)
    again = rep.post(f"/api/plans/{number}/add-action", json=_action(api), headers=key)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["result"] == "A1"
    assert _head(api) == after_first
    reused = rep.post(f"/api/plans/{number}/add-action",
                      json=_action(api, description="another"), headers=key)
    assert reused.status_code == 422
    assert reused.json()["rule"] == "IdempotencyKeyReused"

    bad = rep.post(f"/api/plans/{number}/add-action", json={
        "area": "colour", "description": " ", "owner": "bob", "due_on": "next week",
        "reason": ""})
    assert bad.status_code == 422, bad.text
    assert {p["name"] for p in bad.json()["invalid-params"]} == {
        "area", "description", "owner", "due_on", "reason"}
    shapeless = rep.post(f"/api/plans/{number}/add-action", json={"area": 1, "junk": True})
    assert {p["name"] for p in shapeless.json()["invalid-params"]} == {
        "area", "description", "owner", "due_on", "reason", "junk"}
    evidence = rep.post(f"/api/plans/{number}/complete-action", json={
        "action_id": "A1", "evidence": "", "document": "x\ny", "sha256": "abc",
        "completed_on": "31/12/2025", "reason": "done"})
    assert evidence.status_code == 422, evidence.text
    assert {p["name"] for p in evidence.json()["invalid-params"]} == {
        "evidence", "document", "sha256", "completed_on"}
    control = rep.post(f"/api/plans/{number}/submit", json={"reason": "sent\u202e"})
    assert control.status_code == 422, control.text
    assert [p["name"] for p in control.json()["invalid-params"]] == ["reason"]
    assert _head(api) == after_first
