"""/api/enforcement over HTTP, on both stores: a penalty proposed, reviewed, issued,
answered, decided, paid and closed by the users whose role it is, each event recorded as
its caller; withdrawal and referral for collection; refusals (403 for a role, 404 for
another district's or importer's action, 422 for the proposer reviewing) write nothing;
If-Match, Idempotency-Key, every bad field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.case_numbers import case_id
from interfaces.composition import build_application
from tests.builders import propose_penalty, walk_enforcement
from tests.e2e.http.conftest import Api


def _head(api: Api) -> int:
    return api.ledger.recorder.max_notification_id() or 0


def _actors_after(api: Api, number: str, version: int) -> set[str]:
    events: list[Any] = list(api.ledger.events.get(case_id(number), gt=version))
    return {event.actor for event in events}


def _penalty(importer_number: str, **changes: Any) -> dict[str, Any]:
    return {"importer_number": importer_number, "kind": "penalty",
            "legal_basis": "19 U.S.C. 1592", "facts": "undervaluation on 2025 entries",
            "culpability": "negligence", "revenue_loss": "1000.00",
            "domestic_value": "50000.00", "dutiable_value": "40000.00", "amount": "1500.00",
            "reason": "repeated undervaluation", **changes}


def _proposed(api: Api, importer_number: str, to: str | None = None) -> str:
    """A penalty proposed outside HTTP (by the builders' enforcement officer), walked to
    `to` (a builders ENFORCEMENT_STEPS step) when given."""
    loader = build_application(api.settings, access_control=False)
    try:
        number = propose_penalty(loader, importer_number)
        if to is not None:
            walk_enforcement(loader, number, to)
        return number
    finally:
        loader.close()


def test_a_penalty_is_worked_through_by_the_users_whose_role_it_is(api: Api) -> None:
    officer = api.as_user("officer11")
    proposed = officer.post("/api/enforcement", json=_penalty(api.importer11))
    assert proposed.status_code == 201, proposed.text
    number = proposed.json()["number"]
    assert proposed.json()["result"] == number
    assert proposed.headers["location"] == f"/api/enforcement/{number}"
    assert _actors_after(api, number, 0) == {"user:officer11"}

    today = api.ledger.clock().date()
    due = (today + timedelta(days=30)).isoformat()
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("officer11", "change-culpability", {"culpability": "gross_negligence",
                                             "amount": "1800.00"}),
        ("supervisor11b", "review", {"vote": "approve"}),
        ("supervisor11c", "review", {"vote": "approve"}),
        ("supervisor11", "conclude-review", {}),
        ("officer11", "issue", {"response_due_on": due}),
        ("officer11", "penalty-notice", {"response_due_on": due}),
        ("rep11", "respond", {"kind": "petition", "summary": "first offence; controls fixed"}),
        ("supervisor11", "decide", {"amount": "1200.00"}),
        ("officer11", "pay", {"amount": "1200.00", "paid_on": today.isoformat()}),
        ("officer11", "close", {}),
    ]
    version = proposed.json()["version"]
    for user, command, fields in steps:
        response = api.as_user(user).post(
            f"/api/enforcement/{number}/{command}", json={**fields, "reason": command},
            headers={"If-Match": f'"{version}"'})
        assert response.status_code == 200, (command, response.text)
        assert _actors_after(api, number, version) == {f"user:{user}"}, command
        version = response.json()["version"]
        if command == "conclude-review":
            assert response.json()["result"] is True

    shown = api.as_user("rep11").get(f"/api/enforcement/{number}")
    assert shown.status_code == 200, shown.text
    case = shown.json()["case"]
    assert (case["state"], case["culpability"], case["decided_amount"], case["paid_amount"]) \
        == ("closed", "gross_negligence", "1200.00", "1200.00")
    assert case["legal_basis"] == "19 U.S.C. 1592"
    assert [v["reviewer"] for v in case["vote_list"]] == ["user:supervisor11b",
                                                           "user:supervisor11c"]
    assert shown.headers["etag"] == f'"{version}"'


def test_withdrawal_and_referral_for_collection(api: Api) -> None:
    decided = _proposed(api, api.importer11, "decided")
    proposed = _proposed(api, api.importer11)
    officer = api.as_user("officer11")
    for number, command in [(decided, "refer-collection"), (decided, "close"),
                            (proposed, "withdraw")]:
        version = api.ledger.get_enforcement(number).version
        response = officer.post(f"/api/enforcement/{number}/{command}",
                                json={"reason": f"{command} as decided"})
        assert response.status_code == 200, (command, response.text)
        assert _actors_after(api, number, version) == {"user:officer11"}
    assert api.ledger.get_enforcement(decided).state.value == "closed"
    assert api.ledger.get_enforcement(proposed).state.value == "withdrawn"


def test_refusals_write_nothing(api: Api) -> None:
    number11 = _proposed(api, api.importer11)
    number12 = _proposed(api, api.importer12)
    for user in ("officer11", "rep11", "analyst11", "officer12", "rep12", "supervisor11"):
        api.as_user(user)  # a login is recorded: before counting
    before = _head(api)
    for user, command, body in [("officer11", "review", {"vote": "approve"}),
                                ("rep11", "issue", {}), ("analyst11", "decide",
                                                         {"amount": "1.00"}),
                                ("rep11", "withdraw", {})]:
        refused = api.as_user(user).post(f"/api/enforcement/{number11}/{command}",
                                         json={**body, "reason": "may I?"})
        assert refused.status_code == 403, (user, command, refused.text)
    assert api.as_user("rep11").post("/api/enforcement",
                                     json=_penalty(api.importer11)).status_code == 403
    for user, number in [("officer12", number11), ("rep12", number11), ("rep11", number12)]:
        client = api.as_user(user)
        assert client.get(f"/api/enforcement/{number}").status_code == 404, (user, number)
        hidden = client.post(f"/api/enforcement/{number}/respond", json={
            "kind": "response", "summary": "we object", "reason": "answer"})
        assert hidden.status_code == 404, (user, number, hidden.text)
    hidden = api.as_user("officer12").post(f"/api/enforcement/{number11}/withdraw",
                                           json={"reason": "not my district"})
    assert hidden.status_code == 404, hidden.text
    assert _head(api) == before
    assert api.as_user("rep11").get(f"/api/enforcement/{number11}").status_code == 200

    own = api.as_user("supervisor11").post("/api/enforcement", json=_penalty(api.importer11))
    assert own.status_code == 201, own.text
    after = _head(api)
    vote = api.as_user("supervisor11").post(
        f"/api/enforcement/{own.json()['number']}/review",
        json={"vote": "approve", "reason": "my own proposal"})
    assert vote.status_code == 422
    assert vote.json()["rule"] == "ReviewerIsNotTheProposer"
    assert _head(api) == after


def test_if_match_idempotency_and_bad_bodies(api: Api) -> None:
    number = _proposed(api, api.importer11)
    supervisor, officer = api.as_user("supervisor11"), api.as_user("officer11")
    version = api.ledger.get_enforcement(number).version
    before = _head(api)
    stale = officer.post(f"/api/enforcement/{number}/withdraw", json={"reason": "late"},
                         headers={"If-Match": f'"{version + 3}"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == version
    account = api.ledger.get_importer(api.importer11).version
    moved = officer.post("/api/enforcement", json=_penalty(
        api.importer11, importer_version=account + 1))
    assert moved.status_code == 409, moved.text
    assert _head(api) == before

    key = {"Idempotency-Key": "enforcement-vote-0001"}
    body = {"vote": "approve", "reason": "facts hold"}
    first = supervisor.post(f"/api/enforcement/{number}/review", json=body, headers=key)
    assert first.status_code == 200, first.text
    after_first = _head(api)
    again = supervisor.post(f"/api/enforcement/{number}/review", json=body, headers=key)
    assert again.status_code == 200
    assert again.json() == first.json()
    create_key = {"Idempotency-Key": "enforcement-propose-0001"}
    created = officer.post("/api/enforcement", json=_penalty(api.importer11),
                           headers=create_key)
    assert created.status_code == 201, created.text
    after_created = _head(api)
    repeated = officer.post("/api/enforcement", json=_penalty(api.importer11),
                            headers=create_key)
    assert repeated.status_code == 201
    assert repeated.json() == created.json()
    assert _head(api) == after_created > after_first

    bad = officer.post("/api/enforcement", json={
        "importer_number": "x", "kind": "fine", "legal_basis": "", "facts": " ",
        "reason": "", "culpability": "careless", "revenue_loss": "lots",
        "domestic_value": "-1", "dutiable_value": "NaN", "amount": "-5",
        "examinations_until": "soon", "source_case": "??"})
    assert bad.status_code == 422, bad.text
    assert {p["name"] for p in bad.json()["invalid-params"]} == {
        "importer_number", "kind", "legal_basis", "facts", "reason", "culpability",
        "revenue_loss", "domestic_value", "dutiable_value", "amount", "examinations_until",
        "source_case"}
    shapeless = officer.post(f"/api/enforcement/{number}/pay", json={"amount": 12})
    assert {p["name"] for p in shapeless.json()["invalid-params"]} == {
        "amount", "paid_on", "reason"}
    control = officer.post(f"/api/enforcement/{number}/withdraw",
                           json={"reason": "withdrawn\x00"})
    assert control.status_code == 422, control.text
    assert [p["name"] for p in control.json()["invalid-params"]] == ["reason"]
    assert _head(api) == after_created
