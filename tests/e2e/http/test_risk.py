"""/api/risk over HTTP: a risk run by an analyst, the ranking and scores restricted to the
caller's districts, tiers and rates, who may, and bad runs that write nothing."""

from __future__ import annotations

import csv
import io

from tests.e2e.http.analysis_data import World, notifications, seed_world
from tests.e2e.http.conftest import Api


def _run(api: Api, world: World, user: str = "analyst.national") -> dict[str, object]:
    response = api.as_user(user).post("/api/risk/runs", json={
        "year": world.year, "reason": "annual risk run"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_risk_run_ranks_importers_within_the_callers_districts(api: Api) -> None:
    world = seed_world(api.settings)
    national, analyst11 = api.as_user("analyst.national"), api.as_user("analyst11")
    assert national.get("/api/risk").json() == {"items": []}  # no run yet
    summary = _run(api, world)
    assert summary["importers"] == 6  # the four with data and the fixture's two
    everyone = national.get("/api/risk?limit=100").json()["items"]
    assert {row["district"] for row in everyone} == {"11", "12"}
    scores = [row["score"] for row in everyone]
    assert scores == sorted(scores, reverse=True)
    own = analyst11.get("/api/risk", params={"limit": 100}).json()["items"]
    assert {row["district"] for row in own} == {"11"}
    assert set(world.in11) <= {row["importer_number"] for row in own}
    assert [row["importer_number"] for row in own] == [
        row["importer_number"] for row in everyone if row["district"] == "11"]
    assert analyst11.get("/api/risk?limit=1").json()["items"] == own[:1]
    assert analyst11.get("/api/risk?district=12").json()["items"] == []
    only12 = national.get("/api/risk?district=12").json()["items"]
    assert {row["district"] for row in only12} == {"12"}
    likely = national.get("/api/risk?by=likelihood&limit=100").json()["items"]
    assert [row["compliance_rate"] for row in likely] == sorted(
        row["compliance_rate"] for row in likely)
    shown = analyst11.get(f"/api/risk/{world.in11[1]}")
    assert shown.status_code == 200, shown.text
    factors = shown.json()["explanation"]
    assert factors
    assert {"factor", "value", "effect"} == set(factors[0])
    assert analyst11.get(f"/api/risk/{world.in12[0]}").status_code == 404
    assert national.get(f"/api/risk/{world.in12[0]}").status_code == 200
    table = national.get("/api/risk", headers={"Accept": "text/csv"})
    assert table.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(table.text)))) == 6


def test_tiers_and_rates(api: Api) -> None:
    world = seed_world(api.settings)
    national, analyst11 = api.as_user("analyst.national"), api.as_user("analyst11")
    assert national.get("/api/risk/tiers").json() == []
    _run(api, world, "analyst11")
    tiers = analyst11.get("/api/risk/tiers").json()
    assert [row["tier"] for row in tiers] == [1, 2, 3, 4]
    assert sum(row["importers"] for row in tiers) == 6
    assert abs(sum(row["value_share"] for row in tiers) - 1) < 1e-9
    industry = national.get("/api/risk/rates").json()
    assert [row["key"] for row in industry] == ["64"]
    assert industry[0]["lines"] == 16
    by_district = national.get("/api/risk/rates?by=district").json()
    assert {row["key"] for row in by_district} == {"11", "12"}
    assert {row["key"] for row in analyst11.get("/api/risk/rates?by=district").json()} == {
        "11"}
    assert national.get("/api/risk/rates?by=colour").status_code == 422


def test_who_may_read_and_run_risk(api: Api) -> None:
    world = seed_world(api.settings)
    officer, rep = api.as_user("officer11"), api.as_user("rep11")
    before = notifications(api.ledger)
    refused = officer.post("/api/risk/runs", json={"year": world.year, "reason": "mine"})
    assert refused.status_code == 403
    assert notifications(api.ledger) == before
    for path in ("/api/risk", "/api/risk/tiers", "/api/risk/rates",
                 f"/api/risk/{api.importer11}"):
        assert rep.get(path).status_code == 403, path
    assert officer.get("/api/risk").status_code == 200  # officers read risk
    assert api.client.get("/api/risk").status_code == 401


def test_bad_runs_and_queries_are_refused_and_write_nothing(api: Api) -> None:
    world = seed_world(api.settings)
    analyst = api.as_user("analyst.national")
    before = notifications(api.ledger)
    missing = analyst.post("/api/risk/runs", json={"year": world.year})
    assert [p["name"] for p in missing.json()["invalid-params"]] == ["reason"]
    for body, field in (({"year": 1800, "reason": "x"}, "year"),
                        ({"year": [2026], "reason": "x"}, "year"),
                        ({"year": world.year, "reason": "a\x00b"}, "reason"),
                        ({"year": world.year, "reason": "x", "actor": "system:risk"}, "actor")):
        response = analyst.post("/api/risk/runs", json=body)
        assert response.status_code == 422, body
        assert field in {p["name"] for p in response.json()["invalid-params"]}, body
    no_samples = analyst.post("/api/risk/runs", json={"year": 2001, "reason": "old year"})
    assert no_samples.status_code == 422
    assert no_samples.json()["invalid-params"][0]["name"] == "year"
    assert notifications(api.ledger) == before
    assert analyst.get("/api/risk/12-34").status_code == 422
    assert analyst.get("/api/risk?district=99").status_code == 422
    assert analyst.get("/api/risk?limit=0").status_code == 422
    assert analyst.get("/api/risk?tier=5").status_code == 422
    assert analyst.get(f"/api/risk/{world.in11[0]}").status_code == 404  # not scored yet
