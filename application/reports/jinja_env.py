"""The Jinja environment the report templates (application/reports/templates, package
data) render in. Autoescaping is on for every template, whatever its name: every string a
report prints came from someone (a reason, a description, a legal name) and is hostile
until escaped. Undefined names fail the render instead of printing nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from application.reports.document import GENERATOR_VERSION
from application.reports.timeline import plain, when


def money(value: Decimal | None) -> str:
    """An amount with thousands separators and two decimals; "—" for none."""
    return "—" if value is None else f"{value:,.2f}"


def percent(value: Decimal | float | None, places: int = 2) -> str:
    """A 0..1 rate as a percentage, e.g. 0.9512 -> 95.12%."""
    return "—" if value is None else f"{Decimal(str(value)) * 100:.{places}f}%"


def day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return when(value) if isinstance(value, datetime) else value.isoformat()


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("application.reports", "templates"),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(money=money, percent=percent, day=day, plain=plain)
    env.globals["generator_version"] = GENERATOR_VERSION
    return env
