"""What the work list and the dashboards share: the views' database caught up to the end
of the log (as the API's lists do) with the way it orders text by code point, where each
kind of case has its page, the districts a caller may pick from, and the staff a
supervisor may assign (from the people view, never by replaying users)."""

from __future__ import annotations

from typing import Any

from application import assignees
from application.access import Principal
from domain.reference import DISTRICTS
from interfaces.http.case_lists import caught_up
from interfaces.http.services import HttpServices
from projections import queries
from projections.stores import PostgresViewStore, ViewStore
from projections.view import View
from projections.views.people import People

KIND_LABELS = {"assessment": "Assessment", "improvement_plan": "Improvement plan",
               "enforcement_action": "Enforcement action",
               "follow_up_verification": "Follow-up verification"}
KIND_PATHS = {"assessment": "/assessments", "improvement_plan": "/plans",
              "enforcement_action": "/enforcement", "follow_up_verification": "/verifications"}
ASSIGNEE_ROLES = frozenset(role.value for role in assignees.ASSIGNEE_ROLES)
"""Who casework is assigned to: officers, and supervisors (who may do their officers' work),
as the application checks it (application.assignees)."""


def view_tables(services: HttpServices, *views: type[View]) -> tuple[ViewStore, str]:
    """The view store with `views` caught up, and what makes it compare text by code
    point (' COLLATE "C"' on PostgreSQL, whose default follows the server's locale)."""
    for view in views:
        caught_up(services, view)
    store = services.projections.store
    return store, ' COLLATE "C"' if isinstance(store, PostgresViewStore) else ""


def case_href(kind: str, number: str) -> str:
    return f"{KIND_PATHS.get(kind, '/history')}/{number}"


def district_label(code: str) -> str:
    return f"{code} {DISTRICTS[code]}" if code in DISTRICTS else code


def district_choices(caller: Principal) -> list[tuple[str, str]]:
    """The districts a caller's lists may be narrowed to: its own, or all 42."""
    allowed, _ = caller.list_scope()
    codes = sorted(DISTRICTS) if allowed is None else sorted(allowed)
    return [(code, district_label(code)) for code in codes]


def person(actor: str | None) -> str:
    """An actor as a page names it: user:ana -> ana."""
    if not actor:
        return ""
    return actor.split(":", 1)[1] if actor.startswith("user:") else actor


def staff_choices(services: HttpServices, caller: Principal) -> list[tuple[str, str]]:
    """Enabled officers and supervisors working in a district the caller may see (all of
    them for a national caller), as (actor, label), by name."""
    store, _ = view_tables(services, People)
    allowed, _ = caller.list_scope()
    found: list[tuple[str, str]] = []
    for username, _email, enabled, roles, districts, _importers in queries.people(store):
        held = set(str(roles).split()) & ASSIGNEE_ROLES
        where = frozenset(str(districts).split())
        if not enabled or not held:
            continue
        if allowed is not None and where and not (where & allowed):
            continue
        scope = ", ".join(sorted(where)) if where else "national"
        found.append((f"user:{username}", f"{username} ({'/'.join(sorted(held))}, {scope})"))
    return sorted(found, key=lambda choice: choice[0])


def assignee_choices(services: HttpServices, district: str) -> list[tuple[str, str]]:
    """Whom a case of `district` may be given to, as the application would accept them:
    enabled officers and supervisors of that district or national, as (actor, label), by
    name."""
    store, _ = view_tables(services, People)
    found: list[tuple[str, str]] = []
    for username, _email, enabled, roles, districts, _importers in queries.people(store):
        held = set(str(roles).split()) & ASSIGNEE_ROLES
        where = frozenset(str(districts).split())
        if enabled and held and (not where or district in where):
            scope = f"district {district}" if where else "national"
            found.append((f"user:{username}",
                          f"{username} ({'/'.join(sorted(held))}, {scope})"))
    return sorted(found, key=lambda choice: choice[0])


def scope_label(caller: Principal) -> str:
    allowed, importers = caller.list_scope()
    if importers is not None:
        return "your importers"
    if allowed is None:
        return "national"
    return "district " + ", ".join(sorted(allowed))


def as_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of cases (or of due items: `case_number`) with the page each opens and the
    officer named as people read it."""
    for row in rows:
        row["href"] = case_href(row["kind"], row.get("number") or row["case_number"])
        row["officer_name"] = person(row.get("officer"))
    return rows
