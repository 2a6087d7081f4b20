"""The events a bulk run records (an import batch, a channel run, a selection plan, a risk
run's assessments): what the scheduler seals soon after, and what moves the analysts'
figures (the dashboards cache their picture until one of these is recorded)."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.channel_run import ChannelRun
from domain.import_batch import ImportBatch
from domain.importer_account import ImporterAccount
from domain.selection_plan import SelectionPlan


def bulk_run_topics() -> list[str]:
    return [get_topic(ImportBatch.Imported), get_topic(ChannelRun.EntriesChannelled),
            get_topic(SelectionPlan.Planned), get_topic(ImporterAccount.RiskAssessed)]
