"""Audit log: every event of every case (time, actor, case, event, reason), searchable by
actor, case and period. It must see every event, so an undecodable one stops it."""

from __future__ import annotations

from typing import Any, ClassVar

from projections.rows import Lookup, Rows
from projections.view import CODE_POINTS, Handler, View, iso_time

CASES, EVENTS = "al_cases", "al_events"


class AuditLog(View):
    name = "audit_log"
    handles_everything = True
    tables: ClassVar[dict[str, str]] = {
        "al_cases": f"case_id TEXT {CODE_POINTS} PRIMARY KEY, case_ref TEXT NOT NULL",
        "al_events": (f"notification_id BIGINT PRIMARY KEY, "
                      f"recorded_at TEXT {CODE_POINTS} NOT NULL, "
                      f"actor TEXT {CODE_POINTS} NOT NULL, case_id TEXT NOT NULL, "
                      f"case_ref TEXT {CODE_POINTS} NOT NULL, "
                      "aggregate TEXT NOT NULL, event TEXT NOT NULL, reason TEXT NOT NULL"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("al_events_actor", "al_events", "actor, recorded_at"),
        ("al_events_case", "al_events", "case_ref, notification_id"),
        ("al_events_time", "al_events", "recorded_at"),
    )
    appended: ClassVar[frozenset[str]] = frozenset({EVENTS})
    reads: ClassVar[frozenset[str] | None] = frozenset(
        {"timestamp", "actor", "reason", "number", "importer_number", "originator_topic"})
    handlers: ClassVar[dict[type[Any], Handler]] = {}

    @staticmethod
    def on_any_event(rows: Rows, event: Any, notification_id: int) -> None:
        """One row per event; a case is named by its number (or importer number) from
        the event that created it on, else by its id. (Runs for every event of a
        rebuild, hence written for speed.)"""
        fields = vars(event)
        case_id = str(event.originator_id)
        own_ref = fields.get("number") or fields.get("importer_number")
        default = case_id
        if own_ref and "originator_topic" in fields:  # the case's creation
            own_ref = default = str(own_ref)
            rows.insert(CASES, (case_id, own_ref))
        aggregate, name = _names(type(event))
        rows.insert(EVENTS, (
            notification_id, iso_time(fields["timestamp"]), str(fields.get("actor", "")),
            case_id,
            Lookup(CASES, case_id, "case_ref", default), aggregate, name,
            str(fields.get("reason", ""))))


_NAMES: dict[type, tuple[str, str]] = {}


def _names(kind: type) -> tuple[str, str]:
    """An event class's aggregate and event names ("Assessment", "Opened"), worked out
    once per class."""
    found = _NAMES.get(kind)
    if found is None:
        aggregate, _, name = kind.__qualname__.partition(".")
        found = _NAMES[kind] = (aggregate, name or aggregate)
    return found
