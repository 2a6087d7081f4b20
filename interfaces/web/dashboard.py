"""The dashboard at `/`: what each of the caller's roles needs first, one panel per role
(a user with several roles sees each): an officer's cases and due items, soonest first; a
supervisor's district queue, workload per officer, unassigned cases, plans awaiting
approval and enforcement awaiting review; an analyst's national or district picture as
charts with their numbers beside them; the auditor's latest seal; a representative's open
plans, notices and verifications; the admin's users.

Every list comes from the views (application.dashboard_queries), restricted to the
caller's scope as the API's lists are; the analyst's picture and its charts are kept per
scope and latest bulk run, computed once and stored for every process (interfaces.web.
chart_routes, interfaces.analyst_figures)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from application.access import Principal, acting_as
from application.dashboard_queries import (
    CaseList,
    Scope,
    ViewTables,
    due_items,
    open_cases,
    queue,
    workload,
)
from application.worklist_queries import legal_names
from domain.seal_log import SEAL_LOG_ID
from domain.user import Role
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.services import HttpServices
from interfaces.web.chart_routes import analyst_scope, log_position, picture
from interfaces.web.rendering import page
from interfaces.web.work_context import (
    KIND_LABELS,
    as_rows,
    district_choices,
    district_label,
    person,
    scope_label,
    view_tables,
)
from projections import queries
from projections.views.account_register import AccountRegister
from projections.views.people import People
from projections.views.worklist import WorkList

AnyRequest = Request[Any, Any, Any]
LISTED = 10
"""Cases a dashboard list shows (the work list has the rest)."""
ASSIGNABLE = ("assessment", "follow_up_verification")
NOTICE_STATES = ("issued", "penalty_notice_issued", "response_received", "response_overdue",
                 "decided", "paid", "referred_for_collection")
"""An enforcement action whose notice the importer has received."""


@get("/", sync_to_thread=True, include_in_schema=False)
def dashboard(request: AnyRequest, caller: Caller,
              district: FromQuery[str | None] = None) -> Template:
    services = services_of(request)
    store, _ = view_tables(services, WorkList, AccountRegister)
    scope = Scope(*caller.list_scope())
    panels: dict[str, Any] = {}
    with acting_as(caller):
        if Role.OFFICER in caller.roles:
            panels["officer"] = officer_panel(services, store, scope, caller)
        if Role.SUPERVISOR in caller.roles:
            panels["supervisor"] = supervisor_panel(services, store, scope)
        if Role.ANALYST in caller.roles:
            panels["analyst"] = analyst_panel(services, caller, district)
        if Role.AUDITOR in caller.roles:
            panels["auditor"] = auditor_panel(services)
        if Role.IMPORTER_REPRESENTATIVE in caller.roles:
            panels["representative"] = representative_panel(services, store, scope, caller)
        if Role.ADMIN in caller.roles:
            panels["admin"] = admin_panel(services)
    _name_importers(store, panels)
    return page(request, caller, "dashboard.html", panels=panels, kinds=KIND_LABELS,
                scope=scope_label(caller), today=services.now().date())


def _name_importers(store: ViewTables, panels: dict[str, Any]) -> None:
    """Each listed case's importer's legal name, read once for every panel's lists."""
    lists = [found for panel in panels.values() for found in panel.values()
             if isinstance(found, CaseList)]
    names = legal_names(store, {row["importer_number"] for found in lists
                                for row in found.rows})
    for found in lists:
        for row in found.rows:
            row["legal_name"] = names.get(row["importer_number"], "")


def officer_panel(services: HttpServices, store: ViewTables, scope: Scope,
                  caller: Principal) -> dict[str, Any]:
    today = services.now().date()
    counts = queue(store, scope, today, officer=caller.actor)
    cases = open_cases(store, scope, today, officer=caller.actor, limit=LISTED)
    due = due_items(store, scope, today, officer=caller.actor, limit=LISTED)
    as_rows(cases.rows)
    as_rows(due.rows)
    return {"cases": cases, "due": due, "open": sum(r["cases"] for r in counts),
            "overdue": sum(r["overdue"] for r in counts)}


def supervisor_panel(services: HttpServices, store: ViewTables,
                     scope: Scope) -> dict[str, Any]:
    today = services.now().date()
    counts = queue(store, scope, today)
    loads = workload(store, scope, today)
    for row in loads:
        row["name"] = person(row["officer"])
    lists = {
        "unassigned": open_cases(store, scope, today, unassigned=True, kinds=ASSIGNABLE,
                                 limit=LISTED),
        "plans": open_cases(store, scope, today, kinds=("improvement_plan",),
                            states=("submitted",), limit=LISTED),
        "reviews": open_cases(store, scope, today, kinds=("enforcement_action",),
                              states=("proposed",), limit=LISTED)}
    for found in lists.values():
        as_rows(found.rows)
    return {"queue": counts, "open": sum(r["cases"] for r in counts),
            "overdue": sum(r["overdue"] for r in counts),
            "unassigned_total": sum(r["unassigned"] for r in counts
                                    if r["kind"] in ASSIGNABLE),
            "workload": loads, **lists}


def analyst_panel(services: HttpServices, caller: Principal,
                  district: str | None) -> dict[str, Any]:
    found = picture(services, caller, district)
    chosen = sorted(found.districts)[0] if district and found.districts else ""
    allowed = analyst_scope(caller, None)
    return {"picture": found, "district": chosen,
            "choices": district_choices(caller),
            "national": allowed is None,
            "label": ("national" if found.districts is None else
                      ", ".join(district_label(c) for c in sorted(found.districts))),
            "query": f"?district={chosen}" if chosen else ""}


def auditor_panel(services: HttpServices) -> dict[str, Any]:
    log = services.app.find_aggregate(SEAL_LOG_ID)
    events = log_position(services)
    if log is None:
        return {"seal": None, "events": events}
    return {"seal": {"number": log.seals, "checkpoint": log.last_checkpoint,
                     "sealed_at": log.modified_on, "hash": log.last_seal_hash},
            "events": events, "since": max(0, events - int(log.last_checkpoint))}


def representative_panel(services: HttpServices, store: ViewTables, scope: Scope,
                         caller: Principal) -> dict[str, Any]:
    today = services.now().date()
    lists = {
        "plans": open_cases(store, scope, today, kinds=("improvement_plan",), limit=LISTED),
        "notices": open_cases(store, scope, today, kinds=("enforcement_action",),
                              states=NOTICE_STATES, limit=LISTED),
        "verifications": open_cases(store, scope, today, kinds=("follow_up_verification",),
                                    limit=LISTED),
        "due": due_items(store, scope, today, limit=LISTED)}
    for found in lists.values():
        as_rows(found.rows)
    return {**lists, "importers": sorted(caller.importers or ())}


def admin_panel(services: HttpServices) -> dict[str, Any]:
    store, _ = view_tables(services, People)
    users = queries.people(store)
    roles: Counter[str] = Counter()
    for _name, _email, enabled, held, _districts, _importers in users:
        if enabled:
            roles.update(str(held).split())
    return {"users": len(users), "enabled": sum(1 for u in users if u[2]),
            "roles": sorted(roles.items())}


ROUTES = [dashboard]
