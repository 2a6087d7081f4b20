"""The work list as the web page reads it: cases from the work-list view's case table,
filtered (kind, state, district, officer responsible, open or closed, overdue, due before a
day), restricted to the reader's scope, sorted, one page at a time by keyset cursor, each
with its importer's legal name and its days overdue.

A case's due date here is that of its next open due item (dashboard_queries.next_due),
so a step that is done (a plan's proposal once submitted, a penalty's response once it is
decided) no longer makes the case overdue.

Why a query of its own rather than projections.listing.case_page: a work list is of open
cases (case_page lists closed ones too and has no open/closed or due-before filter), it
dates a case by what is still due in it, and it sorts cases with nothing due after dated
ones. Paging works as there: a
cursor holds the last row's sort value and number, the next page starts after it, so page
500 costs what page 1 costs and a case opened between two pages neither repeats nor hides
a row; a cursor grants nothing (scope and filters apply again on every page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from application.checked_cursors import open_cursor, seal_cursor
from application.dashboard_queries import Scope, ViewTables, days_overdue, next_due
from domain.assessment import AssessmentState
from domain.enforcement_action import EnforcementState
from domain.errors import InvalidValueError
from domain.follow_up_verification import VerificationState
from domain.improvement_plan import PlanState

Row = dict[str, Any]

KINDS: dict[str, tuple[str, ...]] = {
    "assessment": tuple(s.value for s in AssessmentState),
    "improvement_plan": tuple(s.value for s in PlanState),
    "enforcement_action": tuple(s.value for s in EnforcementState),
    "follow_up_verification": tuple(s.value for s in VerificationState),
}
"""The kinds of case on the work list and the states a case of each kind can be in."""
ALL_STATES = tuple(dict.fromkeys(s for states in KINDS.values() for s in states))
STATUSES = ("open", "closed", "all")
UNASSIGNED = "unassigned"

SORTS: dict[str, str] = {
    "number": "number", "due_on": "COALESCE({next_due}, '9999-12-31')",
    "opened_on": "opened_on", "state": "state", "kind": "kind", "district": "district",
    "importer_number": "importer_number", "officer": "COALESCE(officer, '')"}
"""Sort name -> SQL expression (all text). By due date is by the case's next open due
item (dashboard_queries.next_due), cases with nothing due after every dated one;
nobody's cases before every officer's; ties by number."""
COLUMNS = ("case_id", "number", "kind", "importer_number", "district", "officer", "state",
           "next_step", "due_on", "opened_on", "closed")
MAX_LIMIT = 1000

_CURSOR_KEY = b"compliance-ledger/worklist-cursor"
"""Keys the cursor's checksum: not a secret (a cursor grants nothing), it only makes a
cut, mistyped or edited cursor fail as such instead of seeking somewhere else."""


@dataclass(frozen=True)
class WorkFilter:
    """The filters of a work list, each already checked (see `checked`)."""

    kind: str | None = None
    state: str | None = None
    district: str | None = None
    officer: str | None = None
    """An actor (user:<name>) or UNASSIGNED."""
    status: str = "open"
    overdue: bool = False
    due_before: date | None = None

    def checked(self) -> WorkFilter:
        if self.kind is not None and self.kind not in KINDS:
            raise InvalidValueError("kind", self.kind, f"one of {', '.join(KINDS)}")
        known = KINDS[self.kind] if self.kind else ALL_STATES
        if self.state is not None and self.state not in known:
            raise InvalidValueError("state", self.state, f"one of {', '.join(known)}")
        if self.status not in STATUSES:
            raise InvalidValueError("status", self.status, f"one of {', '.join(STATUSES)}")
        return self


@dataclass(frozen=True)
class Order:
    sort: str = "due_on"
    descending: bool = False

    def checked(self) -> Order:
        if self.sort not in SORTS:
            raise InvalidValueError("sort", self.sort, f"one of {', '.join(SORTS)}")
        return self


@dataclass(frozen=True)
class WorkPage:
    rows: list[Row]
    next_cursor: str | None
    """Where the next page starts; None on the last page."""


def work_page(store: ViewTables, scope: Scope, wanted: WorkFilter, today: date, *,
              order: Order = Order(), limit: int = 50, cursor: str | None = None,
              code_points: str = "") -> WorkPage:
    """One page of the work list. `code_points` is what makes the database compare text
    by code point (' COLLATE "C"' on PostgreSQL, '' on SQLite), so both order alike."""
    wanted, order = wanted.checked(), order.checked()
    if isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidValueError("limit", limit, f"a whole number from 1 to {MAX_LIMIT}")
    clauses, params = scope.clauses()
    due = next_due(store)
    _filter(wanted, today, due, clauses, params)
    expression = SORTS[order.sort].replace("{next_due}", due)
    key, tie = expression + code_points, "number" + code_points
    if cursor is not None:
        value, number = _decode(cursor, order)
        sign = "<" if order.descending else ">"
        clauses.append(f"({key} {sign} ? OR ({key} = ? AND {tie} {sign} ?))")
        params += [value, value, number]
    if "1 = 0" in clauses:
        return WorkPage([], None)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    direction = "DESC" if order.descending else "ASC"
    selected = ", ".join(due if column == "due_on" else column for column in COLUMNS)
    found = store.rows(
        f"SELECT {selected}, {expression} FROM {store.qualified('wl_cases')} c"
        f"{where} ORDER BY {key} {direction}, {tie} {direction} LIMIT ?", [*params, limit + 1])
    rows = [dict(zip(COLUMNS, row[:-1], strict=True)) for row in found[:limit]]
    names = legal_names(store, {row["importer_number"] for row in rows})
    for row in rows:
        row["closed"] = bool(row["closed"])
        row["legal_name"] = names.get(row["importer_number"], "")
        row["days_overdue"] = 0 if row["closed"] else days_overdue(row["due_on"], today)
    if len(found) <= limit:
        return WorkPage(rows, None)
    last = found[limit - 1]
    return WorkPage(rows, _encode(order, str(last[-1]), str(last[COLUMNS.index("number")])))


def _filter(wanted: WorkFilter, today: date, due: str, clauses: list[str],
            params: list[Any]) -> None:
    if wanted.status == "open":
        clauses.append("closed = 0")
    elif wanted.status == "closed":
        clauses.append("closed = 1")
    for column, value in (("kind", wanted.kind), ("state", wanted.state),
                          ("district", wanted.district)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if wanted.officer == UNASSIGNED:
        clauses.append("officer IS NULL")
    elif wanted.officer is not None:
        clauses.append("officer = ?")
        params.append(wanted.officer)
    if wanted.overdue:
        clauses.append(f"closed = 0 AND {due} < ?")
        params.append(today.isoformat())
    if wanted.due_before is not None:
        clauses.append(f"{due} < ?")
        params.append(wanted.due_before.isoformat())


def legal_names(store: ViewTables, numbers: set[str]) -> dict[str, str]:
    """Importers' legal names from the account register, by importer number."""
    wanted = sorted(numbers)
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for number, name in store.rows(
                f"SELECT importer_number, legal_name FROM {store.qualified('ar_accounts')} "
                f"WHERE importer_number IN ({', '.join('?' for _ in chunk)})", chunk):
            found[str(number)] = str(name)
    return found


def _encode(order: Order, value: str, number: str) -> str:
    return seal_cursor(_CURSOR_KEY, [1, order.sort, order.descending, value, number])


def _decode(token: str, order: Order) -> tuple[str, str]:
    garbled = InvalidValueError("cursor", token[:60], "not a cursor of this list and order; "
                                "start again from the first page")
    fields = open_cursor(_CURSOR_KEY, token, 1024)
    if fields is None or len(fields) != 5:
        raise garbled
    version, sort, descending, value, number = fields
    if (version, sort, descending) != (1, order.sort, order.descending) or not (
            isinstance(value, str) and isinstance(number, str)):
        raise garbled
    return value, number
