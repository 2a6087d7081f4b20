"""/rules: the targeting rules (state, version, channel, districts, whether in force),
the form that drafts one, and for a rule's page (built generically by case_pages, which
includes templates/case_facts/rules.html) its version history and its backtest, as a
fragment the facts load with htmx and as a chart.

A draft goes through the API's own command (interfaces.http.rules, `execute`), so the
page refuses exactly what the API refuses, each bad field or condition named as the
domain names it (conditions.origin, effective_to, ...), and records nothing then."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template

from application.access import Principal, acting_as
from application.rule_versions import rule_history
from domain.errors import DomainError, InvalidValueError
from domain.reference import DISTRICTS
from domain.targeting_rule import RuleState
from interfaces.http import rules
from interfaces.http.analysis_services import analysis
from interfaces.http.auth import services_of
from interfaces.http.commands import execute
from interfaces.http.params import Caller, CaseNumber
from interfaces.http.problems import InvalidRequestError
from interfaces.web.rendering import page
from interfaces.web.rule_backtest import BACKTESTS

DRAFT = rules.SPECS[0]
FIELDS = ("name", "conditions", "channel", "effective_from", "effective_to", "districts",
          "reason")
EXAMPLE = '{\n  "hs_prefix": ["6403", "6404"],\n  "origin": "VN",\n  "min_value": "10000.00"\n}'
CONDITIONS_HELP = (
    "A JSON object; every condition given must hold, a list means any of its values. "
    "Conditions: hs_prefix (2-10 digits), origin (ISO country code), tier (1-4), "
    "compliance_class (aa, a, b, c, d), risk_category (low, moderate, elevated, high), "
    "min_risk_score and min_value (amounts, e.g. \"10000.00\").")
STATES = [(state.value, state.value) for state in RuleState]


@dataclass
class DraftForm:
    """What the user typed (kept when refused) and the refusals by field."""

    name: str = ""
    conditions: str = ""
    channel: str = "amber"
    effective_from: str = ""
    effective_to: str = ""
    districts: list[str] = field(default_factory=list)
    reason: str = ""
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str = ""

    @classmethod
    def sent(cls, form: FormMultiDict) -> DraftForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value if isinstance(value, str) else ""
        return cls(name=text("name"), conditions=text("conditions"), channel=text("channel"),
                   effective_from=text("effective_from"), effective_to=text("effective_to"),
                   districts=[d for d in form.getall("districts", []) if isinstance(d, str)],
                   reason=text("reason"),
                   idempotency_key=text("idempotency_key") or uuid.uuid4().hex)

    def refuse(self, name: str, reason: str) -> None:
        """A refusal beside its field: a condition's beside the conditions, named."""
        if name.startswith("conditions"):
            message = reason if name == "conditions" else f"{name}: {reason}"
            previous = self.errors.get("conditions")
            self.errors["conditions"] = f"{previous}; {message}" if previous else message
        elif name in FIELDS:
            self.errors.setdefault(name, reason)
        else:
            self.refusal = f"{name}: {reason}"


def rule_row(rule: Any, today: date) -> dict[str, Any]:
    document = rules.rule_document(rule)
    in_force = rule.in_force
    document["in_force_now"] = bool(in_force is not None and in_force.in_force_on(today))
    return document


@get("/rules", sync_to_thread=True, include_in_schema=False)
def rule_list(request: Request[Any, Any, Any], caller: Caller) -> Template:
    """Newest first; `?state=` narrows the list (read from the query: litestar reserves
    the parameter name `state`)."""
    caller.require(rules.READ)
    state = request.query_params.get("state")
    app = services_of(request).app
    today = app.clock().date()
    with acting_as(caller), app.reading():
        found = [rule_row(rule, today) for rule in app.rules()]
    chosen = state if state in {s.value for s in RuleState} else None
    shown = [row for row in found if chosen is None or row["state"] == chosen]
    return page(request, caller, "rules.html", rules=list(reversed(shown)), state=chosen,
                states=STATES, total=len(found), may_draft=caller.may(DRAFT.permission))


def _draft_page(request: Request[Any, Any, Any], caller: Principal, form: DraftForm,
                status_code: int = 200) -> Template:
    return page(request, caller, "rule_new.html", status_code=status_code, form=form,
                districts=[(code, f"{code} · {name}") for code, name in DISTRICTS.items()],
                conditions_help=CONDITIONS_HELP, example=EXAMPLE)


@get("/rules/new", sync_to_thread=True, include_in_schema=False)
def rule_new(request: Request[Any, Any, Any], caller: Caller) -> Template:
    caller.require(DRAFT.permission)
    today = services_of(request).app.clock().date()
    return _draft_page(request, caller, DraftForm(effective_from=today.isoformat()))


def _conditions(form: DraftForm) -> dict[str, Any] | None:
    try:
        raw = json.loads(form.conditions) if form.conditions.strip() else None
    except json.JSONDecodeError as bad:
        form.refuse("conditions", f"not valid JSON ({bad.msg} at line {bad.lineno}, column "
                                  f"{bad.colno}); see the example")
        return None
    if not isinstance(raw, dict) or not raw:
        form.refuse("conditions", "expected a JSON object with at least one condition, "
                                  "as in the example")
        return None
    return raw


def _draft(request: Request[Any, Any, Any], caller: Principal,
           sent: FormMultiDict) -> Response[Any]:
    caller.require(DRAFT.permission)
    form = DraftForm.sent(sent)
    conditions = _conditions(form)
    if conditions is not None:
        body = rules.RuleBody(name=form.name, conditions=conditions, channel=form.channel,
                              effective_from=form.effective_from, reason=form.reason,
                              districts=form.districts, effective_to=form.effective_to or None)
        try:
            result = execute(DRAFT, rules.load, services_of(request).app, caller, body, "",
                             None, form.idempotency_key, lambda number, _: str(number))
        except InvalidRequestError as bad:
            for param in bad.params:
                form.refuse(param.name, param.reason)
        except InvalidValueError as bad:
            form.refuse(bad.field, bad.reason)
        except DomainError as refused:
            form.refusal = str(refused)
        else:
            return Redirect(f"/rules/{result.number}", status_code=303)
    return _draft_page(request, caller, form, 422)


@post("/rules", include_in_schema=False, status_code=303)
async def rule_draft(request: Request[Any, Any, Any], caller: Caller) -> Response[Any]:
    caller.require(DRAFT.permission)  # refused before the form is read
    sent = await request.form()
    return await anyio.to_thread.run_sync(partial(_draft, request, caller, sent))


@get("/rules/{number:str}/analysis", sync_to_thread=True, include_in_schema=False)
def rule_analysis(request: Request[Any, Any, Any], caller: Caller,
                  number: CaseNumber) -> Template:
    """The version history and the backtest (numbers beside the chart): the fragment the
    rule's facts load, or a page of its own."""
    caller.require(rules.READ)
    app = services_of(request).app
    with acting_as(caller):
        history = rule_history(app, number)
        backtest = BACKTESTS.view(app, analysis(request).effectiveness, number)
    return page(request, caller, "rule_analysis.html", history=history, backtest=backtest)


@get("/rules/{number:str}/backtest.svg", sync_to_thread=True, include_in_schema=False)
def rule_backtest_chart(request: Request[Any, Any, Any], caller: Caller,
                        number: CaseNumber) -> Response[str]:
    caller.require(rules.READ)
    app = services_of(request).app
    with acting_as(caller):
        svg = BACKTESTS.chart(app, analysis(request).effectiveness, number)
    return Response(svg, media_type="image/svg+xml", headers={
        "Cache-Control": "private, no-cache", "Content-Security-Policy":
            "default-src 'none'; style-src 'unsafe-inline'"})


ROUTES = [rule_list, rule_new, rule_draft, rule_analysis, rule_backtest_chart]
