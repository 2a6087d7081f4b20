"""An event store that links each aggregate's events into a hash chain and signs every
commit on write (see infrastructure.hash_chain).

The predecessor's hash normally comes from a small in-process cache filled when an
aggregate is loaded or saved (a command always loads before it saves); on a miss it is
read from the store. A cache entry is written only after a successful commit, so a failed
save can never leave a wrong link behind.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    Notification,
    PersistenceError,
    Recording,
    StoredEvent,
)

from application.histories import HistoryRequest, StoredHistory
from infrastructure.hash_chain import (
    GENESIS,
    commit_digest,
    content_hash,
    event_hash,
    with_signature,
)
from infrastructure.mapper import MsgspecMapper
from infrastructure.signing_keys import LazySigner


class ChainHeadCache:
    """Bounded LRU of (aggregate id) -> (version, hash) of the latest known event."""

    def __init__(self, maxsize: int = 100_000) -> None:
        self._heads: OrderedDict[UUID | str, tuple[int, str]] = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()

    def get(self, originator_id: UUID | str, version: int) -> str | None:
        with self._lock:
            head = self._heads.get(originator_id)
            if head is None or head[0] != version:
                return None
            self._heads.move_to_end(originator_id)
            return head[1]

    def put(self, originator_id: UUID | str, version: int, digest: str) -> None:
        with self._lock:
            current = self._heads.get(originator_id)
            if current is not None and current[0] > version:
                return
            self._heads[originator_id] = (version, digest)
            self._heads.move_to_end(originator_id)
            while len(self._heads) > self._maxsize:
                self._heads.popitem(last=False)


class ChainBrokenError(PersistenceError):
    """A save found its aggregate's predecessor event missing from the store."""


class ChainedEventStore(EventStore[UUID]):
    def __init__(self, mapper: MsgspecMapper, recorder: AggregateRecorder,
                 signer: LazySigner, heads: ChainHeadCache | None = None) -> None:
        super().__init__(mapper=mapper, recorder=recorder)
        self.chained_mapper = mapper
        self.signer = signer
        self.heads = heads or ChainHeadCache()

    def put(self, domain_events: Sequence[DomainEventProtocol[UUID]],
            **kwargs: Any) -> list[Recording[UUID]]:
        """`known_heads` (aggregate id -> (version, hash) of its latest stored event) lets
        a bulk append to many aggregates link its events without reading each head."""
        batch_heads: dict[UUID | str, tuple[int, str]] = dict(kwargs.pop("known_heads", {}))
        stored_events: list[StoredEvent] = []
        hashes: list[str] = []
        for domain_event in domain_events:
            originator_id: UUID | str = domain_event.originator_id
            version = domain_event.originator_version
            prev = self._predecessor_hash(originator_id, version, batch_heads)
            stored = self.chained_mapper.to_stored_event(domain_event, prev_hash=prev)
            stored_events.append(stored)
            digest = content_hash(stored.topic, originator_id, version, stored.state)
            hashes.append(digest)
            batch_heads[originator_id] = (version, digest)
        if stored_events:
            last = stored_events[-1]
            signature = self.signer.sign(commit_digest(hashes))
            stored_events[-1] = StoredEvent(
                originator_id=last.originator_id, originator_version=last.originator_version,
                topic=last.topic, state=with_signature(last.state, len(hashes), signature))
        notification_ids = self.recorder.insert_events(stored_events, **kwargs)
        for originator_id, (version, digest) in batch_heads.items():
            self.heads.put(originator_id, version, digest)
        if not notification_ids:
            return []
        return [
            Recording(event, Notification(originator_id=s.originator_id,
                                          originator_version=s.originator_version,
                                          topic=s.topic, state=s.state, id=n_id))
            for event, s, n_id in zip(domain_events, stored_events, notification_ids,
                                      strict=True)
        ]

    def _predecessor_hash(self, originator_id: UUID | str, version: int,
                          batch_heads: dict[UUID | str, tuple[int, str]]) -> str:
        if version == 1:
            return GENESIS
        in_batch = batch_heads.get(originator_id)
        if in_batch is not None and in_batch[0] == version - 1:
            return in_batch[1]
        cached = self.heads.get(originator_id, version - 1)
        if cached is not None:
            return cached
        previous = self.recorder.select_events(originator_id, lte=version - 1, desc=True,
                                               limit=1)
        if not previous or previous[0].originator_version != version - 1:
            msg = (f"aggregate {originator_id}: cannot record version {version}: version "
                   f"{version - 1} is missing from the store; nothing was written — run "
                   "compliance verify")
            raise ChainBrokenError(msg)
        head = previous[0]
        return event_hash(head.topic, originator_id, head.originator_version, head.state)

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[DomainEventProtocol[UUID]]:
        stored = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc,
                                             limit=limit)
        if stored:
            newest = stored[0] if desc else stored[-1]
            self.heads.put(originator_id, newest.originator_version,
                           event_hash(newest.topic, originator_id, newest.originator_version,
                                      newest.state))
        return map(self.mapper.to_domain_event, stored)

    def select_histories(self, requests: Sequence[HistoryRequest],
                         snapshots: AggregateRecorder | None) -> dict[UUID, StoredHistory]:
        """Several aggregates' stored rows in one round trip (application.histories),
        noting each one's chain head as `get` does. A recorder without the one-query read
        is asked aggregate by aggregate, with the same answer."""
        table = getattr(snapshots, "events_table_name", None) if snapshots else None
        select = getattr(self.recorder, "select_histories", None)
        histories: dict[UUID, StoredHistory] = (
            select(requests, table) if select is not None
            else self._histories_one_by_one(requests, snapshots))
        for originator_id, history in histories.items():
            head = history.head
            if head is not None:
                self.heads.put(originator_id, head.originator_version,
                               event_hash(head.topic, originator_id,
                                          head.originator_version, head.state))
        return histories

    def _histories_one_by_one(self, requests: Sequence[HistoryRequest],
                              snapshots: AggregateRecorder | None) -> dict[UUID, StoredHistory]:
        found: dict[UUID, StoredHistory] = {}
        for request in requests:
            oid = request.originator_id
            if request.ends:
                first = self.recorder.select_events(oid, limit=1)
                events = [*first, *self.recorder.select_events(oid, desc=True, limit=1)]
                history = StoredHistory(None, list({e.originator_version: e
                                                    for e in events}.values()))
            else:
                latest = snapshots.select_events(oid, desc=True, limit=1) if snapshots else []
                start = latest[0].originator_version - 1 if latest else None
                history = StoredHistory(latest[0] if latest else None,
                                        list(self.recorder.select_events(oid, gt=start)))
            if history.snapshot is not None or history.events:
                found[oid] = history
        return found
