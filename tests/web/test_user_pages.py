"""/users in a browser's way: an admin adds a user who then logs in through /login; the
password policy's refusal beside the field (the password never sent back); a non-admin's
form is the 403 page and records nothing, an auditor reads without forms; role, district,
state and password changes recorded as the admin with the reason; a form on a stale
version shows what changed and records nothing; a token's secret shown once; markup in a
username or e-mail refused or shown as text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from interfaces.web import user_pages
from tests.e2e.http.conftest import PASSWORD, Api
from tests.web.conftest import post_form

XSS = "<script>alert(1)</script>"
NEW_PASSWORD = "a long harbour passphrase 7"


def _version(web: Api, username: str) -> int:
    return int(web.ledger.get_user(username).version)


def _add(web: Api, **fields: str | list[str]) -> Any:
    data: dict[str, object] = {"username": "newcomer", "roles": ["officer"],
                               "districts": ["11"], "email": "newcomer@customs.example",
                               "password": NEW_PASSWORD, "reason": "joined the district 11 team",
                               "idempotency_key": "add-newcomer-0001"}
    data.update(fields)
    return post_form(web.as_user("admin"), "/users", data)


def test_an_admin_adds_a_user_who_then_logs_in(web: Api) -> None:
    response = _add(web)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/users/newcomer?done=add"
    user = web.ledger.get_user("newcomer")
    assert [r.value for r in user.roles] == ["officer"]
    assert user.districts == ("11",)
    assert user.email == "newcomer@customs.example"
    page = web.as_user("admin").get("/users/newcomer?done=add")
    assert page.status_code == 200
    assert "joined the district 11 team" in page.text
    assert "user:admin" in page.text
    assert "$argon2" not in page.text
    assert NEW_PASSWORD not in page.text

    browser = TestClient(web.app)
    login = browser.post("/login", data={"username": "newcomer", "password": NEW_PASSWORD},
                         follow_redirects=False)
    assert login.status_code == 303
    assert browser.get("/", follow_redirects=False).status_code == 200
    assert "newcomer" in web.as_user("admin").get("/users").text


def test_the_password_policy_refusal_is_beside_the_field_and_nothing_is_added(
        web: Api) -> None:
    response = _add(web, password="short")
    assert response.status_code == 422
    text = response.text
    assert re.search(r'id="add-password"[^>]*aria-describedby="add-password-help '
                     r'add-password-error"[^>]*aria-invalid="true"', text)
    assert 'id="add-password-error">must be at least 12 characters long' in text
    assert 'value="newcomer"' in text  # what was typed is kept ...
    assert 'name="password" type="password" autocomplete="new-password" value=""' in text
    assert 'value="short"' not in text  # ... but never the password
    assert web.ledger.find_user("newcomer") is None
    common = _add(web, password="password1234")
    assert "commonly used password" in common.text
    assert web.ledger.find_user("newcomer") is None


def test_a_non_admin_gets_the_403_page_and_nothing_is_recorded(web: Api) -> None:
    supervisor = web.as_user("supervisor11")
    response = post_form(supervisor, "/users", {"username": "intruder", "roles": ["admin"],
                                                "password": NEW_PASSWORD, "reason": "me"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Forbidden" in response.text or "403" in response.text
    assert web.ledger.find_user("intruder") is None
    before = _version(web, "officer11")
    grant = post_form(supervisor, "/users/officer11/grant", {"role": "admin", "reason": "x"})
    assert grant.status_code == 403
    assert _version(web, "officer11") == before
    assert supervisor.get("/users").status_code == 403
    auditor = web.as_user("auditor").get("/users/officer11")
    assert auditor.status_code == 200
    assert "officer11@customs.example" in auditor.text
    assert "<form method=\"post\" action=\"/users/officer11" not in auditor.text
    assert "Add a user" not in web.as_user("auditor").get("/users").text


def test_grants_state_and_password_change_as_the_admin_with_the_reason(web: Api) -> None:
    admin = web.as_user("admin")
    version = _version(web, "officer11")
    granted = post_form(admin, "/users/officer11/grant", {
        "role": "supervisor", "reason": "acting supervisor", "version": str(version)})
    assert granted.status_code == 303, granted.text
    moved = post_form(admin, "/users/officer11/districts", {
        "districts": ["11", "12"], "reason": "covers 12", "version": str(version + 1)})
    assert moved.status_code == 303, moved.text
    user = web.ledger.get_user("officer11")
    assert {r.value for r in user.roles} == {"officer", "supervisor"}
    assert user.districts == ("11", "12")

    officer = web.as_user("officer11")
    assert officer.get("/", follow_redirects=False).status_code == 200
    disabled = post_form(admin, "/users/officer11/disable", {"reason": "left the service"})
    assert disabled.status_code == 303
    assert officer.get("/", follow_redirects=False).status_code == 303  # session ended
    assert "disabled" in admin.get("/users/officer11").text
    enabled = post_form(admin, "/users/officer11/enable", {"reason": "came back"})
    assert enabled.status_code == 303
    weak = post_form(admin, "/users/officer11/reset-password", {"password": "officer11abc!",
                                                                  "reason": "forgot it"})
    assert weak.status_code == 422
    assert "must not contain the username" in weak.text
    reset = post_form(admin, "/users/officer11/reset-password",
                      {"password": NEW_PASSWORD, "reason": "forgot it"})
    assert reset.status_code == 303
    browser = TestClient(web.app)
    assert browser.post("/login", data={"username": "officer11", "password": PASSWORD},
                        follow_redirects=False).status_code == 401
    assert browser.post("/login", data={"username": "officer11", "password": NEW_PASSWORD},
                        follow_redirects=False).status_code == 303
    own = post_form(admin, "/users/admin/revoke", {"role": "admin", "reason": "oops"})
    assert own.status_code == 422
    assert "another admin must" in own.text


def test_a_form_on_a_stale_version_shows_what_changed_and_records_nothing(web: Api) -> None:
    admin = web.as_user("admin")
    read_at = _version(web, "officer12")
    web.ledger_loader().set_user_email("officer12", "o12@customs.example",
                                       actor="user:admin2", reason="new mailbox")
    stale = post_form(admin, "/users/officer12/grant", {
        "role": "analyst", "reason": "helps the analysts", "version": str(read_at)})
    assert stale.status_code == 409
    assert 'id="stale"' in stale.text
    assert "new mailbox" in stale.text
    assert "user:admin2" in stale.text
    assert f'name="version" value="{read_at + 1}"' in stale.text
    assert "helps the analysts" in stale.text  # offered again, as typed
    assert {r.value for r in web.ledger.get_user("officer12").roles} == {"officer"}


def test_a_token_is_shown_once_and_works_until_revoked(web: Api) -> None:
    admin = web.as_user("admin")
    created = post_form(admin, "/users/analyst.national/tokens", {
        "name": "nightly export", "roles": ["analyst"], "expires_in_days": "30",
        "reason": "the export job"})
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    found = re.search(r"(clt_[a-z0-9.@-]+_[0-9a-f]{16}_[0-9a-f]{64})", created.text)
    assert found is not None, created.text
    secret = found.group(1)
    bearer = TestClient(web.app)
    bearer.headers["Authorization"] = f"Bearer {secret}"
    assert bearer.get("/api/me").status_code == 200
    again = admin.get("/users/analyst.national")
    assert secret not in again.text
    assert secret.rsplit("_", 1)[1] not in again.text
    assert "nightly export" in again.text
    token_id = web.ledger.get_user("analyst.national").tokens[0].token_id
    refused = post_form(admin, f"/users/analyst.national/tokens/{token_id}/revoke",
                        {"reason": ""})
    assert refused.status_code == 422
    assert f'id="revoke-reason-{token_id}-error"' in refused.text
    revoked = post_form(admin, f"/users/analyst.national/tokens/{token_id}/revoke",
                        {"reason": "job retired"})
    assert revoked.status_code == 303
    assert bearer.get("/api/me").status_code == 401
    wrong = post_form(admin, "/users/analyst.national/tokens", {
        "name": "too much", "roles": ["admin"], "expires_in_days": "400", "reason": "x"})
    assert wrong.status_code == 422
    assert 'id="token-days-error"' in wrong.text


def test_markup_in_a_username_is_refused_and_in_an_email_shown_as_text(web: Api) -> None:
    refused = _add(web, username=XSS)
    assert refused.status_code == 422
    assert XSS not in refused.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text
    assert 'id="add-username-error"' in refused.text
    address = f"{XSS}@example.org"  # the address syntax allows it: it must show as text
    added = _add(web, username="marked", email=address, idempotency_key="add-marked-0001")
    assert added.status_code == 303, added.text
    assert web.ledger.get_user("marked").email == address
    for path in ("/users", "/users/marked"):
        text = web.as_user("admin").get(path).text
        assert XSS not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.org" in text


def test_the_list_is_filtered_and_paged_from_the_people_view(
        web: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = web.as_user("admin")
    officers = admin.get("/users?role=officer&district=11")
    assert officers.status_code == 200
    shown = set(re.findall(r'<td><a href="/users/([^"]+)">', officers.text))
    assert shown == {"officer11", "officer11b"}
    found = admin.get("/users", params={"q": "Supervisor1"}).text
    assert set(re.findall(r'<td><a href="/users/([^"]+)">', found)) == {
        "supervisor11", "supervisor11b", "supervisor11c", "supervisor12"}
    bad = admin.get("/users?role=king")
    assert bad.status_code == 422
    assert 'id="filter-role-error"' in bad.text

    monkeypatch.setattr(user_pages, "PAGE_SIZE", 5)
    seen: list[str] = []
    path: str | None = "/users"
    while path is not None:
        listing = admin.get(path).text
        seen += re.findall(r'<td><a href="/users/([^"]+)">', listing)
        following = re.search(r'<a href="(/users\?[^"]*cursor=[^"]+)" rel="next">', listing)
        path = following.group(1).replace("&amp;", "&") if following else None
    assert seen == sorted(user.username for user in web.ledger.list_users())
