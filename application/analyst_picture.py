"""The analyst's dashboard picture, national or of some districts: how value concentrates
over importers (with the tier cut-offs), compliance rates by industry, area and district
with their 95% intervals, how targeted exams compare with random ones, and the channel
mix of declarations. It is computed from the plan report's sources (AnalystSources adds
two reads of its own) and with the same figure functions (application.reports.picture),
so a figure on the dashboard and in the report agree. It is plain data (numbers, words,
the concentration curve as a few hundred points), so that it can be computed once and
stored for every process to read (interfaces.analyst_figures).

Scope decides the rates' source. Nationally they are the last risk run's estimates, as
the plan report shows them. For districts they are what was observed on the year's random
sample lines of those districts (with a Wilson interval, as the annual report measures
compliance): the risk run estimates every industry and area over the whole country, which
is other districts' data, and a district analyst sees only its own."""

from __future__ import annotations

import contextvars
import threading
from collections import defaultdict
from collections.abc import Callable, Collection
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from application.reports.periodic_render import compliance_row, district_label
from application.reports.picture import (
    Concentration,
    RateRow,
    Targeting,
    concentration_of,
    industry_label,
    rate_rows,
    targeting,
)
from application.reports.sources import Row, SampleCell
from application.reports.timeline import field_title
from application.targeting.effectiveness import Effectiveness
from domain.reference import ComplianceArea

T = TypeVar("T")


@dataclass(frozen=True)
class AnalystPicture:
    districts: frozenset[str] | None
    """None: national."""
    year: int
    run: Row | None
    """The latest risk run (None before the first)."""
    spread: Concentration
    industry: list[RateRow]
    area: list[RateRow]
    by_district: list[RateRow]
    rates_source: str
    """How the rates were found, in words for the page."""
    targeting: Targeting
    channels: list[Row]
    """Per channel and basis: declarations (dashboard_queries.channel_mix)."""

    @property
    def channel_totals(self) -> list[dict[str, Any]]:
        """Per channel: declarations and share of all, with each basis' count."""
        per: dict[str, dict[str, Any]] = {}
        for row in self.channels:
            entry = per.setdefault(row["channel"], {"channel": row["channel"],
                                                    "declarations": 0, "by_basis": {}})
            entry["declarations"] += row["declarations"]
            entry["by_basis"][row["basis"]] = row["declarations"]
        total = sum(entry["declarations"] for entry in per.values())
        order = {"green": 0, "amber": 1, "red": 2}
        rows = sorted(per.values(), key=lambda e: (order.get(e["channel"], 9), e["channel"]))
        for entry in rows:
            entry["share"] = entry["declarations"] / total if total else 0.0
        return rows


class AnalystSources(Protocol):
    """What the picture reads: the plan report's sources (results tables, the year's
    samples) and two reads of its own, each one query: every scored importer's value and
    tier as arrays, and the channel mix of declarations."""

    def latest_risk_run(self) -> Row | None: ...

    def rates(self, grain: str) -> list[Row]: ...

    def effectiveness(self, start: date, end: date) -> Effectiveness: ...

    def sample_cells(self, year: int) -> list[SampleCell]: ...

    def value_arrays(self, districts: Collection[str] | None,
                     ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """(annual value, tier) of every scored importer of `districts` (None: all)."""
        ...

    def channel_mix(self, districts: frozenset[str] | None) -> list[Row]:
        """Per channel and basis: declarations (dashboard_queries.channel_mix)."""
        ...


def analyst_picture(sources: AnalystSources, districts: Collection[str] | None,
                    today: date) -> AnalystPicture:
    """The picture as of `today` (the ledger's date): exams and samples of its year.
    Its large reads (the year's hit rates, the values, the channel mix, and the year's
    sample cells for districts) are independent, so they run at the same time, each on a
    connection of its own: a cold picture waits for the slowest, not for their sum."""
    chosen = None if districts is None else frozenset(districts)
    year = today.year
    measuring = _start(sources.effectiveness, date(year, 1, 1), today)
    valuing = _start(sources.value_arrays, chosen)
    mixing = _start(sources.channel_mix, chosen)
    if chosen is None:
        industry = rate_rows(sources.rates("industry"), industry_label)
        area = rate_rows(sources.rates("area"))
        by_district = rate_rows(sources.rates("district"), district_label)
        source = ("the latest risk run's estimates (random sample lines, shrunk toward the "
                  "national rate), with their 95% intervals")
    else:
        cells = [c for c in sources.sample_cells(year)
                 if c.district in chosen and c.selection == "random"]
        industry, area, by_district = measured_rates(cells)
        source = (f"observed on the random sample lines examined in {year} in "
                  f"{'this district' if len(chosen) == 1 else 'these districts'}, "
                  "with 95% Wilson intervals")
    run = sources.latest_risk_run()
    return AnalystPicture(chosen, year, run, concentration_of(*valuing.result()),
                          industry, area, by_district, source,
                          targeting(measuring.result(), chosen), mixing.result())


def _start(call: Callable[..., T], *args: Any) -> Future[T]:
    """`call(*args)` on a thread of its own, in a copy of this context (the caller's
    identity, application.access, goes with it)."""
    context = contextvars.copy_context()
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(context.run(call, *args))
        except BaseException as error:  # handed to whoever waits for the result
            future.set_exception(error)
    threading.Thread(target=run, name="analyst-picture", daemon=True).start()
    return future


def measured_rates(cells: list[SampleCell]) -> tuple[list[RateRow], list[RateRow],
                                                      list[RateRow]]:
    """Observed compliance by industry (HS chapter), area and district, lowest first.
    A line's area is the type of its discrepancy, so an area's rate is 1 - its
    discrepancies over every line examined."""
    chapters: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    districts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    areas: dict[str, int] = defaultdict(int)
    for cell in cells:
        for key, sums in ((cell.chapter, chapters), (cell.district, districts)):
            sums[key][0] += cell.lines
            sums[key][1] += cell.discrepancies
        if cell.area:
            areas[cell.area] += cell.discrepancies
    lines = sum(cell.lines for cell in cells)

    def lowest(rows: list[RateRow]) -> list[RateRow]:
        return sorted(rows, key=lambda r: (r["rate"] is None, r["rate"] or 0.0, r["code"]))

    industry = [compliance_row(industry_label(code), *chapters[code], code=code)
                for code in chapters]
    by_district = [compliance_row(district_label(code), *districts[code], code=code)
                   for code in districts]
    area = [compliance_row(field_title(a.value), lines, areas.get(a.value, 0), code=a.value)
            for a in ComplianceArea] if lines else []
    return lowest(industry), lowest(area), lowest(by_district)
