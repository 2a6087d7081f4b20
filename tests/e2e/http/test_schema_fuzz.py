"""The API fuzzed from its own OpenAPI schema (schemathesis), on a real server process, on
both stores.

Every operation of /schema/openapi.json gets schema-conforming requests (positive) and
requests that break the schema (negative), as a national caller holding every staff role
but a representative's (supervisor, analyst, auditor, admin: so no endpoint stops at 403
and the fuzz reaches the handlers). Path parameters are half the time a case that exists
(one of each kind, set up as for the authorisation matrix), else whatever the fuzzer makes.
Checked on every response:

- no 5xx (`not_a_server_error`): whatever comes in, the server refuses it cleanly;
- every success matches its documented schema and media type
  (`response_schema_conformance`, `content_type_conformance` on 2xx);
- every error is an RFC 9457 problem (application/problem+json whose `status` is the
  response's), never a framework's or a traceback (`problem_details`);
- errors are held to the schema, and status codes too (`status_code_conformance`), only
  once the schema documents the refusals (422 on every command): today litestar documents
  its own 400 shape (application/json {status_code, detail, extra}) that the API never
  sends, and none of the problem responses, so those checks would fail on every refusal.

Bounded: FUZZ_EXAMPLES (default 6) schema-conforming and half as many negative examples
per operation, derandomized (the same examples on every run; FUZZ_SEED=random to explore).
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

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
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
        yield Fuzzed(served, issued.secret, world)


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


@schemathesis.check
def success_schema_conformance(ctx: Any, response: schemathesis.Response,
                               case: Any) -> bool | None:
    """response_schema_conformance, on the documented successes only (see above)."""
    if response.status_code >= 400:
        return None
    return response_schema_conformance(ctx, response, case)


@schemathesis.check
def success_content_type_conformance(ctx: Any, response: schemathesis.Response,
                                     case: Any) -> bool | None:
    """content_type_conformance, on the documented successes only (see above)."""
    if response.status_code >= 400:
        return None
    return content_type_conformance(ctx, response, case)


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
    for mode, count in ((GenerationMode.POSITIVE, EXAMPLES),
                        (GenerationMode.NEGATIVE, max(EXAMPLES // 2, 1))):
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
            response = case.call(headers=headers, timeout=60)
            fuzzed.statuses[response.status_code] = fuzzed.statuses.get(
                response.status_code, 0) + 1
            case.validate_response(response, checks=checks, headers=headers)

        try:
            run()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            # nothing of it can break the schema (no body, no query, a free-text path
            # parameter): there are no negative requests to make
        except (Exception, BaseExceptionGroup) as error:  # every failing operation reported
            fuzzed.failures[f"{label} ({mode.value})"] = str(error)[:3000]
            return


def test_the_api_answers_any_request_by_its_schema(fuzzed: Fuzzed,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{fuzzed.served.server.base_url}/schema/openapi.json")
    operations = _operations(schema)
    checks: list[Callable[..., Any]] = [not_a_server_error, problem_details]
    if documents_refusals(schema):
        checks += [response_schema_conformance, content_type_conformance,
                   status_code_conformance]
    else:
        checks += [success_schema_conformance, success_content_type_conformance]
    for operation in operations:
        fuzz_operation(fuzzed, operation, checks)
    backend = fuzzed.served.settings.backend
    summary = (f"schema fuzz ({backend}): {len(operations)} operations, "
               f"{sum(fuzzed.examples.values())} requests (up to {EXAMPLES} positive + "
               f"{max(EXAMPLES // 2, 1)} negative examples each), checks "
               f"{', '.join(c.__name__ for c in checks)}, "
               f"{time.monotonic() - started:.0f}s, {len(fuzzed.failures)} failing; "
               f"statuses {dict(sorted(fuzzed.statuses.items()))}")
    with capsys.disabled():
        print("\n" + summary)
    server_log = fuzzed.served.server.log_text()
    assert not fuzzed.failures, summary + "\n\n" + "\n\n".join(
        f"== {label}\n{message}" for label, message in fuzzed.failures.items()) + (
        "\n\nserver log (tail):\n" + server_log[-3000:])
