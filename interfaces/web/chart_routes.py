"""Charts for the pages: `GET /charts/<name>.svg` draws one chart of the dashboards with
application.reports.charts (the reports' own), as an image (an SVG carries its own <style>,
which the Content-Security-Policy would refuse inline in a page).

The analyst's picture and its charts read only what bulk runs write, so they are kept
under the latest bulk run's marker (interfaces.web.analysis_marker): stored for every
process (interfaces.analyst_figures: computed when the bulk run ended, else by the first
reader, once), and held in this process's memory once read, computed or read once however
many requests ask at the same moment. The supervisor's workload chart is kept in memory
until the log moves. Scope is the caller's: a district analyst gets its districts' figures
only, and naming another district is the same 404 as a missing one."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any, TypeVar

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery

from application.access import Principal, acting_as
from application.analyst_charts import ANALYST_CHARTS, WIDTH
from application.analyst_picture import AnalystPicture
from application.dashboard_queries import Scope, workload
from application.errors import NotFoundError
from application.reports import charts
from domain.values import parse_district
from infrastructure.figure_store import FigureKey
from interfaces.analyst_figures import AnalystFigures, PictureSources, scope_name
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.services import HttpServices
from interfaces.web.analysis_marker import analysis_key
from interfaces.web.work_context import KIND_LABELS, person, view_tables
from projections.views.account_register import AccountRegister
from projections.views.worklist import WorkList

__all__ = ["ANALYST_CHARTS", "CHARTS", "PICTURES", "ROUTES", "PositionCache", "analyst_scope",
           "figure_key", "figures_of", "log_position", "picture"]

AnyRequest = Request[Any, Any, Any]
T = TypeVar("T")
CHART_OFFICERS = 8
"""Officers drawn on the workload chart (the busiest); its table lists them all."""


class PositionCache:
    """At most `size` values, least recently used dropped first; keys carry the log
    position, so a value of an older position is simply never asked for again."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for `key`, computed once: a request arriving while another computes
        the same key waits for it (a cold dashboard asks for its picture once per chart,
        all at the same moment), while other keys go on."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]  # type: ignore[no-any-return]
            guard = self._computing.setdefault(key, threading.Lock())
        with guard:
            with self._lock:
                if key in self._values:
                    return self._values[key]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                self.misses += 1
                self._values[key] = value
                self._computing.pop(key, None)
                while len(self._values) > self.size:
                    self._values.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


PICTURES = PositionCache(32)
CHARTS = PositionCache(256)


def log_position(services: HttpServices) -> int:
    """Where the log is: every cache key holds it, with the application's identity (one
    process may serve several ledgers: the tests do)."""
    return int(services.app.recorder.max_notification_id() or 0)


def analyst_scope(caller: Principal, district: str | None) -> frozenset[str] | None:
    """The districts an analyst's picture covers: the one asked for (NotFoundError when
    the caller may not see it), else the caller's own (None: national)."""
    allowed, importers = caller.list_scope()
    if importers is not None:
        raise NotFoundError("analyst picture", "importer scope")
    if district:
        code = parse_district(district)
        if allowed is not None and code not in allowed:
            raise NotFoundError("district", code)
        return frozenset({code})
    return allowed


_FIGURES: dict[int, AnalystFigures] = {}
_FIGURES_LOCK = threading.Lock()


def figures_of(services: HttpServices) -> AnalystFigures:
    """The stored figures of the services' application (one per application served)."""
    with _FIGURES_LOCK:
        found = _FIGURES.get(id(services.app))
        if found is None or found.app is not services.app:
            found = _FIGURES[id(services.app)] = AnalystFigures(services.app)
        return found


def figure_key(services: HttpServices, scope: frozenset[str] | None) -> FigureKey:
    """The scope at the analysis marker: the latest bulk run's position, today."""
    position, today = analysis_key(services.app.recorder, services.now().date())
    return FigureKey(scope_name(scope), position, today)


def picture(services: HttpServices, caller: Principal,
            district: str | None = None) -> AnalystPicture:
    """The analyst's picture for the caller (and district), kept until a bulk run records
    (interfaces.web.analysis_marker) or the day changes: from this process's memory, else
    the stored figures, else computed once (and stored for every process)."""
    caller.require("read:risk")
    key = figure_key(services, analyst_scope(caller, district))

    def sources() -> PictureSources:
        store, _ = view_tables(services, AccountRegister)  # the samples' districts
        return PictureSources(services.app, store)

    def found() -> AnalystPicture:
        with acting_as(caller):
            return figures_of(services).picture(key, sources)
    return PICTURES.get((id(services.app), key), found)


def district_scope(caller: Principal, district: str | None) -> Scope:
    """The caller's list scope, narrowed to `district` (NotFoundError outside it)."""
    allowed, importers = caller.list_scope()
    if district:
        code = parse_district(district)
        if not caller.sees_district(code):
            raise NotFoundError("district", code)
        allowed = frozenset({code})
    return Scope(allowed, importers)


def workload_chart(services: HttpServices, scope: Scope) -> str:
    """Open cases per officer (the busiest CHART_OFFICERS, and nobody's), stacked by kind
    of case (the supervisor's dashboard)."""
    store, _ = view_tables(services, WorkList)
    found = workload(store, scope, services.now().date())
    rows = [r for r in found if r["officer"]][:CHART_OFFICERS] + [
        r for r in found if not r["officer"]]
    labels = [person(row["officer"]) or "unassigned" for row in rows]
    return charts.stacked_bars(
        labels, {label: [row["by_kind"].get(kind, 0) for row in rows]
                 for kind, label in KIND_LABELS.items()},
        title="Open cases per officer", y_label="open cases",
        width=max(WIDTH, 2.5 + 0.75 * len(labels)))


@get("/charts/{name:str}", sync_to_thread=True, include_in_schema=False)
def chart(request: AnyRequest, caller: Caller, name: FromPath[str],
          district: FromQuery[str | None] = None) -> Response[str]:
    """One chart as SVG. Its ETag names the chart, scope and marker (the same in every
    worker), so a browser asking again with If-None-Match gets 304 until they move."""
    chart_name = name.removesuffix(".svg")
    if chart_name == name:
        raise NotFoundError("chart", name[:60])
    services = services_of(request)
    render: Callable[[], str]
    if chart_name in ANALYST_CHARTS:
        caller.require("read:risk")
        key = figure_key(services, analyst_scope(caller, district))
        render = partial(figures_of(services).chart, key, chart_name,
                         partial(picture, services, caller, district))
        where: Any = (key.scope, key.position, key.day.isoformat())
    elif chart_name == "workload":
        caller.require("read:worklist")
        narrowed = district_scope(caller, district)
        render = partial(workload_chart, services, narrowed)
        where = (_stable(narrowed.districts), _stable(narrowed.importers),
                 log_position(services))
    else:
        raise NotFoundError("chart", chart_name[:60])
    tag = hashlib.sha256(repr((chart_name, where)).encode()).hexdigest()[:32]
    headers = {"Cache-Control": "private, no-cache", "Vary": "Cookie", "ETag": f'"{tag}"'}
    if request.headers.get("if-none-match") == f'"{tag}"':
        return Response("", status_code=304, headers=headers)
    svg = CHARTS.get((id(services.app), chart_name, where), render)
    return Response(svg, media_type="image/svg+xml", headers=headers)


def _stable(values: frozenset[str] | None) -> tuple[str, ...] | None:
    """A scope as a key that prints alike in every process (a set's order does not)."""
    return None if values is None else tuple(sorted(values))


ROUTES = [chart]
