"""Refusals of every endpoint in the product's words (interfaces.http.problems and
interfaces.http.query_checks): each bad query parameter named with a plain reason and the
detail saying which, a limit only as a plain whole number in range, the API's own names
for its parameters, every bad body field at once, and a body that is not JSON refused as
such. The shape (RFC 9457) and the stable `type` stay."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.http.conftest import Api

INVALID = "https://compliance-ledger.example/problems/invalid-input"


def _named(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    document = response.json()
    assert document["type"] == INVALID
    return {p["name"]: p["reason"] for p in document["invalid-params"]}


def test_bad_query_parameters_are_named_in_plain_words(api: Api) -> None:
    officer = api.as_user("supervisor11")
    refused = officer.get("/api/assessments", params={"limit": "abc", "state": "bogus",
                                                      "desc": "maybe"})
    named = _named(refused)
    assert named == {"limit": "a whole number from 1 to 1000",
                     "state": "one of opened, assigned, surveyed, testing, "
                              "findings_issued, closed, cancelled",
                     "desc": "true or false"}
    detail = refused.json()["detail"]
    assert all(name in detail for name in named), detail
    assert "Validation failed" not in detail
    assert "Expected" not in refused.text
    assert _named(officer.get("/api/accounts", params={"tier": "9"})) == {
        "tier": "a whole number from 1 to 4"}
    assert _named(officer.get("/api/audit", params={"limit": "0"})) in (
        {"limit": "a whole number from 1 to 10000"},)
    # who is asking comes first: an anonymous request is a 401 whatever its query says
    assert api.client.get("/api/assessments", params={"limit": "abc"}).status_code == 401


@pytest.mark.parametrize("limit", ["1e3", "1.0", "0", "1001", "-1", "05", " 5", "abc"])
def test_a_limit_is_a_plain_whole_number_in_range(api: Api, limit: str) -> None:
    analyst = api.as_user("analyst.national")
    for path in ("/api/register", "/api/worklist", "/api/assessments"):
        assert _named(analyst.get(path, params={"limit": limit})) == {
            "limit": "a whole number from 1 to 1000"}, path
    assert analyst.get("/api/register", params={"limit": "1000"}).status_code == 200


def test_a_bad_cursor_is_refused_in_the_apis_words(api: Api) -> None:
    officer = api.as_user("officer11")
    for path in ("/api/assessments", "/api/register", "/api/worklist"):
        refused = officer.get(path, params={"cursor": "not-a-cursor"})
        reason = _named(refused)["cursor"]
        assert "without the cursor parameter" in reason, path
        assert "--" not in refused.text, path


def test_every_bad_body_field_is_named_at_once(api: Api) -> None:
    supervisor = api.as_user("supervisor11")
    refused = supervisor.post("/api/assessments/CA-2026-99999/assign",
                              json={"officer": "not an officer"})
    named = _named(refused)
    assert set(named) == {"officer", "reason"}
    assert named["reason"] == "is required"
    assert all(name in refused.json()["detail"] for name in named)
    typed = supervisor.post("/api/assessments/CA-2026-99999/assign",
                            json={"officer": 42, "reason": "   "})
    assert set(_named(typed)) == {"officer", "reason"}


def test_a_body_that_is_not_json_is_refused_as_such(api: Api) -> None:
    form = api.client.post("/api/auth/login", data={"username": "x", "password": "y"})
    assert form.status_code == 415, form.text
    assert form.headers["content-type"].startswith("application/problem+json")
    assert "application/json" in form.json()["detail"]
    assert "byte" not in form.json()["detail"]
    malformed = api.as_user("supervisor11").post(
        "/api/assessments/CA-2026-99999/assign", content=b'{"officer": ',
        headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400, malformed.text
    problem = malformed.json()
    assert problem["type"] == INVALID
    assert problem["status"] == 400
    assert "not valid JSON" in problem["detail"]
