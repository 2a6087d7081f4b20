"""/risk: the analysts' risk ranking. Filters (district within the caller's scope, tier,
industry, least score) are in the URL, so a view can be shared; pages follow a keyset
cursor; each row links to its account and opens the explanation of its score (every
factor) in place with htmx, or as a page of its own without script. An analyst may also
run the risk scoring from here, with a reason, as POST /api/risk/runs does.

The ranking is application.risk_ranking's (the results table of the last run, scoped
to the caller); tiers and the latest run are the API's own reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from application.access import Principal, acting_as
from application.errors import NotFoundError
from application.risk_ranking import RankingFilter, RiskRanking
from domain.errors import InvalidValueError
from domain.reference import DISTRICTS, INDUSTRIES
from domain.values import parse_district, parse_industry, parse_reason
from interfaces.http.analysis_services import analysis
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.risk import READ
from interfaces.web.rendering import page

log = logging.getLogger("compliance.web")
RUN = "risk_run"
PAGE_SIZE = 50


@dataclass
class Filters:
    """The filters as typed (kept in the form) and as parsed (None when absent)."""

    sent: dict[str, str]
    wanted: RankingFilter = field(default_factory=RankingFilter)
    errors: dict[str, str] = field(default_factory=dict)


def parse_filters(district: str | None, tier: str | None, industry: str | None,
                  min_score: str | None) -> Filters:
    sent = {"district": district or "", "tier": tier or "", "industry": industry or "",
            "min_score": min_score or ""}
    errors: dict[str, str] = {}
    chosen: dict[str, Any] = {}
    parsers: dict[str, Callable[[str], Any]] = {
        "district": parse_district, "industry": parse_industry, "tier": _tier,
        "min_score": _score}
    for name, parse in parsers.items():
        text = sent[name].strip()
        if not text:
            continue
        try:
            chosen[name] = parse(text)
        except InvalidValueError as bad:
            errors[name] = bad.reason
    return Filters(sent, RankingFilter(**chosen), errors)


def _tier(text: str) -> int:
    if text not in ("1", "2", "3", "4"):
        raise InvalidValueError("tier", text, "expected a tier 1-4")
    return int(text)


def _score(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e18:
        raise InvalidValueError("min_score", text, "expected a score of 0 or more, "
                                "e.g. 250000")
    return value


def district_choices(caller: Principal) -> list[tuple[str, str]]:
    """The districts a caller may filter by: its own, or all 42 for a national one."""
    return [(code, f"{code} · {name}") for code, name in DISTRICTS.items()
            if caller.districts is None or code in caller.districts]


INDUSTRY_CHOICES = [(code, f"{code} · {name}") for code, name in INDUSTRIES.items()]
TIER_CHOICES = [(str(tier), f"Tier {tier}") for tier in (1, 2, 3, 4)]


def _ranking(request: Request[Any, Any, Any]) -> RiskRanking:
    return RiskRanking(analysis(request).risk_tables.tables)


@dataclass
class RunForm:
    year: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _risk_page(request: Request[Any, Any, Any], caller: Principal, filters: Filters,
               cursor: str | None, run_form: RunForm, ran: str | None = None,
               status_code: int = 200) -> Template:
    tables = analysis(request).risk_tables
    rows: list[dict[str, Any]] = []
    next_cursor = None
    outside = False
    if not filters.errors:
        try:
            with acting_as(caller):
                found = _ranking(request).page(caller, filters.wanted, cursor, PAGE_SIZE)
        except InvalidValueError as bad:
            filters.errors[bad.field] = bad.reason
        else:
            rows, next_cursor, outside = found.rows, found.next_cursor, found.outside_scope
    if filters.errors and status_code < 400:
        status_code = 422
    tiers = tables.tiers()
    total_value = sum(float(t["value"] or 0) for t in tiers) or 1.0
    return page(request, caller, "risk.html", status_code=status_code,
                filters=filters, rows=rows, next_cursor=next_cursor, cursor=cursor,
                outside_scope=outside, districts=district_choices(caller),
                industries=INDUSTRY_CHOICES,
                tier_choices=TIER_CHOICES, latest=tables.latest_run(),
                tiers=[{**t, "share": float(t["value"] or 0) / total_value} for t in tiers],
                run_form=run_form, may_run=caller.may(RUN), ran=ran,
                params={k: v for k, v in filters.sent.items() if v})


@get("/risk", sync_to_thread=True, include_in_schema=False)
def risk_ranking(request: Request[Any, Any, Any], caller: Caller,
                 district: FromQuery[str | None] = None, tier: FromQuery[str | None] = None,
                 industry: FromQuery[str | None] = None,
                 min_score: FromQuery[str | None] = None,
                 cursor: FromQuery[str | None] = None,
                 ran: FromQuery[str | None] = None) -> Template:
    caller.require(READ)
    filters = parse_filters(district, tier, industry, min_score)
    year = str(services_of(request).app.clock().year)
    return _risk_page(request, caller, filters, cursor, RunForm(year=year), ran)


@get("/risk/{importer_number:str}", sync_to_thread=True, include_in_schema=False)
def risk_explanation(request: Request[Any, Any, Any], caller: Caller,
                     importer_number: FromPath[str]) -> Template:
    """One score with every factor: the fragment a ranking row expands into, or a page."""
    caller.require(READ)
    with acting_as(caller):
        row = _ranking(request).explained(caller, importer_number)
    if row is None:
        raise NotFoundError("risk score of importer", importer_number)  # out of scope too
    return page(request, caller, "risk_explanation.html", row=row)


@post("/risk/runs", sync_to_thread=True, include_in_schema=False, status_code=303)
def risk_run(request: Request[Any, Any, Any], caller: Caller,
             data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
             ) -> Response[Any]:
    """Tier, rate and score every importer, as POST /api/risk/runs: the caller's reason
    is checked and logged with the run's id (the run records its own)."""
    caller.require(RUN)
    form = RunForm(year=str(data.get("year", "")).strip(), reason=str(data.get("reason", "")))
    year = 0
    try:
        parse_reason(form.reason)
    except InvalidValueError as bad:
        form.errors["reason"] = bad.reason
    if form.year.isdigit() and 1990 <= int(form.year) <= 2100:
        year = int(form.year)
    else:
        form.errors["year"] = "expected a year 1990-2100"
    if not form.errors:
        try:
            with acting_as(caller):
                summary = analysis(request).risk_run.assess(year, actor=caller.actor)
        except InvalidValueError as bad:
            form.errors[bad.field if bad.field in ("year", "reason") else "year"] = bad.reason
        else:
            log.info("risk run %s by %s: %s", summary.run_id, caller.actor, form.reason)
            return Redirect(f"/risk?ran={summary.run_id}", status_code=303)
    return _risk_page(request, caller, parse_filters(None, None, None, None), None, form,
                      status_code=422)


ROUTES = [risk_ranking, risk_explanation, risk_run]
