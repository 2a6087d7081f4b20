"""Benchmark 17's analyst dashboards (bench.web_pages_benchmark runs them): `/` and its six
charts as a browser loads them, as the national analyst and as district 11's, after a bulk
run and after a case event, with what a bulk run's own process spends computing the
figures, the dashboard after a bulk run whose process computed nothing (its first reader
computes them, once across the workers), and a profile of computing one scope's figures.

A bulk run is real: one random, compliant sample line of a district 11 importer, examined
today, imported through the application's ingest in this process (an ImportBatch recorded)
by an application composed as production composes it (interfaces.composition: its bulk
runs compute the figures of the scopes analysts asked for, interfaces.analyst_refresh)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bench.common import Measure, ProfileSummary, Result, StageSpec, profile
from bench.http_harness import (
    WORKERS,
    connection,
    failed_result,
    fetch,
    fresh_get,
    latencies,
    login,
    steady,
    timed_get,
)
from bench.http_load import request_bytes, run_load
from bench.http_national import DISTRICT
from bench.http_national import USER as SUPERVISOR
from bench.web_pages_benchmark import (
    DASHBOARD_TARGET_MS,
    DISTRICT_ANALYST,
    NATIONAL_ANALYST,
    OFFICERS,
    SETUP_ACTOR,
    Log,
    Prepared,
    Sizes,
    chart_links,
    page_result,
)


def _browser_load(port: int, cookie: str, charts: list[str]) -> float:
    """`/`, then its charts in parallel, each on a connection of its own (a browser opens
    up to 6 per site): the time until the last chart has arrived."""
    started = time.perf_counter()
    fresh_get(port, "/", cookie)
    with ThreadPoolExecutor(max(1, len(charts))) as pool:
        list(pool.map(lambda chart: fresh_get(port, chart, cookie), charts))
    return time.perf_counter() - started


@dataclass(frozen=True)
class ColdDashboard:
    browser: Measure
    page: Measure
    sequential: Measure
    drawn: Measure


def _cold_dashboard(port: int, cookie: str, charts: list[str], move: Callable[[], None],
                    samples: int, after: str) -> ColdDashboard:
    """Each sample moves the log first (`move`: a bulk run or a case step): then `/` and
    its charts as a browser loads them (in parallel, landing on either worker); and, after
    moving it again, `/` and each chart in turn on one connection (one worker), to tell
    the page's time from each chart's drawing."""
    browser, pages, totals, drawn = [], [], [], []
    for _ in range(samples):
        move()
        browser.append(_browser_load(port, cookie, charts))
        move()
        with connection(port) as opened:
            first = timed_get(opened, "/", cookie)
            each = [timed_get(opened, chart, cookie) for chart in charts]
        pages.append(first)
        drawn += each
        totals.append(first + sum(each))
    return ColdDashboard(
        latencies(f"GET / then its {len(charts)} charts in parallel ({after})", browser),
        latencies(f"GET / alone ({after})", pages),
        latencies(f"GET / then its {len(charts)} charts in turn, one connection ({after})",
                   totals),
        latencies(f"one chart after the page ({after})", drawn, "charts"))


def _warm_every_worker(port: int, cookie: str, charts: list[str], sizes: Sizes) -> None:
    """`/` and each chart on as many connections as workers, so every worker holds the
    picture and charts before the case-event samples (each worker keeps its own)."""
    for path in ["/", *charts]:
        run_load(port, request_bytes("GET", path, {"Cookie": cookie}),
                 connections=2 * WORKERS, max_requests=4 * WORKERS,
                 max_seconds=sizes.seconds / 4)


PICTURE_STAGES: list[StageSpec] = [
    ("effectiveness: the year's sample lines grouped in SQL (join, GROUP BY)",
     [("infrastructure/targeting_tables.py", "sample_groups", "cum", 1)]),
    ("effectiveness: hit rates by district and rule from the groups",
     [("application/targeting/effectiveness.py", "effectiveness_of", "cum", 1)]),
    ("values and tiers of every importer (two binary arrays) and concentration (numpy)",
     [("infrastructure/figure_store.py", "value_arrays", "cum", 1),
      ("application/reports/picture.py", "concentration_of", "cum", 1)]),
    ("sample cells of the year (district picture only)",
     [("interfaces/periodic_reports.py", "sample_cells", "cum", 1)]),
    ("channel mix (COUNT over every channel decision)",
     [("application/dashboard_queries.py", "channel_mix", "cum", 1)]),
    ("the picture stored and read back (JSON)",
     [("interfaces/analyst_figures.py", "encode_picture|decode_picture", "cum", 1)]),
    ("drawing the charts (matplotlib SVG)",
     [("bench/web_dashboard_benchmark.py", "_draw_charts", "cum", 1)]),
]


class _ReadFirst:
    """The picture's sources with its large reads done first, one after the other in this
    thread (cProfile sees one thread; application.analyst_picture runs them on threads of
    their own), then handed back when the picture asks."""

    def __init__(self, sources: Any, districts: frozenset[str] | None, today: date) -> None:
        self.sources = sources
        self.measured = sources.effectiveness(date(today.year, 1, 1), today)
        self.values = sources.value_arrays(districts)
        self.mix = sources.channel_mix(districts)
        self.cells = sources.sample_cells(today.year) if districts is not None else []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sources, name)

    def effectiveness(self, *_: Any) -> Any:
        return self.measured

    def value_arrays(self, *_: Any) -> Any:
        return self.values

    def channel_mix(self, *_: Any) -> Any:
        return self.mix

    def sample_cells(self, *_: Any) -> Any:
        return self.cells


def _draw_charts(found: Any) -> list[str]:
    from application.analyst_charts import ANALYST_CHARTS

    return [draw(found) for draw in ANALYST_CHARTS.values()]


def _profile_picture(app: Any, districts: frozenset[str] | None) -> ProfileSummary:
    """What computing a scope's figures costs (the analyst's picture, stored and read back,
    then its charts), in this process on the same schema, under cProfile: what the bulk
    run's process (or a first reader) spends. The picture's reads run on threads of their
    own (application.analyst_picture), which cProfile does not see: they are profiled here
    one after the other (_ReadFirst)."""
    from application.analyst_picture import analyst_picture
    from interfaces.analyst_figures import PictureSources, decode_picture, encode_picture

    def cold() -> None:
        today = app.clock().date()
        sources = _ReadFirst(PictureSources(app), districts, today)
        found = decode_picture(encode_picture(analyst_picture(sources, districts, today)))
        _draw_charts(found)
    cold()  # imports and connections first
    scope = "national" if districts is None else f"district {', '.join(sorted(districts))}"
    return profile(cold, f"the {scope} analyst figures (picture and charts), in-process",
                   PICTURE_STAGES)


@dataclass
class BulkRuns:
    """Bulk runs through the application's ingest, each timed, with the part of it the
    application's after_bulk_run hook (computing the analysts' figures) took."""

    app: Any
    importer: str
    totals: list[float] = field(default_factory=list)
    figures: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._run = _sample_import(self.app, self.importer)
        self._hook = self.app.after_bulk_run

    def __call__(self) -> None:
        """As composed: the figures of the scopes asked for computed at the end."""
        def timed(position: int) -> None:
            started = time.perf_counter()
            self._hook(position)
            self.figures.append(time.perf_counter() - started)
        self.app.after_bulk_run = timed
        started = time.perf_counter()
        try:
            self._run()
        finally:
            self.app.after_bulk_run = self._hook
        self.totals.append(time.perf_counter() - started)

    def computing_nothing(self) -> None:
        """A bulk run whose process computes no figure (as one recorded before the
        figures were stored, or a scope nobody asked for): its first reader computes."""
        self.app.after_bulk_run = None
        try:
            self._run()
        finally:
            self.app.after_bulk_run = self._hook


def _sample_import(app: Any, importer: str) -> Callable[[], None]:
    """One random, compliant sample line of `importer`, examined today, imported through
    the application's ingest (a batch recorded: ImportBatch.Imported)."""
    import csv
    import tempfile
    import uuid
    from pathlib import Path

    from application.ingest.schemas import SCHEMAS, IngestKind
    from infrastructure.csv_files import read_csv_file
    from interfaces.analysis_composition import build_ingestion

    columns = SCHEMAS[IngestKind.SAMPLES](date.min).columns
    ingestion = build_ingestion(app)

    def run() -> None:
        line = {"entry_number": f"B17-{uuid.uuid4().hex[:14].upper()}", "line": "1",
                "importer_number": importer, "exam_date": app.clock().date().isoformat(),
                "hs_code": "6403990000", "origin_country": "VN", "entered_value": "1000.00",
                "selection": "random", "discrepancy": "false", "discrepancy_type": "",
                "revenue_loss": "0.00"}
        with tempfile.TemporaryDirectory(prefix="bench-web-bulk-") as folder:
            path = Path(folder) / "samples.csv"
            with path.open("w", newline="") as stream:
                writer = csv.writer(stream)
                writer.writerow(columns)
                writer.writerow([line[name] for name in columns])
            report = ingestion.import_file(IngestKind.SAMPLES, read_csv_file(path, columns),
                                           actor=SETUP_ACTOR)
        if report.status != "loaded":
            raise AssertionError(f"the bulk run's import: {report.status} {report.errors[:3]}")
    return run


def dashboard_results(app: Any, port: int, base: str, prepared: Prepared, sizes: Sizes,
                      health: Measure, common: dict[str, Any], log: Log) -> list[Result]:
    """17g-17j: each analyst's dashboard after a bulk run and after a case event."""
    turn = iter(range(10**6))

    def case_step() -> None:
        app.assign_officer(prepared.mover, OFFICERS[next(turn) % 2],
                           actor=f"user:{SUPERVISOR}", reason="benchmark 17: the log "
                           "moves by a case step")

    results: list[Result] = []
    for keys, analyst, scope in ((("17g", "17i"), NATIONAL_ANALYST, None),
                                 (("17h", "17j"), DISTRICT_ANALYST, frozenset({DISTRICT}))):
        bulk = BulkRuns(app, prepared.sample_importer)
        found = _dashboard(keys, port, base, analyst, bulk, case_step, sizes, health,
                           {**common}, log)
        found[0].profile = _profile_picture(app, scope)
        results += found
    return results


def _dashboard(keys: tuple[str, str], port: int, base: str, analyst: str, bulk: BulkRuns,
               case_step: Callable[[], None], sizes: Sizes, health: Measure,
               sizes_fact: dict[str, Any], log: Log) -> list[Result]:
    """Two results: the dashboard after a bulk run and after a case event (the picture
    kept), each judged as a browser loads it."""
    cookie = login(base, analyst)
    title = f"Web analyst dashboard ({analyst})"
    try:
        charts = chart_links(fetch(base, "/", cookie))  # asked for: kept ready from now
        after_bulk = _cold_dashboard(port, cookie, charts, bulk, sizes.cold_samples,
                                     "after a bulk run")
        nothing = _cold_dashboard(port, cookie, charts, bulk.computing_nothing,
                                  sizes.cold_samples, "after a bulk run that computed "
                                  "nothing: the first reader computes")
        _warm_every_worker(port, cookie, charts, sizes)
        after_case = _cold_dashboard(port, cookie, charts, case_step, sizes.cold_samples,
                                     "after a case event")
        warm = steady(port, "GET / (warm: picture cached)", "/", cookie, sizes.requests,
                      sizes.seconds)
        warm_charts = [steady(port, f"GET {c} (warm)", c, cookie, sizes.requests,
                              sizes.seconds) for c in charts]
    except AssertionError as error:
        log(f"{title}: {error}")
        return [failed_result(keys[0], title, "/", str(error))]
    runs = latencies("the bulk run itself (one sample line imported), with computing the "
                     "figures", bulk.totals, "bulk runs")
    figures = latencies("of which computing and storing the figures of the scopes asked "
                        "for (after_bulk_run)", bulk.figures, "bulk runs")
    log(f"{title}: after a bulk run, as a browser loads it, median "
        f"{after_bulk.browser.median_ms:.0f} ms (max {after_bulk.browser.max_ms:.0f}); "
        f"computing nothing at the bulk run, median {nothing.browser.median_ms:.0f} ms; "
        f"after a case event median {after_case.browser.median_ms:.0f} ms (max "
        f"{after_case.browser.max_ms:.0f}); warm page p95 {warm.p95_ms:.1f} ms; the bulk "
        f"run's figures median {figures.median_ms:.0f} ms")
    slowest = max(warm_charts, key=lambda m: m.p95_ms or 0.0, default=None)
    common = [f"charts: {', '.join(charts)}",
              f"warm: page p95 {warm.p95_ms:.1f} ms" + (
                  f"; slowest chart from the cache p95 {slowest.p95_ms:.1f} ms"
                  if slowest else ""),
              "the judged figure is the page then its charts in parallel (6 connections, "
              "as a browser), until the last chart arrived"]
    measured = {**sizes_fact, "charts": len(charts), "samples": sizes.cold_samples}
    cold = page_result(keys[0], f"{title}, after a bulk run", after_bulk.browser, warm,
                   [after_bulk.page, after_bulk.sequential, after_bulk.drawn, runs, figures,
                    nothing.browser, nothing.page, nothing.drawn, *warm_charts, health],
                   measured,
                   [_parts(after_bulk, "after a bulk run"),
                    _parts(nothing, "after a bulk run that computed nothing"), *common,
                    "a bulk run = one sample line imported through the application's ingest "
                    "(a batch recorded) by this process, composed as production composes "
                    "it: at its end it computes and stores the picture and charts of the "
                    "scopes analysts asked for lately (interfaces.analyst_refresh: here the "
                    "national one and district 11's); every worker reads them; the bulk "
                    f"run took median {runs.median_ms:.0f} ms, of which the figures "
                    f"{figures.median_ms:.0f} ms",
                    "after a bulk run that computed nothing: the first request for each "
                    "figure claims it in the store and computes it, the other worker waits "
                    "for that row (interfaces.analyst_figures)"],
                   DASHBOARD_TARGET_MS, baseline_is="the warm page", limits=DASHBOARD_LIMITS)
    kept = page_result(keys[1], f"{title}, after a case event", after_case.browser, warm,
                   [after_case.page, after_case.sequential, after_case.drawn, health],
                   measured,
                   [_parts(after_case, "after a case event"), *common[1:],
                    "a case event = an officer reassigned (the log moves, no bulk run): the "
                    "picture and charts are kept (interfaces.web.analysis_marker); each "
                    "request checks the events since the last one for a bulk run"],
                   DASHBOARD_TARGET_MS, baseline_is="the warm page",
                   limits=KEPT_LIMITS)
    return [cold, kept]


def _parts(found: ColdDashboard, after: str) -> str:
    return (f"{after}: the page alone median {found.page.median_ms:.0f} ms (max "
            f"{found.page.max_ms:.0f}); each chart after it median "
            f"{found.drawn.median_ms:.0f} ms (max {found.drawn.max_ms:.0f}); page and "
            f"charts in turn median {found.sequential.median_ms:.0f} ms (max "
            f"{found.sequential.max_ms:.0f})")


DASHBOARD_LIMITS = ("after a bulk run: reading the stored picture and charts (one row "
                    "each, per worker), the session's caller, a look at the events since "
                    "the last request for a bulk run, rendering the template. The cost of "
                    "computing them moved to the bulk run's end (see the profile: the "
                    "year's sample lines grouped in SQL through a three-table join, every "
                    "importer's value and tier, every channel decision counted, the charts "
                    "drawn); a reader pays it only for a scope nobody asked for before")
KEPT_LIMITS = ("the page and charts from the cache: the session's caller, a look at the "
               "events since the last request for a bulk run, rendering the template")
