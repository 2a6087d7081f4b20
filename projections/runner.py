"""Keeps a view current: catches up from the log in large batches, then follows it live
through the recorder's subscription (LISTEN/NOTIFY on PostgreSQL, polling on SQLite).

Each batch is one transaction with its tracking record. An event that cannot be decoded or
applied stops the runner with an error naming the view and the notification id; nothing of
that batch is kept, so a restart after the fix resumes exactly there and never skips.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    Notification,
    Tracking,
)

from projections.stores import Item, ViewStore
from projections.view import View

CATCH_UP_PAGE = 2000


class ProjectionFailedError(RuntimeError):
    def __init__(self, view: str, notification_id: int, cause: BaseException) -> None:
        super().__init__(f"view {view} stopped at notification {notification_id}: "
                         f"{type(cause).__name__}: {cause}")
        self.view, self.notification_id, self.cause = view, notification_id, cause


class ViewRunner:
    def __init__(self, store: ViewStore, recorder: ApplicationRecorder, mapper: Mapper[UUID],
                 view: View, suffix: str = "") -> None:
        self.store, self.recorder, self.mapper = store, recorder, mapper
        self.view, self.suffix = view, suffix
        self.name = type(view).name

    def position(self) -> int:
        return self.store.position(type(self.view), self.suffix) or 0

    def _decode(self, notifications: Sequence[Notification]) -> list[Item]:
        items: list[Item] = []
        for notification in notifications:
            try:
                items.append((self.mapper.to_domain_event(notification), notification.id))
            except Exception as error:
                raise ProjectionFailedError(self.name, notification.id, error) from error
        return items

    def apply(self, notifications: Sequence[Notification]) -> int:
        """Apply one batch; returns how many events it applied (0 if another runner
        had already applied them). Events of topics the view does not handle only move
        its position on."""
        position = self.position()
        fresh = [n for n in notifications if n.id > position]
        if not fresh:
            return 0
        topics = set(self.view.topics)
        items = self._decode([n for n in fresh if not topics or n.topic in topics])
        try:
            return self.store.apply(self.view, items, Tracking(self.name, fresh[-1].id),
                                    self.suffix)
        except IntegrityError as error:
            if self.position() > position:
                return 0  # another runner recorded this position first: nothing twice
            # The position did not move, so a view's own statement broke a constraint:
            # stop with the event named rather than retry the same page forever.
            failing = self._first_failing(items, fresh[-1].id)
            raise ProjectionFailedError(self.name, failing, error) from error
        except Exception as error:
            failing = self._first_failing(items, fresh[-1].id)
            raise ProjectionFailedError(self.name, failing, error) from error

    def _first_failing(self, items: Sequence[Item], last: int) -> int:
        """The event of a failed batch to name: the first one the view or the database
        refuses (e.g. PostgreSQL refusing a NUL in text), found by replaying the batch
        event by event in a transaction rolled back; the batch's last event only when
        every event goes through on its own (the batch failed for another reason)."""
        try:
            failing = self.store.first_failing(self.view, items, self.suffix)
        except Exception:  # the database went away meanwhile: name the batch's end
            return last
        return last if failing is None else failing

    def catch_up(self, progress: Callable[[int], None] | None = None,
                 until: int | None = None) -> int:
        """Apply everything recorded so far (or up to `until`), in large batches."""
        applied = 0
        end = until if until is not None else (self.recorder.max_notification_id() or 0)
        while True:
            start = self.position()
            if start >= end:
                return applied
            page = self.recorder.select_notifications(
                start=start, limit=CATCH_UP_PAGE, stop=end, topics=self.view.topics,
                inclusive_of_start=False)
            if not page:
                self._skip_to(end)
                return applied
            applied += self.apply(page)
            if progress:
                progress(page[-1].id - start)

    def _skip_to(self, end: int) -> None:
        """No event of interest up to `end`: record the position, so a view that sees
        few topics does not rescan the log."""
        with contextlib.suppress(IntegrityError):
            self.store.apply(self.view, [], Tracking(self.name, end), self.suffix)

    def follow(self, stop: threading.Event, on_batch: Callable[[int], None] | None = None,
               ) -> None:
        """Follow the log live until `stop` is set; raises ProjectionFailedError.

        The subscription reads every notification, not only the view's topics, so the
        position reaches the head of the log and `lag` is 0 when the view is current."""
        self.catch_up()
        subscription = self.recorder.subscribe(gt=self.position())
        stopper = threading.Thread(target=_stop_when_set, args=(stop, subscription),
                                   daemon=True)
        stopper.start()
        with subscription:
            for first in subscription:
                batch = [first, *_drain(subscription)]
                applied = self.apply(batch)
                if on_batch:
                    on_batch(applied)
                if stop.is_set():
                    break
        stop.set()


def _drain(subscription: Any) -> list[Notification]:
    """The rest of the page the subscription already fetched (the library's pull thread
    fetches pages of up to 500), so a burst becomes one transaction."""
    rest: list[Notification] = list(
        subscription._notifications[subscription._notifications_index:])
    subscription._notifications_index = len(subscription._notifications)
    return rest


def _stop_when_set(stop: threading.Event, subscription: Any) -> None:
    stop.wait()
    subscription.stop()
