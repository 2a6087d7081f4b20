"""/api/rules over HTTP: a rule's whole lifecycle by analysts, the four-eyes rule, who may
command and read, bad definitions named field by field, and refusals that write nothing."""

from __future__ import annotations

from typing import Any

from tests.e2e.http.analysis_data import notifications
from tests.e2e.http.conftest import Api

RULE: dict[str, Any] = {
    "name": "Footwear from VN", "conditions": {"hs_prefix": ["64"], "origin": "VN"},
    "channel": "red", "effective_from": "2026-01-01", "reason": "origin pattern"}


def _draft(api: Api, user: str = "analyst11", **changes: Any) -> str:
    response = api.as_user(user).post("/api/rules", json={**RULE, **changes})
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    assert response.headers["location"] == f"/api/rules/{number}"
    return str(number)


def test_a_rule_is_drafted_approved_published_amended_and_retired(api: Api) -> None:
    number = _draft(api, districts=["11"], effective_to="2026-12-31")
    drafter, other = api.as_user("analyst11"), api.as_user("analyst.national")
    shown = drafter.get(f"/api/rules/{number}")
    assert shown.status_code == 200
    assert shown.headers["etag"] == '"1"'
    rule = shown.json()["case"]
    assert (rule["state"], rule["author"], rule["rule_version"]) == (
        "drafted", "user:analyst11", 1)
    assert rule["definition"]["districts"] == ["11"]
    assert rule["definition"]["describe"] == "HS 64, origin VN"
    approved = other.post(f"/api/rules/{number}/approve", json={"reason": "reviewed"},
                          headers={"If-Match": '"1"'})
    assert approved.status_code == 200, approved.text
    assert approved.json()["result"]["state"] == "approved"
    published = drafter.post(f"/api/rules/{number}/publish", json={"reason": "in force"})
    assert published.json()["result"]["in_force_version"] == 1
    amended = other.post(f"/api/rules/{number}/amend",
                         json={**RULE, "channel": "amber", "reason": "softer"})
    result = amended.json()["result"]
    assert (result["state"], result["rule_version"], result["in_force_version"]) == (
        "drafted", 2, 1)
    assert result["in_force"]["channel"] == "red"  # v1 stays in force until v2 is published
    retired = drafter.post(f"/api/rules/{number}/retire", json={"reason": "pattern gone"})
    assert retired.json()["result"]["state"] == "retired"
    listed = api.as_user("officer11").get("/api/rules").json()["items"]
    assert [(r["number"], r["state"]) for r in listed] == [(number, "retired")]
    events = list(api.ledger.events.get(api.ledger.get_rule(number).id))
    actors = [event.actor for event in events]  # type: ignore[attr-defined]
    assert actors == ["user:analyst11", "user:analyst.national", "user:analyst11",
                      "user:analyst.national", "user:analyst11"]


def test_the_drafter_of_a_version_cannot_approve_it(api: Api) -> None:
    number = _draft(api)
    before = notifications(api.ledger)
    refused = api.as_user("analyst11").post(f"/api/rules/{number}/approve",
                                            json={"reason": "my own"})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["rule"] == "ApproverIsNotTheAuthor"
    assert notifications(api.ledger) == before
    assert api.ledger.get_rule(number).state.value == "drafted"


def test_officers_may_not_command_rules_and_representatives_may_not_read_them(
        api: Api) -> None:
    number = _draft(api)
    officer = api.as_user("officer11")  # a login is recorded: before counting
    before = notifications(api.ledger)
    assert officer.post("/api/rules", json=RULE).status_code == 403
    for command in ("approve", "publish", "retire"):
        response = officer.post(f"/api/rules/{number}/{command}", json={"reason": "x"})
        assert response.status_code == 403, command
        assert response.json()["type"].endswith("/forbidden")
    assert officer.post(f"/api/rules/{number}/amend", json=RULE).status_code == 403
    assert notifications(api.ledger) == before
    rep = api.as_user("rep11")
    for path in ("/api/rules", f"/api/rules/{number}", f"/api/rules/{number}/backtest"):
        assert rep.get(path).status_code == 403, path
    assert officer.get(f"/api/rules/{number}").status_code == 200
    assert api.client.get("/api/rules").status_code == 401


def test_bad_definitions_are_refused_naming_every_field(api: Api) -> None:
    analyst = api.as_user("analyst.national")
    before = notifications(api.ledger)
    missing = analyst.post("/api/rules", json={"name": "x"})
    assert missing.status_code == 422
    names = {p["name"] for p in missing.json()["invalid-params"]}
    assert {"conditions", "channel", "effective_from", "reason"} <= names
    both = analyst.post("/api/rules", json={**RULE, "channel": "green", "reason": " "})
    assert {p["name"] for p in both.json()["invalid-params"]} == {"channel", "reason"}
    cases: list[tuple[dict[str, Any], str]] = [
             ({"conditions": {"colour": "red"}}, "conditions.colour"),
             ({"conditions": {"origin": ["XX"]}}, "conditions.origin"),
             ({"conditions": {}}, "conditions"),
             ({"districts": ["99"]}, "districts"),
             ({"effective_to": "2025-01-01"}, "effective_to"),
             ({"name": "bad\x1bname"}, "name"),
             ({"reason": "line\u202eturned"}, "reason"),
             ({"channel": 3}, "channel"),
             ({"actor": "user:admin"}, "actor")]
    for change, field in cases:
        response = analyst.post("/api/rules", json={**RULE, **change})
        assert response.status_code == 422, (change, response.text)
        assert field in {p["name"] for p in response.json()["invalid-params"]}, (
            change, response.json())
    assert notifications(api.ledger) == before


def test_stale_versions_unknown_rules_and_repeated_drafts(api: Api) -> None:
    analyst = api.as_user("analyst.national")
    number = _draft(api)
    assert analyst.get("/api/rules/not-a-number").status_code == 422
    before = notifications(api.ledger)
    stale = analyst.post(f"/api/rules/{number}/approve", json={"reason": "ok"},
                         headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1
    assert analyst.get("/api/rules/TR-2026-99999").status_code == 404
    assert analyst.post("/api/rules/TR-2026-99999/approve",
                        json={"reason": "ok"}).status_code == 404
    assert notifications(api.ledger) == before
    published_twice = analyst.post(f"/api/rules/{number}/publish", json={"reason": "early"})
    assert published_twice.status_code == 409  # not approved yet
    key = {"Idempotency-Key": "draft-footwear-0001"}
    first = analyst.post("/api/rules", json=RULE, headers=key)
    again = analyst.post("/api/rules", json=RULE, headers=key)
    assert first.json()["number"] == again.json()["number"]


def test_a_backtest_on_no_samples_examines_nothing(api: Api) -> None:
    number = _draft(api)
    response = api.as_user("officer12").get(f"/api/rules/{number}/backtest")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rule"] == number
    assert body["matched"]["examined"] == 0
    assert set(body) == {"rule", "version", "matched", "matched_random", "all_random"}
