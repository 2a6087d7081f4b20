"""Whole-log replay into in-memory aggregates, for lists and counts until read models
(projections) take over: one ordered pass over the notification log, no per-case queries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from eventsourcing.utils import get_topic

from application.damage import (
    ReplayError,
    damaged_history,
    diagnose,
    originator_uuid,
    replay_step,
)

PAGE = 5000


def event_topics(kinds: Iterable[type[Aggregate]]) -> list[str]:
    topics = []
    for kind in kinds:
        for value in vars(kind).values():
            if isinstance(value, type) and issubclass(value, CanMutateAggregate):
                topics.append(get_topic(value))
    return topics


def notifications(recorder: ApplicationRecorder,
                  topics: Iterable[str] = ()) -> Iterator[Notification]:
    wanted = list(topics)
    start = 1
    while True:
        page = recorder.select_notifications(start=start, limit=PAGE, topics=wanted)
        yield from page
        if len(page) < PAGE:
            return
        start = page[-1].id + 1


def replay(recorder: ApplicationRecorder, mapper: Mapper[UUID],
           kinds: Iterable[type[Aggregate]]) -> dict[UUID, Any]:
    """Every aggregate of these kinds as it stands now; DamagedHistoryError naming the
    first one whose events are missing, out of order or cannot be decoded."""
    aggregates: dict[UUID, Any] = {}
    for notification in notifications(recorder, event_topics(kinds)):
        originator_id = originator_uuid(notification)
        try:
            _, aggregates[originator_id] = replay_step(mapper, notification,
                                                       aggregates.get(originator_id))
        except ReplayError as damage:
            # This pass sees only these kinds' event types, so a gap may be an event whose
            # type was changed: the aggregate's own events say exactly what is wrong.
            found = diagnose(recorder, None, mapper, originator_id) or damage
            raise damaged_history(recorder, mapper, originator_id, found) \
                from damage.__cause__
    return aggregates
