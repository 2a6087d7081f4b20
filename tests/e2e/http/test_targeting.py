"""/api/channel-runs, /api/selections and /api/effectiveness over HTTP: a published rule
channelling declarations as the analyst who ran it, the runs listed a page at a time,
selection plans previewed and opened within the caller's districts, targeting measured,
and refusals that write nothing."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from tests.e2e.http.analysis_data import World, notifications, seed_world, setup_app
from tests.e2e.http.conftest import Api
from tests.integration.targeting_support import Entry, import_entries


def _publish_rule(api: Api, world: World) -> str:
    drafted = api.as_user("analyst11").post("/api/rules", json={
        "name": "Footwear from VN", "conditions": {"hs_prefix": "64", "origin": "VN"},
        "channel": "red", "effective_from": f"{world.year}-01-01", "reason": "pattern"})
    number = str(drafted.json()["number"])
    assert api.as_user("analyst.national").post(f"/api/rules/{number}/approve", json={
        "reason": "reviewed"}).status_code == 200
    assert api.as_user("analyst11").post(f"/api/rules/{number}/publish", json={
        "reason": "in force"}).status_code == 200
    return number


def _risk_run(api: Api, world: World) -> None:
    response = api.as_user("analyst.national").post("/api/risk/runs", json={
        "year": world.year, "reason": "before planning"})
    assert response.status_code == 201, response.text


def test_a_channel_run_applies_the_rules_in_force_as_the_analyst(api: Api) -> None:
    world = seed_world(api.settings, entries=True)
    rule = _publish_rule(api, world)
    officer, analyst = api.as_user("officer11"), api.as_user("analyst.national")
    before = notifications(api.ledger)
    assert officer.post("/api/channel-runs", json={"reason": "mine"}).status_code == 403
    assert notifications(api.ledger) == before
    response = analyst.post("/api/channel-runs", json={
        "reason": "morning run", "random_share": 0, "seed": 7})
    assert response.status_code == 201, response.text
    summary = response.json()
    assert (summary["entries"], summary["counts"]["red"]) == (4, 4)
    assert summary["rule_versions"] == [f"{rule}@v1"]
    before = notifications(api.ledger)
    again = analyst.post("/api/channel-runs", json={"reason": "again"})
    assert again.status_code == 422
    assert again.json()["rule"] == "NoNewDeclarationsToChannel"
    assert notifications(api.ledger) == before
    setup = setup_app(api.settings)
    try:
        with tempfile.TemporaryDirectory() as folder:
            import_entries(setup, Path(folder), [Entry(
                "D99999", world.in11[0], world.today.isoformat(), "11", "8471300000", "DE")])
    finally:
        setup.close()
    second = api.as_user("analyst11").post("/api/channel-runs", json={"reason": "late"})
    assert second.status_code == 201
    assert second.json()["entries"] == 1  # the random share: the setting's default
    assert second.json()["counts"]["red"] == second.json()["random_exams"]  # no rule fits
    runs = officer.get("/api/channel-runs").json()
    assert [(r["actor"], r["entries"]) for r in runs["items"]] == [
        ("user:analyst.national", 4), ("user:analyst11", 1)]
    assert runs["items"][0]["random_share"] == 0
    assert runs["items"][0]["seed"] == 7
    assert runs["next_cursor"] is None
    first_page = officer.get("/api/channel-runs?limit=1").json()
    assert [r["run_id"] for r in first_page["items"]] == [summary["run_id"]]
    rest = officer.get(f"/api/channel-runs?limit=1&cursor={first_page['next_cursor']}")
    assert [r["run_id"] for r in rest.json()["items"]] == [second.json()["run_id"]]


def test_channel_runs_refuse_bad_settings_and_strangers(api: Api) -> None:
    seed_world(api.settings, entries=True)
    analyst, rep = api.as_user("analyst.national"), api.as_user("rep11")
    before = notifications(api.ledger)
    for body, field in (({"reason": "x", "random_share": 1.0}, "random_share"),
                        ({"reason": "x", "random_share": -0.1}, "random_share"),
                        ({"reason": "x", "seed": -1}, "seed"),
                        ({"random_share": 0.1}, "reason"),
                        ({"reason": "bad\u202etext"}, "reason"),
                        ({"reason": "x", "actor": "system:channel"}, "actor")):
        response = analyst.post("/api/channel-runs", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in {p["name"] for p in response.json()["invalid-params"]}, body
    assert rep.post("/api/channel-runs", json={"reason": "x"}).status_code == 403
    assert notifications(api.ledger) == before
    assert rep.get("/api/channel-runs").status_code == 403
    assert analyst.get("/api/channel-runs?cursor=abc").status_code == 422
    assert analyst.get("/api/channel-runs").json() == {"items": [], "next_cursor": None}


def test_selection_plans_are_previewed_and_opened_within_the_callers_districts(
        api: Api) -> None:
    world = seed_world(api.settings)
    _risk_run(api, world)
    national, analyst11 = api.as_user("analyst.national"), api.as_user("analyst11")
    plan = {"period_start": f"{world.year}-01-01", "period_end": world.today.isoformat(),
            "capacity": 3, "random_share": 0, "reason": "next quarter"}
    preview = national.post("/api/selections", json=plan)
    assert preview.status_code == 201, preview.text
    picks = preview.json()["picks"]
    assert len(picks) == 3
    assert {p["basis"] for p in picks} == {"risk"}
    assert preview.json()["opened"] == []
    own = analyst11.post("/api/selections", json=plan).json()["picks"]
    assert own
    assert {p["district"] for p in own} == {"11"}
    yesterday = world.today - timedelta(days=1)
    opened = analyst11.post("/api/selections", json={
        **plan, "period_start": f"{world.year - 1}-01-01",
        "period_end": yesterday.isoformat(), "capacity": 2, "open_assessments": True})
    assert opened.status_code == 201, opened.text
    numbers = opened.json()["opened"]
    assert len(numbers) == 2
    reader = setup_app(api.settings)
    try:
        for number in numbers:
            assessment = reader.get_assessment(number)
            assert assessment.district == "11"
            first = next(iter(reader.events.get(assessment.id)))
            assert first.actor == "user:analyst11"  # type: ignore[attr-defined]
    finally:
        reader.close()


def test_selection_plans_refuse_bad_requests_and_strangers(api: Api) -> None:
    world = seed_world(api.settings)
    analyst, officer = api.as_user("analyst.national"), api.as_user("officer11")
    plan = {"period_start": f"{world.year}-01-01", "period_end": world.today.isoformat(),
            "capacity": 2, "reason": "plan"}
    before = notifications(api.ledger)
    assert officer.post("/api/selections", json=plan).status_code == 403
    for change, field in (({"period_end": f"{world.year - 1}-12-31"}, "period_end"),
                          ({"period_start": "soon"}, "period_start"),
                          ({"capacity": 0}, "capacity"),
                          ({"random_share": 1.5}, "random_share"),
                          ({"exclude_months": -1}, "exclude_months"),
                          ({"open_assessments": True}, "period"),  # not ended yet
                          ({"reason": ""}, "reason")):
        response = analyst.post("/api/selections", json={**plan, **change})
        assert response.status_code == 422, (change, response.text)
        assert field in {p["name"] for p in response.json()["invalid-params"]}, change
    assert notifications(api.ledger) == before


def test_effectiveness_compares_targeted_and_random_exams_in_scope(api: Api) -> None:
    world = seed_world(api.settings)
    _risk_run(api, world)  # a line's district is its importer's, from the scores
    national = api.as_user("analyst.national").get("/api/effectiveness")
    assert national.status_code == 200, national.text
    body = national.json()
    assert body["overall"]["key"] == "national"
    assert body["overall"]["random"]["examined"] == 16
    assert body["overall"]["targeted"]["examined"] == 0
    assert {row["key"] for row in body["by_district"]} == {"11", "12"}
    own = api.as_user("officer11").get("/api/effectiveness").json()
    assert [row["key"] for row in own["by_district"]] == ["11"]
    assert own["overall"]["key"] == "districts 11"
    assert own["overall"]["random"]["examined"] == 8
    assert api.as_user("rep11").get("/api/effectiveness").status_code == 403
