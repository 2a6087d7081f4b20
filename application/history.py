"""What auditors see: every event of a case or a user (who, when, what, why, which fields
changed), the state as of a version or a moment, and a field-by-field diff between two
versions. A credential's hash (domain.user.SECRET_FIELDS, wherever it sits in an event or
a state, nested in a token grant included) is shown as "<redacted>": history is for
reading by auditors, and a hash is still something to guess passwords against."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from application.compliance_cases import ComplianceCases
from application.errors import NotFoundError
from domain.case_numbers import case_id, is_case_number
from domain.errors import InvalidValueError
from domain.importer_account import importer_account_id
from domain.user import SECRET_FIELDS, parse_username, user_id
from domain.values import parse_importer_number

_HIDDEN = {"_id", "_pending_events"}
_EVENT_META = {"originator_id", "originator_version", "timestamp", "actor", "reason",
               "originator_topic"}
REDACTED = "<redacted>"
_USER_PREFIX = "user:"


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    recorded_at: datetime
    actor: str
    event: str
    reason: str
    data: dict[str, Any]
    changes: dict[str, tuple[Any, Any]]


def redacted(value: Any) -> Any:
    """`value` with every secret field (at any depth: dicts, value objects, lists) replaced
    by "<redacted>"; a value object holding one becomes a dict of its fields."""
    if isinstance(value, dict):
        return {k: REDACTED if k in SECRET_FIELDS and v is not None else redacted(v)
                for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value)]
        if SECRET_FIELDS & set(names):
            return redacted({name: getattr(value, name) for name in names})
        return value
    if isinstance(value, list | tuple):
        items = [redacted(v) for v in value]
        return items if isinstance(value, list) or any(
            a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def resolve_case(key: str) -> UUID:
    """A case number, an importer number, `user:NAME` or a raw id all name one aggregate."""
    text = key.strip()
    if text.lower().startswith(_USER_PREFIX):
        return user_id(parse_username(text[len(_USER_PREFIX):], "user"))
    if is_case_number(text):
        return case_id(text)
    try:
        return importer_account_id(parse_importer_number(text))
    except InvalidValueError:
        pass
    try:
        return UUID(text)
    except ValueError:
        raise InvalidValueError(
            "case", key, "not a case number (CA-2026-00042), importer number "
            "(12-3456789AB), user (user:NAME) or id") from None


def _raw_state(aggregate: Aggregate) -> dict[str, Any]:
    return {name.lstrip("_"): value for name, value in vars(aggregate).items()
            if name not in _HIDDEN}


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    """Every attribute of an aggregate, secrets redacted."""
    state: dict[str, Any] = redacted(_raw_state(aggregate))
    return state


def _side(field: str, value: Any) -> Any:
    if field in SECRET_FIELDS:
        return None if value is None else REDACTED
    return redacted(value)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields that differ, compared before redaction (so a new password shows as changed,
    `<redacted> -> <redacted>`), each side then redacted."""
    keys = [k for k in after if k not in ("version", "modified_on")]
    keys += [k for k in before if k not in after]
    return {k: (_side(k, before.get(k)), _side(k, after.get(k))) for k in keys
            if before.get(k) != after.get(k)}


def case_label(key: str) -> str | None:
    """The number a case was asked for by, as it is written (CA-2026-00001, 12-3456789AB,
    user:NAME), or None for a raw id."""
    text = key.strip()
    if text.lower().startswith(_USER_PREFIX):
        return _USER_PREFIX + parse_username(text[len(_USER_PREFIX):], "user")
    if is_case_number(text):
        return text.upper()
    try:
        return parse_importer_number(text)
    except InvalidValueError:
        return None


def history(app: ComplianceCases, aggregate_id: UUID,
            label: str | None = None) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    before: dict[str, Any] = {}
    for event, aggregate in app.replay_history(aggregate_id, label=label):
        after = _raw_state(aggregate)
        fields = vars(event)
        entries.append(HistoryEntry(
            version=event.originator_version, recorded_at=event.timestamp,
            actor=str(fields.get("actor", "")), event=type(event).__qualname__,
            reason=str(fields.get("reason", "")),
            data=redacted({k: v for k, v in fields.items() if k not in _EVENT_META}),
            changes=changed_fields(before, after)))
        before = after
    if not entries:
        raise NotFoundError("case", aggregate_id)
    return entries


def recent_events(app: ComplianceCases, aggregate_id: UUID, limit: int,
                  label: str | None = None) -> list[HistoryEntry]:
    """The newest `limit` events, newest first, read straight from the store (no replay):
    what a case page shows beside the case. Their changed fields are left empty; the
    timeline (`history`) computes those."""
    events = list(app.events.get(aggregate_id, desc=True, limit=limit))
    if not events:
        raise NotFoundError("case", label or aggregate_id)
    entries = []
    for event in events:
        fields = vars(event)
        entries.append(HistoryEntry(
            version=event.originator_version, recorded_at=fields["timestamp"],
            actor=str(fields.get("actor", "")), event=type(event).__qualname__,
            reason=str(fields.get("reason", "")),
            data=redacted({k: v for k, v in fields.items() if k not in _EVENT_META}),
            changes={}))
    return entries


def state_as_of(app: ComplianceCases, aggregate_id: UUID, version: int | None = None,
                moment: datetime | None = None, label: str | None = None) -> dict[str, Any]:
    """State after `version`, or after the last event recorded at or before `moment`."""
    return state_of(_aggregate_at(app, aggregate_id, version, moment, label))


def _aggregate_at(app: ComplianceCases, aggregate_id: UUID, version: int | None,
                  moment: datetime | None, label: str | None) -> Aggregate:
    if moment is not None:
        if moment.tzinfo is None:
            raise InvalidValueError("as_of", moment.isoformat(), "give a timezone, e.g. +00:00")
        eligible = [e.version for e in history(app, aggregate_id, label)
                    if e.recorded_at <= moment]
        if not eligible:
            raise NotFoundError("state before", moment.isoformat())
        version = eligible[-1]
    if version is not None and version < 1:
        raise InvalidValueError("version", version, "versions start at 1")
    try:
        found = app.load_aggregate(aggregate_id, version=version, label=label)
    except AggregateNotFoundError:
        raise NotFoundError("case", label or aggregate_id) from None
    if version is not None and found.version != version:
        raise NotFoundError(f"version {version} of case",
                            f"{label or aggregate_id} (its latest is version {found.version})")
    return found


def diff(app: ComplianceCases, aggregate_id: UUID, first: int, second: int,
         label: str | None = None) -> dict[str, tuple[Any, Any]]:
    return changed_fields(_raw_state(_aggregate_at(app, aggregate_id, first, None, label)),
                          _raw_state(_aggregate_at(app, aggregate_id, second, None, label)))
