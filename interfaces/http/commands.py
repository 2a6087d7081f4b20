"""Commands over HTTP, generated from one table.

Each CommandSpec says which resource and command it is (`POST /api/<resource>/{number}/
<command>`, or `POST /api/<resource>` to open or register), the msgspec Struct of its
body (every body has a required `reason`), the application permission it needs, and how
to call the application. From it come the route handler (typed, so the OpenAPI schema
names the body), the authorisation matrix the tests generate, and the documentation.

On an existing case: `If-Match: "<version>"` is checked against the case first (412 with
the current version when it differs), then passed on as the expected version, so a race
lost at save is a 409; `Idempotency-Key` becomes the command's idempotency key (a repeat
returns the first result). The actor is always the authenticated caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body, HeaderParameter

from application.access import Principal, acting_as
from application.compliance_cases import ComplianceCases
from application.receipts import parse_idempotency_key, receipt_id
from domain.errors import InvalidValueError
from infrastructure.change_feed_sql import take_position
from interfaces.http.auth import services_of
from interfaces.http.freshness import POSITION_HEADER
from interfaces.http.params import Caller, CaseNumber
from interfaces.http.problems import InvalidParam, InvalidRequestError, PreconditionFailedError


@dataclass(frozen=True)
class Common:
    """What every command takes besides its own fields."""

    actor: str
    reason: str
    expected_version: int | None
    idempotency_key: str | None

    def kwargs(self) -> dict[str, Any]:
        return {"actor": self.actor, "reason": self.reason,
                "expected_version": self.expected_version,
                "idempotency_key": self.idempotency_key}

    def without_version(self) -> dict[str, Any]:
        return {"actor": self.actor, "reason": self.reason,
                "idempotency_key": self.idempotency_key}


class CommandResult(msgspec.Struct):
    """What a command recorded: the case, its version now (also the ETag) and the
    command's own result (a new case number, an outcome, ...)."""

    number: str
    version: int
    result: Any = None


Loader = Callable[[ComplianceCases, str], Any]
"""Loads the case a number names, scoped to the caller (NotFoundError otherwise)."""


@dataclass(frozen=True)
class CommandSpec:
    resource: str
    name: str
    body: type[msgspec.Struct]
    permission: str
    call: Callable[[ComplianceCases, str, Any, Common], Any]
    summary: str
    creates: bool = False
    """POST /api/<resource> (opening a case or registering an account): `number` given to
    `call` is empty, and the result names the new case."""

    @property
    def path(self) -> str:
        if self.creates:
            return f"/api/{self.resource}"
        return f"/api/{self.resource}/{{number:str}}/{self.name}"


def _already_answered(app: ComplianceCases, key: str | None) -> bool:
    """A retry of a command that succeeded: its If-Match names the version before the
    command, so the precondition is left to the receipt, which answers with the first
    result (or refuses the key if it was sent with anything else)."""
    if key is None:
        return False
    try:
        return app.find_aggregate(receipt_id(parse_idempotency_key(key))) is not None
    except InvalidValueError:
        return False  # a malformed key: the command itself names it


def parse_if_match(value: str | None) -> int | None:
    """`"5"`, `W/"5"` or `5`; None when absent. Anything else names the header."""
    if value is None:
        return None
    found = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', value)
    if not found:
        raise InvalidRequestError([InvalidParam("If-Match", "expected a case version such "
                                                "as \"5\" (the ETag of the case)")])
    return int(found.group(1))


def _version_of(case: Any) -> int:
    return int(case.version)


def build_command_handler(spec: CommandSpec, loader: Loader,
                          number_of: Callable[[Any, Any], str] | None = None,
                          ) -> HTTPRouteHandler:
    """The route handler for one command. `number_of(result, body)` names the case a
    creating command made (its number is in the response and the Location header)."""

    def run(request: Request[Any, Any, Any], caller: Principal, data: Any, number: str,
            if_match: str | None, idempotency_key: str | None) -> Response[CommandResult]:
        caller.require(spec.permission)  # a role that never may: 403 before the header
        take_position()  # what an earlier request in this thread left
        result = execute(spec, loader, services_of(request).app, caller, data, number,
                         parse_if_match(if_match), idempotency_key, number_of)
        headers = {"ETag": f'"{result.version}"'}
        position = take_position()
        if position:  # else the answer is given the latest one (interfaces.http.freshness)
            headers[POSITION_HEADER] = str(position)
        if spec.creates:
            headers["Location"] = f"/api/{spec.resource}/{result.number}"
        return Response(result, status_code=201 if spec.creates else 200, headers=headers)

    handler: Callable[..., Response[CommandResult]]
    annotations: dict[str, Any] = {
        "request": Request[Any, Any, Any], "caller": Caller,
        "data": Annotated[spec.body, Body(media_type="application/json")],
        "idempotency_key": _header("Idempotency-Key",
                                   "Run at most once for this key (8-200 characters)"),
        "return": Response[CommandResult]}
    if spec.creates:
        def create(request: Request[Any, Any, Any], caller: Principal, data: Any,
                   idempotency_key: str | None = None) -> Response[CommandResult]:
            return run(request, caller, data, "", None, idempotency_key)
        handler = create
    else:
        def step(request: Request[Any, Any, Any], caller: Principal, data: Any, number: str,
                 if_match: str | None = None, idempotency_key: str | None = None,
                 ) -> Response[CommandResult]:
            return run(request, caller, data, number, if_match, idempotency_key)
        handler = step
        annotations["number"] = CaseNumber
        annotations["if_match"] = _header("If-Match", "The case's version (its ETag) you read")
    handler.__annotations__ = annotations
    handler.__name__ = f"{spec.resource}_{spec.name}".replace("-", "_")
    handler.__qualname__ = handler.__name__
    return post(spec.path, sync_to_thread=True, tags=[spec.resource], summary=spec.summary,
                operation_id=f"{spec.resource}-{spec.name}",
                status_code=201 if spec.creates else 200)(handler)


def execute(spec: CommandSpec, loader: Loader, app: ComplianceCases, caller: Principal,
            data: Any, number: str, expected: int | None, idempotency_key: str | None,
            number_of: Callable[[Any, Any], str] | None = None) -> CommandResult:
    """One command as the caller, the same for the API and the web forms: the role first
    (403 before any lookup), then the case in scope (404), then the version the caller
    read (412, unless this is a retry the receipt answers), then the command itself, whose
    own expected-version check turns a race lost at save into a 409."""
    caller.require(spec.permission)
    with acting_as(caller):
        if not spec.creates:
            current = _version_of(loader(app, number))
            if (expected is not None and expected != current
                    and not _already_answered(app, idempotency_key)):
                raise PreconditionFailedError(number.upper(), expected, current)
        common = Common(caller.actor, getattr(data, "reason", ""), expected, idempotency_key)
        result = spec.call(app, number, data, common)
        target = (number_of(result, data) if spec.creates and number_of is not None
                  else number)
        version = _version_of(loader(app, target))
    plain = msgspec.to_builtins(result) if result is not None else None
    return CommandResult(number=target.upper(), version=version, result=plain)


def _header(name: str, description: str) -> Any:
    return Annotated[str | None, HeaderParameter(name=name, required=False,
                                                 description=description)]


def parse_fields(**checks: Callable[[], Any]) -> dict[str, Any]:
    """Runs every field's parser and refuses with all the bad fields named at once (the
    domain's parsers stop at the first)."""
    from domain.errors import InvalidValueError

    values: dict[str, Any] = {}
    problems: list[InvalidParam] = []
    for name, check in checks.items():
        try:
            values[name] = check()
        except InvalidValueError as error:
            problems.append(InvalidParam(name, error.reason))
    if problems:
        raise InvalidRequestError(problems)
    return values


class ReasonOnly(msgspec.Struct, forbid_unknown_fields=True):
    """The body of every step that takes nothing but its reason."""

    reason: str


def checked(reason: str, **checks: Callable[[], Any]) -> dict[str, Any]:
    """Every field of a body checked at once, the reason always among them."""
    from domain.values import parse_reason

    return parse_fields(**checks, reason=lambda: parse_reason(reason))


def reason_only_step(method: str) -> Callable[[ComplianceCases, str, ReasonOnly, Common], Any]:
    """A step taking nothing but the reason: `method` of the application."""
    def call(app: ComplianceCases, number: str, body: ReasonOnly, common: Common) -> Any:
        checked(body.reason)
        return getattr(app, method)(number, **common.kwargs())
    return call

