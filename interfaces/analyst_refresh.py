"""ComplianceCases.after_bulk_run as the composition root sets it: when a bulk run this
process recorded has committed, the analysts' dashboard figures of the scopes in use are
computed and stored at once (interfaces.analyst_figures), so that no dashboard reader, in
any process, waits for them afterwards.

Kept light: a bulk run in a command line that no analyst has looked at (the demo's loads,
a first import) costs one query here, and loads none of the picture's and charts' code."""

from __future__ import annotations

import logging
import time

from application.access import acting_as, system_principal
from application.bulk_runs import bulk_run_topics
from application.compliance_cases import ComplianceCases
from application.figure_version import FIGURES_VERSION
from infrastructure.figure_store import FigureStore, latest_position_of
from infrastructure.sql_tables import SqlTables

log = logging.getLogger(__name__)

KEPT_DAYS = 14
"""A scope is computed when a bulk run records if a reader asked for it this recently."""
KEPT_SCOPES = 8
"""At most this many scopes (the most recently asked) are computed when a bulk run records;
the others by their first reader."""
REFRESH_ACTOR = "system:analyst-figures"


def refresh_after_bulk_run(app: ComplianceCases, position: int) -> list[str]:
    """The figures of the scopes in use at the bulk run at `position`, computed now; the
    scopes done. `position` is its last event's, or any later one (a bulk path that
    appends rows knows only the log's head after its commit): the figures are keyed by
    the latest bulk-run event at or before it, as every reader finds it. Never raises:
    the bulk run has committed, and a figure not stored is computed by its first reader
    instead (the failure is logged)."""
    started = time.perf_counter()
    try:
        position = latest_position_of(app.recorder, bulk_run_topics(), 0, position) or 0
        today = app.clock().date()
        store = FigureStore(SqlTables(app.recorder), version=FIGURES_VERSION)
        scopes = store.in_use(today, KEPT_DAYS, KEPT_SCOPES)
        if not scopes:
            return []
        # Imported here: the picture and its charts load matplotlib and the reports.
        from interfaces.analyst_figures import AnalystFigures

        with acting_as(system_principal(REFRESH_ACTOR)):
            done = AnalystFigures(app).refresh(position, today, scopes)
    except Exception:
        log.exception("analyst figures after the bulk run at %s: not computed; the first "
                      "reader computes them", position)
        return []
    log.info("analyst figures of %s computed after the bulk run at %s in %.2f s",
             ", ".join(done), position, time.perf_counter() - started)
    return done
