"""The audit log a page at a time, newest first: the audit-log view searched by actor,
case and period (as `compliance audit` and GET /api/audit search it), paged by seek on
(time, log position) so page 200 costs what page 1 costs, and an importer's timeline (its own
events and its cases', merged by log position) for its account page.

Reads the view through application.account_page_queries.ViewReader; never the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from application.account_page_queries import Row, ViewReader
from domain.errors import InvalidValueError

COLUMNS = ("notification_id", "recorded_at", "actor", "case_ref", "aggregate", "event",
           "reason")


@dataclass(frozen=True)
class AuditSearch:
    actor: str | None = None
    case: str | None = None
    since: str | None = None
    """ISO timestamp, inclusive."""
    until: str | None = None
    """ISO timestamp, exclusive."""


@dataclass(frozen=True)
class AuditPage:
    rows: list[Row]
    next_before: str | None
    """Where the next (older) page starts: the last row's time and log position
    ("2026-03-01T10:00:00+00:00~1234"); None on the last page."""


def moment(field: str, value: str | None) -> str | None:
    """A day (2026-03-01) or a moment (2026-03-01T10:00, as a datetime-local input sends
    it; UTC unless it names its zone) as the view's ISO text; None for nothing."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValueError(field, text[:40], "expected a date (2026-03-01) or a time "
                                "(2026-03-01T10:00)") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.isoformat()


def _before(cursor: str | None) -> tuple[str, int] | None:
    if not cursor:
        return None
    at, _, position = cursor.rpartition("~")
    try:
        datetime.fromisoformat(at)
    except ValueError:
        at = ""
    if not at or not position.isdigit():
        raise InvalidValueError("before", cursor[:60], "not a position this list gave; "
                                "start again from the newest")
    return at, int(position)


def audit_page(reader: ViewReader, search: AuditSearch, *, limit: int = 50,
               before: str | None = None) -> AuditPage:
    """Newest first by the time recorded (then by log position): the order the view's
    indexes on (actor, time) and (time) give, so a search by actor or period reads a page
    off an index; a case's events are few, sorted as read."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, operator, value in (("actor", "=", search.actor),
                                    ("case_ref", "=", search.case),
                                    ("recorded_at", ">=", search.since),
                                    ("recorded_at", "<", search.until)):
        if value:
            clauses.append(f"{column} {operator} ?")
            params.append(value)
    after = _before(before)
    if after is not None:
        clauses.append("(recorded_at < ? OR (recorded_at = ? AND notification_id < ?))")
        params += [after[0], after[0], after[1]]
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    found = reader.rows(f"SELECT {', '.join(COLUMNS)} FROM {reader.qualified('al_events')}"
                        f"{where} ORDER BY recorded_at DESC, notification_id DESC LIMIT ?",
                        [*params, limit + 1])
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in found[:limit]]
    following = None
    if len(found) > limit:
        following = f"{rows[-1]['recorded_at']}~{rows[-1]['notification_id']}"
    return AuditPage(rows, following)


def timeline_of(reader: ViewReader, case_refs: Sequence[str], limit: int = 15) -> list[Row]:
    """The newest events of these cases (an importer and the cases on its file), merged."""
    refs = sorted(set(case_refs))[:500]
    if not refs:
        return []
    found = reader.rows(
        f"SELECT {', '.join(COLUMNS)} FROM {reader.qualified('al_events')} WHERE case_ref IN "
        f"({', '.join('?' for _ in refs)}) ORDER BY notification_id DESC LIMIT ?",
        [*refs, limit])
    return [dict(zip(COLUMNS, row, strict=True)) for row in found]
