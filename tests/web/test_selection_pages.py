"""/selections: the preview shows each pick with why it was picked and records nothing;
a district analyst's plan holds only its district's importers (another district is
refused beside the field); opening the assessments records the plan and opens each as
the caller, shown on the plan's page (another district's analyst gets the 404 page);
a missing reason or a period not yet ended is named beside its field."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from tests.e2e.http.analysis_data import World, notifications, seed_world
from tests.e2e.http.conftest import Api
from tests.web.conftest import post_form


def _scored_world(web: Api) -> World:
    world = seed_world(web.settings)
    response = web.as_user("analyst.national").post("/api/risk/runs", json={
        "year": world.year, "reason": "before planning"})
    assert response.status_code == 201, response.text
    return world


def _plan(world: World, **changes: Any) -> dict[str, str]:
    yesterday = world.today - timedelta(days=1)
    return {"period_start": f"{world.year - 1}-01-01", "period_end": yesterday.isoformat(),
            "capacity": "2", "random_share": "0", "district": "", "exclude_months": "24",
            "seed": "0", **changes}


def _picked(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a class="mono" href="/accounts/([0-9A-Z-]+)">', html)


def test_a_preview_explains_each_pick_within_the_callers_districts_and_records_nothing(
        web: Api) -> None:
    world = _scored_world(web)
    analyst11 = web.as_user("analyst11")
    before = notifications(web.ledger)
    shown = analyst11.get("/selections?" + urlencode({**_plan(world, capacity="3"),
                                                      "preview": "1"}))
    assert shown.status_code == 200
    picks = _picked(shown.text)
    assert picks
    assert set(picks) <= {*world.in11, web.importer11}
    assert "rank 1 by risk score" in shown.text
    fragment = analyst11.get("/selections?" + urlencode({**_plan(world), "preview": "1"}),
                             headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert 'id="selection-main"' in fragment.text
    national12 = web.as_user("analyst.national").get("/selections?" + urlencode(
        {**_plan(world, district="12", capacity="5"), "preview": "1"}))
    assert set(_picked(national12.text)) <= {*world.in12, web.importer12}
    refused = analyst11.get("/selections?" + urlencode({**_plan(world, district="12"),
                                                        "preview": "1"}))
    assert refused.status_code == 422
    assert "outside your districts" in refused.text
    assert re.search(r'id="sel-district"[^>]*aria-invalid="true"', refused.text)
    assert notifications(web.ledger) == before


def test_opening_the_assessments_records_the_plan_and_opens_each_as_the_caller(
        web: Api) -> None:
    world = _scored_world(web)
    analyst11 = web.as_user("analyst11")
    preview = analyst11.get("/selections?" + urlencode({**_plan(world), "preview": "1"}))
    expected = _picked(preview.text)
    assert len(expected) == 2
    response = post_form(analyst11, "/selections", {**_plan(world),
                                                    "reason": "next quarter's audits"})
    assert response.status_code == 303, response.text[-800:]
    location = str(response.headers["location"])
    assert location.startswith("/selections/plans/")
    shown = analyst11.get(location)
    assert shown.status_code == 200
    assert _picked(shown.text) == expected  # what the preview showed is what was opened
    numbers = re.findall(r'<a class="mono" href="/assessments/(CA-[0-9-]+)">', shown.text)
    assert len(numbers) == 2
    reader = web.ledger_loader()
    for number in numbers:
        assessment = reader.get_assessment(number)
        assert assessment.district == "11"
        assert assessment.importer_number in expected
        first = next(iter(reader.events.get(assessment.id)))
        assert first.actor == "user:analyst11"  # type: ignore[attr-defined]
    assert web.as_user("analyst12").get(location).status_code == 404
    assert web.as_user("analyst11").get("/selections/plans/not-a-plan").status_code == 404


def test_a_missing_reason_or_an_open_period_is_named_and_records_nothing(web: Api) -> None:
    world = _scored_world(web)
    analyst11, officer = web.as_user("analyst11"), web.as_user("officer11")
    before = notifications(web.ledger)
    no_reason = post_form(analyst11, "/selections", {**_plan(world), "reason": ""})
    assert no_reason.status_code == 422
    assert 'id="sel-reason-error"' in no_reason.text
    assert _picked(no_reason.text)  # the preview stays in view
    still_open = post_form(analyst11, "/selections", {
        **_plan(world, period_end=world.today.isoformat()), "reason": "too early"})
    assert still_open.status_code == 422
    assert re.search(r'id="sel-end-error">[^<]*must end before today', still_open.text)
    bad = analyst11.get("/selections?" + urlencode({**_plan(world, capacity="0",
                                                            random_share="150"),
                                                    "preview": "1"}))
    assert bad.status_code == 422
    assert 'id="sel-capacity-error"' in bad.text
    assert 'id="sel-random-error"' in bad.text
    assert officer.get("/selections").status_code == 403
    assert post_form(officer, "/selections", {**_plan(world), "reason": "x"}).status_code \
        == 403
    assert notifications(web.ledger) == before
