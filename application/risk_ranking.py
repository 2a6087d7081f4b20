"""The risk ranking as the analysts' page reads it: filtered (district within the caller's
scope, tier, industry, least score), one page at a time by keyset cursor, and one
importer's score with every factor that made it.

Why a query of its own: the API's ranking (infrastructure.risk_tables) answers "the top N"
and explains each score with its first factors only; a page needs the filters, stable
paging through a national ranking of many thousand importers without OFFSET, the legal
name beside the number, and the whole explanation. It reads the results table of the last
risk run (risk_scores) and the account register view, never the event log, and it is
scoped here, by the caller's districts or importers, exactly as the API's ranking is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from application.access import Principal
from application.risk.explained_rows import explained_row
from domain.errors import InvalidValueError
from domain.values import parse_importer_number

PAGE_SIZE = 50
_COLUMNS = ("importer_number", "district", "industry", "tier", "score", "category",
            "impact_level", "annual_value", "compliance_rate", "compliance_low",
            "compliance_high", "lines", "discrepancies", "expected_noncompliant_value",
            "revenue_at_risk", "cumulative_share", "method_version", "run_id", "adjustments")


class Tables(Protocol):
    """The plain tables of the events database (infrastructure.sql_tables.SqlTables)."""

    def name(self, table: str) -> str: ...
    def read(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class RankingFilter:
    district: str | None = None
    tier: int | None = None
    industry: str | None = None
    min_score: float | None = None


@dataclass(frozen=True)
class RankingPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    outside_scope: bool = False
    """The district asked for is not the caller's: nothing is shown, as for none."""


def encode_cursor(score: float, importer_number: str) -> str:
    return f"{score!r}~{importer_number}"


def decode_cursor(cursor: str) -> tuple[float, str]:
    """The last row of the previous page: its score and number (the ranking's order)."""
    score_text, _, number = cursor.partition("~")
    try:
        score = float(score_text)
    except ValueError:
        score = math.nan
    if not math.isfinite(score) or len(cursor) > 60:
        raise InvalidValueError("cursor", cursor, "not a cursor this ranking gave")
    return score, parse_importer_number(number, "cursor")


class RiskRanking:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def page(self, caller: Principal, wanted: RankingFilter, cursor: str | None = None,
             limit: int = PAGE_SIZE) -> RankingPage:
        """Highest score first (ties by importer number); `cursor` continues after the
        last row of the previous page."""
        if wanted.district is not None and not caller.sees_district(wanted.district):
            return RankingPage([], None, outside_scope=True)
        where, params = self._scope(caller)
        for clause, value in (("s.district = ?", wanted.district), ("s.tier = ?", wanted.tier),
                              ("s.industry = ?", wanted.industry),
                              ("s.score >= ?", wanted.min_score)):
            if value is not None:
                where.append(clause)
                params.append(value)
        if cursor:
            score, number = decode_cursor(cursor)
            where.append("(s.score < ? OR (s.score = ? AND s.importer_number > ?))")
            params.extend([score, score, number])
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        found = self._rows(
            f"SELECT {', '.join('s.' + c for c in _COLUMNS)}, a.legal_name "
            f"FROM {self.tables.name('risk_scores')} s LEFT JOIN "
            f"{self.tables.name('ar_accounts')} a ON a.importer_number = s.importer_number"
            f"{clause} ORDER BY s.score DESC, s.importer_number LIMIT ?",
            [*params, limit + 1])
        rows = found[:limit]
        more = len(found) > limit
        last = rows[-1] if rows else None
        return RankingPage(rows, encode_cursor(float(last["score"]), last["importer_number"])
                           if more and last else None)

    def explained(self, caller: Principal, importer_number: str) -> dict[str, Any] | None:
        """One importer's score with every contributing factor: the base factors that
        make the expected non-compliant value, then every adjustment (the API lists the
        strongest only). None when it has no score or is outside the caller's scope."""
        number = parse_importer_number(importer_number)
        found = self._rows(
            f"SELECT {', '.join('s.' + c for c in _COLUMNS)}, a.legal_name "
            f"FROM {self.tables.name('risk_scores')} s LEFT JOIN "
            f"{self.tables.name('ar_accounts')} a ON a.importer_number = s.importer_number "
            "WHERE s.importer_number = ?", [number])
        if not found or not caller.sees(found[0]["district"], number):
            return None
        return found[0]

    def _scope(self, caller: Principal) -> tuple[list[str], list[Any]]:
        districts, importers = caller.list_scope()
        if importers is not None:
            if not importers:
                return ["1 = 0"], []
            return [f"s.importer_number IN ({', '.join('?' for _ in importers)})"], sorted(
                importers)
        if districts is not None:
            if not districts:
                return ["1 = 0"], []
            return [f"s.district IN ({', '.join('?' for _ in districts)})"], sorted(districts)
        return [], []

    def _rows(self, statement: str, params: list[Any]) -> list[dict[str, Any]]:
        names = [*_COLUMNS, "legal_name"]
        return [explained_row(dict(zip(names, row, strict=True)), every_factor=True)
                for row in self.tables.read(statement, params)]


