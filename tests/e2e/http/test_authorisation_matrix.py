"""Who may call what, for every endpoint the API has, generated from the app itself.

Every `/api/...` route handler of `create_app(...)` (method and path) is asked by a caller
of every role, in every scope: a district user on a case of its own district and of
another, a national user, an importer's representative on its own importer's case and on
another's, and nobody (no session). The outcome each cell must have is derived, not
written down: the permission an endpoint needs comes from the resource modules' SPECS
(commands) or the READS table below (everything else), and whether the caller holds it,
and sees the case, from application.access. So:

- no credentials: 401 (except the few PUBLIC endpoints);
- the role lacks the permission: 403;
- the case is outside the caller's scope: 404, as if it did not exist (registering
  something new in a district outside it: 403, there being nothing to hide);
- otherwise neither 401, 403 nor 404 (a 2xx, or a 409/422 refusal by the domain: the
  bodies sent are only shaped right).

A refused request (any status >= 400) must have written nothing: the notification log's
head is compared before and after every cell. An endpoint neither SPECS nor READS knows
fails the test, so no endpoint added later escapes the matrix.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from application.access import Principal
from application.identity import principal_of
from interfaces.http.app import RESOURCE_MODULES
from tests.e2e.http.conftest import Api
from tests.e2e.http.matrix_world import (
    PATH_TARGETS,
    SCOPED_KEYS,
    Target,
    World,
    body_for,
    build_world,
)

log = logging.getLogger("tests.authorisation_matrix")

PUBLIC = "<public>"
"""No credentials needed."""
ANYONE = "<authenticated>"
"""Any authenticated caller, whatever its roles."""

READS: dict[tuple[str, str], str] = {
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): PUBLIC,
    ("GET", "/api/me"): ANYONE,
    ("POST", "/api/me/password"): ANYONE,
    ("GET", "/api/assessments"): "read:assessments",
    ("GET", "/api/assessments/{number:str}"): "read:assessments",
    ("GET", "/api/plans"): "read:plans",
    ("GET", "/api/plans/{number:str}"): "read:plans",
    ("GET", "/api/verifications"): "read:verifications",
    ("GET", "/api/verifications/{number:str}"): "read:verifications",
    ("GET", "/api/enforcement"): "read:enforcement",
    ("GET", "/api/enforcement/{number:str}"): "read:enforcement",
    ("GET", "/api/accounts"): "read:accounts",
    ("GET", "/api/accounts/{number:str}"): "read:accounts",
    ("GET", "/api/rules"): "read:rules",
    ("GET", "/api/rules/{number:str}"): "read:rules",
    ("GET", "/api/rules/{number:str}/backtest"): "read:rules",
    ("POST", "/api/imports/{kind:str}"): "import_file",
    ("GET", "/api/imports"): "read:imports",
    ("GET", "/api/risk"): "read:risk",
    ("GET", "/api/risk/tiers"): "read:risk",
    ("GET", "/api/risk/rates"): "read:risk",
    ("GET", "/api/risk/{importer_number:str}"): "read:risk",
    ("POST", "/api/risk/runs"): "risk_run",
    ("GET", "/api/channel-runs"): "read:targeting",
    ("POST", "/api/channel-runs"): "channel_run",
    ("POST", "/api/selections"): "selection_plan",
    ("GET", "/api/effectiveness"): "read:targeting",
    ("GET", "/api/worklist"): "read:worklist",
    ("GET", "/api/register"): "read:register",
    ("GET", "/api/stats/compliance"): "read:stats",
    ("GET", "/api/stats/enforcement"): "read:stats",
    ("GET", "/api/stats/plans"): "read:stats",
    ("GET", "/api/audit"): "read:audit",
    ("GET", "/api/history/{number:str}"): "read:history",
    ("POST", "/api/verify"): "verify",
    ("POST", "/api/seal"): "seal",
    ("GET", "/api/users"): "read:users",
    ("GET", "/api/users/{username:str}"): "read:users",
    ("GET", "/api/tokens"): "read:users",
    ("POST", "/api/tokens"): "create_token",
    ("POST", "/api/tokens/{username:str}/{token_id:str}/revoke"): "revoke_token",
    ("GET", "/api/reports"): "read:reports",
    ("GET", "/api/reports/{sha256:str}"): "read:reports",
    ("POST", "/api/reports"): "issue_report",
}
"""The permission of every endpoint not built from a command table (SPECS, or the users'
COMMANDS). A new endpoint must be added here: the test fails naming it otherwise."""

SESSION_ENDING = {("POST", "/api/auth/logout")}
"""After these, the caller's client logs in again."""


# -- who asks ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Asker:
    username: str | None
    """None: no credentials at all."""
    role: str
    scopes: tuple[str, ...]
    """Which of the world's targets it asks about: "11" or "12" (a district's cases)."""

    def label(self, target: str) -> str:
        if self.username is None:
            return "anonymous"
        if self.role == "importer_representative":
            return f"{self.username} ({'own' if target == '11' else 'other'} importer)"
        if self.username.endswith(".national") or self.role in ("auditor", "admin"):
            return f"{self.username} (national)"
        return f"{self.username} ({'own' if target == '11' else 'other'} district)"


ASKERS = [
    Asker("officer11", "officer", ("11", "12")),
    Asker("officer.national", "officer", ("12",)),
    Asker("supervisor11", "supervisor", ("11", "12")),
    Asker("supervisor.national", "supervisor", ("12",)),
    Asker("analyst11", "analyst", ("11", "12")),
    Asker("analyst.national", "analyst", ("12",)),
    Asker("auditor", "auditor", ("12",)),
    Asker("admin", "admin", ("12",)),
    Asker("rep11", "importer_representative", ("11", "12")),
    Asker(None, "-", ("11",)),
]


# -- the endpoints -----------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    permission: str
    body: type[msgspec.Struct] | None
    resource: str
    params: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def makes_in_district(self) -> bool:
        """Registers something new in the district its body names: outside the caller's
        districts that is a plain refusal (403), as there is no case whose existence a
        404 would hide."""
        return not self.params and "district" in self._fields

    @property
    def _fields(self) -> set[str]:
        return ({f.encode_name for f in msgspec.structs.fields(self.body)}
                if self.body is not None else set())

    @property
    def scoped(self) -> bool:
        """Whether the caller's scope decides: a path naming a case of a district, or a
        body naming an importer or a district."""
        if any(PATH_TARGETS.get((self.resource, p)) in SCOPED_KEYS for p in self.params):
            return True
        return not self.params and bool(self._fields & {"importer_number", "district"})


def command_permissions() -> dict[str, str]:
    """operation id -> permission, from every resource module's command table: SPECS
    (interfaces.http.commands.CommandSpec) or COMMANDS (the users' own)."""
    known: dict[str, str] = {}
    for name in RESOURCE_MODULES:
        module = importlib.import_module(name)
        for spec in [*getattr(module, "SPECS", ()), *getattr(module, "COMMANDS", ())]:
            resource = getattr(spec, "resource", name.rsplit(".", 1)[-1])
            known[f"{resource}-{spec.name}"] = spec.permission
    return known


def endpoints(app: Litestar) -> tuple[list[Endpoint], list[str]]:
    """Every /api endpoint with its permission, and the ones nobody told the test about
    (or whose path parameters it cannot fill)."""
    commands = command_permissions()
    found, unknown = [], []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith("/api/"):
            continue
        for handler in route.route_handlers:
            for method in sorted(set(handler.http_methods) - {"OPTIONS", "HEAD"}):
                permission = (commands.get(str(handler.operation_id)) if method == "POST"
                              and handler.operation_id else None) or READS.get(
                                  (method, route.path))
                params = tuple(part[1:-1].split(":")[0] for part in route.path.split("/")
                               if part.startswith("{"))
                resource = route.path.split("/")[2]
                if permission is None:
                    unknown.append(f"{method} {route.path}: add it to READS")
                    continue
                unfilled = [p for p in params if (resource, p) not in PATH_TARGETS]
                if unfilled:
                    unknown.append(f"{method} {route.path}: add ({resource!r}, "
                                   f"{unfilled[0]!r}) to PATH_TARGETS")
                    continue
                data = handler.parsed_fn_signature.parameters.get("data")
                body = getattr(data, "annotation", None)
                found.append(Endpoint(method, route.path, permission,
                                      body if _is_struct(body) else None, resource, params))
    return found, unknown


def _is_struct(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, msgspec.Struct)


# -- the matrix --------------------------------------------------------------------------

@dataclass
class Cell:
    endpoint: Endpoint
    asker: Asker
    target: str
    """"11" or "12": which district's cases (the national things when unscoped)."""
    expected: str
    """"401", "403", "404" or "ok" (none of those, nor a 5xx)."""


def expected_outcome(endpoint: Endpoint, principal: Principal | None,
                     target: Target) -> str:
    if endpoint.permission == PUBLIC:
        return "ok"
    if principal is None:
        return "401"
    if endpoint.permission != ANYONE and not principal.may(endpoint.permission):
        return "403"
    if endpoint.scoped and not principal.sees(target.district, target.importer):
        return "403" if endpoint.makes_in_district else "404"
    return "ok"


def matches(expected: str, status: int) -> bool:
    if expected == "ok":
        return status not in (401, 403, 404) and status < 500
    return str(status) == expected


class Matrix:
    """Runs every cell on one store; collects what went wrong instead of stopping."""

    def __init__(self, api: Api, world: World) -> None:
        self.api, self.world = api, world
        self.principals: dict[str, Principal] = {}
        for asker in ASKERS:
            if asker.username is not None:
                self.principals[asker.username] = principal_of(
                    api.ledger.get_user(asker.username))
        self.anonymous = TestClient(api.app)
        self.checked = 0
        self.rows = 0
        """List rows checked against the caller's scope."""
        self.outcomes: dict[str, int] = {}
        self.wrong: list[str] = []

    def client(self, asker: Asker) -> TestClient[Litestar]:
        return self.anonymous if asker.username is None else self.api.as_user(asker.username)

    def target(self, endpoint: Endpoint, scope: str) -> Target:
        return self.world.by_district[scope] if endpoint.scoped else self.world.national

    def url(self, endpoint: Endpoint, scope: str) -> str:
        path = endpoint.path
        for param in endpoint.params:
            key = PATH_TARGETS[(endpoint.resource, param)]
            owner = self.world.by_district[scope] if key in SCOPED_KEYS else self.world.national
            path = path.replace(f"{{{param}:str}}", owner.names[key])
        return path

    def cells(self, endpoint: Endpoint) -> list[Cell]:
        """Refusals first: they leave the cases as set up for the cells that act."""
        cells = []
        for asker in ASKERS:
            scopes = asker.scopes if endpoint.scoped else asker.scopes[:1]
            for scope in scopes:
                principal = self.principals.get(asker.username or "")
                outcome = expected_outcome(endpoint, principal, self.target(endpoint, scope))
                cells.append(Cell(endpoint, asker, scope, outcome))
        return sorted(cells, key=lambda c: c.expected == "ok")

    def run(self, endpoint: Endpoint) -> None:
        for cell in self.cells(endpoint):
            self.check(cell)

    def check(self, cell: Cell) -> None:
        endpoint, target = cell.endpoint, self.target(cell.endpoint, cell.target)
        where = f"{endpoint.method} {endpoint.path} by {cell.asker.label(cell.target)}"
        body = (body_for(endpoint.body, endpoint.key, target, cell.asker.username)
                if endpoint.body is not None else None)
        client = self.client(cell.asker)
        before = self.api.ledger.recorder.max_notification_id()
        response = client.request(endpoint.method, self.url(endpoint, cell.target), json=body)
        after = self.api.ledger.recorder.max_notification_id()
        self.checked += 1
        status = response.status_code
        kind = f"{status // 100}xx" if status < 400 else str(status)
        self.outcomes[kind] = self.outcomes.get(kind, 0) + 1
        if not matches(cell.expected, status):
            self.wrong.append(f"{where}: expected {cell.expected}, got {status} "
                              f"{_detail(response.text)}")
        principal = self.principals.get(cell.asker.username or "")
        if status == 200 and endpoint.method == "GET" and principal is not None:
            rows, outside = _rows_outside(principal, response)
            self.rows += rows
            self.wrong.extend(f"{where}: lists {row}, outside its scope" for row in outside)
        if status >= 400 and after != before:
            self.wrong.append(f"{where}: refused with {status} but wrote events "
                              f"{before} -> {after}")
        if cell.asker.username is None:
            client.cookies.clear()  # an anonymous login must not make it somebody
        elif endpoint.key in SESSION_ENDING:
            self.api.clients.pop(cell.asker.username, None)


def _rows_outside(principal: Principal, response: Any) -> tuple[int, list[str]]:
    """How many rows of a list name a district or importer, and those the caller may not
    see (for a representative: of another importer)."""
    if "json" not in response.headers.get("content-type", ""):
        return 0, []
    document = response.json()
    rows = document.get("items") if isinstance(document, dict) else document
    found, checked = [], 0
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        district, importer = row.get("district"), row.get("importer_number")
        checked += district is not None or importer is not None
        if principal.importers is not None:
            if importer is not None and importer not in principal.importers:
                found.append(f"importer {importer}")
        elif isinstance(district, str) and not principal.sees_district(district):
            found.append(f"{row.get('number') or importer} of district {district}")
    return checked, found


def _detail(text: str) -> str:
    try:
        document = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return text[:200]
    if isinstance(document, dict):
        return str(document.get("detail") or document.get("invalid-params") or "")[:200]
    return ""


# -- the test ----------------------------------------------------------------------------

def test_every_endpoint_by_every_role_in_every_scope(
        module_api: Api, record_property: Callable[[str, object], None]) -> None:
    started = time.monotonic()
    found, unknown = endpoints(module_api.app)
    assert not unknown, (
        "endpoints the authorisation matrix does not know (add each to READS with the "
        "permission it needs, or build it from a CommandSpec):\n  " + "\n  ".join(unknown))
    matrix = Matrix(module_api, build_world(
        module_api.settings, module_api.importer11, module_api.importer12,
        lambda: module_api.as_user("analyst.national")))
    for endpoint in found:
        matrix.run(endpoint)
    backend = module_api.settings.backend
    summary = (f"authorisation matrix ({backend}): {len(found)} endpoints x "
               f"{len(ASKERS)} callers -> {matrix.checked} cells checked ({matrix.rows} "
               f"list rows held to the caller's scope) in "
               f"{time.monotonic() - started:.1f}s, {len(matrix.wrong)} wrong; statuses "
               f"{dict(sorted(matrix.outcomes.items()))}")
    print(summary)
    log.info(summary)
    record_property(f"authorisation_matrix_cells_{backend}", matrix.checked)
    assert not matrix.wrong, summary + ":\n  " + "\n  ".join(matrix.wrong)


def test_the_matrix_knows_every_role() -> None:
    """A role added to the ledger must be added to ASKERS too."""
    from domain.user import Role

    assert {a.role for a in ASKERS if a.username} == {r.value for r in Role}


@pytest.mark.parametrize(("permission", "role", "expected"), [
    ("read:plans", "importer_representative", True),
    ("approve_plan", "officer", False),
    ("seal", "admin", True),
])
def test_the_expectations_come_from_the_permission_table(permission: str, role: str,
                                                         expected: bool) -> None:
    from domain.user import Role

    principal = Principal("user:x", frozenset({Role(role)}), None, None)
    assert principal.may(permission) is expected
