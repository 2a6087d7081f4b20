"""The lists over HTTP (GET /api/assessments, /plans, /enforcement, /verifications,
/accounts), on both stores: paging by cursor through every row, the caller's scope (an
officer sees its districts, a representative its importer, a district filter outside the
scope is an empty page), CSV with a header row and formula-safe cells, every bad query
parameter named, and a list answered from the views as they are when they cannot be
caught up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from interfaces.composition import build_application
from interfaces.http import accounts, assessments, enforcement, plans, verifications
from tests.builders import (
    propose_penalty,
    register_importer,
    walk_assessment,
    walk_plan,
    walk_to_findings,
)
from tests.e2e.http.conftest import Api

CSV = {"Accept": "text/csv"}


@dataclass
class Cases:
    """What `_cases` recorded, by district ("11", "12")."""

    assessments: dict[str, list[str]] = field(default_factory=lambda: {"11": [], "12": []})
    plans: dict[str, str] = field(default_factory=dict)
    """importer number -> its plan"""
    enforcement: dict[str, str] = field(default_factory=dict)
    verifications: dict[str, str] = field(default_factory=dict)
    importers: dict[str, list[str]] = field(default_factory=lambda: {"11": [], "12": []})


def _cases(api: Api) -> Cases:
    """District 11: importer11 and one more with findings, a plan, a verification and a
    penalty; three more importers with an assessment opened. District 12: importer12 the
    same, one more importer with an assessment opened."""
    loader = build_application(api.settings, access_control=False)
    cases = Cases()
    try:
        for district, main, opened in (("11", api.importer11, 3), ("12", api.importer12, 1)):
            worked = [main, register_importer(loader, district=district)]
            for importer in worked:
                assessment, findings = walk_to_findings(loader, importer)
                assert findings.plan_number is not None
                cases.assessments[district].append(assessment)
                cases.plans[importer] = findings.plan_number
                verification = walk_plan(loader, findings.plan_number)
                assert verification is not None
                cases.verifications[importer] = verification
                cases.enforcement[importer] = propose_penalty(loader, importer)
            others = [register_importer(loader, district=district) for _ in range(opened)]
            cases.assessments[district] += [walk_assessment(loader, importer)
                                            for importer in others]
            cases.importers[district] = [*worked, *others]
    finally:
        loader.close()
    return cases


def _every_page(client: TestClient[Litestar], path: str, **query: Any) -> list[list[str]]:
    """The numbers on each page, following next_cursor (and checking the Link header)."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        response = client.get(path, params={**query, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([item["number"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            return pages
        assert response.headers["link"].endswith('; rel="next"')
        assert f"cursor={cursor}" in response.headers["link"]
        assert len(pages) < 50, "the cursor does not advance"


def test_paging_with_limit_2_reaches_every_row_once(api: Api) -> None:
    cases = _cases(api)
    officer = api.as_user("officer11")
    pages = _every_page(officer, "/api/assessments", limit=2)
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [n for page in pages for n in page] == sorted(cases.assessments["11"])
    backwards = _every_page(officer, "/api/assessments", limit=2, sort="number", desc="true")
    assert [n for page in backwards for n in page] == sorted(cases.assessments["11"],
                                                             reverse=True)
    national = _every_page(api.as_user("supervisor.national"), "/api/assessments", limit=2)
    assert sorted(n for page in national for n in page) == sorted(
        cases.assessments["11"] + cases.assessments["12"])
    accounts_pages = _every_page(officer, "/api/accounts", limit=2)
    assert sorted(n for page in accounts_pages for n in page) == sorted(cases.importers["11"])
    for resource, kind in [("plans", cases.plans), ("enforcement", cases.enforcement),
                           ("verifications", cases.verifications)]:
        found = [n for page in _every_page(officer, f"/api/{resource}", limit=1) for n in page]
        assert found == sorted(kind[i] for i in cases.importers["11"] if i in kind), resource


def test_lists_hold_only_what_the_caller_may_see(api: Api) -> None:
    cases = _cases(api)
    officer12 = api.as_user("officer12")
    seen = officer12.get("/api/assessments").json()["items"]
    assert sorted(i["number"] for i in seen) == sorted(cases.assessments["12"])
    assert {i["district"] for i in seen} == {"12"}
    elsewhere = officer12.get("/api/assessments", params={"district": "11"})
    assert elsewhere.status_code == 200
    assert elsewhere.json() == {"items": [],
                                                                  "next_cursor": None}
    assert officer12.get("/api/accounts", params={"district": "11"}).json()["items"] == []

    rep = api.as_user("rep11")
    for resource, kind in [("plans", cases.plans), ("enforcement", cases.enforcement),
                           ("verifications", cases.verifications)]:
        items = rep.get(f"/api/{resource}").json()["items"]
        assert [i["number"] for i in items] == [kind[api.importer11]], resource
        other = rep.get(f"/api/{resource}", params={"importer_number": api.importer12})
        assert other.status_code == 200
        assert other.json()["items"] == []
    for user, path in [("rep11", "/api/assessments"), ("rep11", "/api/accounts"),
                       ("admin", "/api/plans"), ("admin", "/api/accounts")]:
        assert api.as_user(user).get(path).status_code == 403, (user, path)
    everything = api.as_user("auditor").get("/api/assessments").json()["items"]
    assert len(everything) == len(cases.assessments["11"]) + len(cases.assessments["12"])

    officer = api.as_user("officer11")
    opened = officer.get("/api/assessments", params={"state": "opened"}).json()["items"]
    assert {i["state"] for i in opened} == {"opened"}
    assert len(opened) == 3
    mine = officer.get("/api/plans", params={"importer_number": api.importer11.lower()})
    assert [i["number"] for i in mine.json()["items"]] == [cases.plans[api.importer11]]
    nobody = officer.get("/api/verifications", params={"officer": "unassigned"}).json()
    assert len(nobody["items"]) == 2
    overdue = officer.get("/api/verifications", params={"overdue": "true"}).json()
    assert overdue["items"] == []
    assert {i["overdue"] for i in nobody["items"]} == {False}


def test_csv_has_a_header_row_and_is_formula_safe(api: Api) -> None:
    cases = _cases(api)
    loader = build_application(api.settings, access_control=False)
    try:
        hostile = register_importer(loader, district="11",
                                    legal_name='=HYPERLINK("http://evil.example","x")')
    finally:
        loader.close()
    officer = api.as_user("officer11")
    for module in (assessments, plans, enforcement, verifications, accounts):
        resource = module.RESOURCE
        page = officer.get(f"/api/{resource}").json()["items"]
        assert page, resource
        assert all(list(item) == list(module.COLUMNS) for item in page), resource
        sheet = officer.get(f"/api/{resource}", headers=CSV)
        assert sheet.status_code == 200, sheet.text
        assert sheet.headers["content-type"].startswith("text/csv")
        lines = sheet.text.splitlines()
        assert lines[0] == ",".join(module.COLUMNS), resource
        assert len(lines) == 1 + len(page)
    accounts_csv = officer.get("/api/accounts", headers=CSV).text
    row = next(line for line in accounts_csv.splitlines() if hostile in line)
    assert "'=HYPERLINK(" in row
    assert ',=HYPERLINK' not in row
    paged = officer.get("/api/assessments", params={"limit": 2}, headers=CSV)
    assert len(paged.text.splitlines()) == 3
    assert 'rel="next"' in paged.headers["link"]
    assert "cursor=" in paged.headers["link"]
    assert "limit=2" in paged.headers["link"]
    empty = api.as_user("officer12").get("/api/plans", params={"district": "11"},
                                         headers=CSV)
    assert empty.text.splitlines() == [",".join(plans.COLUMNS)]
    assert cases.plans  # the lists above were not empty by accident


def test_every_bad_query_parameter_is_named(api: Api) -> None:
    _cases(api)
    officer = api.as_user("officer11")
    bad = officer.get("/api/assessments", params={
        "state": "asleep", "sort": "colour", "district": "99", "importer_number": "x1",
        "officer": "bob"})
    assert bad.status_code == 422, bad.text
    assert {p["name"] for p in bad.json()["invalid-params"]} == {
        "state", "sort", "district", "importer_number", "officer"}
    for query, name in [({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"),
                        ({"limit": "ten"}, "limit"), ({"desc": "maybe"}, "desc"),
                        ({"cursor": "not-a-cursor"}, "cursor")]:
        refused = officer.get("/api/plans", params=query)
        assert refused.status_code == 422, (query, refused.text)
        assert [p["name"] for p in refused.json()["invalid-params"]] == [name], query
    cursor = officer.get("/api/assessments", params={"limit": 1}).json()["next_cursor"]
    other_order = officer.get("/api/assessments", params={"cursor": cursor, "sort": "state"})
    assert other_order.status_code == 422
    accounts_bad = officer.get("/api/accounts", params={"tier": "7", "state": "dormant"})
    assert {p["name"] for p in accounts_bad.json()["invalid-params"]} == {"tier", "state"}


def test_a_list_is_answered_from_the_views_as_they_are_when_they_cannot_catch_up(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = _cases(api)
    officer = api.as_user("officer11")
    assert len(officer.get("/api/assessments").json()["items"]) == 5

    def read_only(*_: Any, **__: Any) -> Any:
        raise PermissionError("permission denied for table wl_cases")

    projections = api.app.state.services.projections
    monkeypatch.setattr(projections, "catch_up", read_only)
    loader = build_application(api.settings, access_control=False)
    try:
        late = walk_assessment(loader, register_importer(loader, district="11"))
    finally:
        loader.close()
    stale = officer.get("/api/assessments")
    assert stale.status_code == 200, stale.text
    assert late not in [i["number"] for i in stale.json()["items"]]
    assert int(stale.headers["x-views-behind"]) > 0
    monkeypatch.undo()
    fresh = officer.get("/api/assessments")
    assert late in [i["number"] for i in fresh.json()["items"]]
    assert "x-views-behind" not in fresh.headers
    assert len(fresh.json()["items"]) == len(cases.assessments["11"]) + 1
