"""Benchmark 16b, the periodic reports at national scale (`--only periodic-reports`).

The Trade Compliance and Enforcement Plan for the current quarter (national) and the annual
report for the current year, over the national demo data set (443,000 importers, a year of
trade, about 150,000 examined lines, 1,000,000 declarations channelled), each built and
rendered to PDF/A-3b. Target: each ≤ 60 s, most of it rendering, not querying. The split is
reported: querying (every call to the sources port: the views, the risk and targeting
tables), composing (tables, charts, HTML) and rendering (WeasyPrint). Catching the views up
is done first and not timed: a report is read at a position the views have reached.

The data set is the one benchmark 13 loads: set BENCH_NATIONAL_SCHEMA to reuse a kept schema
(about 9 minutes to load otherwise); `--quick` loads 20,000 importers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import Measure, Result
from bench.harness import TimeTargetResult
from bench.http_national import QUICK_IMPORTERS, national_store

TARGET_S = 60.0
NATIONAL_IMPORTERS = 443_000
Log = Callable[[str], None]


@dataclass
class _TimedSources:
    """The sources port with the time spent in each call added up: the querying share."""

    inner: Any
    seconds: float = 0.0
    calls: dict[str, float] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return target(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self.seconds += spent
                self.calls[name] = self.calls.get(name, 0.0) + spent
        return timed


@dataclass(frozen=True)
class _Run:
    name: str
    query_s: float
    compose_s: float
    render_s: float
    pages: int
    size: int
    slowest: list[tuple[str, float]]

    @property
    def total_s(self) -> float:
        return self.query_s + self.compose_s + self.render_s


def _measure(name: str, build: Callable[[Any], Any], sources: Any) -> _Run:
    import io

    from pypdf import PdfReader

    from infrastructure.pdf_render import render_pdf

    timed = _TimedSources(sources)
    started = time.perf_counter()
    document = build(timed)
    built = time.perf_counter() - started
    started = time.perf_counter()
    pdf = render_pdf(document)
    rendered = time.perf_counter() - started
    slowest = sorted(timed.calls.items(), key=lambda item: -item[1])[:4]
    return _Run(name, timed.seconds, built - timed.seconds, rendered,
                len(PdfReader(io.BytesIO(pdf)).pages), len(pdf), slowest)


def bench_periodic_reports(url: str, *, quick: bool = False, log: Log = print) -> list[Result]:
    from application.reports.annual_report import build_annual
    from application.reports.plan_report import build_plan
    from interfaces.composition import build_application
    from interfaces.periodic_reports import LedgerSources
    from projections.worker import Projections

    importers = QUICK_IMPORTERS if quick else NATIONAL_IMPORTERS
    with national_store(url, importers, log) as settings:
        app = build_application(settings)
        try:
            started = time.perf_counter()
            Projections(app).catch_up()
            log(f"views caught up in {time.perf_counter() - started:.1f} s (not timed)")
            today = app.clock().date()
            quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
            sources = LedgerSources(app)
            runs = [
                _measure(f"plan {quarter} (national)",
                         lambda s: build_plan(s, quarter, None), sources),
                _measure(f"annual report {today.year}",
                         lambda s: build_annual(s, today.year), sources),
            ]
        finally:
            app.close()
    results: list[Result] = []
    for key, run in zip(("16b", "16c"), runs, strict=True):
        log(f"{run.name}: query {run.query_s:.1f} s, compose {run.compose_s:.1f} s, "
            f"render {run.render_s:.1f} s, {run.pages} pages")
        ours = Measure(f"{run.name}: query + compose + render", run.total_s, run.pages,
                       "pages", note=f"query {run.query_s:.1f} s, compose (tables, charts, "
                                     f"HTML) {run.compose_s:.1f} s, render {run.render_s:.1f} s")
        query = Measure("diagnostic: querying (views and results tables)", run.query_s,
                        run.pages, "pages", note="slowest: " + ", ".join(
                            f"{name} {seconds:.2f} s" for name, seconds in run.slowest))
        results.append(TimeTargetResult(
            key=key, title=f"16. {run.name}, national data set ({importers:,} importers)",
            backend="PostgreSQL", ours=ours, baseline=query,
            ratio=run.query_s / run.total_s if run.total_s else 0.0,
            ratio_text="querying's share of the whole, a diagnostic; the target is on ours",
            target=TARGET_S, target_text=f"ours ≤ {TARGET_S:.0f} s", higher_is_better=False,
            sizes={"importers": importers, "pages": run.pages, "pdf bytes": run.size},
            facts=[f"Split: querying {run.query_s:.1f} s ({run.query_s / run.total_s:.0%}), "
                   f"composing {run.compose_s:.1f} s, rendering {run.render_s:.1f} s "
                   f"({run.render_s / run.total_s:.0%})."],
            limits=f"{'Met' if run.total_s <= TARGET_S else 'Missed'} ({run.total_s:.1f} s "
                   f"against {TARGET_S:.0f} s)."))
    return results
