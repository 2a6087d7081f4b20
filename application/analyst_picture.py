"""The analyst's dashboard picture, national or of some districts: how value concentrates
over importers (with the tier cut-offs), compliance rates by industry, area and district
with their 95% intervals, how targeted exams compare with random ones, and the channel
mix of declarations. It is computed from the same sources port and with the same figure
functions (application.reports.picture) as the plan report, so a figure on the dashboard
and in the report agree.

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
from typing import Any, TypeVar

from application.reports.periodic_render import compliance_row, district_label
from application.reports.picture import (
    Concentration,
    RateRow,
    Targeting,
    concentration,
    industry_label,
    rate_rows,
    targeting,
)
from application.reports.sources import PeriodicSources, Row, SampleCell
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


def analyst_picture(sources: PeriodicSources, districts: Collection[str] | None,
                    channels: list[Row], today: date) -> AnalystPicture:
    """The picture as of `today` (the ledger's date): exams and samples of its year.
    Its three large reads (the year's hit rates, the value curve, the rates or the year's
    sample cells) are independent, so they run at the same time, each on a connection of
    its own: a cold dashboard waits for the slowest, not for their sum."""
    chosen = None if districts is None else frozenset(districts)
    year = today.year
    measuring = _start(sources.effectiveness, date(year, 1, 1), today)
    if chosen is None:
        valuing = _start(sources.value_curve, None)
        industry = rate_rows(sources.rates("industry"), industry_label)
        area = rate_rows(sources.rates("area"))
        by_district = rate_rows(sources.rates("district"), district_label)
        values = valuing.result()
        source = ("the latest risk run's estimates (random sample lines, shrunk toward the "
                  "national rate), with their 95% intervals")
    else:
        sampling = _start(sources.sample_cells, year)
        values = sorted((pair for code in sorted(chosen) for pair in sources.value_curve(code)),
                        key=lambda pair: -pair[0])
        cells = [c for c in sampling.result()
                 if c.district in chosen and c.selection == "random"]
        industry, area, by_district = measured_rates(cells)
        source = (f"observed on the random sample lines examined in {year} in "
                  f"{'this district' if len(chosen) == 1 else 'these districts'}, "
                  "with 95% Wilson intervals")
    return AnalystPicture(chosen, year, sources.latest_risk_run(), concentration(values),
                          industry, area, by_district, source,
                          targeting(measuring.result(), chosen), channels)


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
    area = [compliance_row(a.value, lines, areas.get(a.value, 0), code=a.value)
            for a in ComplianceArea] if lines else []
    return lowest(industry), lowest(area), lowest(by_district)
