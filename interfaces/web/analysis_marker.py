"""Where the analysis inputs stand: the log position of the latest bulk run (an import, a
channel run, a selection, a risk run's assessments), and the ledger's date. The analyst's
picture and its charts read only what those runs write (results and ingest tables), so
they are kept under this marker rather than under the log's head: a case opened anywhere
in the country leaves the dashboard warm.

The position is the bulk-run event's own notification id, so every process finds the same
marker for the same log (the stored figures, interfaces.analyst_figures, are keyed by it,
and a chart's ETag is the same whichever worker answers). Each request asks only about the
events since the last request: the newest bulk-run event among them, read backwards on
the notification index (infrastructure.figure_store.latest_position_of), a few rows, not
the log."""

from __future__ import annotations

import threading
from datetime import date

from eventsourcing.persistence import ApplicationRecorder

from application.bulk_runs import bulk_run_topics
from infrastructure.figure_store import latest_position_of


class AnalysisMarker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked: dict[int, int] = {}
        """Per recorder (one process may serve several ledgers: the tests do), the log
        position checked up to."""
        self._marker: dict[int, int] = {}
        self._topics = bulk_run_topics()

    def position(self, recorder: ApplicationRecorder) -> int:
        """The log position of the latest bulk-run event (0 before the first)."""
        key = id(recorder)
        head = int(recorder.max_notification_id() or 0)
        with self._lock:
            checked = self._checked.get(key, 0)
            marker = self._marker.get(key)
        if marker is not None and head <= checked:
            return marker
        found = latest_position_of(recorder, self._topics, checked, head)
        with self._lock:
            known = self._marker.get(key, 0)
            if found is not None and found > known:
                known = self._marker[key] = found
            self._marker.setdefault(key, known)
            self._checked[key] = max(head, self._checked.get(key, 0))
            return known


MARKER = AnalysisMarker()


def analysis_key(recorder: ApplicationRecorder, today: date) -> tuple[int, date]:
    """(latest bulk run's position, the ledger's day): what the figures are kept under."""
    return MARKER.position(recorder), today
