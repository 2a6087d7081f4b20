"""What the importer pages read that no command needed before: the register filtered by
name as well as district, tier and state (paged by seek, district by district, on the
register's own index), an importer's trade by year (the ingested trade activity, keyed by
importer), and the findings recorded in its cases (the compliance statistics view).

Each is one query over a view or a results table, never a replay of the log. The store is
reached through `ViewReader`, which the projections' view store satisfies; scope (the
districts and importers a caller may see) is applied in every query, as in the lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.case_numbers import case_id
from domain.errors import InvalidValueError
from domain.values import parse_district, parse_importer_number

Row = dict[str, Any]
ACCOUNT_STATES = ("active", "suspended", "closed")
MAX_NAME = 100


class ViewReader(Protocol):
    """The reads a page query needs from the views' store (projections.stores)."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def qualified(self, table: str) -> str: ...

    def collated(self, columns: str) -> str: ...


@dataclass(frozen=True)
class RegisterFilter:
    district: str | None = None
    tier: int | None = None
    state: str | None = None
    name: str | None = None
    """Part of the legal name (any case), or the start of the importer number."""


@dataclass(frozen=True)
class RegisterPage:
    rows: list[Row]
    next_cursor: str | None


REGISTER_COLUMNS = ("importer_number", "legal_name", "district", "industry", "manager", "tier",
                    "annual_value_cents", "compliance_class", "status", "risk_score",
                    "open_cases", "last_assessment")


def checked_filter(district: str | None, tier: str | None, state: str | None,
                   name: str | None) -> RegisterFilter:
    """The filters as typed in a form (empty means none); InvalidValueError naming the
    first bad one."""
    chosen_tier = None
    if tier:
        if tier not in ("1", "2", "3", "4"):
            raise InvalidValueError("tier", tier, "expected 1, 2, 3 or 4")
        chosen_tier = int(tier)
    if state and state not in ACCOUNT_STATES:
        raise InvalidValueError("state", state, f"one of {', '.join(ACCOUNT_STATES)}")
    text = " ".join((name or "").split())
    if len(text) > MAX_NAME:
        raise InvalidValueError("name", text[:20] + "...", f"at most {MAX_NAME} characters")
    return RegisterFilter(parse_district(district) if district else None, chosen_tier,
                          state or None, text or None)


def _cursor(text: str | None) -> tuple[str, str] | None:
    """A cursor is the last row's district and importer number ("11:12-3456789AB"): it
    grants nothing, as scope and filters are applied again on every page."""
    if not text:
        return None
    district, _, number = text.partition(":")
    try:
        return parse_district(district), parse_importer_number(number)
    except InvalidValueError:
        raise InvalidValueError("cursor", text[:40], "not a cursor this list gave; start "
                                "again from the first page") from None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def register_page(reader: ViewReader, *, districts: frozenset[str] | None,
                  importers: frozenset[str] | None, wanted: RegisterFilter, limit: int = 50,
                  cursor: str | None = None) -> RegisterPage:
    """A page of the account register in (district, importer number) order: the order of
    the register's index, so a district's page is read off it whatever the filters."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, allowed, parse in (("district", districts, parse_district),
                                   ("importer_number", importers, parse_importer_number)):
        if allowed is None:
            continue
        values = sorted({parse(value) for value in allowed})
        if not values:
            return RegisterPage([], None)
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        params += values
    for column, value in (("district", wanted.district), ("tier", wanted.tier),
                          ("status", wanted.state)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if wanted.name:
        clauses.append("(LOWER(legal_name) LIKE ? ESCAPE '\\' OR importer_number LIKE ? "
                       "ESCAPE '\\')")
        params += [_like(wanted.name.lower()), _like(wanted.name.upper())[1:]]
    number = reader.collated("importer_number {code_points}")
    after = _cursor(cursor)
    if after is not None:
        clauses.append(f"(district > ? OR (district = ? AND {number} > ?))")
        params += [after[0], after[0], after[1]]
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    found = reader.rows(f"SELECT {', '.join(REGISTER_COLUMNS)} FROM "
                        f"{reader.qualified('ar_accounts')}{where} ORDER BY district, {number} "
                        "LIMIT ?", [*params, limit + 1])
    rows = [dict(zip(REGISTER_COLUMNS, row, strict=True)) for row in found[:limit]]
    for row in rows:
        cents = row.pop("annual_value_cents")
        row["annual_value"] = None if cents is None else f"{cents / 100:.2f}"
    following = None
    if len(found) > limit:
        following = f"{rows[-1]['district']}:{rows[-1]['importer_number']}"
    return RegisterPage(rows, following)


def trade_by_year(reader: ViewReader, importer_number: str) -> list[Row]:
    """The importer's declared trade per year (entries, lines, value and duty in units)."""
    found = reader.rows(
        "SELECT substr(period, 1, 4), SUM(entries), SUM(lines), SUM(entered_value_cents), "
        f"SUM(duty_paid_cents) FROM {reader.qualified('trade_activity')} "
        "WHERE importer_number = ? GROUP BY substr(period, 1, 4) ORDER BY 1 DESC",
        [parse_importer_number(importer_number)])
    return [{"year": str(year), "entries": int(entries), "lines": int(lines),
             "value": f"{int(value) / 100:.2f}", "duty": f"{int(duty) / 100:.2f}"}
            for year, entries, lines, value, duty in found]


def findings_of(reader: ViewReader, case_numbers: Sequence[str]) -> list[Row]:
    """Lines tested, discrepancies and revenue loss per area, over the findings of these
    cases (assessments' findings and verifications' retests)."""
    numbers = sorted(set(case_numbers))[:500]
    if not numbers:
        return []
    found = reader.rows(
        "SELECT source, area, SUM(lines), SUM(discrepancies), SUM(loss_cents), COUNT(*) "
        f"FROM {reader.qualified('cs_findings')} WHERE case_number IN "
        f"({', '.join('?' for _ in numbers)}) GROUP BY source, area ORDER BY source, area",
        numbers)
    return [{"source": source, "area": area, "lines": int(lines),
             "discrepancies": int(errors),
             "compliance_rate": round(1 - int(errors) / int(lines), 4) if lines else None,
             "loss": f"{int(loss) / 100:.2f}", "cases": int(cases)}
            for source, area, lines, errors, loss, cases in found]


CASE_COLUMNS = ("number", "kind", "district", "importer_number", "officer", "state",
                "next_step", "due_on", "opened_on", "closed")


def cases_of(reader: ViewReader, case_numbers: Sequence[str]) -> list[Row]:
    """The work list's row of each of these cases (found by their ids, the table's key),
    newest first: its state, officer, next step and due date."""
    ids = sorted({str(case_id(number)) for number in case_numbers})[:1000]
    if not ids:
        return []
    found = reader.rows(
        f"SELECT {', '.join(CASE_COLUMNS)} FROM {reader.qualified('wl_cases')} WHERE case_id "
        f"IN ({', '.join('?' for _ in ids)}) ORDER BY opened_on DESC, number DESC", ids)
    rows = [dict(zip(CASE_COLUMNS, row, strict=True)) for row in found]
    for row in rows:
        row["closed"] = bool(row["closed"])
    return rows
