"""Set-wise reads for the periodic reports that no command needed before: the year's
trade and sample totals, enforcement actions proposed in a year, plans closed in a year
(from the audit log's event names and times), district activity, and where the selection
plans are. Each is one GROUP BY over a view or an ingestion table, so a national report
reads aggregates, never the log. Times compare as ISO text over half-open ranges
[first day, day after the last), which both stores order the same way."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from projections.queries import Row
from projections.stores import ViewStore


def _range(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year + 1:04d}-01-01"


def trade_by_year(store: ViewStore, last_year: int) -> list[Row]:
    """Entries, lines, value and duty of every loaded year up to `last_year`."""
    rows = store.rows(
        "SELECT substr(period, 1, 4), SUM(entries), SUM(lines), SUM(entered_value_cents), "
        f"SUM(duty_paid_cents), COUNT(DISTINCT importer_number) FROM "
        f"{store.qualified('trade_activity')} WHERE period <= ? GROUP BY substr(period, 1, 4) "
        "ORDER BY 1", [f"{last_year:04d}-12"])
    return [{"year": int(year), "entries": int(entries), "lines": int(lines),
             "value_cents": int(value), "duty_cents": int(duty), "importers": int(importers)}
            for year, entries, lines, value, duty, importers in rows]


def sample_cells(store: ViewStore, year: int) -> list[tuple[Any, ...]]:
    """Examined lines of the year by chapter, importer's district, selection and area:
    (chapter, district, selection, area, lines, discrepancies, loss cents, value cents)."""
    first, after = _range(year)
    return store.rows(
        "SELECT substr(s.hs_code, 1, 2), COALESCE(a.district, ''), s.selection, "
        "COALESCE(s.discrepancy_type, ''), COUNT(*), SUM(CAST(s.discrepancy AS INTEGER)), "
        "SUM(s.revenue_loss_cents), SUM(s.entered_value_cents) "
        f"FROM {store.qualified('compliance_samples')} s LEFT JOIN "
        f"{store.qualified('ar_accounts')} a ON a.importer_number = s.importer_number "
        "WHERE s.exam_date >= ? AND s.exam_date < ? "
        "GROUP BY substr(s.hs_code, 1, 2), COALESCE(a.district, ''), s.selection, "
        "COALESCE(s.discrepancy_type, '')", [first, after])


def enforcement_in_year(store: ViewStore, year: int) -> list[Row]:
    first, after = _range(year)
    columns = ["number", "kind", "state", "district", "proposed_cents", "decided_cents",
               "paid_cents", "days_to_decision"]
    return [dict(zip(columns, row, strict=True)) for row in store.rows(
        f"SELECT {', '.join(columns)} FROM {store.qualified('es_actions')} "
        "WHERE proposed_on >= ? AND proposed_on < ? ORDER BY number", [first, after])]


def plan_closures(store: ViewStore, year: int) -> list[Row]:
    """Improvement plans closed effective or escalated in the year, per district."""
    first, after = _range(year)
    rows = store.rows(
        f"SELECT c.district, e.event, COUNT(*) FROM {store.qualified('al_events')} e "
        f"JOIN {store.qualified('wl_cases')} c ON c.case_id = e.case_id "
        "WHERE e.recorded_at >= ? AND e.recorded_at < ? AND e.aggregate = 'ImprovementPlan' "
        "AND e.event IN ('ClosedEffective', 'Escalated') GROUP BY c.district, e.event "
        "ORDER BY 1, 2", [first, after])
    return [{"district": district, "outcome": event, "plans": int(count)}
            for district, event, count in rows]


def district_activity(store: ViewStore, year: int) -> list[Row]:
    """Per district: registered importers, the year's trade value, assessments opened."""
    first, after = _range(year)
    found: dict[str, Row] = {}

    def row(district: str) -> Row:
        return found.setdefault(district, {"district": district, "importers": 0,
                                           "value_cents": 0, "assessments_opened": 0})
    for district, count in store.rows(
            f"SELECT district, COUNT(*) FROM {store.qualified('ar_accounts')} "
            "GROUP BY district"):
        row(district)["importers"] = int(count)
    for district, value in store.rows(
            f"SELECT a.district, SUM(t.entered_value_cents) FROM "
            f"{store.qualified('trade_activity')} t JOIN {store.qualified('ar_accounts')} a "
            "ON a.importer_number = t.importer_number WHERE t.period >= ? AND t.period <= ? "
            "GROUP BY a.district", [f"{year:04d}-01", f"{year:04d}-12"]):
        row(district)["value_cents"] = int(value or 0)
    for district, count in store.rows(
            f"SELECT district, COUNT(*) FROM {store.qualified('wl_cases')} WHERE "
            "kind = 'assessment' AND opened_on >= ? AND opened_on < ? GROUP BY district",
            [first, after]):
        row(district)["assessments_opened"] = int(count)
    return [found[key] for key in sorted(found)]


def findings_in_year(store: ViewStore, year: int) -> list[Row]:
    """Findings of assessments and verification re-tests issued in the year."""
    rows = store.rows(
        "SELECT source, area, SUM(lines), SUM(discrepancies), SUM(loss_cents), COUNT(*) "
        f"FROM {store.qualified('cs_findings')} WHERE period >= ? AND period <= ? "
        "GROUP BY source, area ORDER BY source, area", [f"{year:04d}-01", f"{year:04d}-12"])
    return [{"source": source, "area": area, "lines": int(lines),
             "discrepancies": int(errors), "loss_cents": int(loss), "findings": int(count)}
            for source, area, lines, errors, loss, count in rows]


def selection_plan_ids(store: ViewStore) -> list[str]:
    """Every recorded selection plan's aggregate id, the latest first."""
    return [str(row[0]) for row in store.rows(
        f"SELECT case_id FROM {store.qualified('al_events')} WHERE "
        "aggregate = 'SelectionPlan' AND event = 'Planned' ORDER BY notification_id DESC")]


def recorded_at(store: ViewStore, position: int) -> str | None:
    """The time of the last event at or before `position`, as the audit log has it."""
    found = store.rows(
        f"SELECT recorded_at FROM {store.qualified('al_events')} WHERE notification_id <= ? "
        "ORDER BY notification_id DESC LIMIT 1", [position])
    return str(found[0][0]) if found else None


def verifications_due(store: ViewStore, until: date, district: str | None) -> list[Row]:
    """Open follow-up verifications due by `until` (overdue ones included)."""
    params: list[Any] = [(until + timedelta(days=1)).isoformat()]
    where = ""
    if district is not None:
        where = " AND district = ?"
        params.append(district)
    columns = ["number", "importer_number", "district", "officer", "state", "due_on"]
    return [dict(zip(columns, row, strict=True)) for row in store.rows(
        f"SELECT {', '.join(columns)} FROM {store.qualified('wl_cases')} WHERE closed = 0 "
        "AND kind = 'follow_up_verification' AND due_on IS NOT NULL AND due_on < ?"
        f"{where} ORDER BY due_on, number", params)]
