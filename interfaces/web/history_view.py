"""How the timeline page reads its URL and shows what application.history returns: the
choices (order, first version shown, as-of version or moment, the two versions compared),
one page of events, and any recorded value as text for a table cell.

A value is shown as the API would send it (msgspec's plain form: dates as ISO text,
amounts as decimal strings, value objects as objects), compact JSON for anything nested;
it is always text to the template, so markup in a reason or a name is escaped there."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from application.history import HistoryEntry
from interfaces.http.audit import plain

PAGE_SIZE = 50
CELL_LIMIT = 400
"""Characters of one changed value shown in the events table (the state panel and the
diff show it whole)."""


@dataclass
class Choices:
    order: str = "newest"
    start: int | None = None
    as_of: int | None = None
    at: datetime | None = None
    at_text: str = ""
    diff: tuple[int, int] | None = None
    errors: list[str] = field(default_factory=list)
    """What could not be read from the URL (the page says so and ignores it)."""

    def params(self, **changes: Any) -> dict[str, str]:
        """The URL query of these choices, some changed (None removes one)."""
        found: dict[str, Any] = {
            "order": None if self.order == "newest" else self.order,
            "start": self.start, "as_of": self.as_of, "at": self.at_text or None,
            "diff": f"{self.diff[0]}..{self.diff[1]}" if self.diff else None}
        found.update(changes)
        return {k: str(v) for k, v in found.items() if v not in (None, "")}


def _version(text: str | None, name: str, errors: list[str]) -> int | None:
    value = (text or "").strip()
    if not value:
        return None
    if value.isdigit() and int(value) >= 1:
        return int(value)
    errors.append(f"{name}: {value[:20]!r} is not a version (1, 2, 3, ...)")
    return None


def _moment(text: str | None, errors: list[str]) -> tuple[datetime | None, str]:
    """A datetime-local value (2026-03-01T10:00) read as UTC, the time every page shows."""
    value = (text or "").strip()
    if not value:
        return None, ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors.append(f"at: {value[:30]!r} is not a moment such as 2026-03-01T10:00")
        return None, ""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), value


def parse_choices(order: str, start: int | None, as_of: str | None, at: str | None,
                  diff_of: str | None, diff_from: str | None,
                  diff_to: str | None) -> Choices:
    errors: list[str] = []
    if order not in ("newest", "oldest"):
        errors.append(f"order: {order[:20]!r} is neither newest nor oldest")
        order = "newest"
    moment, moment_text = _moment(at, errors)
    pair = None
    if diff_from is not None or diff_to is not None:
        first = _version(diff_from, "from", errors)
        second = _version(diff_to, "to", errors)
        pair = (first, second) if first and second else None
    elif diff_of:
        first_text, _, second_text = diff_of.replace(",", "..").partition("..")
        first, second = (_version(first_text, "diff", errors),
                         _version(second_text, "diff", errors))
        pair = (first, second) if first and second else None
    return Choices(order, start, _version(as_of, "as_of", errors) if moment is None else None,
                   moment, moment_text, pair, errors)


def events_page(entries: list[HistoryEntry],
                choices: Choices) -> tuple[list[HistoryEntry], int | None]:
    """One page of events in the chosen order from `start`, and where the next begins.
    Versions run 1..n without a gap (history replays them so), so a page is a slice."""
    total = len(entries)
    if choices.order == "oldest":
        first = max(1, min(choices.start or 1, total + 1))
        chosen = entries[first - 1:first - 1 + PAGE_SIZE]
        following = chosen[-1].version + 1 if chosen and chosen[-1].version < total else None
        return chosen, following
    last = min(choices.start or total, total)
    chosen = list(reversed(entries[max(0, last - PAGE_SIZE):last]))
    following = chosen[-1].version - 1 if chosen and chosen[-1].version > 1 else None
    return chosen, following


def shown(value: Any) -> str:
    """A recorded value as text: — for nothing, text as it is, the rest as JSON."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.isoformat()
    value = plain(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


def _cell(value: Any) -> str:
    text = shown(value)
    return text if len(text) <= CELL_LIMIT else text[:CELL_LIMIT] + " …"


def event_row(entry: HistoryEntry) -> dict[str, Any]:
    return {"version": entry.version, "recorded_at": entry.recorded_at,
            "actor": entry.actor, "event": entry.event, "reason": entry.reason,
            "changes": [(name, _cell(before), _cell(after))
                        for name, (before, after) in entry.changes.items()]}
