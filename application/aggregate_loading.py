"""How the application loads aggregates: one at a time, or every aggregate a command needs
in one round trip.

A command names the aggregates it will load (`_prefetching`, or `_ensure_loaded` once it
knows more); their stored rows come from one query (application.histories) and wait, for
the length of the command, until a load asks for them. Every load still goes through
`load_aggregate`, so access checks, not-found answers and damage reports are the same
whichever way the rows came, and each row is handed out once: a second load of the same
aggregate in a command reads the store again, as it always did.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import PersistenceError, StoredEvent
from eventsourcing.utils import EnvType, resolve_topic

from application.damage import (
    ReplayError,
    damaged_history,
    decode_stored,
    diagnose,
    originator_uuid,
    replay_step,
)
from application.errors import DamagedHistoryError
from application.histories import HistoryRequest, ReadsHistories, StoredHistory

_READING: ContextVar[bool] = ContextVar("reading_only", default=False)
"""True while a caller only reads what it loads: the cached aggregate is handed out
as it is, without the defensive copy a command needs (see AggregateLoading.reading)."""


@dataclass(frozen=True)
class _Fetched:
    history: StoredHistory | None  # None: the store holds no such aggregate
    ends: bool


_PREFETCHED: ContextVar[dict[UUID, _Fetched | None] | None] = ContextVar(
    "prefetched_histories", default=None)
"""The rows a running command fetched ahead, by aggregate; None once a load took them."""


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's project_aggregate without its runtime Protocol check on every event,
    which cost more than the replay itself (every stored event here is one of ours)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class CaseHints:
    """Facts that never change once recorded, remembered by the process so that a command
    can name every aggregate it needs before loading any: the importer a case is filed
    under, the plan a verification follows, and the year numbers were last taken in. A
    missing or stale hint costs a second round trip, never a wrong result: a hint only
    chooses what is fetched ahead, and a load that finds nothing fetched reads the store."""

    def __init__(self, maxsize: int = 100_000) -> None:
        self._facts: OrderedDict[UUID, tuple[str | None, str | None]] = OrderedDict()
        self._maxsize = maxsize
        self._lock = threading.Lock()
        self.year: int | None = None

    def note(self, aggregate: object) -> None:
        importer = getattr(aggregate, "importer_number", None)
        plan = getattr(aggregate, "plan_number", None)
        if not isinstance(importer, str):
            return
        with self._lock:
            self._facts[getattr(aggregate, "id")] = (  # noqa: B009 - any aggregate
                importer, plan if isinstance(plan, str) else None)
            self._facts.move_to_end(getattr(aggregate, "id"))  # noqa: B009
            while len(self._facts) > self._maxsize:
                self._facts.popitem(last=False)

    def importer_of(self, aggregate_id: UUID) -> str | None:
        with self._lock:
            facts = self._facts.get(aggregate_id)
        return facts[0] if facts else None

    def plan_of(self, aggregate_id: UUID) -> str | None:
        with self._lock:
            facts = self._facts.get(aggregate_id)
        return facts[1] if facts else None


class AggregateLoading(Application[UUID]):
    """The loading half of the case store (application.case_store): every load goes
    through `load_aggregate`; a command's loads may be fetched together beforehand."""

    def __init__(self, env: EnvType) -> None:
        self.hints = CaseHints()
        super().__init__(env)

    def load_aggregate(self, aggregate_id: UUID, *, version: int | None = None,
                       label: str | None = None) -> Aggregate:
        """The one way an aggregate is loaded (its latest snapshot, then the events after
        it). AggregateNotFoundError when it has no events; DamagedHistoryError, named by
        `label` (else the number its first event records) and the first bad version,
        when its stored history cannot be replayed."""
        try:
            found = self._fetch(aggregate_id, version)
        except (AggregateNotFoundError, PersistenceError):
            raise
        except Exception as error:
            snapshots = self.snapshots.recorder if self.snapshots is not None else None
            damage = diagnose(self.events.recorder, snapshots, self.mapper, aggregate_id,
                              version)
            if damage is None:
                raise  # the stored history replays: not damage, a fault of its own
            raise self._damaged(aggregate_id, damage, label) from error
        self.hints.note(found)
        return found

    def _fetch(self, aggregate_id: UUID, version: int | None) -> Aggregate:
        """Rows fetched ahead if the command has them; else one query (snapshot and events
        together) unless a version is asked for or the library's cache serves the load."""
        if version is None:
            fetched = self._take_fetched(aggregate_id)
            if fetched is None and self.repository.cache is None:
                request = HistoryRequest.full(aggregate_id)
                fetched = _Fetched(self._select([request]).get(aggregate_id), False)
            if fetched is not None:
                return self._materialise(aggregate_id, fetched)
        found: Aggregate = self.repository.get(
            aggregate_id, version=version, projector_func=project,
            deepcopy_from_cache=not _READING.get())
        return found

    def load_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
        """Each of these aggregates that exists, as load_aggregate gives it, from one
        query."""
        with self._prefetching([HistoryRequest.full(oid) for oid in aggregate_ids]):
            return {oid: found for oid in aggregate_ids
                    if (found := self._find(oid)) is not None}

    @contextmanager
    def _prefetching(self, requests: Sequence[HistoryRequest] = ()) -> Iterator[None]:
        """For the length of a command: these aggregates' rows, fetched now in one query,
        wait for the loads that ask for them (see `_ensure_loaded` for more later)."""
        token = _PREFETCHED.set({})
        try:
            self._ensure_loaded(requests)
            yield
        finally:
            _PREFETCHED.reset(token)

    def _ensure_loaded(self, requests: Iterable[HistoryRequest]) -> None:
        """Fetch, in one query, those of these aggregates the running command has not
        fetched yet (nothing outside a command: its loads read the store one by one)."""
        fetched = _PREFETCHED.get()
        if fetched is None:
            return
        missing = list({r.originator_id: r for r in requests
                        if r.originator_id not in fetched}.values())
        if not missing:
            return
        histories = self._select(missing)
        for request in missing:
            fetched[request.originator_id] = _Fetched(
                histories.get(request.originator_id), request.ends)

    def _find_first_and_last(self, aggregate_id: UUID) -> Aggregate | None:
        """An aggregate its class resumes from its first and last events (a case-number
        sequence), loaded from those two rows, fetched ahead or now."""
        request = HistoryRequest.first_and_last(aggregate_id)
        if _PREFETCHED.get() is None:
            with self._prefetching([request]):
                return self._find(aggregate_id)
        self._ensure_loaded([request])
        return self._find(aggregate_id)

    def _take_fetched(self, aggregate_id: UUID) -> _Fetched | None:
        fetched = _PREFETCHED.get()
        if fetched is None or fetched.get(aggregate_id) is None:
            return None
        entry = fetched[aggregate_id]
        fetched[aggregate_id] = None  # handed out once
        return entry

    def _select(self, requests: Sequence[HistoryRequest]) -> dict[UUID, StoredHistory]:
        snapshots = self.snapshots.recorder if self.snapshots is not None else None
        return cast(ReadsHistories, self.events).select_histories(requests, snapshots)

    def _materialise(self, aggregate_id: UUID, fetched: _Fetched) -> Aggregate:
        history = fetched.history
        if history is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} not found.")
        if fetched.ends:
            resumed = self._resume(history)
            if resumed is not None:
                return resumed
            replayed: Aggregate = self.repository.get(aggregate_id, projector_func=project)
            return replayed
        decode: Any = self.mapper.to_domain_event
        aggregate: Any = None
        replayed_from = 0
        if history.snapshot is not None:
            aggregate = decode(history.snapshot).mutate(None)
            replayed_from = history.snapshot.originator_version
        for stored in history.events:
            if stored.originator_version > replayed_from:
                aggregate = decode(stored).mutate(aggregate)
        if aggregate is None:
            raise AggregateNotFoundError(f"Aggregate {aggregate_id!r} not found.")
        return cast(Aggregate, aggregate)

    def _resume(self, history: StoredHistory) -> Aggregate | None:
        """An aggregate from its first and last events, by its class's `resumed`
        (CaseNumberSequence's); None when that cannot be done, and the caller replays."""
        try:
            first = self.mapper.to_domain_event(history.events[0])
            last = (self.mapper.to_domain_event(history.events[-1])
                    if len(history.events) > 1 else None)
            resumed = getattr(resolve_topic(getattr(first, "originator_topic", "")),
                              "resumed", None)
            return cast(Aggregate, resumed(first, last)) if resumed is not None else None
        except Exception:  # a damaged or unusual history: the full replay decides
            return None

    @staticmethod
    @contextmanager
    def reading() -> Iterator[None]:
        """Loads inside this block hand out the cached aggregate itself instead of a deep
        copy (a third of a case read's time). Only for code that reads what it loads and
        never changes it: a command must never run here."""
        token = _READING.set(True)
        try:
            yield
        finally:
            _READING.reset(token)

    def replay_history(self, aggregate_id: UUID, *, label: str | None = None,
                       ) -> Iterator[tuple[CanMutateAggregate[UUID], Aggregate]]:
        """Every stored event of an aggregate, from its first, with the aggregate as it
        stands after it; DamagedHistoryError at the first event that cannot be replayed."""
        aggregate: Any = None
        for stored in self.events.recorder.select_events(aggregate_id):
            try:
                event, aggregate = replay_step(self.mapper, stored, aggregate)
            except ReplayError as damage:
                raise self._damaged(aggregate_id, damage, label) from damage.__cause__
            yield event, aggregate

    def decode_stored_event(self, stored: StoredEvent) -> Any:
        """One stored event (or notification) as its domain event; DamagedHistoryError
        naming its aggregate when it cannot be decoded."""
        try:
            return decode_stored(self.mapper, stored, "event")
        except ReplayError as damage:
            raise self._damaged(originator_uuid(stored), damage) from damage.__cause__

    def _damaged(self, aggregate_id: UUID, damage: ReplayError,
                 label: str | None = None) -> DamagedHistoryError:
        return damaged_history(self.events.recorder, self.mapper, aggregate_id, damage, label)

    def _find(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            return self.load_aggregate(aggregate_id)
        except AggregateNotFoundError:
            return None

    def find_aggregate(self, aggregate_id: UUID) -> Any:
        return self._find(aggregate_id)
