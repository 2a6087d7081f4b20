"""/risk: an analyst runs the risk scoring from the page with a reason; the ranking shows
only the caller's districts (another district's importer is the 404 page, its filter
shows nothing); filters and pages are in the URL; each score opens into every factor;
bad filters and bad runs are named beside their field and record nothing."""

from __future__ import annotations

import re

import pytest

from interfaces.http.analysis_services import analysis_of
from tests.e2e.http.analysis_data import World, notifications, seed_world
from tests.e2e.http.conftest import Api
from tests.web.conftest import post_form


def _run_from_the_page(web: Api, world: World, user: str = "analyst.national") -> str:
    response = post_form(web.as_user(user), "/risk/runs",
                         {"year": str(world.year), "reason": "quarterly <b>run</b>"})
    assert response.status_code == 303, response.text[-600:]
    assert response.headers["location"].startswith("/risk?ran=")
    return str(response.headers["location"].split("=", 1)[1])


def _importers_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/accounts/([0-9A-Z-]+)" class="mono">', html)


def test_a_district_analyst_sees_only_its_district_and_every_factor_of_a_score(
        web: Api) -> None:
    world = seed_world(web.settings)
    run_id = _run_from_the_page(web, world)
    latest = analysis_of(web.app.state.services).risk_tables.latest_run()
    assert latest is not None
    assert (latest["run_id"], latest["actor"]) == (run_id, "user:analyst.national")
    analyst11 = web.as_user("analyst11")
    own = analyst11.get("/risk")
    assert own.status_code == 200
    listed = _importers_listed(own.text)
    assert set(world.in11) <= set(listed)
    assert not set(world.in12) & set(listed)
    assert {web.importer12} - set(listed) == {web.importer12}
    other = analyst11.get("/risk?district=12")
    assert _importers_listed(other.text) == []
    assert "outside your scope" in other.text
    assert analyst11.get(f"/risk/{world.in12[0]}").status_code == 404  # as if none
    national = web.as_user("analyst.national").get("/risk")
    assert set(world.importers) <= set(_importers_listed(national.text))
    explained = analyst11.get(f"/risk/{world.in11[1]}", headers={"HX-Request": "true"})
    assert explained.status_code == 200
    assert "<html" not in explained.text  # the fragment the row expands into
    factors = re.findall(r'<tr><th scope="row">([^<]+)</th>', explained.text)
    assert factors[:4] == ["annual value", "estimated non-compliance",
                           "expected non-compliant value", "revenue at risk"]
    assert "primary focus industry" in factors  # footwear: an adjustment, shown too


def test_filters_are_in_the_url_and_pages_follow_a_cursor(
        web: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    world = seed_world(web.settings)
    _run_from_the_page(web, world)
    national = web.as_user("analyst.national")
    everyone = _importers_listed(national.get("/risk").text)
    assert len(everyone) == 6  # the world's four and the fixture's two
    monkeypatch.setattr("interfaces.web.risk_pages.PAGE_SIZE", 4)
    first = national.get("/risk?tier=&industry=")
    paged = _importers_listed(first.text)
    assert paged == everyone[:4]
    following = re.search(r'<a href="(/risk\?[^"]+)" rel="next">', first.text)
    assert following is not None
    link = following.group(1).replace("&amp;", "&")
    assert "cursor=" in link
    second = national.get(link)
    assert _importers_listed(second.text) == everyone[4:]  # each once, in rank order
    assert 'rel="next"' not in second.text
    footwear = national.get("/risk?industry=64")
    assert 'value="64" selected' in footwear.text  # the filter stays in the form
    assert set(_importers_listed(footwear.text)) == set(world.importers)
    assert _importers_listed(national.get("/risk?industry=65").text) == []
    assert _importers_listed(national.get("/risk?min_score=1e15").text) == []
    in11 = _importers_listed(national.get("/risk?district=11&min_score=0").text)
    assert set(world.in11) <= set(in11)
    assert not set(world.in12) & set(in11)


def test_bad_filters_are_named_beside_their_field(web: Api) -> None:
    analyst = web.as_user("analyst.national")
    response = analyst.get("/risk?tier=9&district=99&min_score=lots")
    assert response.status_code == 422
    for control in ("f-tier", "f-district", "f-min-score"):
        assert re.search(rf'id="{control}"[^>]*aria-invalid="true"', response.text), control
        assert f'id="{control}-error"' in response.text
    assert 'value="lots"' in response.text  # what was typed is kept
    bad_cursor = analyst.get("/risk?cursor=nonsense")
    assert bad_cursor.status_code == 422
    assert "not a cursor this ranking gave" in bad_cursor.text


def test_a_run_needs_a_reason_and_the_permission_and_records_nothing_otherwise(
        web: Api) -> None:
    world = seed_world(web.settings)
    analyst, officer = web.as_user("analyst11"), web.as_user("officer11")
    before = notifications(web.ledger)
    no_reason = post_form(analyst, "/risk/runs", {"year": str(world.year), "reason": " "})
    assert no_reason.status_code == 422
    assert re.search(r'id="run-reason"[^>]*aria-invalid="true"', no_reason.text)
    old_year = post_form(analyst, "/risk/runs", {"year": "2001", "reason": "old"})
    assert old_year.status_code == 422
    assert 'id="run-year-error"' in old_year.text
    assert "no examined sample lines" in old_year.text
    forbidden = post_form(officer, "/risk/runs", {"year": str(world.year), "reason": "mine"})
    assert forbidden.status_code == 403
    assert "Run the risk scoring" not in officer.get("/risk").text  # no form offered
    assert notifications(web.ledger) == before
