"""Paged lists over the views: cases (`wl_cases`, one row per case of every kind, open or
closed) and importer accounts (`ar_accounts`), filtered, scoped and sorted in SQL.

Lists page by keyset (seek), not by offset: a cursor holds the last row's sort value and
number, and the next page starts after it. Page 500 then costs what page 1 costs, and a
case opened between two pages neither repeats nor hides a row. Every sort ends with the
row's number, so rows with equal sort values keep one order. Sort columns come from a fixed
list and every filter value is validated, then bound as a parameter (never put in the SQL).

Scope is separate from filters: `districts` / `importers` say what the reader may see (None:
everything, an empty set: nothing), filters narrow that down. A cursor grants nothing: the
scope and filters are applied again on every page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from application.checked_cursors import open_cursor, seal_cursor
from application.scope_sql import scope_clauses
from domain.assessment import AssessmentState
from domain.enforcement_action import EnforcementState
from domain.errors import InvalidValueError
from domain.follow_up_verification import VerificationState
from domain.importer_account import AccountStatus
from domain.improvement_plan import PlanState
from domain.values import parse_district, parse_importer_number
from projections.queries import _officer_clause
from projections.stores import PostgresViewStore, ViewStore

Row = dict[str, Any]

MAX_LIMIT = 1000
CASE_STATES: dict[str, tuple[str, ...]] = {
    "assessment": tuple(s.value for s in AssessmentState),
    "improvement_plan": tuple(s.value for s in PlanState),
    "enforcement_action": tuple(s.value for s in EnforcementState),
    "follow_up_verification": tuple(s.value for s in VerificationState),
}
"""The kinds of case in `wl_cases`, with the states a case of each kind can be in."""
ACCOUNT_STATES = tuple(s.value for s in AccountStatus)

CASE_SORTS: dict[str, tuple[str, bool]] = {
    "number": ("number", True), "opened_on": ("opened_on", True),
    "due_on": ("COALESCE(due_on, '')", True), "state": ("state", True),
    "district": ("district", True), "importer_number": ("importer_number", True),
    "officer": ("COALESCE(officer, '')", True)}
"""Sort name -> (SQL expression, is text). Missing values sort as '' (first ascending),
so that the keyset comparison never meets a NULL."""
ACCOUNT_SORTS: dict[str, tuple[str, bool]] = {
    "importer_number": ("importer_number", True), "legal_name": ("legal_name", True),
    "district": ("district", True), "industry": ("industry", True),
    "state": ("status", True), "tier": ("COALESCE(tier, 0)", False),
    "open_cases": ("open_cases", False), "registered_on": ("registered_on", True)}

CASE_COLUMNS = ("case_id", "number", "kind", "importer_number", "district", "officer",
                "state", "next_step", "due_on", "opened_on", "closed")
ACCOUNT_COLUMNS = ("importer_id", "importer_number", "legal_name", "district", "industry",
                   "registered_on", "manager", "tier", "annual_value_cents",
                   "compliance_class", "status", "risk_score", "open_cases",
                   "last_assessment", "last_assessment_on")

_CURSOR_VERSION = 1
_CURSOR_KEY = b"compliance-ledger/list-cursor"
"""Keys the cursor's checksum. Not a secret (a cursor grants nothing): it only makes a
token that was cut, mistyped or edited fail as such instead of seeking somewhere else."""
_CURSOR_MAX = 2048


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None
    """Where the next page starts; None on the last page."""


def case_page(store: ViewStore, *, kind: str | None, districts: frozenset[str] | None,
              importers: frozenset[str] | None, state: str | None = None,
              district: str | None = None, importer_number: str | None = None,
              officer: str | None = None, sort: str = "number", descending: bool = False,
              limit: int = 50, cursor: str | None = None,
              overdue_on: date | None = None) -> Page:
    """One page of cases (open and closed) from the work list's case table. `kind` None
    lists every kind; `officer` "unassigned" finds cases nobody is responsible for;
    `overdue_on` keeps open cases due before that day."""
    if kind is not None and kind not in CASE_STATES:
        raise InvalidValueError("kind", kind, f"one of {', '.join(CASE_STATES)}")
    known = CASE_STATES[kind] if kind else tuple(dict.fromkeys(
        s for states in CASE_STATES.values() for s in states))
    clauses, params = scope_clauses(districts, importers)
    _equal(clauses, params, "kind", kind)
    _equal(clauses, params, "state", _state(state, known))
    _equal(clauses, params, "district", parse_district(district) if district else None)
    _equal(clauses, params, "importer_number",
           parse_importer_number(importer_number) if importer_number else None)
    _officer_clause(officer, "officer", clauses, params)
    if overdue_on is not None:
        # Overdue by the earliest open due item, not the case row's own date (which a
        # later step may leave behind), as the scheduler's due scan and the work list
        # page judge it (application.dashboard_queries.next_due).
        clauses.append(f"closed = 0 AND EXISTS (SELECT 1 FROM {store.qualified('wl_due')} d "
                       f"WHERE d.case_id = {store.qualified('wl_cases')}.case_id "
                       "AND d.done = 0 AND d.due_on < ?)")
        params.append(overdue_on.isoformat())
    rows = _seek(store, "wl_cases", CASE_COLUMNS, "number", CASE_SORTS,
                 _List(f"cases/{kind or 'all'}", sort, descending, limit, cursor),
                 clauses, params)
    for row in rows.rows:
        row["closed"] = bool(row["closed"])
    return rows


def account_page(store: ViewStore, *, districts: frozenset[str] | None,
                 importers: frozenset[str] | None, state: str | None = None,
                 district: str | None = None, tier: int | None = None,
                 sort: str = "importer_number", descending: bool = False, limit: int = 50,
                 cursor: str | None = None) -> Page:
    """One page of importer accounts from the account register, each with its partnership
    programmes (sorted) and its annual value in units ("1200.50"), as `register` shows."""
    clauses, params = scope_clauses(districts, importers)
    _equal(clauses, params, "status", _state(state, ACCOUNT_STATES))
    _equal(clauses, params, "district", parse_district(district) if district else None)
    if tier is not None and (isinstance(tier, bool) or tier not in (1, 2, 3, 4)):
        raise InvalidValueError("tier", tier, "expected 1, 2, 3 or 4")
    _equal(clauses, params, "tier", tier)
    page = _seek(store, "ar_accounts", ACCOUNT_COLUMNS, "importer_number", ACCOUNT_SORTS,
                 _List("accounts", sort, descending, limit, cursor), clauses, params)
    programmes = _partnerships(store, [row["importer_id"] for row in page.rows])
    for row in page.rows:
        value = row.pop("annual_value_cents")
        row["annual_value"] = None if value is None else f"{value / 100:.2f}"
        row["partnerships"] = sorted(programmes.get(row["importer_id"], []))
    return page


@dataclass(frozen=True)
class _List:
    """Which list is read and how it is ordered and paged (all of it checked by _seek)."""
    name: str
    sort: str
    descending: bool
    limit: int
    cursor: str | None


def _seek(store: ViewStore, table: str, columns: tuple[str, ...], tie: str,
          sorts: dict[str, tuple[str, bool]], wanted: _List, clauses: list[str],
          params: list[Any]) -> Page:
    if wanted.sort not in sorts:
        raise InvalidValueError("sort", wanted.sort, f"one of {', '.join(sorts)}")
    limit = wanted.limit
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidValueError("limit", limit, f"a whole number from 1 to {MAX_LIMIT}")
    expression, text = sorts[wanted.sort]
    # PostgreSQL compares text by the server's locale unless told otherwise; "C" orders
    # by code point, as SQLite does, so both stores give one order.
    collate = ' COLLATE "C"' if isinstance(store, PostgresViewStore) else ""
    key, last_key = expression + (collate if text else ""), tie + collate
    clauses, params = list(clauses), list(params)
    if wanted.cursor is not None:
        value, number = _decode(wanted, text)
        sign = "<" if wanted.descending else ">"
        # The first bound repeats what the rest implies, so that the database can seek
        # to the cursor in an index on the sort key instead of filtering every row before it.
        clauses.append(f"{key} {sign}= ? AND ({key} {sign} ? OR ({key} = ? AND "
                       f"{last_key} {sign} ?))")
        params += [value, value, value, number]
    if "1 = 0" in clauses:
        return Page([], None)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    order = "DESC" if wanted.descending else "ASC"
    found = store.rows(f"SELECT {', '.join(columns)}, {expression} FROM "
                       f"{store.qualified(table)}{where} ORDER BY {key} {order}, "
                       f"{last_key} {order} LIMIT ?", [*params, limit + 1])
    rows = [dict(zip(columns, row[:-1], strict=True)) for row in found[:limit]]
    if len(found) <= limit:
        return Page(rows, None)
    last = found[limit - 1]
    return Page(rows, _encode(wanted, last[-1], last[columns.index(tie)]))


def _equal(clauses: list[str], params: list[Any], column: str, value: Any) -> None:
    if value is not None:
        clauses.append(f"{column} = ?")
        params.append(value)


def _state(state: str | None, known: tuple[str, ...]) -> str | None:
    if state is None:
        return None
    if state not in known:
        raise InvalidValueError("state", state, f"one of {', '.join(known)}")
    return state


def _partnerships(store: ViewStore, importer_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for chunk in _chunks(importer_ids):
        for importer_id, programme in store.rows(
                f"SELECT importer_id, programme FROM {store.qualified('ar_partnerships')} "
                f"WHERE importer_id IN ({', '.join('?' for _ in chunk)})", chunk):
            found.setdefault(importer_id, []).append(programme)
    return found


def _chunks(values: list[Any], size: int = 500) -> Iterable[list[Any]]:
    """Keeps an IN list under every store's limit on bound parameters."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


# -- cursors ------------------------------------------------------------------------------


def _encode(wanted: _List, value: Any, number: str) -> str:
    return seal_cursor(_CURSOR_KEY, [_CURSOR_VERSION, wanted.name, wanted.sort,
                                     wanted.descending, value, number])


def _decode(wanted: _List, text: bool) -> tuple[Any, str]:
    """The sort value and number a cursor of this list, sort and direction holds;
    InvalidValueError naming `cursor` for anything else."""
    token = wanted.cursor or ""
    shown = token if len(token) <= 60 else token[:57] + "..."
    garbled = InvalidValueError("cursor", shown, "not a cursor this list gave (cut, "
                                "mistyped or edited); start again without --cursor")
    fields = open_cursor(_CURSOR_KEY, token, _CURSOR_MAX)
    if fields is None or len(fields) != 6:
        raise garbled
    version, name, sort, descending, value, number = fields
    if (name, sort, descending) != (wanted.name, wanted.sort, wanted.descending):
        direction = "descending" if descending else "ascending"
        raise InvalidValueError("cursor", shown, f"belongs to another list or order ({name}"
                                f" by {sort}, {direction}); use the same --sort and --desc")
    typed = isinstance(value, str) if text else (isinstance(value, int)
                                                 and not isinstance(value, bool))
    if version != _CURSOR_VERSION or not typed or not isinstance(number, str):
        raise garbled
    return value, number
