"""/api/verifications over HTTP, on both stores: a follow-up verification assigned by a
supervisor, re-tested and concluded (effective, and not effective) by the officer, or
cancelled, each event recorded as its caller; refusals (403 for a role, 404 for another
district's or importer's verification, 422 for assigning the implementation's reporter)
write nothing; If-Match, Idempotency-Key, every bad field."""

from __future__ import annotations

from typing import Any

from domain.case_numbers import case_id
from interfaces.composition import build_application
from tests.builders import register_importer, walk_plan, walk_to_findings
from tests.e2e.http.conftest import Api

EFFECTIVE = {"lines_tested": "500", "discrepancies": "10", "value_tested": "100000.00",
             "value_in_error": "800.00", "revenue_loss": "40.00"}
NOT_EFFECTIVE = {"lines_tested": "200", "discrepancies": "30", "value_tested": "100000.00",
                 "value_in_error": "5000.00", "revenue_loss": "300.00"}


def _head(api: Api) -> int:
    return api.ledger.recorder.max_notification_id() or 0


def _actors_after(api: Api, number: str, version: int) -> set[str]:
    events: list[Any] = list(api.ledger.events.get(case_id(number), gt=version))
    return {event.actor for event in events}


def _scheduled(api: Api, *importers: str | None) -> list[str]:
    """A verification scheduled (its plan reported implemented by user:tester), per
    importer (None: a new importer of district 11; one importer has one open assessment
    at a time)."""
    loader = build_application(api.settings, access_control=False)
    try:
        numbers = []
        for importer in importers:
            _, findings = walk_to_findings(
                loader, importer or register_importer(loader, district="11"))
            assert findings.plan_number is not None
            verification = walk_plan(loader, findings.plan_number)
            assert verification is not None
            numbers.append(verification)
        return numbers
    finally:
        loader.close()


def _post(api: Api, user: str, number: str, command: str, body: dict[str, Any],
          version: int) -> int:
    """Sends the command with If-Match; asserts it was recorded as `user`; the version."""
    response = api.as_user(user).post(f"/api/verifications/{number}/{command}", json=body,
                                      headers={"If-Match": f'"{version}"'})
    assert response.status_code == 200, (command, response.text)
    assert _actors_after(api, number, version) == {f"user:{user}"}, command
    new_version = response.json()["version"]
    assert isinstance(new_version, int)
    return new_version


def test_verifications_are_concluded_effective_or_not_and_cancelled(api: Api) -> None:
    effective, failing, cancelled = _scheduled(api, api.importer11, None, None)
    results = {}
    for number, sample in [(effective, EFFECTIVE), (failing, NOT_EFFECTIVE)]:
        version = _post(api, "supervisor11", number, "assign",
                        {"officer": "user:officer11", "reason": "next on the rota"},
                        api.ledger.get_verification(number).version)
        for area in api.ledger.get_verification(number).areas:
            version = _post(api, "officer11", number, "retest",
                            {"area": area.value, **sample, "reason": "re-test"}, version)
        response = api.as_user("officer11").post(
            f"/api/verifications/{number}/conclude", json={"reason": "re-tests done"},
            headers={"If-Match": f'"{version}"'})
        assert response.status_code == 200, response.text
        assert _actors_after(api, number, version) == {"user:officer11"}
        results[number] = response.json()["result"]
    assert results[effective]["effective"] is True
    assert results[effective]["compliance_class"] is not None
    assert results[failing]["effective"] is False
    enforcement = results[failing]["enforcement_number"]
    assert api.as_user("officer11").get(f"/api/enforcement/{enforcement}").status_code == 200

    _post(api, "officer11b", cancelled, "cancel", {"reason": "plan withdrawn"},
          api.ledger.get_verification(cancelled).version)
    shown = api.as_user("rep11").get(f"/api/verifications/{effective}")
    assert shown.status_code == 200, shown.text
    case = shown.json()["case"]
    assert case["state"] == "concluded_effective"
    assert case["officer"] == "user:officer11"
    assert len(case["tests"]) == 1
    assert case["findings"][0]["area"] == "value"
    states = {n: api.ledger.get_verification(n).state.value for n in (failing, cancelled)}
    assert states == {failing: "concluded_not_effective", cancelled: "cancelled"}


def test_refusals_write_nothing(api: Api) -> None:
    number11, number12 = _scheduled(api, api.importer11, api.importer12)
    for user in ("officer11", "rep11", "analyst11", "officer12", "rep12", "supervisor11"):
        api.as_user(user)  # a login is recorded: before counting
    api.ledger_loader().add_user(  # the reporter could otherwise be given the work
        "tester", roles=["officer"], districts=["11"], actor="system:test-setup",
        reason="reported the plan implemented")
    before = _head(api)
    retest = {"area": "value", **EFFECTIVE, "reason": "re-test"}
    for user, command, body in [
            ("officer11", "assign", {"officer": "user:officer11", "reason": "me"}),
            ("rep11", "retest", retest), ("rep11", "conclude", {"reason": "done"}),
            ("analyst11", "cancel", {"reason": "no"})]:
        refused = api.as_user(user).post(f"/api/verifications/{number11}/{command}",
                                         json=body)
        assert refused.status_code == 403, (user, command, refused.text)
    for user, number in [("officer12", number11), ("rep12", number11), ("rep11", number12)]:
        assert api.as_user(user).get(f"/api/verifications/{number}").status_code == 404
    hidden = api.as_user("officer12").post(f"/api/verifications/{number11}/retest",
                                           json=retest)
    assert hidden.status_code == 404, hidden.text
    reporter = api.as_user("supervisor11").post(
        f"/api/verifications/{number11}/assign",
        json={"officer": "user:tester", "reason": "who reported it"})
    assert reporter.status_code == 422
    assert reporter.json()["rule"] == "VerifierIsNotTheImplementationReporter"
    assert _head(api) == before
    assert api.as_user("rep11").get(f"/api/verifications/{number11}").status_code == 200


def test_if_match_idempotency_and_bad_bodies(api: Api) -> None:
    (number,) = _scheduled(api, api.importer11)
    officer = api.as_user("officer11")
    version = api.ledger.get_verification(number).version
    before = _head(api)
    body = {"area": "value", **EFFECTIVE, "reason": "re-test of value"}
    stale = officer.post(f"/api/verifications/{number}/retest", json=body,
                         headers={"If-Match": f'"{version - 1}"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == version
    assert _head(api) == before

    key = {"Idempotency-Key": "verification-retest-0001"}
    first = officer.post(f"/api/verifications/{number}/retest", json=body, headers=key)
    assert first.status_code == 200, first.text
    after_first = _head(api)
    again = officer.post(f"/api/verifications/{number}/retest", json=body, headers=key)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert _head(api) == after_first
    assert len(api.ledger.get_verification(number).tests) == 1

    bad = officer.post(f"/api/verifications/{number}/retest", json={
        "area": "colour", "lines_tested": "many", "discrepancies": "-1",
        "value_tested": "1e", "value_in_error": "-3", "revenue_loss": "x", "reason": ""})
    assert bad.status_code == 422, bad.text
    assert {p["name"] for p in bad.json()["invalid-params"]} == {
        "area", "lines_tested", "discrepancies", "value_tested", "value_in_error",
        "revenue_loss", "reason"}
    shapeless = officer.post(f"/api/verifications/{number}/assign",
                             json={"officer": ["user:officer11"], "why": "x"})
    assert {p["name"] for p in shapeless.json()["invalid-params"]} == {
        "officer", "reason", "why"}
    control = officer.post(f"/api/verifications/{number}/cancel",
                           json={"reason": "cancel\x1b]8;;http://evil\x07"})
    assert control.status_code == 422, control.text
    assert [p["name"] for p in control.json()["invalid-params"]] == ["reason"]
    assert _head(api) == after_first
