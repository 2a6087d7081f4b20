"""/accounts and /accounts/{importer_number}: the account register (filtered by district,
tier, state and name, a page at a time) and one importer's page — its facts, tier,
partnerships and compliance class, its risk score with every factor, its trade and what
its assessments found, all its cases, and its timeline.

The account is loaded by the application as the caller (outside its scope: the 404 page,
as for one that does not exist); the lists come from the views (the account register, the
work list, the audit log, the compliance statistics) and the risk results table, as the
API's reads do. An importer's representative sees its own importers only, and of them
only what it may read elsewhere too: who the importer is and its plans, enforcement
actions and verifications — not customs' internal tier, class or risk assessment."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from application.access import Principal, acting_as
from application.account_page_queries import (
    ACCOUNT_STATES,
    RegisterFilter,
    cases_of,
    checked_filter,
    findings_of,
    register_page,
    trade_by_year,
)
from application.audit_page_queries import timeline_of
from application.errors import NotFoundError
from application.queries import importer_summary
from domain.errors import InvalidValueError
from domain.reference import DISTRICTS
from domain.values import parse_importer_number
from interfaces.http.analysis_services import analysis
from interfaces.http.auth import services_of
from interfaces.http.case_lists import caught_up
from interfaces.http.params import Caller
from interfaces.http.worklist import current
from interfaces.web.case_registry import case_url
from interfaces.web.rendering import page
from projections.views.account_register import AccountRegister
from projections.views.audit_log import AuditLog
from projections.views.statistics import ComplianceStatistics
from projections.views.worklist import WorkList

AnyRequest = Request[Any, Any, Any]
READ = "read:accounts"
PAGE_SIZE = 50
TIMELINE = 15
KIND_READ = {"assessment": "read:assessments", "improvement_plan": "read:plans",
             "enforcement_action": "read:enforcement",
             "follow_up_verification": "read:verifications"}
"""Which read shows a case of each kind (the same the case's own page requires)."""


def may_open(caller: Principal) -> bool:
    """Staff who read accounts, and a representative (its own importers only)."""
    return caller.may(READ) or caller.importers is not None


def _require(caller: Principal) -> None:
    if not may_open(caller):
        caller.require(READ)  # the 403 page, naming the roles that may


def _district_choices(caller: Principal) -> list[tuple[str, str]]:
    return [(code, f"{code} · {name}") for code, name in DISTRICTS.items()
            if caller.districts is None or code in caller.districts]


@get("/accounts", sync_to_thread=True, include_in_schema=False)
def account_register(request: AnyRequest, caller: Caller,
                     district: FromQuery[str | None] = None,
                     tier: FromQuery[str | None] = None,
                     in_state: Annotated[str | None, QueryParameter(name="state")] = None,
                     name: FromQuery[str | None] = None,
                     cursor: FromQuery[str | None] = None) -> Template:
    _require(caller)
    sent = {"district": district or "", "tier": tier or "", "state": in_state or "",
            "name": name or ""}
    errors: dict[str, str] = {}
    wanted = RegisterFilter()
    try:
        wanted = checked_filter(district, tier, in_state, name)
    except InvalidValueError as bad:
        errors[bad.field] = bad.reason
    rows: list[dict[str, Any]] = []
    next_cursor = None
    behind = 0
    if not errors:
        services = services_of(request)
        behind = caught_up(services, AccountRegister)
        districts, importers = caller.list_scope()
        try:
            found = register_page(services.projections.store, districts=districts,
                                  importers=importers, wanted=wanted, limit=PAGE_SIZE,
                                  cursor=cursor)
        except InvalidValueError as bad:
            errors[bad.field] = bad.reason
        else:
            rows, next_cursor = found.rows, found.next_cursor
    return page(request, caller, "accounts.html", status_code=422 if errors else 200,
                rows=rows, next_cursor=next_cursor, cursor=cursor, sent=sent, errors=errors,
                params={k: v for k, v in sent.items() if v}, behind=behind,
                districts=_district_choices(caller), states=ACCOUNT_STATES,
                staff=caller.may(READ))


def _risk(request: AnyRequest, caller: Principal, number: str) -> dict[str, Any] | None:
    if not caller.may("read:risk"):
        return None
    return analysis(request).risk_tables.score_of(number)


def _cases(store: Any, caller: Principal, filed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    readable = [c["number"] for c in filed if caller.may(KIND_READ.get(c["kind"], READ))]
    rows = [row for row in cases_of(store, readable)
            if caller.sees(row["district"], row["importer_number"])]
    for row in rows:
        row["url"] = case_url(row["number"])
    return rows


@get("/accounts/{importer_number:str}", sync_to_thread=True, include_in_schema=False)
def account_page(request: AnyRequest, caller: Caller, importer_number: FromPath[str]
                 ) -> Template:
    _require(caller)
    try:
        number = parse_importer_number(importer_number)
    except InvalidValueError:
        raise NotFoundError("importer", importer_number[:40]) from None
    services = services_of(request)
    app = services.app
    with acting_as(caller), app.reading():
        importer = app.get_importer(number)  # outside the caller's scope: NotFoundError
        account = importer_summary(importer)
        partnerships = dict(importer.partnerships)
        account["registered_on"] = importer.registered_on
        account["annual_value"] = importer.annual_value
        filed = [{"kind": ref.kind, "number": ref.number} for ref in app.get_case_file(number)]
    staff = caller.may(READ)
    store = current(services, [WorkList, AuditLog, ComplianceStatistics]).projections.store
    cases = _cases(store, caller, filed)
    context: dict[str, Any] = {
        "account": account, "number": number, "staff": staff, "cases": cases,
        "partnerships": sorted(partnerships.items()),
        "may_history": caller.may("read:history"), "risk": None, "trade": [],
        "findings": [], "timeline": []}
    if staff:
        context.update(
            risk=_risk(request, caller, number), trade=trade_by_year(store, number),
            findings=findings_of(store, [c["number"] for c in cases]))
    if caller.may("read:history"):
        context["timeline"] = timeline_of(store, [number, *[c["number"] for c in cases]],
                                          TIMELINE)
    return page(request, caller, "account.html", **context)


ROUTES = [account_register, account_page]
