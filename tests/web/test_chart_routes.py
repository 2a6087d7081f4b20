"""The charts the dashboards show (`/charts/<name>.svg`) and the analyst's picture beside
them, on a small world loaded through the real ingest path (two importers in each of
districts 11 and 12 with trade, random samples and declarations), scored by a risk run and
channelled, over HTTP: a district analyst's figures and charts are its district's only
(another district is the 404 a missing one is), a national analyst's cover both; the
picture and charts are computed once per scope and bulk run, by the process that ran the
bulk run (or the first reader of a scope nobody asked for), and read back from the store
by every other; each chart is an SVG image, refused to a role that may not read it."""

from __future__ import annotations

import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from application.analyst_picture import analyst_picture
from application.ingest.schemas import IngestKind
from infrastructure.sql_tables import SqlTables
from interfaces.analyst_figures import (
    AnalystFigures,
    PictureSources,
    decode_picture,
    encode_picture,
)
from interfaces.web.chart_routes import (
    CHARTS,
    PICTURES,
    PositionCache,
    figure_key,
    figures_of,
)
from tests.builders import ACTOR, register_importer, walk_assessment
from tests.e2e.http.analysis_data import World, seed_world
from tests.e2e.http.conftest import Api, module_api, module_api_environ  # noqa: F401
from tests.integration.targeting_support import import_rows

SHANGHAI, NANJING = "11 Shanghai", "12 Nanjing"
ANALYST_CHARTS = ("concentration", "rates-industry", "rates-area", "rates-district",
                  "targeting", "channels")


@pytest.fixture(scope="module")
def world(module_api: Api) -> World:  # noqa: F811
    seeded = seed_world(module_api.settings, entries=True)
    analyst = module_api.as_user("analyst.national")
    scored = analyst.post("/api/risk/runs", json={"year": seeded.year, "reason": "scores"})
    assert scored.status_code == 201, scored.text
    channelled = analyst.post("/api/channel-runs", json={
        "reason": "morning run", "random_share": 0, "seed": 7})
    assert channelled.status_code == 201, channelled.text
    loader = module_api.ledger_loader()
    for district, officer in (("11", "user:officer11"), ("12", "user:officer12")):
        number = walk_assessment(loader, register_importer(loader, district=district))
        loader.assign_officer(number, officer, actor=ACTOR, reason="rota")
    return seeded


def _svg(api: Api, user: str, path: str) -> str:
    response = api.as_user(user).get(path)
    assert response.status_code == 200, (path, response.text[:300])
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.text.startswith("<svg")
    return response.text


def _analyst_panel(api: Api, user: str, query: str = "") -> str:
    page = api.as_user(user).get(f"/{query}")
    assert page.status_code == 200
    start = page.text.index('id="analyst-heading"')
    return page.text[start:page.text.index("</section>", start)]


@pytest.mark.usefixtures("world")
def test_a_district_analyst_gets_its_districts_figures_only(module_api: Api) -> None:  # noqa: F811
    district = _analyst_panel(module_api, "analyst11")
    national = _analyst_panel(module_api, "analyst.national")
    assert "3 importers scored" in district  # its two traders and the fixture's importer
    assert "6 importers scored" in national
    assert re.search(r'channel-[a-z]+">[a-z]+</span></th><td class="num">2</td>', district)
    assert NANJING not in district
    assert NANJING in national
    assert SHANGHAI in district
    curve = _svg(module_api, "analyst11", "/charts/concentration.svg")
    assert "largest first (3)" in curve
    assert "largest first (6)" in _svg(module_api, "analyst.national",
                                       "/charts/concentration.svg")
    rates = _svg(module_api, "analyst11", "/charts/rates-district.svg")
    assert SHANGHAI in rates
    assert NANJING not in rates
    assert NANJING in _svg(module_api, "analyst.national", "/charts/rates-district.svg")
    chosen = _svg(module_api, "analyst.national", "/charts/concentration.svg?district=12")
    assert "largest first (3)" in chosen
    for name in ANALYST_CHARTS:
        _svg(module_api, "analyst11", f"/charts/{name}.svg")


@pytest.mark.usefixtures("world")
def test_another_district_is_not_found(module_api: Api) -> None:  # noqa: F811
    analyst = module_api.as_user("analyst11")
    assert analyst.get("/charts/concentration.svg?district=12").status_code == 404
    assert analyst.get("/?district=12").status_code == 404
    assert analyst.get("/charts/concentration.svg?district=11").status_code == 200
    supervisor = module_api.as_user("supervisor11")
    assert supervisor.get("/charts/workload.svg?district=12").status_code == 404


@pytest.mark.usefixtures("world")
def test_the_workload_chart_is_the_supervisors_district(module_api: Api) -> None:  # noqa: F811
    own = _svg(module_api, "supervisor11", "/charts/workload.svg")
    assert "officer11" in own
    assert "officer12" not in own
    assert "officer12" in _svg(module_api, "supervisor12", "/charts/workload.svg")


@pytest.mark.usefixtures("world")
def test_charts_are_kept_until_a_bulk_run_records_whose_process_computes_them(
        module_api: Api) -> None:  # noqa: F811
    """The server computes nothing after the bulk run: the process that ran it computed
    the picture and charts of the scope asked for (analyst11's), and the server reads
    them from the store."""
    CHARTS.clear()
    PICTURES.clear()
    services = module_api.app.state.services
    figures = figures_of(services)
    analyst = module_api.as_user("analyst11")
    first = analyst.get("/charts/rates-area.svg")
    _analyst_panel(module_api, "analyst11")  # asked for: kept ready from now on
    drawn, computed = CHARTS.misses, figures.computed
    again = analyst.get("/charts/rates-area.svg")
    assert again.text == first.text
    assert CHARTS.misses == drawn
    tag = first.headers["etag"]
    unchanged = analyst.get("/charts/rates-area.svg", headers={"If-None-Match": tag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    loader = module_api.ledger_loader()
    register_importer(loader, district="11")  # the log moves on, but no analysis input
    still = analyst.get("/charts/rates-area.svg", headers={"If-None-Match": tag})
    assert still.status_code == 304
    assert (CHARTS.misses, figures.computed) == (drawn, computed)
    with tempfile.TemporaryDirectory() as name:  # a bulk run: one more sample imported
        import_rows(loader, Path(name), IngestKind.SAMPLES, [
            ["S99001", 1, register_importer(loader, district="11"),
             loader.clock().date().isoformat(), "6403990000", "VN", "1000.00", "random",
             "true", "value", "50.00"]])
    key = figure_key(services, frozenset({"11"}))
    stored = figures.store.get(key, "rates-area")
    assert stored is not None  # computed by the loader, the bulk run's process
    moved = analyst.get("/charts/rates-area.svg", headers={"If-None-Match": tag})
    assert moved.status_code == 200
    assert moved.headers["etag"] != tag
    assert moved.text == stored.decode()
    assert "S99001" not in moved.text
    _analyst_panel(module_api, "analyst11")
    assert CHARTS.misses == drawn + 1
    assert figures.computed == computed  # read, not computed, by the server


@pytest.mark.usefixtures("world")
def test_a_scope_nobody_asked_for_is_computed_by_its_first_reader_once(
        module_api: Api) -> None:  # noqa: F811
    services = module_api.app.state.services
    figures = figures_of(services)
    key = figure_key(services, frozenset({"12"}))
    tables = SqlTables(module_api.ledger.recorder)
    with tables.transaction() as cursor:  # whatever an earlier test left of scope 12
        tables.execute_in(cursor, f"DELETE FROM {figures.store.table} WHERE scope = ?",
                          ["12"])
    PICTURES.clear()
    CHARTS.clear()
    computed = figures.computed
    _analyst_panel(module_api, "analyst.national", "?district=12")
    assert figures.computed == computed + 1  # the picture, by its first reader
    assert figures.store.asked_on(key) == key.day  # kept ready by the next bulk run
    other_worker = AnalystFigures(module_api.ledger)
    found = other_worker.picture(key, lambda: pytest.fail("computed a second time"))
    assert other_worker.computed == 0
    assert found.districts == frozenset({"12"})
    assert found == PICTURES.get((id(services.app), key), lambda: pytest.fail("not kept"))


@pytest.mark.usefixtures("world")
def test_a_stored_picture_reads_back_as_it_was_computed(module_api: Api) -> None:  # noqa: F811
    services = module_api.app.state.services
    for scope in (None, frozenset({"11"})):
        computed = analyst_picture(PictureSources(services.app), scope,
                                   services.now().date())
        assert decode_picture(encode_picture(computed)) == computed
        assert computed.districts == scope


def test_a_picture_asked_for_at_once_is_computed_once() -> None:
    cache = PositionCache(4)
    started, calls = threading.Event(), []

    def slow() -> str:
        calls.append(1)
        started.wait(1)
        return "picture"

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = [pool.submit(cache.get, "key", slow) for _ in range(6)]
        started.set()
        assert {result.result() for result in results} == {"picture"}
    assert len(calls) == 1
    assert cache.misses == 1


@pytest.mark.usefixtures("world")
def test_charts_are_refused_to_who_may_not_read_them(module_api: Api) -> None:  # noqa: F811
    rep = module_api.as_user("rep11")
    assert rep.get("/charts/concentration.svg").status_code == 403
    assert rep.get("/charts/workload.svg").status_code == 403
    analyst = module_api.as_user("analyst11")
    assert analyst.get("/charts/no-such-chart.svg").status_code == 404
    assert analyst.get("/charts/concentration").status_code == 404
    assert analyst.get("/charts/concentration.svg?district=99").status_code == 422
