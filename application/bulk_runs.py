"""The events a bulk run records (an import batch, a channel run, a selection plan, a risk
run's assessments): what the scheduler seals soon after, and what moves the analysts'
figures (the dashboards' picture and charts are kept per latest bulk run, and computed
again, once, when one records: see `bulk_run_position` and CaseStore.after_bulk_run)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from eventsourcing.utils import get_topic

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
