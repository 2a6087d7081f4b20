"""Errors as RFC 9457 problem details: one stable `type` per kind of refusal, every bad
field named in `invalid-params`, and no traceback, SQL or key ever in a response. A 5xx
carries a request id that is also in the server log, so an operator can find the cause.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    SerializationException,
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


class RowError(msgspec.Struct):
    """One bad row of a rejected import (the header is row 1), as the CLI lists it."""

    row: int
    column: str
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
    errors: list[RowError] | None = None
    """For a rejected import: its bad rows (at most the first ten thousand)."""
    errors_total: int | None = None
    """For a rejected import: how many rows are bad in all."""


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


class ImportRejectedError(Exception):
    """A file with bad rows, of which nothing was loaded: 422 with every bad row."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        super().__init__(f"the file was rejected and nothing was loaded: {total} bad "
                         f"row{'s' if total != 1 else ''} (listed in errors); fix them, or "
                         "send it with skip_invalid=true to load the good rows")
        self.errors = errors
        self.total = total


class BodyNotJsonError(Exception):
    """A body that is not JSON: 415 when it says it is something else, else 400."""

    def __init__(self, media: str) -> None:
        super().__init__(
            f"the body must be JSON, sent with Content-Type: application/json "
            f"(it was sent as {media})" if media else
            "the body is not valid JSON; send a JSON object with Content-Type: "
            "application/json")
        self.status = 415 if media else 400


_KINDS: list[tuple[type[BaseException], int, str, str]] = [
    (InvalidRequestError, 422, "invalid-input", "Invalid input"),
    (ImportRejectedError, 422, "invalid-input", "Invalid input"),
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


_HTTP_WORDS = (("start again without --cursor", "start again without the cursor parameter"),
               ("use the same --sort and --desc", "use the same sort and desc parameters"))
"""The lists' refusals name the command line's options (projections.listing makes them
for both interfaces); an API client is told its own parameters instead."""


def http_words(text: str) -> str:
    for cli, http in _HTTP_WORDS:
        text = text.replace(cli, http)
    return text


def _invalid_params(error: BaseException) -> list[InvalidParam]:
    if isinstance(error, InvalidRequestError):
        return [InvalidParam(p.name, http_words(p.reason)) for p in error.params]
    if isinstance(error, InvalidValueError):
        return [InvalidParam(error.field, http_words(error.reason))]
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
                              detail=_one_line(http_words(str(error))), instance=path,
                              invalid_params=_invalid_params(error))
            if isinstance(error, ImportRejectedError):
                problem.errors, problem.errors_total = error.errors, error.total
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
            value = msgspec.convert(document[item.encode_name], item.type, strict=True)
        except msgspec.ValidationError as bad:
            problems.append(InvalidParam(item.encode_name, plain_type_error(str(bad))))
            continue
        reason = field_problem(item.encode_name, value)
        if reason is not None:
            problems.append(InvalidParam(item.encode_name, reason))
    names = {item.encode_name for item in known}
    problems.extend(InvalidParam(_one_line(str(key))[:100], "is not a field of this request")
                    for key in document if key not in names)
    return problems


_KIND_WORDS = {"str": "text", "int": "a whole number", "float": "a number",
               "decimal": "a number", "bool": "true or false", "object": "a JSON object",
               "array": "a list", "null": "null"}
_MSGSPEC_TYPE = re.compile(r"Expected `(\w+)`(?:, got `\w+`)?(?: (>=|<=|>|<) (-?[\d.]+))?"
                           r"(?: - at `(\$[^`]*)`)?")
_BOUND_WORDS = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}


def plain_type_error(message: str) -> str:
    """msgspec's "Expected `int`, got `str` - at `$[0]`" as the product says it ("must be
    a whole number (at [0])"); any other message as it is, on one line."""
    found = _MSGSPEC_TYPE.fullmatch(message.strip())
    if found is None or found.group(1) not in _KIND_WORDS:
        return _one_line(message)
    kind, bound, limit, where = found.groups()
    reason = f"must be {_KIND_WORDS[kind]}"
    if bound is not None:
        reason += f" of {_BOUND_WORDS[bound]} {limit}"
    if where and where != "$":
        reason += f" (at {where[1:]})"
    return _one_line(reason)


def field_problem(name: str, value: Any) -> str | None:
    """What the domain would say of a field every command reads alike (`reason`, an
    `officer`, a `district`, an `importer_number`), checked when the body as a whole did
    not decode, so that a bad field is named beside a missing one, not after it is sent
    again. None when the value is good, or the field is not one of these."""
    from domain.values import (
        parse_actor,
        parse_district,
        parse_importer_number,
        parse_reason,
    )

    parsers = {"reason": parse_reason, "officer": parse_actor, "district": parse_district,
               "importer_number": parse_importer_number}
    parse = parsers.get(name)
    if parse is None or not isinstance(value, str):
        return None
    try:
        parse(value, name)
    except InvalidValueError as bad:
        return bad.reason
    return None


def _query_problem(error: ValidationException,
                   request: Request[Any, Any, Any] | None) -> list[InvalidParam]:
    """A query, path or header parameter litestar refused, in plain words."""
    from interfaces.http.query_checks import framework_reason

    params = []
    for item in error.extra if isinstance(error.extra, list) else []:
        if isinstance(item, dict) and item.get("source") in ("query", "path", "header",
                                                              "cookie"):
            key = str(item.get("key") or item.get("source"))
            params.append(InvalidParam(key, framework_reason(
                request, key, _one_line(str(item.get("message", "invalid"))))))
    return params


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
    detail = _one_line(error.detail) if error.detail else "request refused"
    if isinstance(error, ValidationException):
        params = _query_problem(error, request)
        if not params:
            params = body_problems(request) if request is not None else []
        if not params and isinstance(error.extra, list):
            for item in error.extra:
                if isinstance(item, dict):
                    params.append(InvalidParam(
                        str(item.get("key") or item.get("source") or "body"),
                        _one_line(str(item.get("message", "invalid")))))
        status, slug = 422, "invalid-input"
        if params:  # "Validation failed for GET ..." names nothing: say what is wrong
            detail = _one_line("; ".join(f"{p.name}: {p.reason}" for p in params))
    elif status == 400 and isinstance(error.__cause__, SerializationException):
        # the body did not decode ("JSON is malformed: invalid character (byte 0)")
        media = ((request.headers.get("content-type") or "") if request is not None
                 else "").split(";")[0].strip().lower()
        not_json = BodyNotJsonError("" if media in ("", "application/json")
                                    or media.endswith("+json") else media)
        status, detail = not_json.status, str(not_json)
        slug = "unsupported-media-type" if status == 415 else "invalid-input"
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
