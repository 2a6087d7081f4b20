"""The port for loading several aggregates in one round trip: what is asked for each
aggregate, and what the store hands back (see infrastructure.event_store and the
recorders' `select_histories`).

A command that touches three aggregates used to load each with two queries (its latest
snapshot, then the events after it): six round trips before deciding anything. Through
this port it names every aggregate it needs and gets all their rows from one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent


@dataclass(frozen=True)
class HistoryRequest:
    """One aggregate to load. `ends`: only its first and last events, for an aggregate
    whose state both determine (a case-number sequence, see
    CaseNumberSequence.resumed); otherwise its latest snapshot and the events from the
    snapshot's version on."""

    originator_id: UUID
    ends: bool = False

    @classmethod
    def full(cls, originator_id: UUID) -> HistoryRequest:
        return cls(originator_id)

    @classmethod
    def first_and_last(cls, originator_id: UUID) -> HistoryRequest:
        return cls(originator_id, ends=True)


@dataclass
class StoredHistory:
    """What the store holds for one requested aggregate, as stored rows.

    `events` are in version order. With a snapshot they start at the snapshot's own
    version: that row is not replayed (the snapshot stands for it) but is the chain head
    when nothing came after it, so a save that follows needs no query for its `_prev`
    link. An aggregate the store does not hold has no StoredHistory at all."""

    snapshot: StoredEvent | None = None
    events: list[StoredEvent] = field(default_factory=list)

    @property
    def head(self) -> StoredEvent | None:
        """The newest stored event: the one the next event links to."""
        return self.events[-1] if self.events else None


def histories_from_rows(rows: Iterable[tuple[bool, StoredEvent]]) -> dict[UUID, StoredHistory]:
    """Group (is a snapshot, row) pairs, in any order, by aggregate: each one's snapshot
    and its events in version order, each version once (a first-and-last read of an
    aggregate with one event returns that event twice)."""
    snapshots: dict[UUID, StoredEvent] = {}
    events: dict[UUID, dict[int, StoredEvent]] = {}
    for is_snapshot, row in rows:
        oid = row.originator_id if isinstance(row.originator_id, UUID) else UUID(
            str(row.originator_id))
        if is_snapshot:
            snapshots[oid] = row
        else:
            events.setdefault(oid, {})[row.originator_version] = row
    return {oid: StoredHistory(snapshots.get(oid),
                               [by_version[v] for v in sorted(by_version)])
            for oid, by_version in ((oid, events.get(oid, {}))
                                    for oid in snapshots.keys() | events.keys())}


class ReadsHistories(Protocol):
    """An event store that loads many aggregates' rows in one round trip and notes each
    one's chain head, as its per-aggregate `get` does."""

    def select_histories(self, requests: Sequence[HistoryRequest],
                         snapshots: AggregateRecorder | None) -> dict[UUID, StoredHistory]:
        ...
