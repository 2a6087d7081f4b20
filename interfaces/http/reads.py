"""Reads over HTTP: one case (`GET /api/<resource>/{number}`, its version as the ETag) and
lists from the views (`GET /api/<resource>`: filters and sorting on the view's columns,
cursor paging, CSV with `Accept: text/csv`). Every read runs as the caller: a case outside
its scope is 404 like a missing one, and lists hold only what it may see."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import MediaType, Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from application.access import Principal, acting_as, scope_of
from application.compliance_cases import ComplianceCases
from interfaces.http.auth import FRESH, services_of
from interfaces.http.cached_reads import CACHED_READ
from interfaces.http.params import Caller, CaseNumber
from projections.listing import MAX_LIMIT

if TYPE_CHECKING:
    from interfaces.http.services import HttpServices


class CaseDocument(msgspec.Struct):
    """One case as it stands: `version` is also the ETag a command's If-Match names."""

    number: str
    version: int
    case: dict[str, Any]


class PageOf(msgspec.Struct):
    """One page of a list; pass `next_cursor` as `cursor` for the next (null: the last)."""

    items: list[dict[str, Any]]
    next_cursor: str | None = None


def wants_csv(request: Request[Any, Any, Any]) -> bool:
    return "text/csv" in (request.headers.get("accept") or "")


def csv_response(rows: Iterable[dict[str, Any]], filename: str,
                 columns: Sequence[str] | None = None) -> Response[str]:
    """Rows as CSV. Cells a spreadsheet would run as a formula are prefixed with a quote
    (free text is hostile: an importer's name can be "=HYPERLINK(...)"). `columns` fixes
    the header (in that order), so that even an empty page has one; else the first row's
    keys are the header."""
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    if columns is not None:
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row), extrasaction="ignore")
            writer.writeheader()
        writer.writerow({k: _cell(v) for k, v in row.items()})
    # litestar adds "; charset=utf-8" to a text/* type itself: naming it here doubled it
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


CACHED_READ_SECONDS = 300.0
"""A cached case read is dropped by the feed when the case changes; this is only a bound
on how long an entry may live whatever happens."""


class CachedRead(NamedTuple):
    body: bytes
    etag: str
    scope: tuple[str | None, str | None] | None


def build_case_read(resource: str, permission: str,
                    describe: Callable[[ComplianceCases, str], dict[str, Any]],
                    case_key: Callable[[str], UUID] | None = None) -> HTTPRouteHandler:
    """`case_key`: the id of the one aggregate `describe` reads, for a resource whose
    answer depends on nothing else; its answers are then kept by the process (while its
    change feed is live, see interfaces.http.freshness) until that aggregate changes."""

    def load(services: HttpServices, caller: Principal, number: str,
             key: UUID | None, mark: int | None) -> CachedRead:
        app = services.app
        with acting_as(caller), app.reading():
            case = describe(app, number)
        version = int(case.get("version", 0))
        body = msgspec.json.encode(CaseDocument(
            number=str(case.get("number", number.upper())), version=version,
            case=msgspec.to_builtins(case)))
        answer = CachedRead(body, f'"{version}"', None)
        if key is not None and mark is not None and services.reads is not None:
            with app.reading():  # the scope the cached answer is checked against
                aggregate = app.load_aggregate(key)
            if aggregate.version == version:
                answer = answer._replace(scope=scope_of(aggregate))
                services.reads.put((resource, key), answer, (str(key),), mark,
                                   CACHED_READ_SECONDS)
        return answer

    async def read(request: Request[Any, Any, Any], caller: Principal,
                   number: str) -> Response[CaseDocument]:
        caller.require(permission)
        services = services_of(request)
        fresh = bool(request.state.get(FRESH)) and services.reads is not None
        key = _key_of(case_key, number) if fresh else None
        if key is not None and services.reads is not None:
            hit: CachedRead | None = services.reads.get((resource, key))
            if hit is not None and (hit.scope is None or caller.sees(*hit.scope)):
                return _answer(hit)
        mark = services.feed.mark() if key is not None and services.feed else None
        answer = await anyio.to_thread.run_sync(load, services, caller, number, key, mark)
        return _answer(answer)

    read.__annotations__ = {"request": Request[Any, Any, Any], "caller": Caller,
                            "number": CaseNumber, "return": Response[CaseDocument]}
    read.__name__ = read.__qualname__ = f"{resource}_show".replace("-", "_")
    return get(f"/api/{resource}/{{number:str}}", tags=[resource],
               summary=f"One of the {resource}, as the caller may see it",
               operation_id=f"{resource}-show",
               opt={} if case_key is None else {
                   CACHED_READ: (resource, permission, case_key)})(read)


def _key_of(case_key: Callable[[str], UUID] | None, number: str) -> UUID | None:
    if case_key is None:
        return None
    try:
        return case_key(number)
    except Exception:  # not a number of ours: the database path gives the right error
        return None


def _answer(answer: CachedRead) -> Response[Any]:
    return Response(answer.body, media_type=MediaType.JSON, headers={"ETag": answer.etag})


CursorParam = Annotated[str | None, Parameter(description="From the previous page's "
                                                          "next_cursor")]
LimitParam = Annotated[int, Parameter(ge=1, le=MAX_LIMIT,
                                      description=f"Rows per page (1-{MAX_LIMIT})")]
