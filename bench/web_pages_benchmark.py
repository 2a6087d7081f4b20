"""Benchmark 17, the web pages at national scale (`--only web-pages`).

Issue 16's speed targets, measured against the real server (`uvicorn --workers 2`) on the
national demo data set of benchmark 13 (bench.http_national.national_store: 443,000
importers, 1,000,000 declarations; BENCH_NATIONAL_SCHEMA keeps it for later runs):

- the work list and the account register PAGES of district 11 (first page and the second,
  through the page's own "next" link), as district 11's supervisor: p95 < 150 ms;
- a case page with 1,000 events (`/assessments/<n>`) and its timeline (`/history/<n>`,
  paged: the newest 50 events): p95 < 150 ms;
- the analyst's dashboard (`/`, charts with their numbers) as the national analyst and as
  district 11's analyst: < 1 s, judged as a browser loads it (the page, then its charts in
  parallel), in two cases. After a bulk run (one sample line imported through the
  application's ingest records a batch: the picture and every chart move to a new marker,
  computed at the end of the bulk run by the process that ran it, here this one, as
  composed in production, interfaces.analyst_refresh, and stored for every worker) and
  after a case event (the log moved by a case step: the picture and charts are kept until
  a bulk run, interfaces.web.analysis_marker). Each bulk-run sample adds one random,
  compliant sample line to the national data set (of a district 11 importer, examined
  today). Diagnostics: the bulk run's own time and the part of it spent computing the
  figures, and the dashboard after a bulk run whose process computed nothing (the first
  reader computes them, once across the workers: a scope nobody asked for before). The
  dashboards' part is in bench.web_dashboard_benchmark.

A page's time is the response time seen by one keep-alive client sending requests back to
back (bench.http_load), so it is the server's time plus a loopback round trip, without
queueing; the same pages at 4 connections are a diagnostic. Baselines in the same run, as
ratios, never assertions: the API call the page stands beside (`GET /api/worklist`, `GET
/api/register`, `GET /api/assessments/<n>`, `GET /api/history/<n>`) and `GET /healthz`.

The national demo opens no cases, so the work list would be empty: this benchmark opens
assessments through the application (access control off, idempotency keys, so a kept
schema is set up once): WORKLIST_CASES in district 11 (about half assigned to its
officers), OTHER_CASES over the other districts, and one assessment whose officer is
reassigned until it holds 1,000 events (the cheapest step a case may repeat). Setting up
is not timed.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from bench.common import (
    Measure,
    Result,
    application,
)
from bench.http_harness import (
    WORKERS,
    environment,
    failed_result,
    fetch,
    login,
    steady,
    uvicorn_server,
)
from bench.http_national import DISTRICT, QUICK_IMPORTERS, national_store
from bench.http_national import USER as SUPERVISOR
from domain.assessment import AssessmentOrigin
from domain.reference import DISTRICTS
from domain.user import Role
from domain.values import parse_period
from infrastructure.settings import Settings
from interfaces.composition import build_password_hasher, utc_now
from interfaces.demo_users import (
    ANALYST,
    DEMO_PASSWORD,
    create_people,
    district_people,
    give_logins,
)

PAGE_TARGET_MS = 150.0
DASHBOARD_TARGET_MS = 1000.0
EVENTS = 1000
NATIONAL_ANALYST = ANALYST.removeprefix("user:")
DISTRICT_ANALYST = f"analyst-{DISTRICT}"
OFFICERS = (f"user:officer-{DISTRICT}-1", f"user:officer-{DISTRICT}-2")
SETUP_ACTOR = "system:bench"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    worklist_cases: int
    other_cases: int
    requests: int
    seconds: float
    cold_samples: int


FULL = Sizes(worklist_cases=600, other_cases=1400, requests=300, seconds=40.0, cold_samples=5)
QUICK = Sizes(worklist_cases=150, other_cases=100, requests=60, seconds=15.0, cold_samples=3)


@dataclass(frozen=True)
class Prepared:
    heavy: str
    """The assessment holding EVENTS events."""
    mover: str
    """An assessment reassigned to move the log (each move makes the dashboard cold)."""
    district_cases: int
    sample_importer: str
    """A district importer whose sample lines the bulk runs import."""


# -- setting up (not timed) ----------------------------------------------------------------


def _importers(store: Any, district: str, count: int) -> list[str]:
    from projections.listing import account_page

    found: list[str] = []
    cursor = None
    while len(found) < count:
        page = account_page(store, districts=None, importers=None, state="active",
                            district=district, limit=min(500, count - len(found)),
                            cursor=cursor)
        found += [row["importer_number"] for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def _prepare(settings: Settings, sizes: Sizes, log: Log) -> Prepared:
    from projections.worker import Projections

    started = time.perf_counter()
    with application(settings) as app:
        create_people(app, district_people([DISTRICT]), utc_now())
        give_logins(app, {Role.ANALYST: DISTRICT_ANALYST},
                    build_password_hasher(settings).hash(DEMO_PASSWORD), utc_now())
        store = Projections(app).store
        period = parse_period(f"{date.today().year - 1}-01-01",
                              f"{date.today().year - 1}-12-31")

        def opened(importer: str) -> str:
            return app.open_assessment(
                importer, origin=AssessmentOrigin.RISK_SELECTION, period=period,
                scope=["value"], actor=SETUP_ACTOR, reason="benchmark 17: a work list",
                idempotency_key=f"bench-web-open-{importer}")

        ours = _importers(store, DISTRICT, sizes.worklist_cases + 1)
        others = [number for code in DISTRICTS if code != DISTRICT for number in
                  _importers(store, code, sizes.other_cases // (len(DISTRICTS) - 1))]
        log(f"opening {len(ours) + len(others):,} assessments ({len(ours):,} in district "
            f"{DISTRICT}; idempotent, so a kept schema is set up once)")
        numbers = [opened(importer) for importer in ours]
        for importer in others:
            opened(importer)
        for index, number in enumerate(numbers[1:-1:2]):
            app.assign_officer(number, OFFICERS[index % 2], actor=f"user:{SUPERVISOR}",
                               reason="benchmark 17: assigned",
                               idempotency_key=f"bench-web-assign-{number}")
        heavy = numbers[0]
        log(f"{heavy}: reassigning its officer until it holds {EVENTS:,} events")
        for index in range(EVENTS - 1):
            app.assign_officer(heavy, OFFICERS[index % 2], actor=f"user:{SUPERVISOR}",
                               reason=f"benchmark 17: reassignment {index + 1}",
                               idempotency_key=f"bench-web-heavy-{index}")
        assert app.get_assessment(heavy).version == EVENTS
        log("catching every view up (not timed)")
        Projections(app).catch_up()
    log(f"set up in {time.perf_counter() - started:.0f} s")
    return Prepared(heavy, numbers[-1], len(numbers), ours[-1])


# -- measuring -----------------------------------------------------------------------------


def next_link(page: str) -> str | None:
    """The href of the page's `rel="next"` link (the work list's and register's cursor)."""
    for tag in re.findall(r"<a\b[^>]*>", page):
        if re.search(r'\brel="next"', tag):
            found = re.search(r'\bhref="([^"]+)"', tag)
            return html.unescape(found.group(1)) if found else None
    return None


def chart_links(page: str) -> list[str]:
    return [html.unescape(src) for src in re.findall(r'<img[^>]*\bsrc="(/charts/[^"]+)"', page)]


# -- the benchmark -------------------------------------------------------------------------


def bench_web_pages(url: str, *, quick: bool = False, log: Log = print) -> list[Result]:
    from bench.web_dashboard_benchmark import dashboard_results
    from interfaces.national_data import NATIONAL_IMPORTERS

    sizes = QUICK if quick else FULL
    importers = QUICK_IMPORTERS if quick else NATIONAL_IMPORTERS
    results: list[Result] = []
    with national_store(url, importers, log) as settings:
        prepared = _prepare(settings, sizes, log)
        with uvicorn_server("interfaces.http.app:create_app_from_env",
                            environment(settings)) as port, application(settings) as app:
            base = f"http://127.0.0.1:{port}"
            supervisor = login(base, SUPERVISOR)
            amount = (sizes.requests, sizes.seconds)  # per steady measure
            health = steady(port, "GET /healthz", "/healthz", supervisor, *amount)
            common = {"importers": importers, "workers": WORKERS, "connections": 1}

            def page(key: str, title: str, path: str, api: str, cookie: str,
                     extra: dict[str, Any], facts: list[str], load: bool = False,
                     limits: str = LIST_LIMITS) -> None:
                try:
                    ours = steady(port, f"GET {path}", path, cookie, *amount)
                except AssertionError as error:  # a page still being built: reported
                    log(f"{title}: {error}")
                    results.append(failed_result(key, title, path, str(error)))
                    return
                baseline = steady(port, f"GET {api} (the API call)", api, cookie, *amount)
                diagnostics = [health]
                if load:
                    diagnostics.append(steady(port, f"GET {path}", path, cookie, *amount, 4))
                log(f"{title}: median {ours.median_ms:.1f} ms, p95 {ours.p95_ms:.1f} ms "
                    f"(API p95 {baseline.p95_ms:.1f} ms)")
                results.append(page_result(key, title, ours, baseline, diagnostics,
                                           {**common, **extra}, facts, PAGE_TARGET_MS,
                                           limits=limits))

            api_page = httpx.get(f"{base}/api/register?district={DISTRICT}&limit=50",
                                 headers={"Cookie": supervisor}).json()
            lists = (("17a", "work list", "/worklist", "/api/worklist", ""),
                     ("17c", "register", "/accounts", "/api/register", "&limit=50"))
            for key, name, path, api, limit in lists:
                first = f"{path}?district={DISTRICT}"
                body = fetch(base, first, supervisor)
                following = next_link(body)
                rows = body.count("<tr") - 1
                page(key, f"Web {name} page (district {DISTRICT})", first,
                     f"{api}?district={DISTRICT}{limit}", supervisor, {"rows per page": rows},
                     [f"logged in as {SUPERVISOR}; {prepared.district_cases:,} open "
                      f"assessments in district {DISTRICT}; page {len(body):,} bytes"],
                     load=True)
                if following is None:
                    log(f"{name}: no next link on the first page")
                    continue
                page(f"{key[:2]}{chr(ord(key[2]) + 1)}",
                     f"Web {name} page 2 (district {DISTRICT})", following,
                     f"{api}?district={DISTRICT}{limit}&cursor={api_page['next_cursor']}"
                     if name == "register" else f"{api}?district={DISTRICT}",
                     supervisor, {"rows per page": rows},
                     [f"the first page's next link: {following[:80]}"
                      + ("" if name == "register" else "; the API's work list is one "
                         "page, so its baseline is that whole list")])
            heavy = prepared.heavy
            event_facts = [f"{heavy} holds {EVENTS:,} events (officer reassigned "
                           f"{EVENTS - 1:,} times); logged in as {SUPERVISOR}"]
            page("17e", f"Web case page, {EVENTS:,} events", f"/assessments/{heavy}",
                 f"/api/assessments/{heavy}", supervisor, {"events": EVENTS},
                 [*event_facts, "the page shows the newest 8 events"], limits=CASE_LIMITS)
            page("17f", f"Web history page, {EVENTS:,} events (first 50)",
                 f"/history/{heavy}", f"/api/history/{heavy}", supervisor,
                 {"events": EVENTS}, [*event_facts, "the API baseline returns all "
                                      f"{EVENTS:,} events, the page the newest 50"],
                 limits=CASE_LIMITS)

            results += dashboard_results(app, port, base, prepared, sizes, health, common,
                                         log)
    return results


LIST_LIMITS = ("per request: the session's caller, catching the views up (a lag check), "
               "the page's queries, rendering the template")
CASE_LIMITS = ("per request: loading the case, and replaying all its events with the "
               "fields each changed (application.history) to show a few of them")
def page_result(key: str, title: str, ours: Measure, baseline: Measure,
            diagnostics: list[Measure], sizes: dict[str, Any], facts: list[str],
            target_ms: float, baseline_is: str = "the API call",
            limits: str = LIST_LIMITS) -> Result:
    p95, base95 = ours.p95_ms or 0.0, baseline.p95_ms or 0.0
    health = next((d for d in diagnostics if d.label == "GET /healthz"), None)
    ratios = [f"p95 {p95:.1f} ms; {baseline_is} p95 {base95:.1f} ms: page/baseline "
              f"{p95 / base95 if base95 else float('inf'):.1f}x at p95, "
              f"{(ours.median_ms or 0.0) / (baseline.median_ms or 1.0):.1f}x at the median"]
    if health is not None:
        ratios.append(f"GET /healthz round trip median {health.median_ms or 0.0:.2f} ms")
    return Result(key, title, "PostgreSQL", ours, baseline, p95 / target_ms,
                  f"p95 / {target_ms:.0f} ms", 1.0, f"p95 < {target_ms:.0f} ms", False,
                  sizes=sizes, diagnostics=diagnostics, facts=[*ratios, *facts],
                  limits=limits)
