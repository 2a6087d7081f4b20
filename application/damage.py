"""Damaged histories: what is wrong with a case whose stored events cannot be replayed.

A case whose events are missing, out of order, of an unknown type or undecodable (or
whose snapshot is) cannot be shown or changed. Every path that replays stored events
(loading a case, an auditor's history, whole-log lists) reports it as one
`DamagedHistoryError` naming the case by its number and the first bad version, never as
the library's exception. `compliance verify` then says what else was altered.
"""

from __future__ import annotations

import json
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.persistence import AggregateRecorder, Mapper, PersistenceError, StoredEvent
from eventsourcing.utils import TopicError

from application.errors import DamagedHistoryError

_NUMBER_FIELDS = ("number", "importer_number")


class ReplayError(Exception):
    """The first stored event (or snapshot) of an aggregate that cannot be replayed."""

    def __init__(self, version: int | None, detail: str) -> None:
        super().__init__(version, detail)
        self.version, self.detail = version, detail


def _reason(error: BaseException) -> str:
    """The underlying cause in a few words (the mapper wraps decoding errors)."""
    cause = error.__cause__ or error
    text = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def originator_uuid(stored: StoredEvent) -> UUID:
    """Stored ids are UUIDs on PostgreSQL and may be strings elsewhere."""
    originator_id = stored.originator_id
    return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))


def decode_stored(mapper: Mapper[UUID], stored: StoredEvent,
                  what: str) -> CanMutateAggregate[UUID]:
    """The domain event of a stored event or snapshot, or ReplayError saying why not."""
    try:
        return cast(CanMutateAggregate[UUID], mapper.to_domain_event(stored))
    except TopicError:
        raise ReplayError(stored.originator_version,
                          f"{what} has an unknown type {stored.topic!r}") from None
    except PersistenceError:
        raise
    except Exception as error:
        raise ReplayError(stored.originator_version,
                          f"{what} cannot be decoded ({_reason(error)})") from error


def replay_step(mapper: Mapper[UUID], stored: StoredEvent,
                aggregate: Any) -> tuple[CanMutateAggregate[UUID], Any]:
    """Decode one stored event and apply it to `aggregate` (None before the first), or
    raise `ReplayError` naming the version that is missing, out of order or unreadable."""
    expected = 1 if aggregate is None else int(aggregate.version) + 1
    version = stored.originator_version
    if version > expected:
        missing = "event" if version == expected + 1 else f"events {expected}-{version - 1}"
        raise ReplayError(expected, f"{missing} missing (the next stored event is version "
                                    f"{version})")
    if version < expected:
        raise ReplayError(version, f"event out of order (after version {expected - 1})")
    event = decode_stored(mapper, stored, "event")
    try:
        return event, event.mutate(aggregate)
    except Exception as error:
        raise ReplayError(version, f"event cannot be applied ({_reason(error)})") from error


def diagnose(events: AggregateRecorder, snapshots: AggregateRecorder | None,
             mapper: Mapper[UUID], aggregate_id: UUID,
             version: int | None = None) -> ReplayError | None:
    """Replay an aggregate from its stored records as the repository does (latest
    snapshot, then the events after it), then from its first event; the first problem
    found, or None when the stored history replays."""
    if snapshots is not None:
        records = snapshots.select_events(aggregate_id, desc=True, limit=1, lte=version)
        if records:
            snapshot = records[0]
            try:
                restored = decode_stored(mapper, snapshot, "snapshot").mutate(None)
            except ReplayError as damage:
                return damage
            except Exception as error:
                return ReplayError(snapshot.originator_version,
                                   f"snapshot cannot be applied ({_reason(error)})")
            found = _walk(events, mapper, aggregate_id, restored,
                          snapshot.originator_version, version)
            if found is not None:
                return found
    return _walk(events, mapper, aggregate_id, None, None, version)


def _walk(events: AggregateRecorder, mapper: Mapper[UUID], aggregate_id: UUID,
          aggregate: Any, after: int | None, version: int | None) -> ReplayError | None:
    try:
        for stored in events.select_events(aggregate_id, gt=after, lte=version):
            _, aggregate = replay_step(mapper, stored, aggregate)
    except ReplayError as damage:
        return damage
    return None


def damaged_history(events: AggregateRecorder, mapper: Mapper[UUID], aggregate_id: UUID,
                    damage: ReplayError, label: str | None = None) -> DamagedHistoryError:
    """The error for a damaged aggregate, named by `label` (the number the command was
    given) or else by the number its first event records."""
    return DamagedHistoryError(label or label_of(events, mapper, aggregate_id),
                               damage.version, damage.detail)


def label_of(events: AggregateRecorder, mapper: Mapper[UUID], aggregate_id: UUID) -> str:
    """How people name an aggregate: its number (CA-2026-00001, IP-..., the importer
    number, TR-...) from its first event (or what else names it: a number sequence, an
    idempotency key, an import batch's file), else its type and id."""
    try:
        first = events.select_events(aggregate_id, limit=1)
    except PersistenceError:
        return str(aggregate_id)
    if not first:
        return str(aggregate_id)
    stored = first[0]
    kind = stored.topic.rpartition(":")[2].partition(".")[0]
    fields = _fields(mapper, stored) if stored.originator_version == 1 else {}
    number = next((fields[name] for name in _NUMBER_FIELDS
                   if isinstance(fields.get(name), str)), None)
    if number is None:
        if isinstance(fields.get("prefix"), str) and isinstance(fields.get("year"), int):
            return f"{fields['prefix']}-{fields['year']} number sequence"
        if kind == "CommandReceipt" and isinstance(fields.get("key"), str):
            return f"idempotency key {fields['key']}"
        if kind == "ImportBatch" and isinstance(fields.get("file_name"), str):
            return f"import batch {fields['file_name']} ({aggregate_id})"
        return f"{kind} {aggregate_id}" if kind else str(aggregate_id)
    if kind == "ImporterCaseFile":
        return f"case file of importer {number}"
    return str(number)


def _fields(mapper: Mapper[UUID], stored: StoredEvent) -> dict[str, Any]:
    """The first event's fields, decoded if it can be, else read as plain JSON."""
    try:
        return dict(vars(mapper.to_domain_event(stored)))
    except PersistenceError:
        raise
    except Exception:  # a damaged first event: read it as plain JSON below
        pass
    try:
        raw = json.loads(stored.state)
    except (ValueError, UnicodeDecodeError):
        return {}
    return raw if isinstance(raw, dict) else {}
