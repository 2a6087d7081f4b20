"""Errors as RFC 9457 problem details: one stable `type` per kind of refusal, every bad
field named in `invalid-params`, and no traceback, SQL or key ever in a response. A 5xx
carries a request id that is also in the server log, so an operator can find the cause.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)

from application.access import ForbiddenError, UnknownActorError
from application.errors import (
    ConcurrencyConflictError,
    DamagedHistoryError,
    DamagedInputError,
    NotFoundError,
)
from application.identity import AuthenticationError
from domain.errors import DomainError, InvalidTransitionError, InvalidValueError, RuleViolationError
from infrastructure.event_store import ChainBrokenError
from infrastructure.signing_keys import SealKeyError
from infrastructure.stores import DatabaseUnavailableError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://compliance-ledger.example/problems/"
REQUEST_ID_HEADER = "X-Request-Id"

log = logging.getLogger("compliance.http")


class InvalidParam(msgspec.Struct):
    name: str
    reason: str


class Problem(msgspec.Struct, omit_defaults=True, rename={"invalid_params": "invalid-params"}):
    """The body of every error response (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    rule: str | None = None
    """For a refusal by a business rule: the rule's name."""
    current_version: int | None = None
    """For a failed precondition or a conflict: the case's version now."""
    request_id: str | None = None
    invalid_params: list[InvalidParam] = msgspec.field(default_factory=list)


class PreconditionFailedError(Exception):
    """If-Match named a version the case is no longer (or not yet) at."""

    def __init__(self, case: str, expected: int, current: int) -> None:
        super().__init__(f"{case} is at version {current}, not {expected} as If-Match says; "
                         "re-read it and send the command again")
        self.current = current


class InvalidRequestError(Exception):
    """Several bad fields at once, each named."""

    def __init__(self, params: list[InvalidParam]) -> None:
        super().__init__("; ".join(f"{p.name}: {p.reason}" for p in params))
        self.params = params


_KINDS: list[tuple[type[BaseException], int, str, str]] = [
    (InvalidRequestError, 422, "invalid-input", "Invalid input"),
    (InvalidValueError, 422, "invalid-input", "Invalid input"),
    (RuleViolationError, 422, "refused-by-rule", "Refused by a business rule"),
    (InvalidTransitionError, 409, "invalid-transition", "Not allowed in the case's state"),
    (DomainError, 422, "refused-by-rule", "Refused by a business rule"),
    (AuthenticationError, 401, "unauthenticated", "Not authenticated"),
    (ForbiddenError, 403, "forbidden", "Forbidden"),
    (UnknownActorError, 403, "forbidden", "Forbidden"),
    (NotFoundError, 404, "not-found", "Not found"),
    (PreconditionFailedError, 412, "precondition-failed", "Precondition failed"),
    (ConcurrencyConflictError, 409, "conflict", "Conflict"),
    (DatabaseUnavailableError, 503, "unavailable", "Service unavailable"),
    (SealKeyError, 503, "unavailable", "Service unavailable"),
    (DamagedHistoryError, 500, "damaged-history", "Damaged history"),
    (ChainBrokenError, 500, "damaged-history", "Damaged history"),
    (DamagedInputError, 500, "damaged-input", "Damaged import data"),
]


def problem_type(kind: str) -> str:
    return TYPE_BASE + kind


def problem_response(problem: Problem, headers: dict[str, str] | None = None,
                     ) -> Response[bytes]:
    return Response(msgspec.json.encode(problem), status_code=problem.status,
                    media_type=PROBLEM_JSON, headers=headers or {})


def request_id(request: Request[Any, Any, Any]) -> str:
    found = request.scope.get("state", {}).get("request_id")
    return str(found) if found else uuid.uuid4().hex


def _invalid_params(error: BaseException) -> list[InvalidParam]:
    if isinstance(error, InvalidRequestError):
        return error.params
    if isinstance(error, InvalidValueError):
        return [InvalidParam(error.field, error.reason)]
    return []


def handle_error(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    """The one exception handler of the API: the problem `problem_for` finds, as JSON."""
    problem = problem_for(request, error)
    headers = ({"WWW-Authenticate": 'Bearer realm="compliance"'} if problem.status == 401
               else {})
    return problem_response(problem, headers)


def problem_for(request: Request[Any, Any, Any], error: Exception) -> Problem:
    """Known refusals map to their status and type; anything else is a 500 whose detail
    names only the request id, logged with its traceback. The web pages render the same
    problem as HTML (interfaces.web.errors), so both interfaces refuse alike."""
    rid = request_id(request)
    path = request.url.path
    for kind, status, slug, title in _KINDS:
        if isinstance(error, kind):
            problem = Problem(type=problem_type(slug), title=title, status=status,
                              detail=_one_line(str(error)), instance=path,
                              invalid_params=_invalid_params(error))
            if isinstance(error, RuleViolationError):
                problem.rule = error.rule
            if isinstance(error, PreconditionFailedError):
                problem.current_version = error.current
            if isinstance(error, ConcurrencyConflictError):
                problem.current_version = error.current
            if status >= 500:
                problem.request_id = rid
                log.error("request %s %s: %s", rid, path, error, exc_info=error)
            return problem
    if isinstance(error, HTTPException):
        return _framework_problem(error, path, rid, request)
    log.error("request %s %s: internal error", rid, path, exc_info=error)
    return Problem(
        type=problem_type("internal-error"), title="Internal error", status=500,
        detail=f"the request failed inside the server and changed nothing; quote request id "
               f"{rid} to the operator", instance=path, request_id=rid)


def body_problems(request: Request[Any, Any, Any]) -> list[InvalidParam]:
    """Every bad field of a JSON body at once (msgspec stops at the first): each field of
    the handler's body Struct checked on its own, plus the fields it does not know."""
    try:
        handler = request.route_handler
        field = handler.parsed_fn_signature.parameters.get("data")
        body_type = getattr(field, "annotation", None)
        raw = getattr(request._connection_state, "body", None)  # read by the framework
    except Exception:  # no route, no body: the framework's own message stands
        return []
    if not (isinstance(body_type, type) and issubclass(body_type, msgspec.Struct)
            and isinstance(raw, bytes)):
        return []
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return [InvalidParam("body", "is not valid JSON")]
    if not isinstance(document, dict):
        return [InvalidParam("body", "must be a JSON object")]
    problems = []
    known = msgspec.structs.fields(body_type)
    for item in known:
        if item.encode_name not in document:
            if item.required:
                problems.append(InvalidParam(item.encode_name, "is required"))
            continue
        try:
            msgspec.convert(document[item.encode_name], item.type, strict=True)
        except msgspec.ValidationError as bad:
            problems.append(InvalidParam(item.encode_name, _one_line(str(bad))))
    names = {item.encode_name for item in known}
    problems.extend(InvalidParam(_one_line(str(key))[:100], "is not a field of this request")
                    for key in document if key not in names)
    return problems


def _framework_problem(error: HTTPException, path: str, rid: str,
                       request: Request[Any, Any, Any] | None = None) -> Problem:
    """Litestar's own refusals (a body that does not decode, a route that does not exist,
    a method not allowed) in the same shape, naming every bad field it found."""
    status = error.status_code
    slug = {400: "invalid-input", 401: "unauthenticated", 403: "forbidden",
            404: "not-found", 405: "method-not-allowed", 413: "too-large",
            415: "unsupported-media-type"}.get(status, "invalid-input" if status < 500
                                               else "internal-error")
    params: list[InvalidParam] = []
    if isinstance(error, ValidationException):
        params = body_problems(request) if request is not None else []
        if not params and isinstance(error.extra, list):
            for item in error.extra:
                if isinstance(item, dict):
                    params.append(InvalidParam(
                        str(item.get("key") or item.get("source") or "body"),
                        _one_line(str(item.get("message", "invalid")))))
        status, slug = 422, "invalid-input"
    detail = _one_line(error.detail) if error.detail else "request refused"
    if isinstance(error, NotFoundException):
        detail = "no such resource"
    if isinstance(error, NotAuthorizedException):
        detail = "log in (POST /api/auth/login) or send Authorization: Bearer <token>"
    problem = Problem(type=problem_type(slug), title=slug.replace("-", " ").capitalize(),
                      status=status, detail=detail, instance=path, invalid_params=params)
    if status >= 500:
        problem.request_id = rid
        log.error("request %s %s: %s", rid, path, error)
    return problem


def _one_line(text: str) -> str:
    """Messages quote user input: keep them one printable line, bounded."""
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return cleaned[:1000]
