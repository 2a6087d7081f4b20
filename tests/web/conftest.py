"""The web pages in-process (litestar's TestClient over the real app) on a real store,
SQLite and PostgreSQL, with the staff of the HTTP tests (tests.e2e.http.conftest: users
in every role, districts 11 and 12, national, and a representative per importer).

`web.as_user(name)` is a client logged in through the API's login (the same session
cookie the pages use); `csrf(client)` is the token its forms must carry. The browser
tests (tests/browser) drive real Chromium against a real server process instead."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from interfaces.http.auth import SESSION_COOKIE
from interfaces.web.security import csrf_token
from tests.e2e.http.conftest import Api, api, api_environ  # noqa: F401 - shared fixtures


def csrf(client: TestClient[Litestar]) -> str:
    return csrf_token(client.cookies.get(SESSION_COOKIE) or "")


def post_form(client: TestClient[Litestar], path: str, data: dict[str, Any] | None = None,
              **kwargs: Any) -> Any:
    """A form as a browser sends it: urlencoded, with the session's CSRF token, no
    redirect followed (the test sees the 303 or the page)."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf(client)},
                       follow_redirects=False, **kwargs)


@pytest.fixture
def web(api: Api) -> Api:  # noqa: F811 - the shared fixture, under the pages' name
    return api
