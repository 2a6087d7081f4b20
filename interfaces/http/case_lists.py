"""Lists over HTTP: `GET /api/<resource>` for each kind of case and for importer accounts.

A page is found in a view (the work list's case table, the account register), never by
replaying the log, then each of its rows is completed from its own case, exactly as the
CLI's `list` commands do. The view is first caught up to the end of the log in this
process, so a case recorded a moment ago is listed; when that cannot be done (a database
role that may only read, a view stopped at an event it cannot apply) the list is answered
from the view as it is, and `X-Views-Behind` says by how many events.

Scope comes from the caller, never from the query: `caller.list_scope()` restricts every
page, and the filters only narrow it down. A `district` (or `importer_number`) filter the
caller may not see is therefore an empty page, not a 403 or 404: the answer is the same as
for a district with no cases, so a list never tells whether another district's cases exist.

Paging is by cursor: `next_cursor` of one page is the `cursor` of the next (also sent as
`Link: <...>; rel="next"`). With `Accept: text/csv` the same page comes as CSV, one row per
item with a header row, formula-safe; CSV too is one page at a time (follow the Link header
for the rest), so an export of a whole district is many requests, each bounded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import QueryParameter

from application.access import Principal, acting_as
from application.compliance_cases import ComplianceCases
from application.queries import case_summaries, register_summary
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_district, parse_importer_number
from interfaces.http.auth import services_of
from interfaces.http.commands import parse_fields
from interfaces.http.params import Caller
from interfaces.http.reads import PageOf, csv_response, wants_csv
from interfaces.http.services import HttpServices
from projections.listing import (
    ACCOUNT_SORTS,
    ACCOUNT_STATES,
    CASE_SORTS,
    CASE_STATES,
    MAX_LIMIT,
    account_page,
    case_page,
)
from projections.queries import latest_versions
from projections.view import View
from projections.views.account_register import AccountRegister
from projections.views.worklist import WorkList

log = logging.getLogger("compliance.http")

DEFAULT_LIMIT = 50
VIEWS_BEHIND_HEADER = "X-Views-Behind"
Rows = list[dict[str, Any]]
Refine = Callable[[ComplianceCases, Rows], Rows]

_CATCHING_UP = threading.Lock()
"""One catch-up at a time in this process: concurrent list requests would otherwise each
apply the same batch and all but one find it already applied. A request waits for the
one under way (then catches up what was recorded meanwhile, its own writes included), but
at most CATCH_UP_WAIT seconds: after a bulk import the list then answers from the view as
it is rather than queue behind a long catch-up."""
CATCH_UP_WAIT = 10.0


def caught_up(services: HttpServices, view: type[View]) -> int:
    """Catches `view` up to the end of the log; returns how many events it is still behind
    (0 normally; more when it could not be caught up, which is logged, not raised: a list
    from a view a little behind is better than no list)."""
    if _CATCHING_UP.acquire(timeout=CATCH_UP_WAIT):
        try:
            services.projections.catch_up([view], rebuild_far_behind=False)
        except Exception as error:  # a role that may only read, a view stopped at an event
            log.warning("list from view %s as it is: catching up failed: %s: %s",
                        view.name, type(error).__name__, error)
        finally:
            _CATCHING_UP.release()
    return services.projections.lag(view)


def _one_of(field: str, value: str | None, allowed: Sequence[str]) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidValueError(field, value, f"one of {', '.join(allowed)}")
    return value


def _officer(value: str | None) -> str | None:
    if value is None or value.strip().lower() == "unassigned":
        return value
    return parse_actor(value, "officer")


def next_link(request: Request[Any, Any, Any], cursor: str) -> str:
    """The Link header naming the next page: this request with `cursor` replaced."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return f'<{request.url.path}?{urlencode([*query, ("cursor", cursor)])}>; rel="next"'


def page_response(request: Request[Any, Any, Any], rows: Rows, next_cursor: str | None,
                  behind: int, filename: str, columns: Sequence[str]) -> Response[Any]:
    """JSON (PageOf) or, when the client accepts text/csv, the same page as CSV."""
    response: Response[Any] = (csv_response(rows, filename, columns) if wants_csv(request)
                               else Response(PageOf(items=rows, next_cursor=next_cursor)))
    if next_cursor is not None:
        response.set_header("Link", next_link(request, next_cursor))
    if behind:
        response.set_header(VIEWS_BEHIND_HEADER, str(behind))
    return response


def _query(kind: Any, description: str, **constraints: Any) -> Any:
    return Annotated[kind, QueryParameter(description=description, **constraints)]


_SORT_HELP = "Order by this column, then by number"


def _state_param(description: str, states: Sequence[str]) -> Any:
    """The `state` query parameter (`state` itself is a name litestar reserves)."""
    return _query(str | None, description, enum=list(states), name="state")


_LIMIT = _query(int, f"Rows per page (1-{MAX_LIMIT})", ge=1, le=MAX_LIMIT)
_CURSOR = _query(str | None, "The previous page's next_cursor")
_DESC = _query(bool, "Largest first")
_DISTRICT = _query(str | None, "Only this district (01-42); one the caller may not see "
                               "gives an empty page")
_LIST_DOC = ("A page of the list, restricted to what the caller may see. `Accept: text/csv` "
             "gives this page as CSV (one page only: follow the Link header for the next).")


def build_case_list(resource: str, kind: str, permission: str, columns: Sequence[str],
                    refine: Refine | None = None,
                    with_overdue: bool = False) -> HTTPRouteHandler:
    """`GET /api/<resource>`: cases of one kind (a CASE_STATES key) from the work list.
    `refine` adds columns computed when read; `with_overdue` offers `overdue=true` (open
    cases due before today, found by the list's own query so every page is full)."""
    states = CASE_STATES[kind]

    def listing(request: Request[Any, Any, Any], caller: Principal, in_state: str | None,
                district: str | None, importer_number: str | None, officer: str | None,
                sort: str, desc: bool, limit: int, cursor: str | None,
                overdue: bool = False) -> Response[Any]:
        caller.require(permission)
        services = services_of(request)
        app = services.app
        wanted = parse_fields(
            state=lambda: _one_of("state", in_state, states),
            district=lambda: parse_district(district) if district is not None else None,
            importer_number=lambda: (parse_importer_number(importer_number)
                                     if importer_number is not None else None),
            officer=lambda: _officer(officer),
            sort=lambda: _one_of("sort", sort, list(CASE_SORTS)))
        del wanted["sort"]  # checked with the filters, passed on by name
        behind = caught_up(services, WorkList)
        districts, importers = caller.list_scope()
        page = case_page(services.projections.store, kind=kind, districts=districts,
                         importers=importers, sort=sort, descending=desc, limit=limit,
                         cursor=cursor, overdue_on=app.clock().date() if overdue else None,
                         **wanted)
        with acting_as(caller):
            rows = case_summaries(app, [UUID(row["case_id"]) for row in page.rows])
        if refine is not None:
            rows = refine(app, rows)
        return page_response(request, rows, page.next_cursor, behind, resource, columns)

    annotations: dict[str, Any] = {
        "request": Request[Any, Any, Any], "caller": Caller,
        "in_state": _state_param("Only cases in this state", states),
        "district": _DISTRICT,
        "importer_number": _query(str | None, "Only this importer's cases"),
        "officer": _query(str | None, "Only this officer's cases (user:<id>), or "
                                      "'unassigned'"),
        "sort": _query(str, _SORT_HELP, enum=list(CASE_SORTS)), "desc": _DESC,
        "limit": _LIMIT, "cursor": _CURSOR, "return": Response[PageOf]}
    handler: Callable[..., Response[Any]]
    if with_overdue:
        def overdue_listing(request: Request[Any, Any, Any], caller: Principal,
                            in_state: str | None = None, district: str | None = None,
                            importer_number: str | None = None, officer: str | None = None,
                            sort: str = "number", desc: bool = False,
                            limit: int = DEFAULT_LIMIT, cursor: str | None = None,
                            overdue: bool = False) -> Response[Any]:
            return listing(request, caller, in_state, district, importer_number, officer,
                           sort, desc, limit, cursor, overdue)
        handler = overdue_listing
        annotations["overdue"] = _query(bool, "Only open cases past their due date")
    else:
        def plain_listing(request: Request[Any, Any, Any], caller: Principal,
                          in_state: str | None = None, district: str | None = None,
                          importer_number: str | None = None, officer: str | None = None,
                          sort: str = "number", desc: bool = False,
                          limit: int = DEFAULT_LIMIT, cursor: str | None = None,
                          ) -> Response[Any]:
            return listing(request, caller, in_state, district, importer_number, officer,
                           sort, desc, limit, cursor)
        handler = plain_listing
    return _route(handler, resource, annotations)


def build_account_list(resource: str, permission: str,
                       columns: Sequence[str]) -> HTTPRouteHandler:
    """`GET /api/accounts`: importer accounts from the account register, each with its
    version (its latest event), as `compliance accounts list` gives them."""

    def listing(request: Request[Any, Any, Any], caller: Principal,
                in_state: str | None = None, district: str | None = None, tier: int | None = None,
                sort: str = "importer_number", desc: bool = False,
                limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Response[Any]:
        caller.require(permission)
        services = services_of(request)
        parse_fields(
            state=lambda: _one_of("state", in_state, ACCOUNT_STATES),
            district=lambda: parse_district(district) if district is not None else None,
            tier=lambda: _one_of("tier", None if tier is None else str(tier),
                                 ("1", "2", "3", "4")),
            sort=lambda: _one_of("sort", sort, list(ACCOUNT_SORTS)))
        behind = caught_up(services, AccountRegister)
        districts, importers = caller.list_scope()
        store = services.projections.store
        page = account_page(store, districts=districts, importers=importers, state=in_state,
                            district=district, tier=tier, sort=sort, descending=desc,
                            limit=limit, cursor=cursor)
        versions = latest_versions(store, services.app.recorder,
                                   [row["importer_id"] for row in page.rows])
        rows = [register_summary(row, versions.get(row["importer_id"], 0))
                for row in page.rows]
        return page_response(request, rows, page.next_cursor, behind, resource, columns)

    listing.__annotations__ = {
        "request": Request[Any, Any, Any], "caller": Caller,
        "in_state": _state_param("Only accounts in this state", ACCOUNT_STATES),
        "district": _DISTRICT,
        "tier": _query(int | None, "Only this value tier (1 largest importers - 4)", ge=1,
                       le=4),
        "sort": _query(str, _SORT_HELP, enum=list(ACCOUNT_SORTS)), "desc": _DESC,
        "limit": _LIMIT, "cursor": _CURSOR, "return": Response[PageOf]}
    return _route(listing, resource, listing.__annotations__)


def one_route(*handlers: HTTPRouteHandler) -> tuple[HTTPRouteHandler, ...]:
    """Handlers sharing one path (`POST /api/accounts` and `GET /api/accounts`), kept
    together. Litestar 2.25 prepares every handler of a path again each time another is
    registered on it (wrapping a sync_to_thread handler twice: a 500), so
    interfaces.http.app.create_app registers every handler in one Router, at once; this
    marks the pairs that depend on it."""
    return handlers


def _route(handler: Callable[..., Response[Any]], resource: str,
           annotations: dict[str, Any]) -> HTTPRouteHandler:
    handler.__annotations__ = annotations
    handler.__name__ = handler.__qualname__ = f"{resource}_list".replace("-", "_")
    return get(f"/api/{resource}", sync_to_thread=True, tags=[resource],
               summary=f"List {resource}, a page at a time", description=_LIST_DOC,
               operation_id=f"{resource}-list")(handler)
