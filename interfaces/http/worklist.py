"""/api/worklist, /api/register and /api/stats/*: the lists officers, supervisors and
analysts work from, as `compliance worklist|register|stats` print them, restricted to the
districts the caller may see (an auditor and a national user see all 42).

A district the caller may not see answers an empty list: the same answer as a district
with nothing in it, so a list never tells an outsider what another district holds. A
caller bound to districts who names none gets their own. The work list, its due items and
the register are paged like every list (`limit`, `cursor`, `next_cursor` and a Link
header; interfaces.http.paging). Every list is also CSV with `Accept: text/csv`, its
header row there even when no row is. The views are caught up to the end of the log
before they are read, as the CLI does, so a case recorded a moment ago is on the list
without a worker running.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import QueryParameter

from application.access import Principal
from application.scope_sql import scope_clauses
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_district, parse_importer_number
from interfaces.http.auth import services_of
from interfaces.http.case_lists import DEFAULT_LIMIT, next_link
from interfaces.http.paging import decode_cursor, page_by_key, page_rows
from interfaces.http.params import Caller
from interfaces.http.reads import CursorParam, LimitParam, PageOf, csv_response, wants_csv
from interfaces.http.services import HttpServices
from projections import queries
from projections.listing import ACCOUNT_COLUMNS, ACCOUNT_SORTS, account_page
from projections.runner import ProjectionFailedError
from projections.view import View
from projections.views.account_register import AccountRegister
from projections.views.statistics import (
    ComplianceStatistics,
    EnforcementStatistics,
    PlanProgress,
)
from projections.views.worklist import WorkList

log = logging.getLogger("compliance.http")

AnyRequest = Request[Any, Any, Any]
Rows = list[dict[str, Any]]
DistrictParam = Annotated[str | None, QueryParameter(
    description="One district (01-42); omitted: every district the caller may see")]


def current(services: HttpServices, views: Iterable[type[View]]) -> HttpServices:
    """The services, with `views` caught up to the end of the log first. A view stopped at
    an event it cannot apply is read as it stands (and logged): a list a little behind
    is more use to an officer than an error, and /readyz reports the lag."""
    chosen = list(views)
    projections = services.projections
    if any(projections.lag(view) for view in chosen):
        try:
            projections.catch_up(chosen, rebuild_far_behind=False)
        except ProjectionFailedError as error:
            log.warning("reading views behind the log: %s", error)
    return services


def districts_to_read(caller: Principal, district: str | None) -> list[str | None]:
    """The district filters to run a list query with: [None] for everything (national),
    each of the caller's districts when it names none, the one it names when it may see
    it, and nothing at all ([]) when it may not."""
    wanted = parse_district(district) if district is not None else None
    allowed, _ = caller.list_scope()
    if allowed is None:
        return [wanted]
    mine = sorted(parse_district(code) for code in allowed)
    if wanted is None:
        return list(mine)
    return [wanted] if wanted in mine else []


def answer(request: AnyRequest, rows: Rows, filename: str, columns: Sequence[str],
           next_cursor: str | None = None) -> Response[Any]:
    """JSON, or CSV whose header row is there even when no row is (`columns`)."""
    response: Response[Any]
    if wants_csv(request):
        response = csv_response(rows, filename, columns)
    else:
        response = Response(PageOf(items=rows, next_cursor=next_cursor))
    if next_cursor is not None:
        response.set_header("Link", next_link(request, next_cursor))
    return response


WORKLIST_ORDER = ("district", "number")
"""The work list's order and its cursors' key (projections.queries.worklist)."""
WORKLIST_COLUMNS = ("number", "kind", "importer_number", "district", "officer", "state",
                    "next_step", "due_on", "opened_on", "days_overdue")
DUE_COLUMNS = ("item", "case_number", "kind", "district", "due_on", "description",
               "officer", "days_overdue")
REGISTER_COLUMNS = (*(c for c in ACCOUNT_COLUMNS if c != "annual_value_cents"),
                    "annual_value", "partnerships")
ENFORCEMENT_COLUMNS = ("kind", "state", "actions", "proposed", "decided", "paid",
                       "mean_days_to_decision")
PLAN_COLUMNS = ("plan_number", "district", "state", "actions", "completed", "overdue")


def _officer(value: str | None) -> str | None:
    if value is None or value.strip().lower() == queries.UNASSIGNED:
        return value
    return parse_actor(value.strip(), "officer")


@get("/api/worklist", sync_to_thread=True, tags=["operations"],
     summary="Open cases (or due items) by district and officer, with days overdue")
def worklist(request: AnyRequest, caller: Caller, district: DistrictParam = None,
             officer: Annotated[str | None, QueryParameter(
                 description="user:<id> responsible, or `unassigned`")] = None,
             due: Annotated[bool, QueryParameter(description="Due items instead of cases")] = False,
             overdue: Annotated[bool, QueryParameter(
                 description="Only overdue due items")] = False,
             limit: LimitParam = DEFAULT_LIMIT,
             cursor: CursorParam = None) -> Response[PageOf]:
    caller.require("read:worklist")
    chosen, who = districts_to_read(caller, district), _officer(officer)
    listed, order = (("due-items", queries.DUE_ORDER) if due or overdue
                     else ("worklist", WORKLIST_ORDER))
    # A bad cursor is refused before anything is caught up.
    key = decode_cursor(listed, cursor, len(order)) if cursor is not None else None
    services = current(services_of(request), [WorkList])
    store, today = services.projections.store, services.now().date()
    after = queries.After(key, limit + 1)  # one more than the page: is there a next one?
    rows: Rows = []
    if due or overdue:
        for code in chosen:
            rows += queries.due_items(store, today, district=code, overdue_only=overdue,
                                      officer=who, after=after)
        page, following = page_by_key(rows, listed, operator.itemgetter("sort_key"), limit,
                                      cursor)
        for row in page:
            del row["sort_key"]
        return answer(request, page, listed, DUE_COLUMNS, following)
    for code in chosen:
        rows += queries.worklist(store, today, district=code, officer=who, after=after)
    page, following = page_rows(rows, listed, WORKLIST_ORDER, limit, cursor)
    return answer(request, page, listed, WORKLIST_COLUMNS, following)


@get("/api/register", sync_to_thread=True, tags=["operations"],
     summary="The account register: tier, class, partnerships, open cases, last assessment")
def register(request: AnyRequest, caller: Caller, district: DistrictParam = None,
             importer: Annotated[str | None, QueryParameter(
                 description="Only this importer number")] = None,
             status: Annotated[str | None, QueryParameter(
                 name="state", description="Only accounts in this state")] = None,
             tier: Annotated[int | None, QueryParameter(
                 ge=1, le=4, description="Only this tier (1-4)")] = None,
             sort: Annotated[str, QueryParameter(enum=list(ACCOUNT_SORTS),
                                            description="Order by, then by number")
                             ] = "importer_number",
             desc: Annotated[bool, QueryParameter(description="Largest first")] = False,
             limit: LimitParam = 100,
             cursor: CursorParam = None) -> Response[PageOf]:
    caller.require("read:register")
    if district is not None:
        parse_district(district)  # a bad filter is refused before anything is caught up
    allowed, importers = caller.list_scope()
    if importer is not None:
        wanted = frozenset({parse_importer_number(importer, "importer")})
        importers = wanted if importers is None else importers & wanted
    store = current(services_of(request), [AccountRegister]).projections.store
    page = account_page(store, districts=allowed, importers=importers, state=status,
                        district=district, tier=tier, sort=sort, descending=desc,
                        limit=limit, cursor=cursor)
    return answer(request, page.rows, "register", REGISTER_COLUMNS, page.next_cursor)


@get("/api/stats/compliance", sync_to_thread=True, tags=["operations"],
     summary="Compliance rates, lines tested, discrepancies and revenue loss, grouped")
def compliance_stats(request: AnyRequest, caller: Caller,
                     by: Annotated[str, QueryParameter(enum=sorted(queries.GROUPS),
                                                  description="Grouping")] = "area",
                     district: DistrictParam = None) -> Response[PageOf]:
    caller.require("read:stats")
    if by not in queries.GROUPS:
        raise InvalidValueError("by", by, f"one of {', '.join(sorted(queries.GROUPS))}")
    chosen = districts_to_read(caller, district)
    store = current(services_of(request), [ComplianceStatistics]).projections.store
    parts = [queries.compliance_statistics(store, by=by, district=code) for code in chosen]
    return answer(request, parts[0] if len(parts) == 1 else _merged_rates(parts, by),
                  f"compliance-by-{by}", (by, "lines_tested", "discrepancies",
                                          "compliance_rate", "revenue_loss", "findings"))


def _merged_rates(parts: list[Rows], by: str) -> Rows:
    """Several districts' compliance figures as one table: the sums added up per group,
    the rate worked out again from them (rates themselves do not add)."""
    totals: dict[Any, list[int]] = {}
    for rows in parts:
        for row in rows:
            sums = totals.setdefault(row[by], [0, 0, 0, 0])
            cents = int(Decimal(row["revenue_loss"]) * 100)
            for index, value in enumerate((row["lines_tested"], row["discrepancies"], cents,
                                           row["findings"])):
                sums[index] += int(value)
    return [{by: key, "lines_tested": lines, "discrepancies": errors,
             "compliance_rate": round(1 - errors / lines, 4) if lines else None,
             "revenue_loss": f"{loss / 100:.2f}", "findings": count}
            for key, (lines, errors, loss, count) in sorted(totals.items(),
                                                             key=lambda kv: str(kv[0]))]


@get("/api/stats/enforcement", sync_to_thread=True, tags=["operations"],
     summary="Enforcement actions by kind and state: amounts and days to decision")
def enforcement_stats(request: AnyRequest, caller: Caller,
                      district: DistrictParam = None) -> Response[PageOf]:
    caller.require("read:stats")
    chosen = districts_to_read(caller, district)
    store = current(services_of(request), [EnforcementStatistics]).projections.store
    if len(chosen) == 1:
        rows = queries.enforcement_statistics(store, district=chosen[0])
    else:
        rows = _enforcement_in(store, [code for code in chosen if code is not None])
    return answer(request, rows, "enforcement", ENFORCEMENT_COLUMNS)


def _enforcement_in(store: Any, districts: list[str]) -> Rows:
    """queries.enforcement_statistics over several districts at once (a mean of days to
    decision cannot be put together from per-district means)."""
    if not districts:
        return []
    clauses, params = scope_clauses(frozenset(districts), None)
    found = store.rows(
        f"SELECT kind, state, COUNT(*), SUM(proposed_cents), SUM(decided_cents), "
        f"SUM(paid_cents), AVG(days_to_decision) FROM {store.qualified('es_actions')} "
        f"WHERE {' AND '.join(clauses)} GROUP BY kind, state ORDER BY kind, state", params)

    def money(cents: Any) -> str:
        return f"{int(cents or 0) / 100:.2f}"
    return [{"kind": kind, "state": state, "actions": int(count), "proposed": money(proposed),
             "decided": money(decided), "paid": money(paid),
             "mean_days_to_decision": None if days is None else round(float(days), 1)}
            for kind, state, count, proposed, decided, paid, days in found]


@get("/api/stats/plans", sync_to_thread=True, tags=["operations"],
     summary="Improvement plans: actions, completed and overdue, per plan")
def plan_stats(request: AnyRequest, caller: Caller,
               district: DistrictParam = None) -> Response[PageOf]:
    caller.require("read:stats")
    chosen = districts_to_read(caller, district)
    services = current(services_of(request), [PlanProgress])
    today = services.now().date()
    rows: Rows = []
    for code in chosen:
        rows += queries.plan_progress(services.projections.store, today, district=code)
    return answer(request, rows, "plans", PLAN_COLUMNS)


ROUTES = [worklist, register, compliance_stats, enforcement_stats, plan_stats]
