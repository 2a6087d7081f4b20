"""Audit log: every event of every case (time, actor, case, event, reason), searchable by
actor, case and period. It must see every event, so an undecodable one stops it."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import DomainEventProtocol

from projections.view import Handler, Statement, View, iso

_NUMBER_FIELDS = ("number", "importer_number")

RECORD = ("INSERT INTO {al_events} (notification_id, recorded_at, actor, case_id, case_ref, "
          "aggregate, event, reason) VALUES (?, ?, ?, ?, COALESCE((SELECT case_ref FROM "
          "{al_cases} WHERE case_id = ?), ?), ?, ?, ?) ON CONFLICT (notification_id) DO NOTHING")
NAME_CASE = ("INSERT INTO {al_cases} (case_id, case_ref) VALUES (?, ?) "
             "ON CONFLICT (case_id) DO NOTHING")


class AuditLog(View):
    name = "audit_log"
    handles_everything = True
    tables: ClassVar[dict[str, str]] = {
        "al_cases": "case_id TEXT PRIMARY KEY, case_ref TEXT NOT NULL",
        "al_events": ("notification_id BIGINT PRIMARY KEY, recorded_at TEXT NOT NULL, "
                      "actor TEXT NOT NULL, case_id TEXT NOT NULL, case_ref TEXT NOT NULL, "
                      "aggregate TEXT NOT NULL, event TEXT NOT NULL, reason TEXT NOT NULL"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("al_events_actor", "al_events", "actor, recorded_at"),
        ("al_events_case", "al_events", "case_ref, notification_id"),
        ("al_events_time", "al_events", "recorded_at"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {}

    def on_any_event(self, event: DomainEventProtocol[Any],
                     notification_id: int) -> list[Statement]:
        fields = vars(event)
        case_id = str(event.originator_id)
        statements = []
        created = "originator_topic" in fields
        own_ref = next((str(fields[f]) for f in _NUMBER_FIELDS if fields.get(f)), None)
        if own_ref and created:
            statements.append(Statement(NAME_CASE, (case_id, own_ref)))
        aggregate, _, name = type(event).__qualname__.partition(".")
        statements.append(Statement(RECORD, (
            notification_id, iso(fields["timestamp"]), str(fields.get("actor", "")), case_id,
            case_id, (own_ref if created else None) or case_id, aggregate, name or aggregate,
            str(fields.get("reason", "")))))
        return statements
