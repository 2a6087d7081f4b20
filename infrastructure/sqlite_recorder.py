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

from eventsourcing.persistence import (
    ApplicationRecorder,
    ListenNotifySubscription,
    StoredEvent,
    Subscription,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder

POLL_INTERVAL_S = 0.05


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

    def subscribe(self, gt: int | None = None,
                  topics: Sequence[str] = ()) -> Subscription[ApplicationRecorder]:
        return PollingSubscription(self, gt=gt, topics=topics)
