"""The analyst's dashboard figures (the picture of a scope and its charts), computed once
per scope and analysis marker and stored (infrastructure.figure_store), so that every
server worker, the scheduler and a command read the same rows instead of each computing
them again.

When: the process that records a bulk run computes them at its end (interfaces.
analyst_refresh) for the scopes analysts have asked for lately (FigureStore.in_use): the
first dashboard after a bulk run reads stored rows. A scope
nobody asked for yet, or a new day, is computed by its first reader instead, once across
every process (a claim; the others wait for the row).

Scope is kept apart: a scope is 'national' or the districts it covers, and a reader's
scope is decided from its grants before any figure is looked up (interfaces.web.
chart_routes.analyst_scope), so a district analyst never reads another scope's row."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from application.analyst_charts import ANALYST_CHARTS
from application.analyst_picture import AnalystPicture, analyst_picture
from application.compliance_cases import ComplianceCases
from application.dashboard_queries import ViewTables, channel_mix
from application.figure_version import FIGURES_VERSION
from application.reports.sources import Row, SampleCell
from application.targeting.effectiveness import Effectiveness
from infrastructure.figure_store import PICTURE, FigureKey, FigureStore, value_arrays
from infrastructure.sql_tables import SqlTables
from interfaces.periodic_reports import LedgerSources
from projections.views.account_register import AccountRegister

NATIONAL = "national"


def scope_name(districts: frozenset[str] | None) -> str:
    """A scope as its stored name: 'national', or its districts in order, by commas."""
    return NATIONAL if districts is None else ",".join(sorted(districts))


def scope_districts(name: str) -> frozenset[str] | None:
    return None if name == NATIONAL else frozenset(name.split(",")) if name else frozenset()


def encode_picture(picture: AnalystPicture) -> bytes:
    return msgspec.json.encode(picture)


def decode_picture(content: bytes) -> AnalystPicture:
    return msgspec.json.decode(content, type=AnalystPicture)


class PictureSources:
    """The analyst picture's sources (application.analyst_picture.AnalystSources) over one
    application's database. Reads that do not depend on the scope (the year's hit rates
    and sample cells) are kept for the life of this object: a bulk run's refresh of
    several scopes reads them once."""

    def __init__(self, app: ComplianceCases, views: ViewTables | None = None) -> None:
        self.ledger = LedgerSources(app)
        self.tables = SqlTables(app.recorder)
        self.views: ViewTables = views if views is not None else self.ledger.store
        self._kept: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()

    def _once(self, key: tuple[Any, ...], read: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._kept:
                return self._kept[key]
        found = read()
        with self._lock:
            return self._kept.setdefault(key, found)

    def latest_risk_run(self) -> Row | None:
        return self.ledger.latest_risk_run()

    def rates(self, grain: str) -> list[Row]:
        return self.ledger.rates(grain)

    def effectiveness(self, start: date, end: date) -> Effectiveness:
        found: Effectiveness = self._once(("effectiveness", start, end),
                                          lambda: self.ledger.effectiveness(start, end))
        return found

    def sample_cells(self, year: int) -> list[SampleCell]:
        found: list[SampleCell] = self._once(("cells", year),
                                             lambda: self.ledger.sample_cells(year))
        return found

    def value_arrays(self, districts: Collection[str] | None,
                     ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        return value_arrays(self.tables, districts)

    def channel_mix(self, districts: frozenset[str] | None) -> list[Row]:
        return channel_mix(self.views, districts)


class AnalystFigures:
    """The stored figures of one application: a scope's picture and its charts at a
    marker, read from the store, else computed once (by whichever process asks first)."""

    def __init__(self, app: ComplianceCases) -> None:
        self.app = app
        self.store = FigureStore(SqlTables(app.recorder), version=FIGURES_VERSION)
        self.computed = 0
        """Pictures and charts this process computed (the rest it read): for tests."""

    def picture(self, key: FigureKey, sources: Callable[[], PictureSources]) -> AnalystPicture:
        """The picture of `key`; computed from `sources()` when nobody stored it. The
        scope is marked as asked for, so the next bulk run computes it at once."""
        def compute() -> bytes:
            self.computed += 1
            return encode_picture(analyst_picture(sources(), scope_districts(key.scope),
                                                  key.day))
        found = decode_picture(self.store.get_or_compute(key, PICTURE, compute))
        if self.store.asked_on(key) != key.day:  # a write only once a day per scope
            self.store.mark_asked(key)
        return found

    def chart(self, key: FigureKey, name: str, picture: Callable[[], AnalystPicture]) -> str:
        """Chart `name` (application.analyst_charts) of `key`, drawn when nobody stored it."""
        draw = ANALYST_CHARTS[name]

        def compute() -> bytes:
            self.computed += 1
            return draw(picture()).encode()
        return self.store.get_or_compute(key, name, compute).decode()

    def refresh(self, position: int, today: date, scopes: list[tuple[str, date]],
                ) -> list[str]:
        """Compute and store, at the marker of the bulk run at `position`, the picture
        and charts of `scopes` (FigureStore.in_use: name, day last asked for); the scopes
        done. A scope another process is already computing is left to it."""
        sources = PictureSources(self.app)
        if any(name != NATIONAL for name, _ in scopes):
            sources.ledger.projections.catch_up([AccountRegister])  # the samples' districts
        done = []
        for name, asked in scopes:
            key = FigureKey(name, position, today)
            claimed = self.store.claim_all(key, [PICTURE, *ANALYST_CHARTS])
            if claimed:
                self._fill(key, claimed, sources, asked)
                done.append(name)
        return done

    def _fill(self, key: FigureKey, claimed: list[str], sources: PictureSources,
              asked: date) -> None:
        """The picture, then each chart in the page's order, each stored as soon as it is
        ready (a reader waiting for one gets it without waiting for the rest)."""
        pending = list(claimed)
        try:
            found = analyst_picture(sources, scope_districts(key.scope), key.day)
            self.computed += 1
            if PICTURE in pending:
                self.store.put(key, {PICTURE: encode_picture(found)}, asked_on=asked)
                pending.remove(PICTURE)
            for name in list(pending):
                self.store.put(key, {name: ANALYST_CHARTS[name](found).encode()})
                self.computed += 1
                pending.remove(name)
        finally:
            for name in pending:  # failed: the next reader computes them
                self.store.release(key, name)
