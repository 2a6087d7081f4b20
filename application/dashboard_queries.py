"""What the dashboards count and list that no command needed before: open cases of one
officer or of some importers (due dates first), the queue of a district by kind and state,
each officer's workload, and the channel mix of declarations. Each is one query over the
work-list view's case table or the channel decisions results table, never the log.

Why here: the application says what a dashboard reads; the database it reads is the
composition's (a ViewTables: the view store), so this layer imports no projection.
Every query is restricted to a Scope (the caller's `list_scope()`: districts, importers;
None for unrestricted, an empty set for nothing) before any filter narrows it down."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from application.scope_sql import scope_clauses

Row = dict[str, Any]

CASE_COLUMNS = ("number", "kind", "importer_number", "district", "officer", "state",
                "next_step", "due_on", "opened_on")


class ViewTables(Protocol):
    """The views' database as a query needs it (projections.stores.ViewStore)."""

    def qualified(self, table: str) -> str: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


@dataclass(frozen=True)
class Scope:
    """What the reader may see: None is everything, an empty set nothing."""

    districts: frozenset[str] | None
    importers: frozenset[str] | None

    def clauses(self, district_column: str = "district",
                importer_column: str = "importer_number") -> tuple[list[str], list[Any]]:
        return scope_clauses(self.districts, self.importers, district_column,
                             importer_column)


def next_due(store: ViewTables) -> str:
    """SQL for the date of the earliest open due item (a proposal, a plan action, a
    re-test, a response) of the case row `c`; NULL when nothing is due. This, not the case
    row's own due date (which a later step may leave behind: a paid penalty keeps its
    response date), says whether a case is overdue, as the scheduler's due scan does."""
    return (f"(SELECT MIN(d.due_on) FROM {store.qualified('wl_due')} d "
            "WHERE d.case_id = c.case_id AND d.done = 0)")


def days_overdue(due_on: str | None, today: date) -> int:
    if not due_on:
        return 0
    return max(0, (today - date.fromisoformat(str(due_on)[:10])).days)


@dataclass(frozen=True)
class CaseList:
    rows: list[Row]
    total: int
    """How many cases match (the rows are the first of them)."""


def open_cases(store: ViewTables, scope: Scope, today: date, *, officer: str | None = None,
               unassigned: bool = False, kinds: Sequence[str] = (),
               states: Sequence[str] = (), limit: int = 20) -> CaseList:
    """Open cases in scope, the soonest due first (undated last), each with its days
    overdue: one officer's (`officer`), nobody's (`unassigned`), or all of them."""
    clauses, params = scope.clauses()
    clauses.insert(0, "closed = 0")
    if officer is not None:
        clauses.append("officer = ?")
        params.append(officer)
    if unassigned:
        clauses.append("officer IS NULL")
    for column, values in (("kind", kinds), ("state", states)):
        if values:
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += list(values)
    where = " WHERE " + " AND ".join(clauses)
    table = f"{store.qualified('wl_cases')} c"
    total = int(store.rows(f"SELECT COUNT(*) FROM {table}{where}", params)[0][0])
    due = next_due(store)
    selected = ", ".join(due if column == "due_on" else column for column in CASE_COLUMNS)
    found = store.rows(
        f"SELECT {selected} FROM {table}{where} ORDER BY "
        f"CASE WHEN {due} IS NULL THEN 1 ELSE 0 END, {due}, number LIMIT ?",
        [*params, int(limit)])
    rows = [dict(zip(CASE_COLUMNS, row, strict=True)) for row in found]
    for row in rows:
        row["days_overdue"] = days_overdue(row["due_on"], today)
    return CaseList(rows, total)


def queue(store: ViewTables, scope: Scope, today: date, *,
          officer: str | None = None) -> list[Row]:
    """Open cases in scope (of one officer, when given) by kind and state: how many, how
    many overdue, how many nobody is responsible for."""
    clauses, params = scope.clauses()
    if officer is not None:
        clauses.append("officer = ?")
        params.append(officer)
    where = " WHERE " + " AND ".join(["closed = 0", *clauses])
    found = store.rows(
        "SELECT kind, state, COUNT(*), "
        f"SUM(CASE WHEN {next_due(store)} < ? THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN officer IS NULL THEN 1 ELSE 0 END) "
        f"FROM {store.qualified('wl_cases')} c{where} GROUP BY kind, state "
        "ORDER BY kind, state",
        [today.isoformat(), *params])
    return [{"kind": kind, "state": state, "cases": int(count), "overdue": int(late or 0),
             "unassigned": int(nobody or 0)} for kind, state, count, late, nobody in found]


DUE_COLUMNS = ("item", "case_number", "kind", "district", "importer_number", "state",
               "due_on", "description", "owner", "officer")


def due_items(store: ViewTables, scope: Scope, today: date, *, officer: str | None = None,
              owner: str | None = None, limit: int = 20) -> CaseList:
    """What is due inside open cases in scope, the soonest (so the most overdue) first:
    in the cases `officer` is responsible for, or owned by `owner` (a representative's
    plan actions), each with its days overdue."""
    clauses, params = scope.clauses("c.district", "c.importer_number")
    clauses.insert(0, "d.done = 0 AND c.closed = 0")
    for column, value in (("c.officer", officer), ("d.owner", owner)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    joined = (f"{store.qualified('wl_due')} d JOIN {store.qualified('wl_cases')} c "
              f"ON c.case_id = d.case_id WHERE {' AND '.join(clauses)}")
    total = int(store.rows(f"SELECT COUNT(*) FROM {joined}", params)[0][0])
    selected = ", ".join(f"c.{c}" if c in ("kind", "importer_number", "state", "officer") else
                         f"d.{c}" for c in DUE_COLUMNS)
    found = store.rows(f"SELECT {selected} FROM {joined} ORDER BY d.due_on, d.item LIMIT ?",
                       [*params, int(limit)])
    rows = [dict(zip(DUE_COLUMNS, row, strict=True)) for row in found]
    for row in rows:
        row["days_overdue"] = days_overdue(row["due_on"], today)
    return CaseList(rows, total)


def workload(store: ViewTables, scope: Scope, today: date) -> list[Row]:
    """Per officer responsible (None: nobody yet): open cases by kind and overdue ones,
    the busiest first."""
    clauses, params = scope.clauses()
    where = " WHERE " + " AND ".join(["closed = 0", *clauses])
    found = store.rows(
        "SELECT officer, kind, COUNT(*), "
        f"SUM(CASE WHEN {next_due(store)} < ? THEN 1 ELSE 0 END) "
        f"FROM {store.qualified('wl_cases')} c{where} GROUP BY officer, kind",
        [today.isoformat(), *params])
    per: dict[str | None, Row] = {}
    for officer, kind, count, late in found:
        row = per.setdefault(officer, {"officer": officer, "open": 0, "overdue": 0,
                                       "by_kind": {}})
        row["open"] += int(count)
        row["overdue"] += int(late or 0)
        row["by_kind"][kind] = int(count)
    return sorted(per.values(), key=lambda r: (r["officer"] is None, -r["open"],
                                               r["officer"] or ""))


def channel_mix(store: ViewTables, districts: frozenset[str] | None) -> list[Row]:
    """Declarations channelled, by channel (green, amber, red) and basis (none, risk,
    rule, random), within `districts` (of the declaration's entry; None: all)."""
    clauses, params = Scope(districts, None).clauses()
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    found = store.rows(
        f"SELECT channel, basis, COUNT(*) FROM {store.qualified('channel_decisions')}{where} "
        "GROUP BY channel, basis ORDER BY channel, basis", params)
    return [{"channel": channel, "basis": basis, "declarations": int(count)}
            for channel, basis, count in found]
