"""Whole-log replay into in-memory aggregates, for lists and counts until read models
(projections) take over: one ordered pass over the notification log, no per-case queries."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from eventsourcing.utils import get_topic

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
    aggregates: dict[UUID, Any] = {}
    for notification in notifications(recorder, event_topics(kinds)):
        event = cast(CanMutateAggregate[UUID], mapper.to_domain_event(notification))
        aggregates[event.originator_id] = event.mutate(aggregates.get(event.originator_id))
    return aggregates
