"""The events a bulk run records (an import batch, a channel run, a selection plan, a risk
run's assessments): what the scheduler seals soon after, and what moves the analysts'
figures (the dashboards' picture and charts are kept per latest bulk run, and computed
again, once, when one records: see `bulk_run_position` and CaseStore.after_bulk_run)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from application.event_rows import EventRow, EventRows, Heads, PreparedCommit, WriteAlso
from domain.channel_run import ChannelRun
from domain.import_batch import ImportBatch
from domain.importer_account import ImporterAccount
from domain.selection_plan import SelectionPlan


def bulk_run_topics() -> list[str]:
    return [get_topic(ImportBatch.Imported), get_topic(ChannelRun.EntriesChannelled),
            get_topic(SelectionPlan.Planned), get_topic(ImporterAccount.RiskAssessed)]


@cache
def _topics() -> frozenset[str]:
    return frozenset(bulk_run_topics())


def bulk_run_position(recordings: Sequence[Any]) -> int | None:
    """The log position of the last bulk-run event among a save's recordings (the
    library's Recording: a notification with its id and topic), None when it recorded no
    bulk run. Looked for from the end: a risk run's save holds an event per importer."""
    topics = _topics()
    for recording in reversed(recordings):
        notification = recording.notification
        if notification.topic in topics:
            return int(notification.id)
    return None


class BulkRunRows:
    """The bulk row path (application.event_rows) telling, once a commit that appended
    bulk-run events (a risk run's RiskAssessed rows) has been written, the log's head to
    `after` — as a save through the library tells CaseStore.after_bulk_run — so the
    analysts' figures move with a risk run written as rows too."""

    def __init__(self, rows: EventRows, head: Callable[[], int],
                 after: Callable[[int], None] | None) -> None:
        self._rows = rows
        self._head = head
        self._after = after

    def append(self, event_class: type, rows: Sequence[EventRow], *,
               heads: Heads | None = None, write_also: WriteAlso | None = None) -> int:
        written = self._rows.append(event_class, rows, heads=heads, write_also=write_also)
        if written and self._after is not None and get_topic(event_class) in _topics():
            self._after(self._head())
        return written

    def prepare(self, event_class: type, rows: Sequence[EventRow], *,
                heads: Heads | None = None) -> PreparedCommit:
        return self._rows.prepare(event_class, rows, heads=heads)

    def fields(self, event_class: type) -> tuple[str, ...]:
        return self._rows.fields(event_class)

    def existing(self, originator_ids: Collection[UUID]) -> set[UUID]:
        return self._rows.existing(originator_ids)
