"""Logging in and out in a browser's way, and the protections every page has: CSRF on
every form, the security headers, the 404 page for what is missing or out of scope, and no
open redirect after login."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from interfaces.http.auth import SESSION_COOKIE
from tests.e2e.http.conftest import PASSWORD, Api
from tests.web.conftest import post_form


def test_a_page_without_a_session_sends_the_browser_to_login_and_back(web: Api) -> None:
    client = TestClient(web.app)
    response = client.get("/?view=due", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F%3Fview%3Ddue"
    logged_in = client.post("/login", data={"username": "officer11", "password": PASSWORD,
                                            "next": "/?view=due"},
                            follow_redirects=False)
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/?view=due"
    cookie = logged_in.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert client.get("/").status_code == 200


def test_a_wrong_password_shows_the_form_again_with_the_reason(web: Api) -> None:
    client = TestClient(web.app)
    response = client.post("/login", data={"username": "officer11", "password": "nope"})
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert SESSION_COOKIE not in client.cookies


def test_login_never_redirects_off_site(web: Api) -> None:
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client = TestClient(web.app)
        response = client.post("/login", data={"username": "officer11", "password": PASSWORD,
                                               "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/", target


def test_a_login_form_posted_from_another_site_is_refused(web: Api) -> None:
    client = TestClient(web.app)
    response = client.post("/login", data={"username": "officer11", "password": PASSWORD},
                           headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_a_form_without_the_session_token_is_refused_and_changes_nothing(web: Api) -> None:
    client = web.as_user("officer11")
    refused = client.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403
    assert "Form expired" in refused.text
    forged = client.post("/logout", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still logged in
    done = post_form(client, "/logout")
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_every_page_carries_a_csp_without_inline_script_and_the_other_headers(
        web: Api) -> None:
    client = web.as_user("officer11")
    for path in ("/", "/login", "/static/app.css", "/no-such-page"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_a_missing_page_is_a_page_and_a_missing_api_resource_is_a_problem(web: Api) -> None:
    client = web.as_user("officer11")
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text
    problem = client.get("/api/no-such-resource")
    assert problem.headers["content-type"] == "application/problem+json"


def test_htmx_is_served_by_the_app_pinned_with_its_licence(web: Api) -> None:
    client = web.as_user("officer11")
    page = client.get("/").text
    assert 'src="/static/vendor/htmx-2.0.11.min.js"' in page
    assert "http://" not in page.split("<body")[0]
    assert "https://" not in page.split("<body")[0]
    script = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert script.status_code == 200
    assert "htmx" in script.text
    licence = client.get("/static/vendor/htmx-2.0.11.LICENSE.txt")
    assert "Zero-Clause BSD" in licence.text


def test_the_api_documentation_page_loads_nothing_from_elsewhere(web: Api) -> None:
    client = web.as_user("officer11")
    page = client.get("/schema/swagger")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', page.text)
    assert assets
    assert all(asset.startswith("/static/") for asset in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    policy = page.headers["content-security-policy"]
    assert "https:" not in policy
    assert "script-src 'self'" in policy
