"""/api/users and /api/tokens over HTTP: admins add and change users (If-Match on the
user's version, Idempotency-Key), never see a password hash or a token's secret again,
and the changes bite at once: a disabled user's session, a revoked or expired token and a
reset password's old sessions are refused on the next request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from infrastructure.passwords import Argon2Hasher
from infrastructure.settings import load_settings
from interfaces.composition import utc_now
from interfaces.http.app import create_app
from interfaces.http.services import build_http_services
from tests.builders import FakeClock
from tests.e2e.http.conftest import Api, staff_the_store

NEW_PASSWORD = "a long new passphrase 2026"


def events(api: Api) -> int:
    return api.ledger.recorder.max_notification_id() or 0


def no_secrets(text: str) -> None:
    assert "$argon2" not in text
    assert "password_hash" not in text
    assert "secret_hash" not in text


def test_admins_list_and_show_users_without_secrets(api: Api) -> None:
    admin = api.as_user("admin")
    listed = admin.get("/api/users")
    assert listed.status_code == 200, listed.text
    no_secrets(listed.text)
    by_name = {u["username"]: u for u in listed.json()["items"]}
    assert by_name["officer11"]["districts"] == ["11"]
    assert not by_name["officer11"]["national"]
    assert by_name["rep11"]["importers"] == [api.importer11]
    assert by_name["officer11"]["password_set"] is True

    shown = admin.get("/api/users/officer11")
    assert shown.status_code == 200
    assert shown.headers["etag"] == f'"{shown.json()["version"]}"'
    no_secrets(shown.text)
    assert admin.get("/api/users/nobody").status_code == 404
    assert api.as_user("auditor").get("/api/users").status_code == 200
    for user in ("officer11", "supervisor.national", "rep11"):
        assert api.as_user(user).get("/api/users").status_code == 403
        assert api.as_user(user).get("/api/users/admin").status_code == 403
        assert api.as_user(user).get("/api/tokens").status_code == 403


def test_an_admin_adds_a_user_who_can_then_log_in(api: Api) -> None:
    admin = api.as_user("admin")
    added = admin.post("/api/users", json={
        "username": "officer13", "roles": ["officer"], "districts": ["13"],
        "email": "officer13@customs.example", "password": NEW_PASSWORD,
        "reason": "joined district 13"})
    assert added.status_code == 201, added.text
    assert added.headers["location"] == "/api/users/officer13"
    assert added.json()["number"] == "officer13"
    no_secrets(added.text)
    assert api.as_user("officer13", NEW_PASSWORD).get("/api/me").json()["districts"] == ["13"]
    history = list(api.ledger.events.get(api.ledger.get_user("officer13").id))
    assert history[0].actor == "user:admin"  # recorded as the caller, never a body field

    bare = admin.post("/api/users", json={"username": "nopass", "roles": ["auditor"],
                                          "reason": "an auditor without a password yet"})
    assert bare.status_code == 201, bare.text
    assert admin.get("/api/users/nopass").json()["password_set"] is False


@pytest.mark.parametrize(("body", "fields"), [
    ({"roles": ["officer"], "reason": "r"}, {"username"}),
    ({"username": "x1", "roles": ["officer"]}, {"reason"}),
    ({"username": "x1", "roles": "officer", "reason": "r"}, {"roles"}),
    ({"username": "x1", "roles": ["officer"], "reason": "r", "admin": True}, {"admin"}),
    ({"username": "Bad Name!", "roles": ["officer"], "reason": "r",
      "password": "short"}, {"username", "password"}),
    ({"username": "x1", "roles": ["officer"], "reason": "r\x1b[2J"}, {"reason"}),
    ({"username": "x1", "roles": ["officer"], "reason": "r", "password": "x1"}, {"password"}),
    ({"username": "x1", "roles": ["pilot"], "reason": "r"}, {"role"}),
    ({"username": "x1", "roles": ["officer"], "districts": ["77"], "reason": "r"},
     {"district"}),
    ({"username": "x1", "roles": ["officer"], "email": "not-an-address", "reason": "r"},
     {"email"}),
])
def test_a_bad_new_user_is_refused_and_nothing_is_written(
        api: Api, body: dict[str, Any], fields: set[str]) -> None:
    admin = api.as_user("admin")
    before = events(api)
    refused = admin.post("/api/users", json=body)
    assert refused.status_code == 422, refused.text
    assert {p["name"] for p in refused.json()["invalid-params"]} == fields
    assert "short" not in refused.text  # a password is never echoed
    assert events(api) == before


def test_adding_is_refused_to_others_and_for_a_name_taken(api: Api) -> None:
    body = {"username": "officer14", "roles": ["officer"], "reason": "r"}
    callers = [api.as_user(user) for user in ("officer11", "auditor", "supervisor.national")]
    admin = api.as_user("admin")  # logins are events: before counting them
    before = events(api)
    for caller in callers:
        assert caller.post("/api/users", json=body).status_code == 403
    taken = admin.post("/api/users", json={**body, "username": "officer11"})
    assert taken.status_code == 422
    assert taken.json()["rule"] == "UsernameUnique"
    with_key = admin.post("/api/users", headers={"Idempotency-Key": "add-0001"},
                          json={**body, "password": NEW_PASSWORD})
    assert with_key.status_code == 422
    assert with_key.json()["invalid-params"][0]["name"] == "Idempotency-Key"
    assert events(api) == before


def test_grants_take_if_match_and_idempotency_keys(api: Api) -> None:
    admin = api.as_user("admin")
    version = admin.get("/api/users/analyst11").json()["version"]
    stale = admin.post("/api/users/analyst11/grant", headers={"If-Match": f'"{version - 1}"'},
                       json={"role": "supervisor", "reason": "promoted"})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == version
    key = {"Idempotency-Key": "grant-analyst11-0001", "If-Match": f'"{version}"'}
    granted = admin.post("/api/users/analyst11/grant", headers=key,
                         json={"role": "supervisor", "reason": "promoted"})
    assert granted.status_code == 200, granted.text
    assert granted.json() == {"number": "analyst11", "version": version + 1,
                              "result": version + 1}
    assert granted.headers["etag"] == f'"{version + 1}"'
    head = events(api)
    again = admin.post("/api/users/analyst11/grant", headers=key,
                       json={"role": "supervisor", "reason": "promoted"})
    assert again.json() == granted.json()
    assert events(api) == head
    other_key = admin.post("/api/users/analyst11/revoke",
                           headers={**key, "Idempotency-Key": "revoke-analyst11-01"},
                           json={"role": "supervisor", "reason": "stale"})
    assert other_key.status_code == 412, other_key.text
    assert other_key.json()["current_version"] == version + 1
    assert events(api) == head
    assert api.ledger.get_user("analyst11").roles == ("analyst", "supervisor")

    held = admin.post("/api/users/user:analyst11/grant",
                      json={"role": "supervisor", "reason": "again"})
    assert held.status_code == 422
    assert held.json()["rule"] == "RoleAlreadyHeld"
    revoked = admin.post("/api/users/analyst11/revoke",
                         json={"role": "supervisor", "reason": "acting role ended"})
    assert revoked.status_code == 200, revoked.text
    scoped = admin.post("/api/users/analyst11/districts",
                        json={"districts": ["11", "12"], "reason": "covers 12 too"})
    assert scoped.status_code == 200
    assert api.as_user("analyst11").get("/api/me").json()["districts"] == ["11", "12"]
    national = admin.post("/api/users/analyst11/districts",
                          json={"districts": [], "reason": "national now"})
    assert national.status_code == 200
    assert api.as_user("analyst11").get("/api/me").json()["districts"] is None
    email = admin.post("/api/users/analyst11/email", json={"reason": "left"})
    assert email.status_code == 200
    assert admin.get("/api/users/analyst11").json()["email"] is None
    importers = admin.post("/api/users/rep11/importers",
                           json={"importers": [api.importer11, api.importer12],
                                 "reason": "broker for both"})
    assert importers.status_code == 200, importers.text
    assert api.as_user("rep11").get("/api/me").json()["importers"] == sorted(
        [api.importer11, api.importer12])


def test_an_admin_cannot_change_their_own_access(api: Api) -> None:
    admin, officer = api.as_user("admin"), api.as_user("officer11")
    before = events(api)
    for command, body in (("grant", {"role": "auditor"}), ("revoke", {"role": "admin"}),
                          ("disable", {}), ("districts", {"districts": ["11"]})):
        refused = admin.post(f"/api/users/admin/{command}", json={**body, "reason": "me"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["rule"] == "AdminCannotChangeOwnAccess"
    assert events(api) == before
    assert officer.post("/api/users/officer11b/disable",
                        json={"reason": "x"}).status_code == 403
    assert admin.post("/api/users/nobody/disable", json={"reason": "x"}).status_code == 404
    assert events(api) == before


def test_a_disabled_users_session_stops_at_once(api: Api) -> None:
    victim = api.as_user("officer11b")
    assert victim.get("/api/me").status_code == 200
    disabled = api.as_user("admin").post("/api/users/officer11b/disable",
                                         json={"reason": "left the service"})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["result"] == {"sessions_ended": 1}
    assert victim.get("/api/me").status_code == 401
    enabled = api.as_user("admin").post("/api/users/officer11b/enable",
                                        json={"reason": "came back"})
    assert enabled.status_code == 200
    assert victim.get("/api/me").status_code == 401  # ended, not suspended
    api.clients.pop("officer11b")
    assert api.as_user("officer11b").get("/api/me").status_code == 200


def test_a_password_reset_ends_sessions_and_takes_no_key(api: Api) -> None:
    victim = api.as_user("supervisor11b")
    admin = api.as_user("admin")
    before = events(api)
    weak = admin.post("/api/users/supervisor11b/reset-password",
                      json={"password": "password", "reason": "forgotten"})
    assert weak.status_code == 422
    assert weak.json()["invalid-params"][0]["name"] == "password"
    keyed = admin.post("/api/users/supervisor11b/reset-password",
                       headers={"Idempotency-Key": "reset-00001"},
                       json={"password": NEW_PASSWORD, "reason": "forgotten"})
    assert keyed.status_code == 422
    assert events(api) == before
    reset = admin.post("/api/users/supervisor11b/reset-password",
                       json={"password": NEW_PASSWORD, "reason": "forgotten"})
    assert reset.status_code == 200, reset.text
    no_secrets(reset.text)
    assert NEW_PASSWORD not in reset.text
    assert victim.get("/api/me").status_code == 401
    fresh = TestClient(api.app)
    assert fresh.post("/api/auth/login", json={"username": "supervisor11b",
                                               "password": NEW_PASSWORD}).status_code == 200


def token_for(api: Api, **body: Any) -> Any:
    response = api.as_user("admin").post("/api/tokens", json={
        "username": "analyst.national", "name": "nightly-risk", "roles": ["analyst"],
        "reason": "the nightly risk run", **body})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


def bearer(api: Api, token: str) -> TestClient[Any]:
    client = TestClient(api.app)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_a_token_acts_narrowed_and_stops_when_revoked(api: Api) -> None:
    admin = api.as_user("admin")
    grant = admin.post("/api/users/analyst.national/grant",
                       json={"role": "officer", "reason": "also casework"})
    assert grant.status_code == 200
    issued = token_for(api, roles=["analyst"], districts=["11"])
    assert issued["owner"] == "analyst.national"
    assert issued["roles"] == ["analyst"]
    me = bearer(api, issued["token"]).get("/api/me")
    assert me.status_code == 200, me.text
    assert me.json() == {"username": "analyst.national", "actor": "user:analyst.national",
                         "roles": ["analyst"], "districts": ["11"], "importers": None,
                         "token_id": issued["token_id"]}
    caller = bearer(api, issued["token"])
    assert caller.get("/api/register").status_code == 200
    assert caller.get("/api/register", params={"district": "12"}).json()["items"] == []

    listed = admin.get("/api/tokens")
    assert listed.status_code == 200
    assert issued["token"] not in listed.text
    no_secrets(listed.text)
    mine = [t for t in listed.json()["items"] if t["token_id"] == issued["token_id"]]
    assert mine[0]["state"] == "live"
    assert mine[0]["districts"] == ["11"]
    assert issued["token"] not in admin.get("/api/users/analyst.national").text
    assert admin.get("/api/tokens", params={"username": "officer11"}).json()["items"] == []

    revoked = admin.post(f"/api/tokens/analyst.national/{issued['token_id']}/revoke",
                         json={"reason": "the job was retired"})
    assert revoked.status_code == 200, revoked.text
    assert caller.get("/api/me").status_code == 401
    assert bearer(api, issued["token"]).get("/api/me").status_code == 401
    state = admin.get("/api/tokens", params={"username": "analyst.national"}).json()
    assert state["items"][0]["state"] == "revoked"
    again = admin.post(f"/api/tokens/analyst.national/{issued['token_id']}/revoke",
                       json={"reason": "twice"})
    assert again.status_code == 409
    assert bearer(api, issued["token"] + "0").get("/api/me").status_code == 401


def test_bad_tokens_are_refused_and_nothing_is_written(api: Api) -> None:
    admin, auditor = api.as_user("admin"), api.as_user("auditor")
    before = events(api)
    for body, field in (({"roles": ["supervisor"]}, "role"),
                        ({"expires_in_days": 0}, "expires_in_days"),
                        ({"expires_in_days": 367}, "expires_in_days"),
                        ({"name": "   "}, "name"), ({"reason": ""}, "reason"),
                        ({"username": "nobody!"}, "username"),
                        ({"districts": ["99"]}, "district")):
        refused = admin.post("/api/tokens", json={
            "username": "analyst11", "name": "job", "roles": ["analyst"], "reason": "r",
            **body})
        assert refused.status_code == 422, (body, refused.text)
        assert field in {p["name"] for p in refused.json()["invalid-params"]}, refused.text
    assert admin.post("/api/tokens", json={"username": "nobody", "name": "job",
                                           "roles": ["analyst"], "reason": "r"}
                      ).status_code == 404
    assert auditor.post("/api/tokens", json={
        "username": "auditor", "name": "job", "roles": ["auditor"], "reason": "r"}
    ).status_code == 403
    assert events(api) == before


@pytest.fixture
def timed_api(api_environ: dict[str, str]) -> Iterator[tuple[Api, FakeClock]]:
    """The `api` fixture's server on a clock the test moves (tokens and sessions expire by
    the server's clock)."""
    settings = load_settings(api_environ)
    importer11, importer12 = staff_the_store(settings)
    clock = FakeClock(utc_now())
    services = build_http_services(settings, clock)
    app = create_app(settings, services)
    running = Api(settings, app, TestClient(app), importer11, importer12)
    try:
        yield running, clock
    finally:
        running.close()
        services.close()


def test_an_expired_token_is_refused(timed_api: tuple[Api, FakeClock]) -> None:
    api, clock = timed_api
    issued = token_for(api, expires_in_days=1)
    assert bearer(api, issued["token"]).get("/api/me").status_code == 200
    clock.advance(timedelta(hours=23))
    assert bearer(api, issued["token"]).get("/api/me").status_code == 200
    clock.advance(timedelta(hours=2))
    expired = bearer(api, issued["token"]).get("/api/me")
    assert expired.status_code == 401
    assert expired.headers["www-authenticate"].startswith("Bearer")
    api.clients.clear()  # the sessions expired too
    listed = api.as_user("admin").get("/api/tokens", params={"username": "analyst.national"})
    assert listed.json()["items"][0]["state"] == "expired"


def test_the_hasher_is_the_servers(api: Api) -> None:
    """A user added over HTTP gets a hash of the server's parameters (the fast ones here),
    so a login does not rehash it."""
    added = api.as_user("admin").post("/api/users", json={
        "username": "hashcheck", "roles": ["auditor"], "password": NEW_PASSWORD,
        "reason": "r"})
    assert added.status_code == 201
    digest = api.ledger.get_user("hashcheck").password_hash
    assert digest is not None
    hasher = Argon2Hasher(time_cost=api.settings.argon2_time_cost,
                          memory_cost=api.settings.argon2_memory_kib)
    assert hasher.verify(digest, NEW_PASSWORD)
    assert not hasher.needs_rehash(digest)
