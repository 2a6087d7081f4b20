"""/api/accounts over HTTP, on both stores: every account command recorded as the user who
called, refused for roles that may not and for accounts of other districts (404, as if
missing), with If-Match, Idempotency-Key and every bad field named."""

from __future__ import annotations

from typing import Any

from domain.importer_account import importer_account_id
from tests.builders import unique_importer_number
from tests.e2e.http.conftest import Api


def _head(api: Api) -> int:
    return api.ledger.recorder.max_notification_id() or 0


def _actors_after(api: Api, importer_number: str, version: int) -> list[str]:
    events: list[Any] = list(api.ledger.events.get(importer_account_id(importer_number),
                                                   gt=version))
    return [event.actor for event in events]


def _registration(**changes: Any) -> dict[str, Any]:
    return {"importer_number": unique_importer_number(), "legal_name": "Harbour Goods Ltd",
            "district": "11", "industry": "73", "reason": "new importer of record",
            **changes}


def test_an_account_is_registered_and_managed_by_the_users_who_call(api: Api) -> None:
    officer = api.as_user("officer11")
    body = _registration(registered_on="2024-02-01")
    created = officer.post("/api/accounts", json=body)
    assert created.status_code == 201, created.text
    number = created.json()["number"]
    assert number == body["importer_number"]
    assert created.headers["location"] == f"/api/accounts/{number}"
    assert created.headers["etag"] == '"1"'
    assert _actors_after(api, number, 0) == ["user:officer11"]

    today = api.ledger.clock().date().isoformat()
    steps = [("supervisor11", "assign-manager", {"manager": "user:officer11b"}),
             ("officer11", "join", {"programme": "trusted_trader", "joined_on": today}),
             ("officer11b", "leave", {"programme": "trusted_trader", "left_on": today}),
             ("supervisor11", "set-class", {"compliance_class": "b"}),
             ("officer11", "suspend", {}),
             ("officer11b", "reinstate", {}),
             ("officer.national", "close", {})]
    version = 1
    for user, command, fields in steps:
        response = api.as_user(user).post(f"/api/accounts/{number}/{command}", json={
            **fields, "reason": f"{command} as decided"}, headers={"If-Match": f'"{version}"'})
        assert response.status_code == 200, (command, response.text)
        assert response.json()["version"] == version + 1
        assert response.headers["etag"] == f'"{version + 1}"'
        assert _actors_after(api, number, version) == [f"user:{user}"], command
        version += 1

    shown = officer.get(f"/api/accounts/{number}")
    assert shown.status_code == 200, shown.text
    case = shown.json()["case"]
    assert (case["state"], case["compliance_class"], case["account_manager"]) == (
        "closed", "b", "user:officer11b")
    assert case["legal_name"] == "Harbour Goods Ltd"
    assert case["cases"] == []
    assert shown.json()["version"] == version
    assert shown.headers["etag"] == f'"{version}"'


def test_roles_that_may_not_are_refused_and_other_districts_are_not_found(api: Api) -> None:
    number = api.importer11
    for user in ("analyst11", "auditor", "rep11", "admin", "officer12"):
        api.as_user(user)  # a login is recorded (the user's last login): before counting
    before = _head(api)
    for user, method, path in [
            ("analyst11", "post", f"/api/accounts/{number}/suspend"),
            ("auditor", "post", f"/api/accounts/{number}/suspend"),
            ("rep11", "post", f"/api/accounts/{number}/suspend"),
            ("admin", "post", f"/api/accounts/{number}/suspend"),
            ("rep11", "get", f"/api/accounts/{number}"),
            ("rep11", "post", "/api/accounts")]:
        client = api.as_user(user)
        response = (client.get(path) if method == "get"
                    else client.post(path, json=_registration() if path == "/api/accounts"
                                     else {"reason": "not mine to do"}))
        assert response.status_code == 403, (user, path, response.text)
        assert response.json()["type"].endswith("/forbidden")
    other = api.as_user("officer12")
    assert other.get(f"/api/accounts/{number}").status_code == 404
    refused = other.post(f"/api/accounts/{number}/suspend", json={"reason": "not my district"})
    assert refused.status_code == 404
    assert refused.json()["type"].endswith("/not-found")
    outside = other.post("/api/accounts", json=_registration(district="11"))
    assert outside.status_code == 403, outside.text
    assert _head(api) == before
    assert api.as_user("auditor").get(f"/api/accounts/{number}").status_code == 200


def test_if_match_idempotency_and_duplicates(api: Api) -> None:
    officer = api.as_user("officer11")
    number = api.importer11
    before = _head(api)
    stale = officer.post(f"/api/accounts/{number}/suspend", json={"reason": "late"},
                         headers={"If-Match": '"7"'})
    assert stale.status_code == 412, stale.text
    assert stale.json()["current_version"] == 1
    assert _head(api) == before

    body = _registration()
    first = officer.post("/api/accounts", json=body, headers={"Idempotency-Key": "reg-0001"})
    assert first.status_code == 201, first.text
    after_first = _head(api)
    again = officer.post("/api/accounts", json=body, headers={"Idempotency-Key": "reg-0001"})
    assert again.status_code == 201
    assert again.json() == first.json()
    assert _head(api) == after_first
    duplicate = officer.post("/api/accounts", json=body)
    assert duplicate.status_code == 422
    assert duplicate.json()["rule"] == "ImporterIsRegisteredOnlyOnce"
    assert _head(api) == after_first


def test_every_bad_field_is_named(api: Api) -> None:
    officer = api.as_user("officer11")
    before = _head(api)
    bad = officer.post("/api/accounts", json={
        "importer_number": "12345", "legal_name": " ", "district": "99", "industry": "xx",
        "registered_on": "yesterday", "reason": ""})
    assert bad.status_code == 422, bad.text
    named = {p["name"] for p in bad.json()["invalid-params"]}
    assert named == {"importer_number", "legal_name", "district", "industry", "registered_on",
                     "reason"}
    shapeless = officer.post("/api/accounts", json={"importer_number": 5, "colour": "red"})
    assert shapeless.status_code == 422
    assert {p["name"] for p in shapeless.json()["invalid-params"]} == {
        "importer_number", "legal_name", "district", "industry", "reason", "colour"}
    number = api.importer11
    steps = officer.post(f"/api/accounts/{number}/join", json={
        "programme": "golden", "joined_on": "soon", "reason": "joined\x07"})
    assert {p["name"] for p in steps.json()["invalid-params"]} == {
        "programme", "joined_on", "reason"}
    control = officer.post(f"/api/accounts/{number}/suspend",
                           json={"reason": "fraud\x1b[31m suspected"})
    assert control.status_code == 422, control.text
    assert [p["name"] for p in control.json()["invalid-params"]] == ["reason"]
    assert _head(api) == before
