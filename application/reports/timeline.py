"""How a dossier writes values and changes for a human reader (a court, an oversight body):
the timeline reuses application.history (who, when, which event, why, which fields changed)
and this module turns its Python values into short plain text.

Why its own rules and not the CLI's one-line JSON: a printed page must name cases by their
numbers rather than ids, show an appended sample as "added: ..." rather than the whole
list of 1,000 samples again, and say so when it shortens anything (the full values are in
the attached events.json); nothing is dropped silently.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from application.history import REDACTED, HistoryEntry, redacted
from domain.user import SECRET_FIELDS

MAX_CHANGE = 400
"""Characters of one changed field printed before it is shortened (and says so)."""
HIDDEN_FIELDS = frozenset({"modified_on", "created_on", "version", "id", "importer_id"})
"""Bookkeeping every event changes (the timeline's time and version say it), and the raw
importer id (its number is printed beside it)."""
_NOT_STATE = frozenset({"_id", "_pending_events"})
_EVENT_META = frozenset({"originator_id", "originator_version", "timestamp", "actor",
                         "reason", "originator_topic"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def when(moment: datetime) -> str:
    """A recorded time to the second, in UTC, saying so."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def event_title(qualname: str) -> str:
    """`Assessment.SampleTestRecorded` -> `Sample test recorded`."""
    name = qualname.rsplit(".", 1)[-1]
    words = _CAMEL.sub(" ", name).lower()
    return words[:1].upper() + words[1:]


def field_title(name: str) -> str:
    return name.replace("_", " ")


def history_until(app: ComplianceCases, aggregate_id: UUID, version: int,
                  label: str) -> list[HistoryEntry]:
    """application.history's entries (who, when, which event, why, the event's own data
    redacted, which fields changed) for versions 1..`version` only, with each change as the
    raw (old, new) pair: `describe_change` redacts what it prints. history() redacts whole
    states before comparing them, which for an aggregate that appends to a tuple (a
    thousand samples) costs time quadratic in its events; the printed text is the same."""
    entries: list[HistoryEntry] = []
    before: dict[str, Any] = {}
    for event, aggregate in app.replay_history(aggregate_id, label=label):
        if event.originator_version > version:
            break
        after = {name.lstrip("_"): value for name, value in vars(aggregate).items()
                 if name not in _NOT_STATE}
        keys = [*after, *(k for k in before if k not in after)]
        fields = vars(event)
        entries.append(HistoryEntry(
            version=event.originator_version, recorded_at=event.timestamp,
            actor=str(fields.get("actor", "")), event=type(event).__qualname__,
            reason=str(fields.get("reason", "")),
            data=redacted({k: v for k, v in fields.items() if k not in _EVENT_META}),
            changes={k: (before.get(k), after.get(k)) for k in keys
                     if k not in HIDDEN_FIELDS and before.get(k) != after.get(k)}))
        before = after
    if not entries:
        raise NotFoundError("case", label)
    return entries


def plain(value: Any, names: Mapping[UUID, str] | None = None) -> str:
    """A value as short text: enums by their value, money and rates as written, dates in
    ISO form, ids by the case or importer number they stand for, value objects as
    `field: value` pairs (empty ones left out), sequences joined by "; "."""
    names = names or {}
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    if isinstance(value, UUID):
        return names.get(value, f"id {value}")
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date | Decimal | int | float | str):
        return value.isoformat() if isinstance(value, date) else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = [f"{field_title(f.name)}: {plain(getattr(value, f.name), names)}"
                 for f in dataclasses.fields(value) if getattr(value, f.name) is not None]
        return ", ".join(parts)
    if isinstance(value, Mapping):
        return "; ".join(f"{plain(k, names)}: {plain(v, names)}" for k, v in
                         value.items()) if value else "none"
    if isinstance(value, list | tuple | set | frozenset):
        return "; ".join(plain(v, names) for v in value) if value else "none"
    return str(value)


def shortened(text: str, limit: int = MAX_CHANGE) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters in events.json)"


def describe_change(old: Any, new: Any, names: Mapping[UUID, str] | None = None) -> str:
    """One changed field: an appended item as "added: ...", a removed one as "removed:
    ...", a sequence whose items changed by the items that changed, else "old → new"
    (just the new value when there was none). What is printed is redacted as history
    redacts it (only the printed part: a sequence is not redacted whole per event)."""

    def text(value: Any) -> str:
        return plain(redacted(value), names)

    if isinstance(old, tuple) and isinstance(new, tuple):
        if len(new) > len(old) and new[:len(old)] == old:
            return shortened("added: " + text(new[len(old):]))
        if len(new) < len(old) and all(item in old for item in new):
            return shortened("removed: " + text(tuple(i for i in old if i not in new)))
        if len(new) == len(old):
            changed = [f"{text(a)} → {text(b)}" for a, b in zip(old, new, strict=True)
                       if a != b]
            return shortened("; ".join(changed))
    if old is None or old == () or old == {}:
        return shortened(text(new))
    return shortened(f"{text(old)} → {text(new)}")


@dataclasses.dataclass(frozen=True)
class TimelineRow:
    position: int
    """The event's notification id: its place in the whole log."""
    case: str
    version: int
    time: str
    actor: str
    event: str
    reason: str
    changes: tuple[tuple[str, str], ...]

    @property
    def text(self) -> str:
        """The entry as the dossier prints it: a heading line, the reason, one line per
        changed field."""
        heading = (f"{self.event} · {self.time} · {self.actor} · {self.case} version "
                   f"{self.version} · log position {self.position:,}")
        lines = [heading, f"Reason: {self.reason}",
                 *(f"{field}: {change}" for field, change in self.changes)]
        return "\n".join(lines)


def _empty(value: Any) -> bool:
    return value is None or value == () or value == {} or value is False


def timeline_row(entry: HistoryEntry, *, position: int, case: str,
                 names: Mapping[UUID, str]) -> TimelineRow:
    """One entry of the timeline; fields that start out empty (no tests, no findings) are
    left out of a case's first event rather than listed as "none"."""
    changes = tuple(
        (field_title(key), REDACTED if key in SECRET_FIELDS and new is not None
         else describe_change(old, new, names))
        for key, (old, new) in entry.changes.items()
        if key not in HIDDEN_FIELDS and not (entry.version == 1 and _empty(new)))
    return TimelineRow(position, case, entry.version, when(entry.recorded_at), entry.actor,
                       event_title(entry.event), entry.reason, changes)
