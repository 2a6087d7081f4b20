"""Value objects shared by the aggregates, each validating itself on parse."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from domain.errors import InvalidValueError
from domain.reference import DISTRICTS, INDUSTRIES

_ACTOR = re.compile(r"^(user|system):[A-Za-z0-9._@-]{1,64}$")
_IMPORTER_NUMBER = re.compile(r"^\d{2}-\d{7}[0-9A-Z]{2}$")
_CENT = Decimal("0.01")

E = TypeVar("E", bound=Enum)


def parse_actor(value: str, field: str = "actor") -> str:
    """Actors are `user:<id>` for people and `system:<job>` for automation."""
    if not isinstance(value, str) or not _ACTOR.match(value):
        raise InvalidValueError(field, value, "expected 'user:<id>' or 'system:<job>'")
    return value


def parse_reason(value: str, field: str = "reason") -> str:
    """Every decision must say why; blank reasons are refused."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field, value, "a non-empty reason is required")
    if len(value) > 2000:
        raise InvalidValueError(field, value[:40] + "...", "reason is longer than 2000 characters")
    return value.strip()


def parse_importer_number(value: str, field: str = "importer_number") -> str:
    """Importer of record numbers look like `12-3456789AB` (IRS style)."""
    normalised = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(normalised, str) or not _IMPORTER_NUMBER.match(normalised):
        raise InvalidValueError(field, value, "expected NN-NNNNNNNXX, e.g. 12-3456789AB")
    return normalised


def parse_district(value: str, field: str = "district") -> str:
    code = value.strip() if isinstance(value, str) else value
    if isinstance(code, str) and code.isdigit() and len(code) == 1:
        code = "0" + code
    if code not in DISTRICTS:
        raise InvalidValueError(field, value, "not one of the 42 district codes 01-42")
    return str(code)


def parse_industry(value: str, field: str = "industry") -> str:
    code = value.strip() if isinstance(value, str) else value
    if isinstance(code, str) and code.isdigit() and len(code) == 1:
        code = "0" + code
    if code not in INDUSTRIES:
        raise InvalidValueError(field, value, "not an HS chapter 01-97")
    return str(code)


def parse_name(value: str, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(field, value, "must not be empty")
    if len(value) > 200:
        raise InvalidValueError(field, value[:40] + "...", "longer than 200 characters")
    return " ".join(value.split())


def parse_money(value: Decimal | str | int, field: str) -> Decimal:
    """Money is a non-negative decimal with 2 places in the one currency."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidValueError(field, value, "not a decimal amount") from None
    if not amount.is_finite():
        raise InvalidValueError(field, value, "not a finite amount")
    if amount < 0:
        raise InvalidValueError(field, value, "must not be negative")
    try:
        cents = amount.quantize(_CENT)
    except InvalidOperation:
        # Too many digits to hold to the cent (e.g. '1e30'): refuse it like any bad amount.
        raise InvalidValueError(field, value, "too large an amount") from None
    if amount != cents:
        raise InvalidValueError(field, value, "more than 2 decimal places")
    return cents


def parse_count(value: int | str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidValueError(field, value, "not a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidValueError(field, value, "not a whole number") from None
    if number < 0:
        raise InvalidValueError(field, value, "must not be negative")
    return number


def parse_date(value: date | str, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidValueError(field, value, "not an ISO date YYYY-MM-DD") from None


def parse_enum(enum_type: type[E], value: E | str, field: str) -> E:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_type)
        raise InvalidValueError(field, value, f"expected one of: {allowed}") from None


@dataclass(frozen=True)
class Period:
    """A closed date range, e.g. the period under review of an assessment."""

    start: date
    end: date

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def parse_period(start: date | str, end: date | str) -> Period:
    first = parse_date(start, "period_start")
    last = parse_date(end, "period_end")
    if last < first:
        raise InvalidValueError("period_end", last.isoformat(), "ends before period_start")
    return Period(first, last)
