"""Reading the views. Every query takes a district: a district sees only its own rows,
None is the national level that sees all (the authorisation itself comes later). The paged
lists are in projections.listing; counts of aggregates by type and state are here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from application.compliance_cases import ALL_TYPES, CASE_TYPES
from application.log_replay import event_topics
from application.scope_sql import scope_clauses
from domain.values import parse_district
from projections.stores import ViewStore
from projections.view import CODE_POINTS

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


@dataclass(frozen=True)
class After:
    """Keyset paging of a list query: only the rows whose sort key (the list's ORDER BY
    columns, compared by code point) comes after `key`, at most `limit` of them. A page
    then costs what the first page costs, however long the list."""

    key: Sequence[str] | None = None
    limit: int | None = None


def _paged(store: ViewStore, order: Sequence[str], after: After | None,
           extra: list[str], params: list[Any]) -> str:
    """Adds `after`'s clause to `extra` and returns the ORDER BY (and LIMIT) that go
    with it: by code point on both stores (PostgreSQL's default collation follows the
    server's locale), as the HTTP cursors compare keys."""
    columns = [store.collated(f"{column} {CODE_POINTS}") for column in order]
    if after is not None and after.key is not None:
        if len(after.key) != len(order):
            raise ValueError(f"a key of {len(order)} values was expected: {after.key!r}")
        extra.append(f"({', '.join(columns)}) > ({', '.join('?' * len(order))})")
        params.extend(after.key)
    tail = " ORDER BY " + ", ".join(columns)
    if after is not None and after.limit is not None:
        tail += f" LIMIT {int(after.limit)}"
    return tail


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
             officer: str | None = None, kind: str | None = None,
             after: After | None = None) -> list[Row]:
    """Open cases by district and number; `officer` "unassigned" finds those no officer is
    responsible for; `after` pages by (district, number)."""
    extra = ["closed = 0"]
    params: list[Any] = []
    _officer_clause(officer, "officer", extra, params)
    if kind:
        extra.append("kind = ?")
        params.append(kind)
    order = _paged(store, ("c.district", "c.number"), after, extra, params)
    where, scoped = _where(district, "c.district", extra=extra)
    columns = ["number", "kind", "importer_number", "district", "officer", "state",
               "next_step", "due_on", "opened_on"]
    # A case is dated by its earliest open due item, not its row's own date (which a
    # later step may leave behind), as the due scan and the work list page date it.
    due = (f"(SELECT MIN(d.due_on) FROM {store.qualified('wl_due')} d "
           "WHERE d.case_id = c.case_id AND d.done = 0)")
    selected = ", ".join(due if column == "due_on" else f"c.{column}" for column in columns)
    rows = _rows(store, f"SELECT {selected} FROM {store.qualified('wl_cases')} c"
                        f"{where}{order}", [*params, *scoped], columns)
    for row in rows:
        row["days_overdue"] = _days_overdue(row["due_on"], today)
    return rows


DUE_ORDER = ("d.due_on", "d.case_number", "d.item")
"""The due items' order: by due date, then case number, then the item as stored (the
case's id and the item, one to one with the item as shown)."""


def due_items(store: ViewStore, today: date, *, district: str | None = None,
              overdue_only: bool = False, officer: str | None = None,
              after: After | None = None) -> list[Row]:
    """What is due inside open cases, each with what it is ("action A1 (...)") and the
    officer responsible for its case; `after` pages by DUE_ORDER, and each row then
    carries its values of it as `sort_key` (what the next page's `after` takes)."""
    extra = ["d.done = 0"]
    params: list[Any] = []
    if overdue_only:
        extra.append("d.due_on < ?")
        params.append(today.isoformat())
    _officer_clause(officer, "c.officer", extra, params)
    order = _paged(store, DUE_ORDER, after, extra, params)
    where, scoped = _where(district, "d.district", extra=extra)
    columns = ["item", "case_number", "kind", "district", "due_on", "description", "officer"]
    selected = ", ".join(f"c.{c}" if c == "officer" else f"d.{c}" for c in columns)
    rows = _rows(store, f"SELECT {selected} FROM {store.qualified('wl_due')} d LEFT JOIN "
                        f"{store.qualified('wl_cases')} c ON c.case_id = d.case_id"
                        f"{where}{order}", [*params, *scoped], columns)
    for row in rows:
        row["days_overdue"] = _days_overdue(row["due_on"], today)
        if after is not None:
            row["sort_key"] = [row["due_on"], row["case_number"], row["item"]]
        row["item"] = f"{row['case_number']}/{str(row['item']).split('/', 1)[1]}"
    return rows


SCAN_COLUMNS = ("item", "case_number", "kind", "district", "due_on", "description", "owner",
                "reminded_offset", "overdue", "importer_number", "officer", "state")


def due_items_to_watch(store: ViewStore, until: date) -> list[tuple[Any, ...]]:
    """Every open due item falling due by `until`, with its case's importer, officer and
    state, for the scheduler's due scan: one indexed query over the view, never the log.
    Rows are tuples in SCAN_COLUMNS order (a national scan reads 100,000 of them)."""
    selected = ", ".join(f"c.{c}" if c in ("importer_number", "officer", "state") else f"d.{c}"
                         for c in SCAN_COLUMNS)
    return list(store.rows(
        f"SELECT {selected} FROM {store.qualified('wl_due')} d JOIN "
        f"{store.qualified('wl_cases')} c ON c.case_id = d.case_id "
        "WHERE d.done = 0 AND d.due_on <= ? ORDER BY d.district, d.due_on, d.item",
        [until.isoformat()]))


def people(store: ViewStore) -> list[tuple[Any, ...]]:
    """Every user as the people view has them (username, email, enabled, roles,
    districts, importers; lists space-delimited): one query, for the scheduler."""
    return list(store.rows(f"SELECT username, email, enabled, roles, districts, importers "
                           f"FROM {store.qualified('people_users')}"))


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




CASE_TYPE_NAMES = {"assessment": "Assessment", "improvement_plan": "ImprovementPlan",
                   "enforcement_action": "EnforcementAction",
                   "follow_up_verification": "FollowUpVerification"}
"""The work list's kinds of case as the aggregate types `status` names."""
RECORDED = "recorded"
"""The state `status` gives aggregates it counts without a state."""


def status_counts_from_views(store: ViewStore, recorder: ApplicationRecorder, *,
                             districts: frozenset[str] | None = None,
                             importers: frozenset[str] | None = None) -> dict[str, Any]:
    """Aggregates by type and state, and the number of stored events, without replaying
    the log: cases from the work list, importer accounts from the account register, both
    scoped as the lists are. A national reader (no scope) also gets every other aggregate
    type (rules, receipts, seal logs...) counted by its first events with one scan of the
    events table's topics: no view holds them, so they count as "recorded", stateless.
    `events` is the size of the whole log, whatever the scope."""
    clauses, params = scope_clauses(districts, importers)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    by_type: dict[str, Counter[str]] = {}
    for kind, state, count in store.rows(
            f"SELECT kind, state, COUNT(*) FROM {store.qualified('wl_cases')}{where} "
            "GROUP BY kind, state", params):
        by_type.setdefault(CASE_TYPE_NAMES.get(kind, kind), Counter())[state] += int(count)
    for status, count in store.rows(
            f"SELECT status, COUNT(*) FROM {store.qualified('ar_accounts')}{where} "
            "GROUP BY status", params):
        by_type.setdefault("ImporterAccount", Counter())[status] += int(count)
    if districts is None and importers is None:
        others = [kind for kind in ALL_TYPES if kind not in CASE_TYPES]
        for name, count in _first_event_counts(store, recorder, others).items():
            by_type.setdefault(name, Counter())[RECORDED] += count
    return {
        "aggregates": {kind: dict(sorted(counts.items())) for kind, counts in
                       sorted(by_type.items())},
        "totals": {kind: sum(counts.values()) for kind, counts in sorted(by_type.items())},
        "events": recorder.max_notification_id() or 0,
    }


def _events_table(store: ViewStore, recorder: ApplicationRecorder) -> str:
    if isinstance(recorder, SQLiteApplicationRecorder | PostgresApplicationRecorder):
        return store.qualified(recorder.events_table_name)
    raise TypeError(f"no events table known for {type(recorder).__name__}")


def _first_event_counts(store: ViewStore, recorder: ApplicationRecorder,
                        kinds: Iterable[type[Any]]) -> dict[str, int]:
    """How many aggregates of each type were ever created: its version-1 events."""
    names = {topic: kind.__name__ for kind in kinds for topic in event_topics([kind])}
    if not names:
        return {}
    found: Counter[str] = Counter()
    for topic, count in store.rows(
            f"SELECT topic, COUNT(*) FROM {_events_table(store, recorder)} WHERE "
            f"originator_version = 1 AND topic IN ({', '.join('?' for _ in names)}) "
            "GROUP BY topic", list(names)):
        found[names[topic]] += int(count)
    return dict(found)


def latest_versions(store: ViewStore, recorder: ApplicationRecorder,
                    aggregate_ids: Iterable[str]) -> dict[str, int]:
    """Each aggregate's version (its latest stored event), by id as the views write it,
    from the events table's primary key: what a list built from a view needs so that a
    reader can pass --expected-version, without loading the aggregates."""
    table = _events_table(store, recorder)
    postgres = isinstance(recorder, PostgresApplicationRecorder)
    wanted = [UUID(aggregate_id) for aggregate_id in aggregate_ids]
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for raw, version in store.rows(
                f"SELECT originator_id, MAX(originator_version) FROM {table} WHERE "
                f"originator_id IN ({', '.join('?' for _ in chunk)}) GROUP BY originator_id",
                chunk if postgres else [aggregate_id.hex for aggregate_id in chunk]):
            found[str(raw if isinstance(raw, UUID) else UUID(str(raw)))] = int(version)
    return found
