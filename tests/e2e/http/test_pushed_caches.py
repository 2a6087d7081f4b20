"""The caches a PostgreSQL API process keeps (callers, case reads) against real server
processes that share only the database: what one process writes, the other answers.

- A write answers with its position (`Ledger-Seen`); a read through another process that
  sends it back sees the write, every time, the caches warm.
- A read that sends no position sees the write once the database's announcement has
  reached that process (polled, no timing asserted).
- A logout, a revoked token and a disabled user, in one process, are refused by the
  other at the next request that carries the position.
- With its LISTEN connection killed a process still answers currently (from the
  database), and it listens again by itself.
- In-process: a read is served from the cache, and an announcement from another writer
  drops it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import psycopg
import pytest

from infrastructure.change_feed import application_name
from infrastructure.settings import load_settings
from interfaces.http.auth import SESSION_COOKIE
from interfaces.http.freshness import POSITION_HEADER
from tests.e2e.http.conftest import FAST_ARGON2
from tests.e2e.http.server import ApiServer, Served, login

pytestmark = pytest.mark.postgres
POLL_SECONDS = 60.0


@pytest.fixture(scope="module")
def pg_environ(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    from interfaces.composition import initialise_store
    from tests.conftest import drop_schema, unique_schema

    url = request.getfixturevalue("postgres_url")
    schema = unique_schema()
    home = tmp_path_factory.mktemp("pushed")
    environ = {"COMPLIANCE_DATABASE_URL": url, "COMPLIANCE_POSTGRES_SCHEMA": schema,
               "COMPLIANCE_SEAL_KEY": str(home / "seal.key"), **FAST_ARGON2}
    try:
        initialise_store(load_settings(environ))
        yield environ
    finally:
        drop_schema(url, schema)


@pytest.fixture(scope="module")
def two(pg_environ: Mapping[str, str]) -> Iterator[tuple[Served, ApiServer]]:
    """Process B (`served.server`, where the test reads) and process A (where it writes)."""
    with Served(pg_environ) as served, ApiServer(served.environ) as writer:
        yield served, writer


def _open(client: httpx.Client, importer: str, year: int) -> str:
    response = client.post("/api/assessments", json={
        "importer_number": importer, "origin": "risk_selection",
        "period_start": f"{year}-01-01", "period_end": f"{year}-12-31", "scope": ["value"],
        "reason": "selected by risk"})
    assert response.status_code == 201, response.text
    return str(response.json()["number"])


def _position(response: httpx.Response) -> str:
    position = str(response.headers.get(POSITION_HEADER, ""))
    assert position.isdigit(), response.headers
    assert int(position) > 0
    return position


def _poll(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + POLL_SECONDS
    while not check():
        assert time.monotonic() < deadline, "not within the poll's bound"
        time.sleep(0.05)


def _clients(served: Served, writer: ApiServer, username: str) -> tuple[httpx.Client,
                                                                       httpx.Client]:
    """One session, a client on each process (separate cookie jars: B's never holds the
    position cookie A sets)."""
    on_a = login(writer.client(), username)
    on_b = served.server.client(cookies={SESSION_COOKIE: on_a.cookies[SESSION_COOKIE]})
    return on_a, on_b


def test_a_write_is_read_through_another_process_with_its_position(
        two: tuple[Served, ApiServer]) -> None:
    served, writer = two
    on_a, on_b = _clients(served, writer, "supervisor11")
    number = _open(login(writer.client(), "officer11"), served.importer11, 2021)
    for turn in range(6):
        for _ in range(3):  # warm B's caches with the current state
            assert on_b.get(f"/api/assessments/{number}").status_code == 200
        officer = "user:officer11b" if turn % 2 else "user:officer11"
        written = on_a.post(f"/api/assessments/{number}/assign",
                            json={"officer": officer, "reason": f"turn {turn}"})
        assert written.status_code == 200, written.text
        read = on_b.get(f"/api/assessments/{number}",
                        headers={POSITION_HEADER: _position(written)})
        assert read.status_code == 200, read.text
        assert read.json()["case"]["officer"] == officer
        assert read.headers["etag"] == f'"{read.json()["version"]}"'
        assert read.json()["version"] == turn + 2


def test_a_write_reaches_another_process_without_the_position(
        two: tuple[Served, ApiServer]) -> None:
    served, writer = two
    on_a, on_b = _clients(served, writer, "supervisor11b")
    number = _open(login(writer.client(), "officer11"), served.importer11, 2022)
    assert on_b.get(f"/api/assessments/{number}").json()["version"] == 1
    assert on_b.get(f"/api/assessments/{number}").json()["version"] == 1  # cached now
    written = on_a.post(f"/api/assessments/{number}/assign",
                        json={"officer": "user:officer11", "reason": "reassigned"})
    assert written.status_code == 200, written.text
    _poll(lambda: on_b.get(f"/api/assessments/{number}").json()["version"] == 2)
    assert on_b.get(f"/api/assessments/{number}").json()["case"]["officer"] == "user:officer11"


def test_a_logout_in_one_process_is_refused_in_the_other(
        two: tuple[Served, ApiServer]) -> None:
    served, writer = two
    on_a, on_b = _clients(served, writer, "analyst12")
    for _ in range(3):
        assert on_b.get("/api/me").status_code == 200
    ended = on_a.post("/api/auth/logout")
    assert ended.status_code == 204
    refused = on_b.get("/api/me", headers={POSITION_HEADER: _position(ended)})
    assert refused.status_code == 401, refused.text
    _poll(lambda: on_b.get("/api/me").status_code == 401)


def test_a_revoked_token_and_a_disabled_user_are_refused_in_the_other(
        two: tuple[Served, ApiServer]) -> None:
    served, writer = two
    admin = login(writer.client(), "admin")
    issued = admin.post("/api/tokens", json={
        "username": "analyst.national", "name": "nightly", "roles": ["analyst"],
        "expires_in_days": 30, "reason": "the nightly risk job"})
    assert issued.status_code == 201, issued.text
    bearer = served.server.client(headers={"Authorization": f"Bearer {issued.json()['token']}"})
    for _ in range(3):
        assert bearer.get("/api/me").status_code == 200
    revoked = admin.post(f"/api/tokens/analyst.national/{issued.json()['token_id']}/revoke",
                         json={"reason": "the job moved"})
    assert revoked.status_code == 200, revoked.text
    assert bearer.get("/api/me", headers={POSITION_HEADER: _position(revoked)}
                      ).status_code == 401

    _, supervisor = _clients(served, writer, "supervisor11c")
    for _ in range(3):
        assert supervisor.get("/api/me").status_code == 200
    disabled = admin.post("/api/users/supervisor11c/disable", json={"reason": "left"})
    assert disabled.status_code == 200, disabled.text
    assert supervisor.get("/api/me", headers={POSITION_HEADER: _position(disabled)}
                          ).status_code == 401


def _listeners(environ: Mapping[str, str]) -> list[int]:
    name = application_name(environ["COMPLIANCE_POSTGRES_SCHEMA"])
    with psycopg.connect(environ["COMPLIANCE_DATABASE_URL"], autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                            (name,)).fetchall()
    return sorted(int(row[0]) for row in rows)


def _terminate(environ: Mapping[str, str], pids: list[int]) -> None:
    with psycopg.connect(environ["COMPLIANCE_DATABASE_URL"], autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_killed_listener_falls_back_to_the_database_and_comes_back(
        two: tuple[Served, ApiServer]) -> None:
    served, writer = two
    on_a, on_b = _clients(served, writer, "supervisor11")
    number = _open(login(writer.client(), "officer11"), served.importer11, 2023)
    assert on_b.get(f"/api/assessments/{number}").json()["version"] == 1
    assert "caches live" in on_b.get("/readyz").json()["detail"]
    before = _listeners(served.environ)
    assert len(before) == 2, before  # one per process
    _terminate(served.environ, before)
    for turn, officer in enumerate(("user:officer11b", "user:officer11", "user:officer11b")):
        written = on_a.post(f"/api/assessments/{number}/assign",
                            json={"officer": officer, "reason": f"turn {turn}"})
        assert written.status_code == 200, written.text
        read = on_b.get(f"/api/assessments/{number}",
                        headers={POSITION_HEADER: _position(written)})
        assert (read.json()["version"], read.json()["case"]["officer"]) == (turn + 2,
                                                                            officer)
    _poll(lambda: len(after := _listeners(served.environ)) == 2
          and not set(after) & set(before))
    for _ in range(3):
        assert on_b.get(f"/api/assessments/{number}").json()["version"] == 4
    _poll(lambda: "caches live" in on_b.get("/readyz").json()["detail"])
    written = on_a.post(f"/api/assessments/{number}/assign",
                        json={"officer": "user:officer11", "reason": "after the return"})
    read = on_b.get(f"/api/assessments/{number}",
                    headers={POSITION_HEADER: _position(written)})
    assert (read.json()["version"], read.json()["case"]["officer"]) == (5, "user:officer11")


def test_a_read_is_cached_and_dropped_when_another_writer_changes_the_case(
        pg_environ: Mapping[str, str], two: tuple[Served, ApiServer]) -> None:
    from litestar.testing import TestClient

    from domain.case_numbers import case_id
    from interfaces.composition import build_application
    from interfaces.http.app import create_app
    from interfaces.http.services import build_http_services
    from tests.e2e.http.conftest import PASSWORD

    settings = load_settings(pg_environ)
    services = build_http_services(settings)
    other = build_application(settings, access_control=False)
    try:
        assert services.feed is not None
        assert services.reads is not None
        _poll(lambda: services.feed is not None and services.feed.live)
        with TestClient(create_app(settings, services)) as client:
            assert client.post("/api/auth/login", json={
                "username": "officer11", "password": PASSWORD}).status_code == 200
            number = other.open_assessment(
                two[0].importer11, origin="risk_selection", period=_period(2024), scope=["value"],
                actor="user:officer11", reason="opened elsewhere")
            key: Any = ("assessments", case_id(number))
            first = client.get(f"/api/assessments/{number}")
            assert first.status_code == 200
            assert services.reads.get(key) is not None
            cached = client.get(f"/api/assessments/{number}")  # the fast path's answer
            assert cached.content == first.content
            assert _headers(cached) == _headers(first)
            with TestClient(create_app(settings, services)) as outsider:
                assert outsider.post("/api/auth/login", json={
                    "username": "officer12", "password": PASSWORD}).status_code == 200
                for _ in range(2):  # out of scope, cached or not: as if it did not exist
                    assert outsider.get(f"/api/assessments/{number}").status_code == 404
            other.assign_officer(number, "user:officer11b", actor="user:supervisor11",
                                 reason="written by another process")
            _poll(lambda: services.reads is not None and services.reads.get(key) is None)
            assert client.get(f"/api/assessments/{number}").json()["case"]["officer"] == (
                "user:officer11b")
    finally:
        other.close()
        services.close()


def _headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()
            if name not in ("x-request-id", "date")}


def _period(year: int) -> Any:
    from domain.values import parse_period

    return parse_period(f"{year}-01-01", f"{year}-12-31")
