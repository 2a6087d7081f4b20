"""The SQLite application recorder with the live subscription the library's 9.5 SQLite
recorder lacks: it polls the notification log, so one projection runner serves both stores.

It reuses the library's pull machinery (a background thread that pages new notifications
into a queue when woken) and wakes it on a timer instead of on a LISTEN/NOTIFY message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from threading import Thread
from time import sleep
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    ListenNotifySubscription,
    StoredEvent,
    Subscription,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder

from application.histories import HistoryRequest, StoredHistory, histories_from_rows

POLL_INTERVAL_S = 0.05
HISTORIES_PER_STATEMENT = 400
"""Aggregates per history statement: two parameters each, under SQLite's old default limit
of 999 parameters."""


def histories_statement(events: str, snapshots: str | None, count: int) -> str:
    """As postgres_recorder.histories_statement, for `count` aggregates: SQLite has no
    arrays and no LATERAL, so the ids come as a VALUES list and the first and last events
    as a correlated MAX (both on the primary key)."""
    values = ", ".join(["(?, ?)"] * count)
    latest = ("NULL" if snapshots is None else
              f"(SELECT MAX(s.originator_version) FROM {snapshots} s "
              "WHERE s.originator_id = w.id)")
    snapshot_rows = ("" if snapshots is None else
                     "SELECT 1 AS is_snapshot, s.originator_id, s.originator_version, "
                     f"s.topic, s.state FROM wanted JOIN {snapshots} s "
                     "ON s.originator_id = wanted.id AND s.originator_version = wanted.snap "
                     "UNION ALL ")
    return (
        f"WITH w(id, ends) AS (VALUES {values}), "
        f"wanted AS (SELECT id, ends, CASE WHEN ends THEN NULL ELSE {latest} END AS snap "
        "FROM w) "
        f"{snapshot_rows}"
        "SELECT 0, e.originator_id, e.originator_version, e.topic, e.state "
        f"FROM wanted JOIN {events} e ON e.originator_id = wanted.id "
        "WHERE NOT wanted.ends AND e.originator_version >= COALESCE(wanted.snap, 1) "
        "UNION ALL "
        "SELECT 0, e.originator_id, e.originator_version, e.topic, e.state "
        f"FROM wanted JOIN {events} e ON e.originator_id = wanted.id "
        "WHERE wanted.ends AND e.originator_version IN ("
        f"(SELECT MIN(x.originator_version) FROM {events} x WHERE x.originator_id = wanted.id), "
        f"(SELECT MAX(x.originator_version) FROM {events} x WHERE x.originator_id = wanted.id))")


class PollingSubscription(ListenNotifySubscription[SQLiteApplicationRecorder]):
    def __init__(self, recorder: SQLiteApplicationRecorder, gt: int | None = None,
                 topics: Sequence[str] = (), interval: float = POLL_INTERVAL_S) -> None:
        # Read before the pull thread's first query: an event committed after that query
        # must show up as growth, or it would wait for the next write to be delivered.
        self._last_seen = recorder.max_notification_id() or 0
        self._interval = interval
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._poll_thread = Thread(target=self._poll, daemon=True)
        self._poll_thread.start()

    def __exit__(self, *args: object, **kwargs: object) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()

    def _poll(self) -> None:
        """Wake the puller only when the log has grown: one cheap MAX(rowid) per tick."""
        try:
            while not self._has_been_stopped:
                newest = self._recorder.max_notification_id() or 0
                if newest != self._last_seen:
                    self._last_seen = newest
                    self._has_been_notified.set()
                sleep(self._interval)
        except BaseException as error:
            if self._thread_error is None:
                self._thread_error = error
            self.stop()


class PollingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """As the library's, plus other tables written in the same transaction (see
        postgres_recorder.WRITE_ALSO)."""
        write_also: Callable[[Any], None] | None = kwargs.pop("write_also", None)
        with self.datastore.transaction(commit=True) as cursor:
            ids = self._insert_events(cursor, stored_events, **kwargs)
            if write_also is not None:
                write_also(cursor)
            return ids

    def select_histories(self, requests: Sequence[HistoryRequest],
                         snapshots_table: str | None) -> dict[UUID, StoredHistory]:
        """Several aggregates' stored rows in one statement (see histories_statement), or
        one per HISTORIES_PER_STATEMENT of them, within SQLite's limit on parameters."""
        rows: list[Any] = []
        with self.datastore.transaction(commit=False) as cursor:
            for start in range(0, len(requests), HISTORIES_PER_STATEMENT):
                part = requests[start:start + HISTORIES_PER_STATEMENT]
                params: list[Any] = []
                for request in part:
                    params += [request.originator_id.hex, int(request.ends)]
                cursor.execute(histories_statement(self.events_table_name, snapshots_table,
                                                   len(part)), params)
                rows += cursor.fetchall()
        return histories_from_rows(
            (bool(row[0]), StoredEvent(
                originator_id=self.convert_originator_id(row[1]),
                originator_version=row[2], topic=row[3], state=row[4]))
            for row in rows)

    def subscribe(self, gt: int | None = None,
                  topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        return PollingSubscription(self, gt=gt, topics=topics)
