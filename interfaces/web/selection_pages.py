"""/selections: a selection plan — the next assessments within a capacity, by risk with
a random share — previewed (every pick with why it was picked, nothing recorded), then
committed with a reason: the plan is recorded and each pick's assessment opened, as
POST /api/selections with open_assessments does. A district analyst plans within its
districts (the scores are the caller's, interfaces.http.analysis_services.ScopedScores);
a national one may narrow the plan to one district.

The preview is a GET (the parameters in the URL, shareable); htmx swaps it into the page,
and without script it is the same page."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from application.access import Principal, acting_as
from application.selection_preview import PlanRequest, commit, preview, recorded_plan
from application.targeting.selection import PlanResult
from domain.errors import InvalidValueError
from domain.values import parse_district, parse_period, parse_reason
from interfaces.http.analysis_services import analysis
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.web.rendering import is_htmx, page
from interfaces.web.risk_pages import district_choices

PERMISSION = "selection_plan"
log = logging.getLogger("compliance.web")
FIELDS = ("period_start", "period_end", "capacity", "random_share", "district",
          "exclude_months", "seed", "reason")


@dataclass
class PlanForm:
    """The plan's parameters as typed (kept when refused) and the refusals by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str = ""

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def refuse(self, name: str, reason: str) -> None:
        target = {"period": "period_end"}.get(name, name)
        if target in FIELDS:
            self.errors.setdefault(target, reason)
        else:
            self.refusal = f"{name}: {reason}"

    def parsed(self, caller: Principal) -> PlanRequest | None:
        """The request, or None with every bad field refused."""
        chosen: dict[str, Any] = {}
        for name, parse in (("capacity", _count(1, 100_000)), ("exclude_months", _count(0, 600)),
                            ("seed", _count(0, 2**63 - 1)), ("random_share", _percent)):
            try:
                chosen[name] = parse(name, self.get(name))
            except InvalidValueError as bad:
                self.refuse(name, bad.reason)
        try:
            chosen["period"] = parse_period(self.get("period_start"), self.get("period_end"))
        except InvalidValueError as bad:
            self.refuse(bad.field, bad.reason)
        district = self.get("district").strip()
        chosen["district"] = None
        if district:
            try:
                chosen["district"] = parse_district(district)
                if not caller.sees_district(chosen["district"]):
                    self.refuse("district", "outside your districts")
            except InvalidValueError as bad:
                self.refuse("district", bad.reason)
        return None if self.errors else PlanRequest(**chosen)


def _count(low: int, high: int) -> Any:
    def parse(name: str, text: str) -> int:
        value = text.strip()
        if not (value.isdigit() and low <= int(value) <= high):
            raise InvalidValueError(name, text, f"expected a whole number {low}-{high:,}")
        return int(value)
    return parse


def _percent(name: str, text: str) -> float:
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        value = -1.0
    if not 0 <= value <= 100:
        raise InvalidValueError(name, text, "expected a percentage 0-100, e.g. 10")
    return value / 100


def defaults(today: date, exclude_months: int) -> dict[str, str]:
    """The last full quarter (assessments look back on a period that has ended)."""
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = quarter_start - timedelta(days=1)
    start = date(end.year, end.month - 2, 1)
    return {"period_start": start.isoformat(), "period_end": end.isoformat(),
            "capacity": "20", "random_share": "10", "district": "",
            "exclude_months": str(exclude_months), "seed": "0", "reason": ""}


def _show(request: Request[Any, Any, Any], caller: Principal, form: PlanForm,
          result: PlanResult | None, status_code: int = 200) -> Template:
    if status_code >= 400 and is_htmx(request):
        status_code = 200  # htmx swaps only a success: the refusals are in the page
    return page(request, caller, "selection.html", status_code=status_code, form=form,
                result=result, districts=district_choices(caller),
                national=caller.districts is None,
                params={k: v for k, v in form.values.items() if k != "reason"})


@get("/selections", sync_to_thread=True, include_in_schema=False)
def selection_page(request: Request[Any, Any, Any], caller: Caller,
                   period_start: FromQuery[str | None] = None,
                   period_end: FromQuery[str | None] = None,
                   capacity: FromQuery[str | None] = None,
                   random_share: FromQuery[str | None] = None,
                   district: FromQuery[str | None] = None,
                   exclude_months: FromQuery[str | None] = None,
                   seed: FromQuery[str | None] = None) -> Template:
    caller.require(PERMISSION)
    services = services_of(request)
    values = defaults(services.app.clock().date(), services.settings.selection_exclude_months)
    sent = {"period_start": period_start, "period_end": period_end, "capacity": capacity,
            "random_share": random_share, "district": district,
            "exclude_months": exclude_months, "seed": seed}
    values.update({k: v for k, v in sent.items() if v is not None})
    form = PlanForm(values)
    if request.query_params.get("preview") is None:
        return _show(request, caller, form, None)
    wanted = form.parsed(caller)
    if wanted is None:
        return _show(request, caller, form, None, 422)
    try:
        with acting_as(caller):
            result = preview(analysis(request).selection, wanted, caller.actor)
    except InvalidValueError as bad:
        form.refuse(bad.field, bad.reason)
        return _show(request, caller, form, None, 422)
    return _show(request, caller, form, result)


@post("/selections", sync_to_thread=True, include_in_schema=False, status_code=303)
def selection_commit(request: Request[Any, Any, Any], caller: Caller,
                     data: Annotated[dict[str, str], Body(
                         media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
    """Record the plan and open each pick's assessment; the caller's reason is checked
    and logged with the plan's id (the plan records its own), as the API does."""
    caller.require(PERMISSION)
    form = PlanForm({name: str(data.get(name, "")) for name in FIELDS})
    wanted = form.parsed(caller)
    try:
        parse_reason(form.get("reason"))
    except InvalidValueError as bad:
        form.refuse("reason", bad.reason)
    if wanted is not None and not form.errors:
        try:
            with acting_as(caller):
                result = commit(analysis(request).selection, wanted, caller.actor)
        except InvalidValueError as bad:
            form.refuse(bad.field, bad.reason)
        else:
            log.info("selection plan %s by %s: %s", result.plan_id, caller.actor,
                     form.get("reason"))
            return Redirect(f"/selections/plans/{result.plan_id}", status_code=303)
    shown = None
    if wanted is not None:
        with acting_as(caller):
            shown = preview(analysis(request).selection, wanted, caller.actor)
    return _show(request, caller, form, shown, 422)


@get("/selections/plans/{plan_id:str}", sync_to_thread=True, include_in_schema=False)
def selection_plan(request: Request[Any, Any, Any], caller: Caller,
                   plan_id: FromPath[str]) -> Template:
    caller.require(PERMISSION)
    app = services_of(request).app
    with acting_as(caller), app.reading():
        plan = recorded_plan(app, caller, plan_id)
    return page(request, caller, "selection_plan.html", plan=plan)


ROUTES = [selection_page, selection_commit, selection_plan]
