"""Rendering a page: one Jinja environment (autoescaping on, undefined names an error,
not an empty string), the layout's shared context (who is logged in, what the navigation
offers that caller, the CSRF token) and the headers every page with case data carries.

Handlers return `page(request, caller, "x.html", **context)`; a request from htmx
(HX-Request) gets the same template, which extends `base.html` only for a full page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from application.access import Principal
from interfaces.web.security import CSRF_FIELD, csrf_token_of

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
HTMX_ASSET = "vendor/htmx-2.0.11.min.js"


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permission: str | None
    """Shown to a caller who may do this (None: to everyone logged in)."""


NAVIGATION = (
    NavItem("Dashboard", "/", None),
    NavItem("Work list", "/worklist", "read:worklist"),
    NavItem("Accounts", "/accounts", "read:accounts"),
    NavItem("Risk", "/risk", "read:risk"),
    NavItem("Rules", "/rules", "read:rules"),
    NavItem("Selection", "/selections", "selection_plan"),
    NavItem("Imports", "/imports", "import_file"),
    NavItem("Audit", "/audit", "read:audit"),
    NavItem("Reports", "/reports", "read:reports"),
    NavItem("Users", "/users", "read:users"),
)


def _money(value: Any) -> str:
    """Amounts as the customs administration writes them: 1,234,567.89."""
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(str(value)):,.2f}"
    except ArithmeticError:
        return str(value)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if value in (None, ""):
        return "—"
    text = str(value)
    return text.replace("T", " ")[:16] + (" UTC" if "T" in text else "")


def _shown(value: Any) -> Any:
    """A field's value as a reader sees it: an unset field is a dash, never Python's None."""
    return "—" if value is None else value


def _query(request_params: dict[str, Any] | None = None, **changes: Any) -> str:
    """A URL query from the current filters with some changed (None removes one): the
    filters and sorting stay in the URL, so a view can be shared."""
    merged = {**(request_params or {}), **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")}, doseq=True)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        enabled_extensions=("html", "svg"), default=True), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["money"] = _money
    env.filters["when"] = _when
    env.filters["shown"] = _shown
    env.globals["query"] = _query
    env.globals["htmx_asset"] = "/static/" + HTMX_ASSET
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(_environment()))


def navigation_for(caller: Principal | None) -> list[NavItem]:
    if caller is None:
        return []
    return [item for item in NAVIGATION if item.permission is None or caller.may(item.permission)]


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def page(request: Request[Any, Any, Any], caller: Principal | None, template: str,
         status_code: int = 200, **context: Any) -> Template:
    """A page (or, for htmx, the fragment the same template renders)."""
    shared = {
        "caller": caller,
        "navigation": navigation_for(caller),
        "path": request.url.path,
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token_of(request),
        "partial": is_htmx(request) and request.headers.get("hx-boosted") != "true",
    }
    return Template(template_name=template, context={**shared, **context},
                    status_code=status_code,
                    headers={"Cache-Control": "no-store", "Vary": "HX-Request, Cookie"})
