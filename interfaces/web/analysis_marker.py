"""Where the analysis inputs stand: the log position of the latest bulk run (an import, a
channel run, a selection, a risk run's assessments) seen by this process, and the ledger's
date. The analyst's picture and its charts read only what those runs write (results and
ingest tables), so they are cached under this marker rather than under the log's head: a
case opened anywhere in the country leaves the dashboard warm.

Each request asks only about the events since the last request (`select_notifications`
from there, filtered by topic, stopping at the first): a few rows, not the log."""

from __future__ import annotations

import threading
from datetime import date

from eventsourcing.persistence import ApplicationRecorder

from application.bulk_runs import bulk_run_topics


class AnalysisMarker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked: dict[int, int] = {}
        """Per recorder (one process may serve several ledgers: the tests do), the log
        position checked up to."""
        self._marker: dict[int, int] = {}
        self._topics = bulk_run_topics()

    def position(self, recorder: ApplicationRecorder) -> int:
        """A position that changes whenever a bulk run has recorded since the last call
        (the head of the log then: an upper bound of the run's own events)."""
        key = id(recorder)
        head = int(recorder.max_notification_id() or 0)
        with self._lock:
            checked = self._checked.get(key, 0)
            marker = self._marker.get(key)
        if marker is not None and head <= checked:
            return marker
        found = recorder.select_notifications(start=checked + 1, stop=head, limit=1,
                                              topics=self._topics)
        with self._lock:
            if found or key not in self._marker:
                self._marker[key] = head
            self._checked[key] = max(head, self._checked.get(key, 0))
            return self._marker[key]


MARKER = AnalysisMarker()


def analysis_key(recorder: ApplicationRecorder, today: date) -> tuple[int, str]:
    return MARKER.position(recorder), today.isoformat()
