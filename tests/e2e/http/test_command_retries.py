"""A command retried with the same If-Match and Idempotency-Key (a client that lost the
answer) gets the first answer, not a failed precondition; the key sent with another body
is refused; a stale If-Match without a key is still 412."""

from __future__ import annotations

from tests.e2e.http.conftest import Api


def _open(api: Api) -> str:
    response = api.as_user("officer11").post("/api/assessments", json={
        "importer_number": api.importer11, "origin": "risk_selection",
        "period_start": "2025-01-01", "period_end": "2025-12-31", "scope": ["value"],
        "reason": "selected by risk"})
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def test_a_retry_with_the_same_key_gets_the_first_answer(api: Api) -> None:
    number = _open(api)
    supervisor = api.as_user("supervisor11")
    headers = {"If-Match": '"1"', "Idempotency-Key": "assign-once-0001"}
    body = {"officer": "user:officer11", "reason": "workload"}
    first = supervisor.post(f"/api/assessments/{number}/assign", json=body, headers=headers)
    assert first.status_code == 200, first.text
    head = api.ledger.recorder.max_notification_id()
    again = supervisor.post(f"/api/assessments/{number}/assign", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["result"] == first.json()["result"]
    assert api.ledger.recorder.max_notification_id() == head
    other = supervisor.post(f"/api/assessments/{number}/assign", headers=headers,
                            json={"officer": "user:officer11b", "reason": "workload"})
    assert other.status_code == 422
    assert other.json()["rule"] == "IdempotencyKeyReused"
    stale = supervisor.post(f"/api/assessments/{number}/assign", json=body,
                            headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert api.ledger.recorder.max_notification_id() == head
