"""What the plan and the annual report share: the Jinja environment over this package's
templates (autoescaped, so an importer's name or a rule's reason cannot inject markup), the
number formats every table uses, and the Wilson interval row shape. Formats live here, not
in the templates, so a figure reads the same in both reports and in a test's assertion."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from application.reports.document import GENERATOR_VERSION
from domain.reference import district_name
from domain.statistics import wilson_interval

TEMPLATES = Path(__file__).parent / "templates"


def money(cents: int | float | None) -> str:
    """Whole currency units with thousands separators: 1,234,567."""
    return f"{(cents or 0) / 100:,.0f}"


def amount(value: float | None) -> str:
    return f"{value or 0:,.0f}"


def pct(value: float | None, places: int = 1) -> str:
    return "\u2013" if value is None else f"{value * 100:.{places}f}%"


def count(value: int | float | None) -> str:
    return f"{int(value or 0):,}"


def interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "\u2013"
    return f"{low * 100:.1f}\u2013{high * 100:.1f}%"


def compliance_row(key: str, lines: int, discrepancies: int, **extra: Any) -> dict[str, Any]:
    """Observed compliance (1 - discrepancies / lines) with its 95% Wilson interval; no
    rate and no interval over no lines."""
    if not lines:
        return {"key": key, "lines": 0, "discrepancies": 0, "rate": None, "low": None,
                "high": None, **extra}
    estimate = wilson_interval(lines - discrepancies, lines)
    return {"key": key, "lines": lines, "discrepancies": discrepancies,
            "rate": (lines - discrepancies) / lines, "low": estimate.lower,
            "high": estimate.upper, **extra}


def district_label(code: str) -> str:
    try:
        return f"{code} {district_name(code)}"
    except (KeyError, ValueError):
        return code


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, amount=amount, pct=pct, count=count,
                       district_label=district_label)
    env.globals.update(interval=interval, generator_version=GENERATOR_VERSION)
    return env


def render(template: str, *, title: str, position: int, as_of: datetime,
           **context: Any) -> str:
    stylesheet = (TEMPLATES / "periodic.css").read_text(encoding="utf-8")
    return environment().get_template(template).render(
        title=title, position=position, as_of=as_of.isoformat(timespec="seconds"),
        stylesheet=stylesheet, **context)
