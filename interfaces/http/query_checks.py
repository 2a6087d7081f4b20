"""Query parameters checked in the product's words, for every endpoint at once.

Litestar converts query strings leniently (`limit=1e3` and `limit=1.0` become whole
numbers) and refuses in its own words ("Expected `int`, got `str`", "Invalid enum value").
Here each query parameter a handler declares is checked strictly against its declaration
(a whole number written as one, within its bounds; one of its listed values; true or
false), and every bad one is named at once with a plain reason. It runs once the caller is
known (interfaces.http.auth.resolve_caller calls it), so an anonymous request is still a
401 whatever its query says; the framework's own conversion then only ever sees good
values. `plain_reason` words a parameter's expectation for the error handler too.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.params import CookieParameter, HeaderParameter, ParameterKwarg, PathParameter

from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_district, parse_importer_number
from interfaces.http.problems import InvalidParam, InvalidRequestError

_WHOLE = re.compile(r"-?(0|[1-9][0-9]{0,17})")
_BOOLEANS = ("true", "false", "1", "0")
_NOT_QUERY = frozenset({"request", "caller", "data", "state", "headers", "cookies", "query",
                        "scope", "socket", "body"})


def _plain_type(annotation: Any) -> Any:
    """`int | None` -> int; anything else as it is."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return kinds[0] if len(kinds) == 1 else annotation
    return annotation


def _is_bool(kind: Any) -> bool:
    return kind is bool


def _is_int(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, int) and kind is not bool


def plain_reason(kind: Any, definition: ParameterKwarg | None) -> str:
    """What a value of this parameter must be, as the rest of the product says it."""
    if definition is not None and definition.enum:
        return "one of " + ", ".join(str(value) for value in definition.enum)
    if _is_bool(kind):
        return "true or false"
    if _is_int(kind):
        low = None if definition is None else definition.ge
        high = None if definition is None else definition.le
        if low is not None and high is not None:
            return f"a whole number from {low} to {high}"
        if low is not None:
            return f"a whole number of at least {low}"
        if high is not None:
            return f"a whole number of at most {high}"
        return "a whole number"
    return "not a valid value"


def _bad(kind: Any, definition: ParameterKwarg | None, value: str) -> bool:
    if definition is not None and definition.enum:
        return value not in [str(v) for v in definition.enum]
    if _is_bool(kind):
        return value.lower() not in _BOOLEANS
    if _is_int(kind):
        if not _WHOLE.fullmatch(value):
            return True
        number = int(value)
        low = None if definition is None else definition.ge
        high = None if definition is None else definition.le
        return ((low is not None and number < float(low))
                or (high is not None and number > float(high)))
    return False


Declared = dict[str, tuple[Any, ParameterKwarg | None]]


def declared_query(request: Request[Any, Any, Any]) -> Declared:
    """The handler's query parameters: their name in the query -> (type, declaration)."""
    try:
        parameters = request.route_handler.parsed_fn_signature.parameters
    except Exception:  # no route matched: nothing declared
        return {}
    path = set(request.path_params) if "path_params" in request.scope else set()
    found: dict[str, tuple[Any, ParameterKwarg | None]] = {}
    for name, field in parameters.items():
        definition = field.kwarg_definition
        if name in _NOT_QUERY or name in path:
            continue
        if definition is not None and not isinstance(definition, ParameterKwarg):
            continue  # a body or a dependency
        if isinstance(definition, HeaderParameter | CookieParameter | PathParameter) or (
                isinstance(definition, ParameterKwarg)
                and (definition.header or definition.cookie)):
            continue
        key = (definition.name or definition.query or name) if definition is not None else name
        found[key] = (_plain_type(field.annotation), definition)
    return found


def _officer(value: str, name: str) -> str:
    if value.strip().lower() == "unassigned":
        return value
    return parse_actor(value.strip(), name)


_FILTERS: dict[str, Callable[[str, str], str]] = {
    "district": parse_district, "importer_number": parse_importer_number,
    "importer": parse_importer_number, "officer": _officer}
"""Filters every list reads alike, checked here only beside another bad parameter (the
handler checks them itself otherwise, with the same parsers and so the same words), so
that one answer names every bad parameter."""


def _filter_problem(key: str, values: list[str]) -> InvalidParam | None:
    parse = _FILTERS.get(key)
    if parse is None:
        return None
    for value in values:
        try:
            parse(value, key)
        except InvalidValueError as bad:
            return InvalidParam(key, bad.reason)
    return None


def query_problems(request: Request[Any, Any, Any]) -> list[InvalidParam]:
    """Every declared query parameter whose value is not what it must be, each named."""
    problems: list[InvalidParam] = []
    others: list[InvalidParam] = []
    for key, (kind, definition) in declared_query(request).items():
        values = request.query_params.getall(key, [])
        if any(_bad(kind, definition, value) for value in values):
            problems.append(InvalidParam(key, plain_reason(kind, definition)))
        elif (found := _filter_problem(key, values)) is not None:
            others.append(found)
    return problems + others if problems else []


def check_query(request: Request[Any, Any, Any]) -> None:
    """InvalidRequestError (422) naming every bad query parameter, if any."""
    problems = query_problems(request)
    if problems:
        raise InvalidRequestError(problems)


def framework_reason(request: Request[Any, Any, Any] | None, key: str, message: str) -> str:
    """A reason for a parameter litestar refused, in plain words when it is a declared
    query parameter (its own message otherwise, which names no internals)."""
    if request is not None:
        declared = declared_query(request).get(key)
        if declared is not None:
            return plain_reason(*declared)
    if message.startswith("Expected `"):
        return "not a valid value"
    return message


