"""Reading the views. Every query takes a district: a district sees only its own rows,
None is the national level that sees all (the authorisation itself comes later)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.values import parse_district
from projections.stores import ViewStore

Row = dict[str, Any]


def _where(district: str | None, column: str = "district",
           extra: list[str] | None = None) -> tuple[str, list[Any]]:
    clauses, params = list(extra or []), []
    if district is not None:
        clauses.append(f"{column} = ?")
        params.append(parse_district(district))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _rows(store: ViewStore, sql: str, params: list[Any], columns: list[str]) -> list[Row]:
    return [dict(zip(columns, row, strict=True)) for row in store.rows(sql, params)]


def _days_overdue(due_on: str | None, today: date) -> int:
    if not due_on:
        return 0
    return max(0, (today - date.fromisoformat(due_on)).days)


UNASSIGNED = "unassigned"
"""What the work list shows for a case no officer is responsible for yet, and the
`officer` filter that finds those cases."""


def _officer_clause(officer: str | None, column: str, extra: list[str],
                    params: list[Any]) -> None:
    if not officer:
        return
    if officer.strip().lower() == UNASSIGNED:
        extra.append(f"{column} IS NULL")
    else:
        extra.append(f"{column} = ?")
        params.append(officer.strip())


def worklist(store: ViewStore, today: date, *, district: str | None = None,
             officer: str | None = None, kind: str | None = None) -> list[Row]:
    """Open cases; `officer` "unassigned" finds those no officer is responsible for."""
    extra = ["closed = 0"]
    params: list[Any] = []
    _officer_clause(officer, "officer", extra, params)
    if kind:
        extra.append("kind = ?")
        params.append(kind)
    where, scoped = _where(district, extra=extra)
    columns = ["number", "kind", "importer_number", "district", "officer", "state",
               "next_step", "due_on", "opened_on"]
    rows = _rows(store, f"SELECT {', '.join(columns)} FROM {store.qualified('wl_cases')}"
                        f"{where} ORDER BY district, number", [*params, *scoped], columns)
    for row in rows:
        row["days_overdue"] = _days_overdue(row["due_on"], today)
    return rows


def due_items(store: ViewStore, today: date, *, district: str | None = None,
              overdue_only: bool = False, officer: str | None = None) -> list[Row]:
    """What is due inside open cases, each with what it is ("action A1 (...)") and the
    officer responsible for its case."""
    extra = ["d.done = 0"]
    params: list[Any] = []
    if overdue_only:
        extra.append("d.due_on < ?")
        params.append(today.isoformat())
    _officer_clause(officer, "c.officer", extra, params)
    where, scoped = _where(district, "d.district", extra=extra)
    columns = ["item", "case_number", "kind", "district", "due_on", "description", "officer"]
    selected = ", ".join(f"c.{c}" if c == "officer" else f"d.{c}" for c in columns)
    rows = _rows(store, f"SELECT {selected} FROM {store.qualified('wl_due')} d LEFT JOIN "
                        f"{store.qualified('wl_cases')} c ON c.case_id = d.case_id"
                        f"{where} ORDER BY d.due_on, d.item", [*params, *scoped], columns)
    for row in rows:
        row["days_overdue"] = _days_overdue(row["due_on"], today)
    return rows


def account_register(store: ViewStore, *, district: str | None = None,
                     importer_number: str | None = None, limit: int | None = None,
                     ) -> list[Row]:
    extra = []
    params: list[Any] = []
    if importer_number:
        extra.append("a.importer_number = ?")
        params.append(importer_number.strip().upper())
    where, scoped = _where(district, "a.district", extra)
    columns = ["importer_number", "legal_name", "district", "industry", "manager", "tier",
               "annual_value_cents", "compliance_class", "status", "risk_score", "open_cases",
               "last_assessment", "last_assessment_on"]
    sql = (f"SELECT {', '.join('a.' + c for c in columns)} FROM "
           f"{store.qualified('ar_accounts')} a{where} ORDER BY a.importer_number")
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = _rows(store, sql, [*params, *scoped], columns)
    programmes: dict[str, list[str]] = {}
    for number, programme in store.rows(
            f"SELECT a.importer_number, p.programme FROM {store.qualified('ar_partnerships')} "
            f"p JOIN {store.qualified('ar_accounts')} a ON a.importer_id = p.importer_id"):
        programmes.setdefault(number, []).append(programme)
    for row in rows:
        value = row.pop("annual_value_cents")
        row["annual_value"] = None if value is None else f"{value / 100:.2f}"
        row["partnerships"] = sorted(programmes.get(row["importer_number"], []))
    return rows


GROUPS = {"area": "area", "industry": "industry", "district": "district", "period": "period",
          "source": "source"}


def compliance_statistics(store: ViewStore, *, by: str = "area",
                          district: str | None = None) -> list[Row]:
    column = GROUPS[by]
    where, params = _where(district)
    rows = store.rows(
        f"SELECT {column}, SUM(lines), SUM(discrepancies), SUM(loss_cents), COUNT(*) FROM "
        f"{store.qualified('cs_findings')}{where} GROUP BY {column} ORDER BY {column}", params)
    return [{by: key, "lines_tested": int(lines), "discrepancies": int(errors),
             "compliance_rate": round(1 - int(errors) / int(lines), 4) if lines else None,
             "revenue_loss": f"{int(loss) / 100:.2f}", "findings": int(count)}
            for key, lines, errors, loss, count in rows]


def enforcement_statistics(store: ViewStore, *, district: str | None = None) -> list[Row]:
    where, params = _where(district)
    rows = store.rows(
        f"SELECT kind, state, COUNT(*), SUM(proposed_cents), SUM(decided_cents), "
        f"SUM(paid_cents), AVG(days_to_decision) FROM {store.qualified('es_actions')}{where} "
        "GROUP BY kind, state ORDER BY kind, state", params)

    def money(cents: Any) -> str:
        return f"{int(cents or 0) / 100:.2f}"
    return [{"kind": kind, "state": state, "actions": int(count), "proposed": money(proposed),
             "decided": money(decided), "paid": money(paid),
             "mean_days_to_decision": None if days is None else round(float(days), 1)}
            for kind, state, count, proposed, decided, paid, days in rows]


def plan_progress(store: ViewStore, today: date, *, district: str | None = None) -> list[Row]:
    where, params = _where(district, "p.district")
    rows = store.rows(
        f"SELECT p.number, p.district, p.state, COUNT(a.action_id), COUNT(a.completed_on), "
        f"SUM(CASE WHEN a.completed_on IS NULL AND a.due_on < ? THEN 1 ELSE 0 END) FROM "
        f"{store.qualified('pp_plans')} p LEFT JOIN {store.qualified('pp_actions')} a "
        f"ON a.plan_id = p.plan_id{where} GROUP BY p.number, p.district, p.state "
        "ORDER BY p.district, p.number", [today.isoformat(), *params])
    return [{"plan_number": number, "district": district_code, "state": state,
             "actions": int(actions), "completed": int(done), "overdue": int(overdue or 0)}
            for number, district_code, state, actions, done, overdue in rows]


def audit_log(store: ViewStore, *, actor: str | None = None, case: str | None = None,
              since: str | None = None, until: str | None = None,
              limit: int = 200) -> list[Row]:
    clauses, params = [], []
    for column, operator, value in (("actor", "=", actor), ("case_ref", "=", case),
                                    ("recorded_at", ">=", since),
                                    ("recorded_at", "<", until)):
        if value:
            clauses.append(f"{column} {operator} ?")
            params.append(value.strip())
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    columns = ["notification_id", "recorded_at", "actor", "case_ref", "aggregate", "event",
               "reason"]
    return _rows(store, f"SELECT {', '.join(columns)} FROM {store.qualified('al_events')}"
                        f"{where} ORDER BY notification_id LIMIT {int(limit)}", params, columns)
