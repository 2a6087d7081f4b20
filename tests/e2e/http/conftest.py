"""The HTTP API in-process (litestar's TestClient over the real ASGI app) on a real store,
SQLite and PostgreSQL, with a staff of users in every role: districts 11 and 12, national,
and importers' representatives bound to one importer in each district.

`api.as_user(name)` is a client logged in as that user (a real login: POST
/api/auth/login, then the session cookie). Tests that need a real server process (session
shared by two processes, schemathesis) start uvicorn themselves (see server.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from application.compliance_cases import ComplianceCases
from infrastructure.passwords import Argon2Hasher
from infrastructure.settings import Settings, load_settings
from interfaces.composition import build_application
from interfaces.http.app import create_app
from interfaces.http.services import build_http_services
from tests.builders import register_importer

PASSWORD = "staff password 2026!"
FAST_ARGON2 = {"COMPLIANCE_ARGON2_TIME_COST": "1", "COMPLIANCE_ARGON2_MEMORY_KIB": "8"}
"""Cheap hashes: the tests log in hundreds of times; the parameters are settings."""

STAFF: dict[str, dict[str, Any]] = {
    "admin": {"roles": ["admin"]},
    "admin2": {"roles": ["admin"]},
    "auditor": {"roles": ["auditor"]},
    "officer11": {"roles": ["officer"], "districts": ["11"]},
    "officer11b": {"roles": ["officer"], "districts": ["11"]},
    "officer12": {"roles": ["officer"], "districts": ["12"]},
    "officer.national": {"roles": ["officer"]},
    "supervisor11": {"roles": ["supervisor"], "districts": ["11"]},
    "supervisor11b": {"roles": ["supervisor"], "districts": ["11"]},
    "supervisor11c": {"roles": ["supervisor"], "districts": ["11"]},
    "supervisor12": {"roles": ["supervisor"], "districts": ["12"]},
    "supervisor.national": {"roles": ["supervisor"]},
    "analyst11": {"roles": ["analyst"], "districts": ["11"]},
    "analyst12": {"roles": ["analyst"], "districts": ["12"]},
    "analyst.national": {"roles": ["analyst"]},
}


@dataclass
class Api:
    """A running app on a store with its staff; `importer11`/`importer12` are registered
    importers of districts 11 and 12, `rep11`/`rep12` their representatives."""

    settings: Settings
    app: Litestar
    client: TestClient[Litestar]
    importer11: str
    importer12: str
    clients: dict[str, TestClient[Litestar]] = field(default_factory=dict)
    _loader: ComplianceCases | None = None

    @property
    def ledger(self) -> ComplianceCases:
        """The application the server uses (access control on): for reading back."""
        return self.app.state.services.app  # type: ignore[no-any-return]

    def as_user(self, username: str, password: str = PASSWORD) -> TestClient[Litestar]:
        if username not in self.clients:
            client = TestClient(self.app)  # no lifespan: the services are the fixture's
            response = client.post("/api/auth/login",
                                   json={"username": username, "password": password})
            assert response.status_code == 200, response.text
            self.clients[username] = client
        return self.clients[username]

    def ledger_loader(self) -> ComplianceCases:
        """An application with access control off on the same store, for setting up cases
        (closed with the fixture)."""
        if self._loader is None:
            self._loader = build_application(self.settings, access_control=False)
        return self._loader

    def close(self) -> None:
        self.clients.clear()  # clients never entered hold no portal or lifespan
        if self._loader is not None:
            self._loader.close()


def staff_the_store(settings: Settings) -> tuple[str, str]:
    """Registers an importer in districts 11 and 12 and creates the staff (one password
    hash for all: argon2 with the fast test parameters)."""
    loader = build_application(settings, access_control=False)
    try:
        importer11 = register_importer(loader, district="11")
        importer12 = register_importer(loader, district="12")
        digest = Argon2Hasher(time_cost=settings.argon2_time_cost,
                              memory_cost=settings.argon2_memory_kib).hash(PASSWORD)
        people = {**STAFF,
                  "rep11": {"roles": ["importer_representative"], "importers": [importer11]},
                  "rep12": {"roles": ["importer_representative"], "importers": [importer12]}}
        for name, grants in people.items():
            loader.add_user(name, roles=grants["roles"], districts=grants.get("districts", ()),
                            importers=grants.get("importers", ()), password_hash=digest,
                            email=f"{name}@customs.example", actor="system:test-setup",
                            reason="test staff")
    finally:
        loader.close()
    return importer11, importer12


@pytest.fixture
def api_environ(store_environ: Mapping[str, str]) -> dict[str, str]:
    return {**store_environ, **FAST_ARGON2}


@pytest.fixture
def api(api_environ: dict[str, str]) -> Iterator[Api]:
    settings = load_settings(api_environ)
    importer11, importer12 = staff_the_store(settings)
    services = build_http_services(settings)
    app = create_app(settings, services)
    client = TestClient(app)
    running = Api(settings, app, client, importer11, importer12)
    try:
        yield running
    finally:
        running.close()
        services.close()


# -- one store per test module (the cross-cutting tests: matrix, fuzz) -------------------


@pytest.fixture(scope="module", params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def module_api_environ(request: pytest.FixtureRequest,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """As `api_environ`, but one store per module and backend: for tests that set up many
    cases once and then ask hundreds of questions of them (PostgreSQL: a schema of its
    own, dropped afterwards; skipped, or failed under CI=true, as tests/conftest.py says)."""
    from interfaces.composition import initialise_store
    from tests.conftest import drop_schema, unique_schema

    home = tmp_path_factory.mktemp(f"api-{request.param}")
    keys = {"COMPLIANCE_SEAL_KEY": str(home / "keys" / "seal.key"), **FAST_ARGON2}
    if request.param == "sqlite":
        environ = {"COMPLIANCE_SQLITE_PATH": str(home / "ledger.db"), **keys}
        initialise_store(load_settings(environ))
        yield environ
        return
    url = request.getfixturevalue("postgres_url")
    schema = unique_schema()
    try:
        environ = {"COMPLIANCE_DATABASE_URL": url, "COMPLIANCE_POSTGRES_SCHEMA": schema, **keys}
        initialise_store(load_settings(environ))
        yield environ
    finally:
        drop_schema(url, schema)


@pytest.fixture(scope="module")
def module_api(module_api_environ: dict[str, str]) -> Iterator[Api]:
    """An `api` shared by every test of a module (per backend): staffed once."""
    settings = load_settings(module_api_environ)
    importer11, importer12 = staff_the_store(settings)
    services = build_http_services(settings)
    app = create_app(settings, services)
    running = Api(settings, app, TestClient(app), importer11, importer12)
    try:
        yield running
    finally:
        running.close()
        services.close()
