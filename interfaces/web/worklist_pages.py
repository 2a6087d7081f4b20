"""The work list page (`/worklist`): the cases an officer or a supervisor works from, from
the work-list view, filtered and sorted by what the URL says (so a list can be shared),
one page at a time by cursor, as CSV (`?format=csv` or `/worklist.csv`: the whole filtered
list, same columns), refreshed in place by htmx when a filter changes. A supervisor
assigns an officer to several unassigned assessments and verifications at once
(`POST /worklist/assign`): one command per case through the application, each case's
outcome reported, a refused one not stopping the others.

Filters are read from the query string by hand rather than as typed handler parameters,
so that a bad one is shown next to its field on the page instead of failing the request."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio
from litestar import Request, Response, get, post
from litestar.response import Redirect

from application.access import Principal, acting_as
from application.bulk_assignment import MAX_CASES, assign_each
from application.dashboard_queries import Scope
from application.worklist_queries import (
    KINDS,
    SORTS,
    STATUSES,
    UNASSIGNED,
    Order,
    WorkFilter,
    WorkPage,
    work_page,
)
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_date, parse_district, parse_reason
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.problems import problem_for
from interfaces.http.reads import csv_response
from interfaces.web.rendering import is_htmx, page
from interfaces.web.work_context import (
    KIND_LABELS,
    as_rows,
    case_href,
    district_choices,
    person,
    staff_choices,
    view_tables,
)
from projections.views.account_register import AccountRegister
from projections.views.worklist import WorkList

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 50
EXPORT_CHUNK = 1000
EXPORT_MAX = 100_000
FILTERS = ("kind", "state", "district", "officer", "status", "overdue", "due_before", "sort",
           "desc", "limit")
CSV_COLUMNS = ("number", "kind", "importer_number", "legal_name", "district", "state",
               "officer", "next_step", "due_on", "days_overdue", "opened_on")
"""The table's columns, as the CSV export writes them."""
DEFAULTS = {"status": "open", "sort": "due_on", "limit": str(PAGE_SIZE)}
LIMITS = ("10", "25", "50", "100", "200")
"""The page sizes the form offers; a URL may ask for any up to MAX_PAGE."""
MAX_PAGE = 200
ASSIGNABLE_KINDS = ("assessment", "follow_up_verification")
SORT_LABELS = {"number": "Case", "kind": "Type", "importer_number": "Importer",
               "district": "District", "state": "State", "officer": "Officer",
               "due_on": "Due", "opened_on": "Opened"}


@dataclass
class Listing:
    """The list a URL asks for: the filters as sent (for the form and the links), each bad
    one's message, and the checked filter and order."""

    sent: dict[str, str]
    errors: dict[str, str]
    wanted: WorkFilter
    order: Order
    cursor: str | None
    limit: int = PAGE_SIZE

    @property
    def params(self) -> dict[str, str]:
        """The filters that differ from the defaults: what a link to this list says."""
        return {k: v for k, v in self.sent.items() if v and DEFAULTS.get(k) != v}


def read_listing(params: Mapping[str, str], caller: Principal) -> Listing:
    sent = {name: str(params.get(name) or "").strip()[:200] for name in FILTERS}
    errors: dict[str, str] = {}

    def checked(name: str, parse: Any) -> Any:
        if not sent[name]:
            return None
        try:
            return parse(sent[name])
        except InvalidValueError as error:
            errors[name] = error.reason
            return None

    kind = checked("kind", lambda v: _one_of("kind", v, tuple(KINDS)))
    states = KINDS[kind] if kind else tuple(dict.fromkeys(s for v in KINDS.values()
                                                          for s in v))
    wanted = WorkFilter(
        kind=kind, state=checked("state", lambda v: _one_of("state", v, states)),
        district=checked("district", parse_district),
        officer=checked("officer", lambda v: _officer(v, caller)),
        status=checked("status", lambda v: _one_of("status", v, STATUSES)) or "open",
        overdue=sent["overdue"] in ("1", "on", "true"),
        due_before=checked("due_before", lambda v: parse_date(v, "due_before")))
    order = Order(checked("sort", lambda v: _one_of("sort", v, tuple(SORTS))) or "due_on",
                  sent["desc"] in ("1", "on", "true"))
    cursor = str(params.get("cursor") or "").strip() or None
    limit = checked("limit", _limit) or PAGE_SIZE
    return Listing(sent, errors, wanted, order, cursor, limit)


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidValueError(name, value, "choose one of the listed values")
    return value


def _limit(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise InvalidValueError("limit", value, f"a whole number from 1 to {MAX_PAGE}")
    return int(value)


def _officer(value: str, caller: Principal) -> str:
    if value == "me":
        return caller.actor
    if value.lower() == UNASSIGNED:
        return UNASSIGNED
    return parse_actor(value if ":" in value else f"user:{value}", "officer")


@dataclass
class AssignForm:
    """The bulk assignment form as sent (kept when it is shown again with its errors)."""

    cases: list[str] = field(default_factory=list)
    officer: str = ""
    reason: str = ""
    batch: str = field(default_factory=lambda: uuid.uuid4().hex)
    errors: dict[str, str] = field(default_factory=dict)


def _list(request: AnyRequest, caller: Principal, listing: Listing,
          limit: int | None = None) -> WorkPage:
    services = services_of(request)
    if listing.errors:
        return WorkPage([], None)
    store, code_points = view_tables(services, WorkList, AccountRegister)
    with acting_as(caller):
        try:
            return work_page(store, Scope(*caller.list_scope()), listing.wanted,
                             services.now().date(), order=listing.order,
                             limit=limit or listing.limit,
                             cursor=listing.cursor, code_points=code_points)
        except InvalidValueError as error:  # a cursor cut or edited
            listing.errors[error.field] = error.reason
            return WorkPage([], None)


def _context(request: AnyRequest, caller: Principal, listing: Listing,
             form: AssignForm | None = None) -> dict[str, Any]:
    found = _list(request, caller, listing)
    services = services_of(request)
    may_assign = caller.may("assign_officer") or caller.may("assign_verification_officer")
    for row in as_rows(found.rows):
        row["assignable"] = (may_assign and not row["closed"] and row["officer"] is None
                             and row["kind"] in ASSIGNABLE_KINDS)
    kind = listing.wanted.kind
    return {
        "rows": found.rows, "next_cursor": found.next_cursor, "listing": listing,
        "params": listing.params, "sent": listing.sent, "errors": listing.errors,
        "cursor": listing.cursor, "kinds": KIND_LABELS,
        "states": KINDS[kind] if kind else tuple(dict.fromkeys(
            s for v in KINDS.values() for s in v)),
        "statuses": STATUSES, "districts": district_choices(caller),
        "staff": staff_choices(services, caller),
        "sort_labels": SORT_LABELS, "may_assign": may_assign,
        "limits": [(v, v) for v in LIMITS], "default_limit": str(PAGE_SIZE),
        "assignable": any(row["assignable"] for row in found.rows),
        "form": form or AssignForm(), "today": services.now().date(),
        "notice": _notice(request),
    }


def _notice(request: AnyRequest) -> str:
    assigned = request.query_params.get("assigned")
    officer = request.query_params.get("to")
    if assigned and assigned.isdigit() and officer:
        return f"{int(assigned)} case(s) assigned to {person(officer[:100])}."
    return ""


@get("/worklist", sync_to_thread=True, include_in_schema=False)
def worklist(request: AnyRequest, caller: Caller) -> Response[Any]:
    caller.require("read:worklist")
    listing = read_listing(request.query_params, caller)
    if request.query_params.get("format") == "csv":
        return _export(request, caller, listing)
    context = _context(request, caller, listing)
    if is_htmx(request) and request.headers.get("hx-target") == "worklist":
        region = page(request, caller, "worklist_region.html", **context)
        shown = urlencode({**listing.params, **({"cursor": listing.cursor}
                                                 if listing.cursor else {})})
        region.headers["HX-Push-Url"] = "/worklist" + (f"?{shown}" if shown else "")
        return region  # 200 even with a bad filter: htmx swaps no 4xx answer
    return page(request, caller, "worklist.html", status_code=422 if listing.errors else 200,
                **context)


@get("/worklist.csv", sync_to_thread=True, include_in_schema=False)
def worklist_csv(request: AnyRequest, caller: Caller) -> Response[Any]:
    caller.require("read:worklist")
    return _export(request, caller, read_listing(request.query_params, caller))


def _export(request: AnyRequest, caller: Principal, listing: Listing) -> Response[Any]:
    """Every row the filters find (up to EXPORT_MAX), read a chunk at a time."""
    if listing.errors:
        name, reason = next(iter(listing.errors.items()))
        raise InvalidValueError(name, listing.sent.get(name, ""), reason)
    rows: list[dict[str, Any]] = []
    listing.cursor = None
    while len(rows) < EXPORT_MAX:
        found = _list(request, caller, listing, EXPORT_CHUNK)
        rows += found.rows
        if found.next_cursor is None:
            break
        listing.cursor = found.next_cursor
    stamp = services_of(request).now().date().isoformat()
    return csv_response(rows[:EXPORT_MAX], f"worklist-{stamp}", CSV_COLUMNS)


@post("/worklist/assign", include_in_schema=False, status_code=303)
async def assign(request: AnyRequest, caller: Caller) -> Response[Any]:
    caller.require("assign_officer")
    sent = await request.form()
    form = AssignForm(cases=[str(c).strip() for c in sent.getall("case", []) if str(c).strip()],
                      officer=str(sent.get("officer") or "").strip(),
                      reason=str(sent.get("reason") or ""),
                      batch=str(sent.get("batch") or "").strip())
    back = str(sent.get("back") or "").lstrip("?")[:2000]
    return await anyio.to_thread.run_sync(partial(_assign, request, caller, form, back))


def _assign(request: AnyRequest, caller: Principal, form: AssignForm,
            back: str) -> Response[Any]:
    """One assign command per chosen case. The list again (422) when the form is
    incomplete; back to the list when every case was assigned; else every case's outcome,
    what was done and what was refused and why."""
    if not (16 <= len(form.batch) <= 64 and form.batch.isalnum()):
        form.batch = uuid.uuid4().hex
    listing = read_listing(dict(parse_qsl(back)), caller)
    back = urlencode(listing.params)  # only the list's own filters travel on
    services = services_of(request)
    staff = {value for value, _ in staff_choices(services, caller)}
    if not form.cases:
        form.errors["case"] = "choose at least one case"
    elif len(form.cases) > MAX_CASES:
        form.errors["case"] = f"at most {MAX_CASES} cases at once"
    if form.officer not in staff:
        form.errors["officer"] = "choose an officer from the list"
    try:
        parse_reason(form.reason)
    except InvalidValueError as error:
        form.errors["reason"] = error.reason
    if form.errors:
        return page(request, caller, "worklist.html", status_code=422,
                    **_context(request, caller, listing, form))
    try:
        with acting_as(caller):
            outcomes = assign_each(services.app, form.cases, form.officer, actor=caller.actor,
                                   reason=form.reason, batch=form.batch)
    except InvalidValueError as refused:  # the officer may not be given work: no case is
        form.errors[refused.field] = refused.reason
        return page(request, caller, "worklist.html", status_code=422,
                    **_context(request, caller, listing, form))
    if all(outcome.assigned for outcome in outcomes):
        done = urlencode({"assigned": len(outcomes), "to": form.officer})
        return Redirect(f"/worklist?{back + '&' if back else ''}{done}", status_code=303)
    results = [{"number": o.number, "version": o.version, "assigned": o.assigned,
                "problem": None if o.refusal is None else problem_for(request, o.refusal),
                "href": case_href(_kind_of(o.number), o.number)} for o in outcomes]
    return page(request, caller, "worklist_assigned.html", results=results,
                officer=person(form.officer), reason=form.reason, back=back,
                done=sum(1 for o in outcomes if o.assigned))


def _kind_of(number: str) -> str:
    return {"CA": "assessment", "FV": "follow_up_verification"}.get(
        number.split("-", 1)[0], "assessment")


ROUTES = [worklist, worklist_csv, assign]
