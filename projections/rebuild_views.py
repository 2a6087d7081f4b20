"""The set-based rebuild of several views, on one or two processors.

The fold is Python work, one processor's worth. On PostgreSQL a large rebuild therefore
splits the views in two groups folded at once: the views that see every event (the audit
log, as much work as all the others together) in a process forked for the purpose, the
others here. Each process reads the log, folds its views, loads their rows and builds their
indexes on connections of its own (a forked process must not touch its parent's); then the
views' positions are recorded here. SQLite, and small logs, fold in one
process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from projections.rebuild import Progress, SetRebuild, deferred_keys
from projections.runner import ProjectionFailedError
from projections.stores import REBUILD, PostgresViewStore, ViewStore
from projections.view import View

FORK_FROM = 50_000
"""Logs shorter than this fold in one process: forking would cost more than it saves."""


def rebuild_views(store: ViewStore, recorder: ApplicationRecorder, mapper: Mapper[UUID],
                  views: Sequence[type[View]], end: int,
                  progress: Progress | None = None) -> dict[str, int]:
    """Fold the log up to `end` into new shadow tables of the views (dropping any left by
    an earlier rebuild), with their indexes built after the load, and record `end` as
    their position; returns how many events each view folded."""
    for view in views:
        store.drop(view, REBUILD)
        store.create(view, REBUILD, indexes=False, deferred_keys=deferred_keys(store, view))
    here, elsewhere = _split(store, views, end)
    forked = _ForkedRebuild(store, recorder, mapper, elsewhere, end) if elsewhere else None
    try:
        applied = SetRebuild(store, recorder, mapper, here).run(end, progress)
        if forked is not None:
            applied.update(forked.result())
    finally:
        if forked is not None:
            forked.stop()
    if end:
        for view in views:
            store.set_position(view, end, REBUILD)
    return {view.name: applied[view.name] for view in views}


def _split(store: ViewStore, views: Sequence[type[View]], end: int,
           ) -> tuple[list[type[View]], list[type[View]]]:
    """(views folded here, views folded in a forked process)."""
    everything = [view for view in views if view.handles_everything]
    others = [view for view in views if not view.handles_everything]
    forkable = (isinstance(store, PostgresViewStore)
                and "fork" in multiprocessing.get_all_start_methods())
    if forkable and everything and others and end >= FORK_FROM:
        return others, everything
    return list(views), []


class _ForkedRebuild:
    """A SetRebuild of some views in a forked process, on connections of its own."""

    def __init__(self, store: ViewStore, recorder: ApplicationRecorder, mapper: Mapper[UUID],
                 views: Sequence[type[View]], end: int) -> None:
        assert isinstance(store, PostgresViewStore)
        assert isinstance(recorder, PostgresApplicationRecorder)
        self.views = list(views)
        context = multiprocessing.get_context("fork")
        self.outcome, sent = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_fold_forked, args=(sent, store, recorder, mapper, self.views, end),
            name="rebuild-" + "-".join(view.name for view in self.views), daemon=True)
        self.process.start()
        sent.close()

    def result(self) -> dict[str, int]:
        """Waits for the process; raises what stopped it."""
        try:
            outcome = self.outcome.recv()
        except EOFError:
            outcome = ("error", f"the rebuild process of {self.views[0].name} ended "
                                f"without an answer (exit code {self.process.exitcode})")
        if outcome[0] == "done":
            return dict(outcome[1])
        if outcome[0] == "failed":
            _, view, notification_id, cause = outcome
            raise ProjectionFailedError(view, notification_id, RuntimeError(cause))
        raise RuntimeError(outcome[1])

    def stop(self) -> None:
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.outcome.close()


def _fold_forked(sent: Connection, store: PostgresViewStore,
                 recorder: PostgresApplicationRecorder, mapper: Mapper[UUID],
                 views: list[type[View]], end: int) -> None:
    """The forked process: the parent's connections are left alone (they are the
    parent's), and it leaves by os._exit, so nothing of the parent's is finalised."""
    datastore: PostgresDatastore | None = None
    try:
        datastore = _datastore_like(store.datastore)
        own_recorder = PostgresApplicationRecorder(
            datastore, events_table_name=recorder.events_table_name)
        own_store = PostgresViewStore(own_recorder, store.app_name)
        applied = SetRebuild(own_store, own_recorder, mapper, views).run(end)
        sent.send(("done", applied))
    except ProjectionFailedError as error:
        sent.send(("failed", error.view, error.notification_id,
                   f"{type(error.cause).__name__}: {error.cause}"))
    except BaseException as error:  # reported by the parent
        sent.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        if datastore is not None:
            datastore.close()
        sent.close()
        os._exit(0)


def _datastore_like(datastore: PostgresDatastore) -> PostgresDatastore:
    """A datastore on the same database and schema with a pool of its own."""
    pool: Any = datastore.pool
    kwargs = pool.kwargs
    return PostgresDatastore(
        kwargs["dbname"], kwargs["host"], kwargs["port"], kwargs["user"], kwargs["password"],
        schema=datastore.schema, get_password_func=pool.get_password_func, pool_size=2,
        max_overflow=4)
