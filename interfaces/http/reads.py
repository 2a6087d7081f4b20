"""Reads over HTTP: one case (`GET /api/<resource>/{number}`, its version as the ETag) and
lists from the views (`GET /api/<resource>`: filters and sorting on the view's columns,
cursor paging, CSV with `Accept: text/csv`). Every read runs as the caller: a case outside
its scope is 404 like a missing one, and lists hold only what it may see."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter

from application.access import Principal, acting_as
from application.compliance_cases import ComplianceCases
from interfaces.http.auth import services_of
from interfaces.http.params import Caller, CaseNumber


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
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def build_case_read(resource: str, permission: str,
                    describe: Callable[[ComplianceCases, str], dict[str, Any]],
                    ) -> HTTPRouteHandler:
    def read(request: Request[Any, Any, Any], caller: Principal,
             number: str) -> Response[CaseDocument]:
        caller.require(permission)
        app = services_of(request).app
        with acting_as(caller), app.reading():
            case = describe(app, number)
        version = int(case.get("version", 0))
        return Response(CaseDocument(number=str(case.get("number", number.upper())),
                                     version=version, case=msgspec.to_builtins(case)),
                        headers={"ETag": f'"{version}"'})

    read.__annotations__ = {"request": Request[Any, Any, Any], "caller": Caller,
                            "number": CaseNumber, "return": Response[CaseDocument]}
    read.__name__ = read.__qualname__ = f"{resource}_show".replace("-", "_")
    return get(f"/api/{resource}/{{number:str}}", sync_to_thread=True, tags=[resource],
               summary=f"One of the {resource}, as the caller may see it",
               operation_id=f"{resource}-show")(read)


CursorParam = Annotated[str | None, Parameter(description="From the previous page's "
                                                          "next_cursor")]
LimitParam = Annotated[int, Parameter(ge=1, le=1000, description="Rows per page")]
