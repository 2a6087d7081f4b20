"""The parameters of the periodic reports, checked before any figure is read: a period
(`2026`, `2026-Q1` or `2026-03`), a year, a district. Refusals name the field, so the
command line and the API can say which option is wrong. The ledger's date is passed in
(the clock is read by the caller), so a future period is judged against the ledger, not
the machine running the report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from domain.errors import InvalidValueError
from domain.values import parse_district

FIRST_YEAR = 1990
"""The earliest year the source decks report on; nothing before it is loaded."""

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq](\d+)$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_EXPECTED = "expected a year (2026), a quarter (2026-Q1) or a month (2026-03)"


@dataclass(frozen=True)
class ReportPeriod:
    label: str
    """As printed: `2026`, `2026-Q1`, `2026-03`."""
    start: date
    end: date
    """Inclusive."""

    @property
    def year(self) -> int:
        return self.start.year

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlaps(self, start: date, end: date | None) -> bool:
        return start <= self.end and (end is None or end >= self.start)


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def _checked_year(text: str, value: int, today: date, field: str) -> int:
    if value < FIRST_YEAR:
        raise InvalidValueError(field, text, f"before {FIRST_YEAR}: no trade data that old")
    if value > today.year:
        raise InvalidValueError(field, text,
                                f"in the future (the ledger's date is {today.isoformat()})")
    return value


def parse_period(text: str, today: date, field: str = "period") -> ReportPeriod:
    """A year, quarter or month that has begun by `today` (the current one is allowed:
    the plan for the quarter under way is the usual one)."""
    raw = (text or "").strip()
    if found := _YEAR.match(raw):
        year = _checked_year(raw, int(found.group(1)), today, field)
        return ReportPeriod(f"{year:04d}", date(year, 1, 1), date(year, 12, 31))
    if found := _QUARTER.match(raw):
        quarter = int(found.group(2))
        if not 1 <= quarter <= 4:
            raise InvalidValueError(field, text, "a quarter is Q1 to Q4")
        year = _checked_year(raw, int(found.group(1)), today, field)
        period = ReportPeriod(f"{year:04d}-Q{quarter}", date(year, 3 * quarter - 2, 1),
                              _month_end(year, 3 * quarter))
    elif found := _MONTH.match(raw):
        month = int(found.group(2))
        if not 1 <= month <= 12:
            raise InvalidValueError(field, text, "a month is 01 to 12")
        year = _checked_year(raw, int(found.group(1)), today, field)
        period = ReportPeriod(f"{year:04d}-{month:02d}", date(year, month, 1),
                              _month_end(year, month))
    else:
        raise InvalidValueError(field, text, _EXPECTED)
    if period.start > today:
        raise InvalidValueError(field, text, f"has not begun (the ledger's date is "
                                             f"{today.isoformat()})")
    return period


def parse_year(value: int | str, today: date, field: str = "year") -> int:
    """A calendar year from FIRST_YEAR to the ledger's current year."""
    text = str(value).strip()
    if not _YEAR.match(text):
        raise InvalidValueError(field, text, "expected a four-digit year, e.g. 2025")
    return _checked_year(text, int(text), today, field)


def parse_report_district(value: str | None) -> str | None:
    """None (or empty, or `00`, the national centre) is the national report."""
    if value is None or not str(value).strip() or str(value).strip() == "00":
        return None
    return parse_district(str(value))
