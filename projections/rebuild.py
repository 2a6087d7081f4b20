"""Rebuilding views set-wise, from the whole log, into their shadow tables.

A rebuild used to replay the log through the live path, a transaction of SQL statements
per batch of events and per view: about three statements per event, each executed on its
own with index maintenance. Here the log is read once, in large pages, for every view being
rebuilt; each event is decoded once and folded, by the same handlers the live path runs,
into rows held in memory (projections.memory_rows); then each view's rows are loaded in
bulk (COPY on PostgreSQL, large executemany transactions on SQLite) into tables created
without secondary indexes (on PostgreSQL without primary keys either), which are built
after the load; a table a view only ever appends to (View.appended: the audit log's
events) goes to the database as it is folded instead. Then the shadow view's position is
recorded. From there the caller catches the shadow view up with the events
written meanwhile, through the live path, and lets it take over in one transaction
(projections.worker.Projections.rebuild_all), so commands go on throughout.

Memory holds the views' rows (compact lists of column values), never the decoded events:
a page of events is folded and dropped before the next is decoded.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent
from eventsourcing.utils import resolve_topic

from projections.log_pages import log_pages
from projections.memory_rows import MemoryRows
from projections.runner import ProjectionFailedError
from projections.stores import REBUILD, ViewStore
from projections.view import Handler, View

Progress = Callable[[int], None]


@dataclass
class _Plan:
    """What the rebuild does with the events of one topic: decode them with `decode`, then
    fold each with every handler in `steps` (view name, handler, the view's rows)."""

    decode: Callable[[Any, int, bytes], Any]
    steps: list[tuple[str, Handler, MemoryRows]]
    folded: int = 0


class SetRebuild:
    """Folds the log up to `end` into some views' rows, loads them into the views' shadow
    tables and builds their keys and indexes (see the module); projections.rebuild_views
    runs one or two of these at once, then records the views' positions."""

    def __init__(self, store: ViewStore, recorder: ApplicationRecorder, mapper: Mapper[UUID],
                 views: Sequence[type[View]]) -> None:
        self.store, self.recorder, self.mapper = store, recorder, mapper
        self.views = list(views)
        self.folds: dict[type[View], MemoryRows] = {}
        self.applied = dict.fromkeys((view.name for view in self.views), 0)

    def run(self, end: int, progress: Progress | None = None) -> dict[str, int]:
        """Fold (streaming the views' appended tables to the database meanwhile), then
        load each other table and build each table's indexes; returns how many events
        each view's handlers folded."""
        with contextlib.ExitStack() as writers:
            for view in self.views:
                self.folds[view] = MemoryRows(view.schemas, {
                    table: writers.enter_context(self.store.writer(view, table, REBUILD))
                    for table in view.appended})
            self.fold(end, progress)
        at_once(self.store, [functools.partial(self.finish, view, table)
                             for view in self.views for table in view.tables])
        self.folds.clear()
        return self.applied

    # -- folding -------------------------------------------------------------------------

    def fold(self, end: int, progress: Progress | None = None) -> None:
        """Every event up to `end` that some view handles, decoded once and folded into
        each such view's rows. The cyclic garbage collector is paused meanwhile: the fold
        makes millions of rows and no cycles, and each collection would walk them all."""
        everything = any(view.handles_everything for view in self.views)
        topics = () if everything else tuple(sorted(
            {topic for view in self.views for topic in view.topics}))
        plans: dict[str, _Plan] = {}
        collecting = gc.isenabled()
        gc.disable()
        try:
            done = 0
            for page in log_pages(self.recorder, 0, end, topics):
                for notification_id, originator_id, version, topic, state in page:
                    plan = plans.get(topic)
                    if plan is None:
                        plan = plans[topic] = self._plan(topic, notification_id)
                    if not plan.steps:
                        continue
                    view = plan.steps[0][0]  # an event that cannot be decoded stops it
                    try:
                        event = plan.decode(originator_id, version, state)
                        for view, handler, rows in plan.steps:  # noqa: B007 (the failing one)
                            handler(rows, event, notification_id)
                    except Exception as error:
                        raise ProjectionFailedError(view, notification_id, error) from error
                    plan.folded += 1
                if progress is not None:
                    progress(page[-1][0] - done)
                done = page[-1][0]
        finally:
            if collecting:
                gc.enable()
        for plan in plans.values():
            for view, _, _ in plan.steps:
                self.applied[view] += plan.folded

    def _plan(self, topic: str, notification_id: int) -> _Plan:
        """Which views handle events of this topic, and how to decode them. A topic no
        code knows stops the views that must see every event, naming the event; the
        others never read it."""
        try:
            kind = resolve_topic(topic)
        except Exception as error:
            blocked = [view for view in self.views if view.handles_everything]
            if blocked:
                raise ProjectionFailedError(blocked[0].name, notification_id, error) from error
            return _Plan(_undecodable, [])
        handling = [(view, handler) for view in self.views
                    if (handler := view.handler_for(kind)) is not None]
        steps = [(view.name, handler, self.folds[view]) for view, handler in handling]
        decoder = getattr(self.mapper, "event_decoder", None)
        if decoder is None:
            return _Plan(functools.partial(_decode, self.mapper, topic), steps)
        return _Plan(decoder(topic, _fields_read(view for view, _ in handling),
                             text_ids=True), steps)

    # -- loading -------------------------------------------------------------------------

    def finish(self, view: type[View], table: str) -> list[Job]:
        """A table's folded rows into its shadow table (unless they went as they came);
        returns the builds of its indexes, which can start once its rows are in."""
        if table not in view.appended:
            self.store.load(view, table, self.folds[view].rows(table), REBUILD)
        if table in deferred_keys(self.store, view):
            self.store.add_key(view, table, REBUILD)
        return [functools.partial(self.store.create_index, index, REBUILD)
                for index in view.indexes if index[1] == table]


Job = Callable[[], "list[Job] | None"]
"""Bulk work for the database; returns the jobs it makes ready (or None)."""


def _fields_read(views: Iterable[type[View]]) -> frozenset[str] | None:
    """The event fields these views' handlers read, or None if any of them may read any
    (View.reads)."""
    fields: set[str] = set()
    for view in views:
        if view.reads is None:
            return None
        fields |= view.reads
    return frozenset(fields)


def deferred_keys(store: ViewStore, view: type[View]) -> list[str]:
    """The view's tables whose primary key a rebuild adds after loading their rows (it
    builds the key's index at once, from sorted keys, instead of row by row; PostgreSQL
    only). That includes a table written as the fold goes: the fold already refuses a
    second row with a key it has seen (projections.memory_rows), and a million-row COPY
    maintaining the key took the server longer than the load and a build after it."""
    if not store.keys_after_load:
        return []
    return list(view.tables)


def _decode(mapper: Mapper[UUID], topic: str, originator_id: Any, version: int,
            state: bytes) -> Any:
    """A mapper without `event_decoder`: its `to_domain_event`."""
    return mapper.to_domain_event(StoredEvent(originator_id=originator_id,
                                              originator_version=version, topic=topic,
                                              state=state))


def _undecodable(*_: Any) -> Any:  # pragma: no cover - a plan without steps decodes nothing
    raise AssertionError("no view reads these events")


def at_once(store: ViewStore, jobs: Sequence[Job]) -> None:
    """Bulk loads and index builds, as many at once as the database takes (the work is
    the server's, each on a connection of its own), each job's follow-ups started as soon
    as it is done; raises the first failure."""
    with ThreadPoolExecutor(max_workers=store.bulk_connections,
                            thread_name_prefix="rebuild-load") as pool:
        running = [pool.submit(job) for job in jobs]
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                running.remove(future)
                running.extend(pool.submit(job) for job in future.result() or ())
