"""The audit log, history (as of a version or a moment, and diffs), verify and seal over
HTTP: scoped like every read, refused to roles that may not, never showing a credential's
hash, and a seal refused over a ledger that does not verify."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest

from domain.case_numbers import case_id
from infrastructure.hash_chain import content_hash, split_signature
from interfaces.composition import build_application
from tests.builders import walk_assessment
from tests.e2e.http.conftest import Api
from tests.integration.raw_store import RawEvents


def opened_by_officer11(api: Api) -> str:
    """An assessment of district 11 opened over HTTP, then assigned by its supervisor."""
    officer = api.as_user("officer11")
    opened = officer.post("/api/assessments", json={
        "importer_number": api.importer11, "origin": "risk_selection",
        "period_start": "2025-01-01", "period_end": "2025-12-31",
        "scope": ["value", "classification"], "reason": "selected by risk"})
    assert opened.status_code == 201, opened.text
    number = str(opened.json()["number"])
    assigned = api.as_user("supervisor11").post(
        f"/api/assessments/{number}/assign",
        json={"officer": "user:officer11", "reason": "on the rota"})
    assert assigned.status_code == 200, assigned.text
    return number


def test_history_of_a_case_is_scoped(api: Api) -> None:
    number = opened_by_officer11(api)
    shown = api.as_user("officer11").get(f"/api/history/{number}")
    assert shown.status_code == 200, shown.text
    events = shown.json()["events"]
    assert [e["version"] for e in events] == [1, 2]
    assert [e["actor"] for e in events] == ["user:officer11", "user:supervisor11"]
    assert events[0]["event"] == "Assessment.Opened"
    assert events[1]["reason"] == "on the rota"
    assert events[1]["changes"]["officer"] == {"from": None, "to": "user:officer11"}
    assert shown.json()["label"] == number

    for user in ("officer12", "analyst12", "supervisor12"):
        hidden = api.as_user(user).get(f"/api/history/{number}")
        assert hidden.status_code == 404, (user, hidden.text)
    assert api.as_user("auditor").get(f"/api/history/{number}").status_code == 200
    assert api.as_user("officer.national").get(f"/api/history/{number}").status_code == 200
    assert api.as_user("rep11").get(f"/api/history/{number}").status_code == 403
    assert api.as_user("admin").get(f"/api/history/{number}").status_code == 403
    missing = api.as_user("auditor").get("/api/history/CA-2026-99999")
    assert missing.status_code == 404
    assert api.as_user("auditor").get("/api/history/nonsense").status_code == 422


def test_history_as_of_a_version_or_a_moment_and_a_diff(api: Api) -> None:
    number = opened_by_officer11(api)
    auditor = api.as_user("auditor")
    first = auditor.get(f"/api/history/{number}", params={"as_of": "1"})
    assert first.status_code == 200, first.text
    assert first.json()["state"]["officer"] is None
    assert first.json()["state"]["version"] == 1
    second = auditor.get(f"/api/history/{number}", params={"as_of": "2"}).json()
    assert second["state"]["officer"] == "user:officer11"

    events = auditor.get(f"/api/history/{number}").json()["events"]
    opened_at = datetime.fromisoformat(events[0]["recorded_at"])
    moment = (opened_at + (datetime.fromisoformat(events[1]["recorded_at"]) - opened_at) / 2)
    at_moment = auditor.get(f"/api/history/{number}", params={"as_of": moment.isoformat()})
    assert at_moment.status_code == 200, at_moment.text
    assert at_moment.json()["state"]["version"] == 1
    before = auditor.get(f"/api/history/{number}",
                         params={"as_of": (opened_at - timedelta(days=1)).isoformat()})
    assert before.status_code == 404

    changes = auditor.get(f"/api/history/{number}", params={"diff": "1,2"})
    assert changes.status_code == 200, changes.text
    assert changes.json()["changes"]["officer"] == {"from": None, "to": "user:officer11"}
    assert (changes.json()["from_version"], changes.json()["to_version"]) == (1, 2)

    for params, field in (({"as_of": "yesterday"}, "as_of"), ({"diff": "1"}, "diff"),
                          ({"diff": "a,b"}, "diff"), ({"as_of": "1", "diff": "1,2"}, "diff"),
                          ({"as_of": "2026-03-01T12:00:00"}, "as_of"),
                          ({"as_of": "0"}, "version")):
        bad = auditor.get(f"/api/history/{number}", params=params)
        assert bad.status_code == 422, (params, bad.text)
        assert field in {p["name"] for p in bad.json()["invalid-params"]}, bad.text
    assert auditor.get(f"/api/history/{number}", params={"as_of": "9"}).status_code == 404
    hidden = api.as_user("officer12").get(f"/api/history/{number}", params={"as_of": "1"})
    assert hidden.status_code == 404


def test_history_of_an_importer_lists_its_cases(api: Api) -> None:
    number = opened_by_officer11(api)
    shown = api.as_user("officer11").get(f"/api/history/{api.importer11.lower()}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["label"] == api.importer11
    assert shown.json()["events"][0]["event"] == "ImporterAccount.Registered"
    assert {"kind": "assessment", "number": number} in shown.json()["cases"]
    assert api.as_user("officer12").get(f"/api/history/{api.importer11}").status_code == 404


def test_a_users_history_never_shows_a_hash(api: Api) -> None:
    admin = api.as_user("admin")
    created = admin.post("/api/tokens", json={
        "username": "officer11b", "name": "nightly", "roles": ["officer"],
        "reason": "a system of district 11"})
    assert created.status_code == 201, created.text
    reset = admin.post("/api/users/officer11b/reset-password",
                       json={"password": "a brand new passphrase 77", "reason": "forgotten"})
    assert reset.status_code == 200, reset.text

    for user in ("auditor", "admin"):
        shown = api.as_user(user).get("/api/history/user:officer11b")
        assert shown.status_code == 200, shown.text
        text = shown.text
        assert "$argon2" not in text
        assert created.json()["token"].rsplit("_", 1)[1] not in text
        events = shown.json()["events"]
        hashed = [e for e in events if "password_hash" in e["data"]]
        assert hashed
        assert all(e["data"]["password_hash"] == "<redacted>" for e in hashed)
        tokens = [e for e in events if e["event"] == "User.TokenCreated"]
        assert tokens[0]["data"]["grant"]["secret_hash"] == "<redacted>"
        state = api.as_user(user).get("/api/history/user:officer11b",
                                      params={"as_of": str(events[-1]["version"])})
        assert "$argon2" not in state.text
        assert state.json()["state"]["password_hash"] == "<redacted>"
        diff = api.as_user(user).get("/api/history/user:officer11b",
                                     params={"diff": f"1,{events[-1]['version']}"})
        assert "$argon2" not in diff.text
        assert diff.json()["changes"]["password_hash"] == {"from": None, "to": "<redacted>"}
    for user in ("officer11", "officer.national", "supervisor.national"):
        assert api.as_user(user).get("/api/history/user:officer11b").status_code == 403
    assert api.as_user("admin").get("/api/history/user:nobody").status_code == 404
    assert api.as_user("auditor").get("/api/history/user:Bad Name!").status_code == 422


def test_the_audit_log_is_for_auditors(api: Api) -> None:
    number = opened_by_officer11(api)
    auditor = api.as_user("auditor")
    found = auditor.get("/api/audit", params={"actor": "user:officer11"})
    assert found.status_code == 200, found.text
    rows = found.json()["items"]
    assert rows
    assert {row["actor"] for row in rows} == {"user:officer11"}
    assert number in {row["case_ref"] for row in rows}
    by_case = auditor.get("/api/audit", params={"case": number.lower()}).json()["items"]
    assert [row["actor"] for row in by_case] == ["user:officer11", "user:supervisor11"]
    assert auditor.get("/api/audit", params={"case": number, "limit": "1"}).json()[
        "items"] == by_case[:1]
    later = auditor.get("/api/audit", params={"since": "2999-01-01T00:00:00+00:00"})
    assert later.json()["items"] == []
    as_csv = auditor.get("/api/audit", params={"case": number},
                         headers={"Accept": "text/csv"})
    assert [r["actor"] for r in csv.DictReader(io.StringIO(as_csv.text))] == [
        "user:officer11", "user:supervisor11"]

    bad = auditor.get("/api/audit", params={"since": "last week", "until": "never"})
    assert bad.status_code == 422
    assert {p["name"] for p in bad.json()["invalid-params"]} == {"since", "until"}
    assert auditor.get("/api/audit", params={"limit": "0"}).status_code == 422
    for user in ("officer.national", "admin", "supervisor11", "rep11"):
        assert api.as_user(user).get("/api/audit").status_code == 403


def test_verify_and_seal(api: Api) -> None:
    opened_by_officer11(api)
    verified = api.as_user("auditor").post("/api/verify")
    assert verified.status_code == 200, verified.text
    assert verified.json()["verdict"] == "OK"
    assert verified.json()["ok"] is True
    assert verified.json()["seals"] == 0
    assert verified.json()["problems"] == []

    for user in ("officer11", "supervisor.national", "rep11"):
        assert api.as_user(user).post("/api/verify").status_code == 403
    for user in ("auditor", "officer.national"):
        assert api.as_user(user).post("/api/seal", json={"reason": "daily"}).status_code == 403
    admin = api.as_user("admin")  # a login is an event: before counting them
    head = api.ledger.recorder.max_notification_id()
    missing = admin.post("/api/seal", json={})
    assert missing.status_code == 422
    assert {p["name"] for p in missing.json()["invalid-params"]} == {"reason"}
    blank = admin.post("/api/seal", json={"reason": " \x00 "})
    assert blank.status_code == 422
    assert api.ledger.recorder.max_notification_id() == head

    sealed = api.as_user("admin").post("/api/seal", json={"reason": "end of day"})
    assert sealed.status_code == 201, sealed.text
    assert sealed.json()["number"] == 1
    assert sealed.json()["sealed_by"] == "user:admin"
    after = api.as_user("auditor").post("/api/verify").json()
    assert after["seals"] == 1
    assert after["latest_seal"]["number"] == 1
    assert after["verdict"] == "OK"


def test_a_forged_event_is_found_and_not_sealed_over(api: Api) -> None:
    loader = build_application(api.settings, access_control=False)
    try:
        number = walk_assessment(loader, api.importer12, "assigned")
    finally:
        loader.close()
    raw = RawEvents.of(api.ledger, api.settings)
    aggregate = case_id(number)
    head = raw.versions(aggregate)[-1]
    topic, state = raw.read(aggregate, head)
    link = content_hash(topic, aggregate, head, split_signature(state)[0])
    raw.insert(aggregate, head + 1, "domain.assessment:Assessment.OfficerAssigned",
               json.dumps({"_prev": link, "_scheme": 2, "actor": "user:mallory",
                           "officer": "user:mallory", "reason": "x",
                           "timestamp": "2026-03-01T00:00:00Z"},
                          separators=(",", ":")).encode())

    found = api.as_user("auditor").post("/api/verify")
    assert found.status_code == 200
    assert found.json()["verdict"] == "TAMPERED"
    assert [(p["subject"], p["version"]) for p in found.json()["problems"]] == [
        (number, head + 1)]
    assert found.json()["problems"][0]["problem"].startswith(
        "not covered by any commit signature")
    refused = api.as_user("admin").post("/api/seal", json={"reason": "end of day"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["rule"] == "LedgerVerifies"
    assert number in refused.json()["detail"]
    assert not api.settings.seal_witness_path.exists()


@pytest.mark.parametrize("path", ["/api/audit", "/api/history/user:admin"])
def test_reads_need_a_login(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 401
