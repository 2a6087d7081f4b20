"""The API fuzzed from its own OpenAPI schema (schemathesis), on a real server process, on
both stores.

Every operation of /schema/openapi.json gets schema-conforming requests (positive) and
requests that break the schema (negative), as a national caller holding every staff role
but a representative's (supervisor, analyst, auditor, admin: so no endpoint stops at 403
and the fuzz reaches the handlers). Path parameters are half the time a case that exists
(one of each kind, set up as for the authorisation matrix), else whatever the fuzzer makes.
Checked on every response:

- no 5xx (`not_a_server_error`): whatever comes in, the server refuses it cleanly;
- every response, success or refusal, matches its documented status, schema and media
  type (`status_code_conformance`, `response_schema_conformance`,
  `content_type_conformance`): the app documents every problem response of every /api
  route (interfaces.http.app.document_problems);
- every error is an RFC 9457 problem (application/problem+json whose `status` is the
  response's), never a framework's or a traceback (`problem_details`).

Bounded: FUZZ_EXAMPLES (default 8) schema-conforming and half as many negative examples
per operation (negative ones only where a body or a query can break the schema: a path of
free-text parameters cannot), derandomized (the same examples on every run;
FUZZ_SEED=random to explore): about a minute per store.
Nothing is skipped under CI=true: the PostgreSQL run fails instead when there is none.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from interfaces.composition import build_application
from tests.e2e.http.matrix_world import PATH_TARGETS, SCOPED_KEYS, World, build_world
from tests.e2e.http.server import Served

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
RANDOM = os.environ.get("FUZZ_SEED") == "random"
FUZZER = "fuzz.national"
FUZZER_ROLES = ["supervisor", "analyst", "auditor", "admin"]


@dataclass
class Fuzzed:
    served: Served
    token: str
    world: World
    examples: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    waited: float = 0.0
    """Seconds spent waiting for the server (the rest is generating and checking)."""
    session: requests.Session = field(default_factory=requests.Session)
    failures: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def fuzzed(module_api_environ: Mapping[str, str]) -> Iterator[Fuzzed]:
    with Served(module_api_environ) as served:
        world = build_world(served.settings, served.importer11, served.importer12,
                            lambda: served.as_user("analyst.national"))
        app = build_application(served.settings, access_control=False)
        try:
            app.add_user(FUZZER, roles=FUZZER_ROLES, actor="system:test-setup",
                         reason="the schema fuzzer: every staff role, national")
            issued = app.create_token(FUZZER, "fuzz", roles=FUZZER_ROLES, districts=None,
                                      expires_at=app.clock() + timedelta(days=1),
                                      actor="system:test-setup", reason="the schema fuzzer")
        finally:
            app.close()
        fuzzed = Fuzzed(served, issued.secret, world)
        yield fuzzed
        fuzzed.session.close()


@schemathesis.check
def problem_details(_ctx: Any, response: schemathesis.Response, _case: Any) -> bool | None:
    """Every 4xx and 5xx is application/problem+json with its own status in the body."""
    if response.status_code < 400:
        return None
    kind = response.headers.get("content-type", [""])[0]
    assert kind.startswith("application/problem+json"), (
        f"a {response.status_code} came as {kind!r}, not a problem: {response.text[:300]}")
    body = response.json()
    assert isinstance(body, dict), body
    assert body.get("status") == response.status_code, body
    assert str(body.get("type", "")).startswith("https://"), body
    return None


def documents_refusals(schema: Any) -> bool:
    """Whether every command (POST) of the API documents 422 (and so, presumably, the
    other problem responses): only then can status codes be held to the schema."""
    posts = [op for op in _operations(schema) if op.method.upper() == "POST"]
    return bool(posts) and all("422" in op.definition.raw.get("responses", {})
                               for op in posts)


def _operations(schema: Any) -> list[Any]:
    from schemathesis.core.result import Ok

    return [result.ok() for result in schema.get_all_operations()
            if isinstance(result, Ok) and not result.ok().path.startswith("/schema")]


def known_parameters(path: str, world: World) -> dict[str, str]:
    """Path parameters naming things that exist (district 11's cases, the national
    rule, user and token), so that the fuzz gets past the lookup to the commands."""
    resource = path.split("/")[2] if path.startswith("/api/") else ""
    known = {}
    for part in path.split("/"):
        if part.startswith("{"):
            name = part[1:-1].split(":")[0]
            key = PATH_TARGETS.get((resource, name))
            if key is None:
                return {}
            owner = world.by_district["11"] if key in SCOPED_KEYS else world.national
            known[name] = owner.names[key]
    return known


def fuzz_operation(fuzzed: Fuzzed, operation: Any, checks: list[Callable[..., Any]]) -> None:
    label = operation.label
    known = known_parameters(operation.path, fuzzed.world)
    headers = {"Authorization": f"Bearer {fuzzed.token}"}
    modes = [(GenerationMode.POSITIVE, EXAMPLES)]
    if len(operation.body) or len(operation.query):  # else nothing to break but free text
        modes.append((GenerationMode.NEGATIVE, max(EXAMPLES // 2, 1)))
    for mode, count in modes:
        strategy = operation.as_strategy(generation_mode=mode)
        if known and mode is GenerationMode.POSITIVE:
            strategy = st.one_of(strategy, operation.as_strategy(generation_mode=mode,
                                                                 path_parameters=known))

        @settings(max_examples=count, deadline=None, derandomize=not RANDOM, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case: Any) -> None:
            fuzzed.examples[label] = fuzzed.examples.get(label, 0) + 1
            sent = time.monotonic()
            response = case.call(session=fuzzed.session, headers=headers, timeout=60)
            fuzzed.waited += time.monotonic() - sent
            fuzzed.statuses[response.status_code] = fuzzed.statuses.get(
                response.status_code, 0) + 1
            case.validate_response(response, checks=checks, headers=headers)

        try:
            run()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            # nothing of it can break the schema: there are no negative requests to make
        except (Exception, BaseExceptionGroup) as error:  # every failing operation reported
            fuzzed.failures[f"{label} ({mode.value})"] = str(error)[:3000]
            return


def test_the_api_answers_any_request_by_its_schema(fuzzed: Fuzzed,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{fuzzed.served.server.base_url}/schema/openapi.json")
    operations = _operations(schema)
    assert documents_refusals(schema), "every command must document its problem responses"
    checks: list[Callable[..., Any]] = [not_a_server_error, problem_details,
                                        response_schema_conformance, content_type_conformance,
                                        status_code_conformance]
    for operation in operations:
        fuzz_operation(fuzzed, operation, checks)
    backend = fuzzed.served.settings.backend
    summary = (f"schema fuzz ({backend}): {len(operations)} operations, "
               f"{sum(fuzzed.examples.values())} requests (up to {EXAMPLES} positive + "
               f"{max(EXAMPLES // 2, 1)} negative examples each), checks "
               f"{', '.join(c.__name__ for c in checks)}, "
               f"{time.monotonic() - started:.0f}s ({fuzzed.waited:.0f}s of it waiting for the "
               f"server), {len(fuzzed.failures)} failing; "
               f"statuses {dict(sorted(fuzzed.statuses.items()))}")
    with capsys.disabled():
        print("\n" + summary)
    server_log = fuzzed.served.server.log_text()
    assert not fuzzed.failures, summary + "\n\n" + "\n\n".join(
        f"== {label}\n{message}" for label, message in fuzzed.failures.items()) + (
        "\n\nserver log (tail):\n" + server_log[-3000:])
