"""/api/worklist, /api/register and /api/stats/* over HTTP: the lists as the CLI prints
them, restricted to the caller's districts (another district answers an empty list),
caught up on read, as CSV on request, and refused to roles that may not read them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from application.checked_cursors import seal_cursor
from domain.values import Period
from infrastructure.passwords import Argon2Hasher
from interfaces.composition import build_application
from tests.builders import propose_penalty, walk_assessment, walk_to_findings
from tests.e2e.http.conftest import PASSWORD, Api


@dataclass
class Cases:
    findings11: str
    plan11: str
    assigned12: str
    penalty11: str
    penalty12: str
    opened12: str


@pytest.fixture
def cases(api: Api) -> Iterator[Cases]:
    """Findings with a plan and a penalty in district 11; an assigned assessment, a
    penalty and an unassigned assessment in district 12; and `officer.both`, an officer
    of districts 11 and 12."""
    loader = build_application(api.settings, access_control=False)
    try:
        findings, result = walk_to_findings(loader, api.importer11)
        assert result.plan_number is not None
        made = Cases(findings, result.plan_number,
                     walk_assessment(loader, api.importer12, "assigned"),
                     propose_penalty(loader, api.importer11),
                     propose_penalty(loader, api.importer12),
                     walk_assessment(loader, api.importer12, "opened",
                                     period=Period(date(2024, 1, 1), date(2024, 12, 31))))
        digest = Argon2Hasher(time_cost=api.settings.argon2_time_cost,
                              memory_cost=api.settings.argon2_memory_kib).hash(PASSWORD)
        loader.add_user("officer.both", roles=["officer"], districts=["11", "12"],
                        password_hash=digest, actor="system:test-setup", reason="two districts")
    finally:
        loader.close()
    return made


def numbers(response_json: dict[str, object]) -> set[str]:
    items = response_json["items"]
    assert isinstance(items, list)
    return {str(row["number"]) for row in items}


def test_the_worklist_holds_the_callers_districts_only(api: Api, cases: Cases) -> None:
    own = api.as_user("officer11").get("/api/worklist")
    assert own.status_code == 200, own.text
    assert {cases.findings11, cases.plan11, cases.penalty11} <= numbers(own.json())
    assert not {cases.assigned12, cases.penalty12} & numbers(own.json())
    assert {row["district"] for row in own.json()["items"]} == {"11"}

    elsewhere = api.as_user("officer11").get("/api/worklist", params={"district": "12"})
    assert elsewhere.status_code == 200
    assert elsewhere.json() == {"items": [], "next_cursor": None}

    national = api.as_user("officer.national").get("/api/worklist").json()
    assert {cases.findings11, cases.assigned12, cases.penalty12} <= numbers(national)
    only12 = api.as_user("officer.national").get("/api/worklist", params={"district": "12"})
    assert {row["district"] for row in only12.json()["items"]} == {"12"}
    both = api.as_user("officer.both").get("/api/worklist").json()
    assert numbers(both) == numbers(national)
    assert numbers(api.as_user("auditor").get("/api/worklist").json()) == numbers(national)


def test_the_worklist_filters_by_officer_and_lists_due_items(api: Api, cases: Cases) -> None:
    national = api.as_user("supervisor.national")
    assigned = national.get("/api/worklist", params={"officer": "user:officer.one"}).json()
    assert cases.assigned12 in numbers(assigned)
    assert all(row["officer"] == "user:officer.one" for row in assigned["items"])
    unassigned = national.get("/api/worklist", params={"officer": "unassigned"}).json()
    assert cases.opened12 in numbers(unassigned)
    assert all(row["officer"] is None for row in unassigned["items"])

    due = api.as_user("officer11").get("/api/worklist", params={"due": "true"})
    assert due.status_code == 200
    assert due.json()["items"], "the plan's due items"
    assert {row["district"] for row in due.json()["items"]} == {"11"}
    assert {"item", "case_number", "due_on", "days_overdue"} <= set(due.json()["items"][0])
    overdue = api.as_user("officer11").get("/api/worklist", params={"overdue": "true"})
    assert overdue.json()["items"] == []  # nothing is due before today yet


def test_a_case_recorded_a_moment_ago_is_on_the_worklist(api: Api, cases: Cases) -> None:
    officer = api.as_user("officer11")
    before = numbers(officer.get("/api/worklist").json())
    opened = officer.post("/api/assessments", json={
        "importer_number": api.importer11, "origin": "risk_selection",
        "period_start": "2023-01-01", "period_end": "2023-12-31", "scope": ["value"],
        "reason": "selected by risk"})
    assert opened.status_code == 201, opened.text
    after = numbers(officer.get("/api/worklist").json())
    assert after - before == {opened.json()["number"]}
    assert cases.findings11 in after


def test_the_worklist_as_csv(api: Api, cases: Cases) -> None:
    response = api.as_user("officer11").get("/api/worklist", headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert cases.findings11 in {row["number"] for row in rows}
    assert {row["district"] for row in rows} == {"11"}


@pytest.mark.parametrize("path", ["/api/worklist", "/api/register", "/api/stats/compliance",
                                  "/api/stats/enforcement", "/api/stats/plans"])
@pytest.mark.parametrize("user", ["rep11", "admin"])
def test_roles_that_may_not_read_the_lists_are_refused(api: Api, path: str,
                                                       user: str) -> None:
    response = api.as_user(user).get(path)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert api.client.get(path).status_code == 401


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/worklist", {"district": "99"}, "district"),
    ("/api/worklist", {"officer": "mallory\x1b[31m"}, "officer"),
    ("/api/register", {"district": "x"}, "district"),
    ("/api/register", {"importer": "not-an-importer"}, "importer"),
    ("/api/register", {"tier": "7"}, "tier"),
    ("/api/register", {"state": "asleep"}, "state"),
    ("/api/register", {"sort": "password"}, "sort"),
    ("/api/register", {"limit": "0"}, "limit"),
    ("/api/register", {"cursor": "garbage!"}, "cursor"),
    ("/api/stats/compliance", {"by": "colour"}, "by"),
    ("/api/stats/plans", {"district": "00"}, "district"),
])
def test_bad_filters_are_refused_naming_them(api: Api, path: str, params: dict[str, str],
                                             field: str) -> None:
    response = api.as_user("officer.national").get(path, params=params)
    assert response.status_code == 422, response.text
    assert field in {p["name"] for p in response.json()["invalid-params"]}


def importers(response_json: dict[str, object]) -> list[str]:
    items = response_json["items"]
    assert isinstance(items, list)
    return [str(row["importer_number"]) for row in items]


@pytest.mark.usefixtures("cases")
def test_the_register_is_scoped_paged_and_filtered(api: Api) -> None:
    officer = api.as_user("officer11")
    assert importers(officer.get("/api/register").json()) == [api.importer11]
    hidden = officer.get("/api/register", params={"importer": api.importer12})
    assert hidden.status_code == 200
    assert hidden.json()["items"] == []
    assert officer.get("/api/register", params={"district": "12"}).json()["items"] == []

    national = api.as_user("analyst.national")
    everyone = importers(national.get("/api/register").json())
    assert everyone == sorted([api.importer11, api.importer12])
    first = national.get("/api/register", params={"limit": "1"}).json()
    assert importers(first) == everyone[:1]
    assert first["next_cursor"]
    second = national.get("/api/register", params={"limit": "1",
                                                   "cursor": first["next_cursor"]}).json()
    assert importers(second) == everyone[1:]
    assert second["next_cursor"] is None
    one = national.get("/api/register", params={"importer": api.importer12.lower()}).json()
    assert importers(one) == [api.importer12]
    row = one["items"][0]
    assert {"tier", "compliance_class", "partnerships", "open_cases", "annual_value"} <= set(row)

    as_csv = national.get("/api/register", headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert {r["importer_number"] for r in csv.DictReader(io.StringIO(as_csv.text))} == set(
        everyone)


def test_statistics_are_scoped_by_district(api: Api, cases: Cases) -> None:
    own = api.as_user("analyst11").get("/api/stats/compliance", params={"by": "district"})
    assert own.status_code == 200, own.text
    assert [row["district"] for row in own.json()["items"]] == ["11"]
    assert api.as_user("analyst12").get("/api/stats/compliance").json()["items"] == []
    assert api.as_user("analyst12").get(
        "/api/stats/compliance", params={"district": "11"}).json()["items"] == []

    national = api.as_user("analyst.national").get("/api/stats/compliance").json()["items"]
    by_area = api.as_user("officer.both").get("/api/stats/compliance").json()["items"]
    assert by_area == national  # two districts' figures put together equal the nation's
    assert {row["area"] for row in national} == {"value", "classification"}
    assert all(0 < row["compliance_rate"] < 1 for row in national)

    plans = api.as_user("officer11").get("/api/stats/plans").json()["items"]
    assert [row["plan_number"] for row in plans] == [cases.plan11]
    assert api.as_user("officer12").get("/api/stats/plans").json()["items"] == []

    def actions(user: str, **params: str) -> int:
        rows = api.as_user(user).get("/api/stats/enforcement", params=params).json()["items"]
        return sum(int(row["actions"]) for row in rows)
    assert actions("officer11") == 1
    assert actions("officer12") == 1
    assert actions("officer.national") == 2
    assert actions("officer.both") == 2
    assert actions("officer11", district="12") == 0
    both = api.as_user("officer.both").get("/api/stats/enforcement").json()["items"]
    national_rows = api.as_user("auditor").get("/api/stats/enforcement").json()["items"]
    assert both == national_rows

    as_csv = api.as_user("officer11").get("/api/stats/plans", headers={"Accept": "text/csv"})
    assert as_csv.text.splitlines()[0].startswith("plan_number,")


def _every_page(client: Any, path: str, **query: str) -> list[list[str]]:
    """The keys of each page of a list, following next_cursor and the Link header."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        response = client.get(path, params={**query, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append([row.get("number") or row["item"] for row in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            return pages
        assert "cursor=" in response.headers["link"]
        assert len(pages) < 50, "the cursors never reached the last page"


@pytest.mark.usefixtures("cases")
@pytest.mark.parametrize("user", ["officer.national", "officer.both"])
@pytest.mark.parametrize("query", [{}, {"due": "true"}])
def test_the_worklist_pages_by_limit_and_cursor(api: Api, query: dict[str, str],
                                                 user: str) -> None:
    """Each page is read after the cursor by the query itself, one query per district
    for an officer of several (officer.both: 11 and 12), merged in order."""
    national = api.as_user(user)
    whole = national.get("/api/worklist", params={**query, "limit": "1000"}).json()
    every = [row.get("number") or row["item"] for row in whole["items"]]
    assert len(every) >= (1 if query else 4)
    assert whole["next_cursor"] is None
    assert all("sort_key" not in row for row in whole["items"])
    for size in (1, 2):
        pages = _every_page(national, "/api/worklist", limit=str(size), **query)
        assert all(len(page) == size for page in pages[:-1])
        assert 1 <= len(pages[-1]) <= size
        assert [key for page in pages for key in page] == every  # each row once, in order
    first = national.get("/api/worklist", params={"limit": "1"}).json()["next_cursor"]
    due_list = national.get("/api/worklist", params={"due": "true", "cursor": first})
    assert due_list.status_code == 422  # a cursor of the case list is not one of due items
    assert [p["name"] for p in due_list.json()["invalid-params"]] == ["cursor"]


@pytest.mark.usefixtures("cases")
def test_an_empty_export_still_has_its_header_row(api: Api) -> None:
    officer = api.as_user("officer11")
    for path, due, first in (("/api/worklist", "false", "number,"),
                             ("/api/worklist", "true", "item,"),
                             ("/api/register", None, "importer_id,"),
                             ("/api/assessments", None, "id,")):
        query = {"district": "12", **({"due": due} if due else {})}
        response = officer.get(path, params=query, headers={"Accept": "text/csv"})
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "text/csv; charset=utf-8", path
        lines = response.text.splitlines()
        assert len(lines) == 1, (path, response.text)
        assert lines[0].startswith(first), (path, response.text)


@pytest.mark.usefixtures("cases")
@pytest.mark.parametrize("key", [[1, "due-items", ["2026-01-01", "IP-2026-00001"]],
                                 [2, "due-items", ["2026-01-01", "IP-2026-00001"]],
                                 [2, "worklist", ["11"]]],
                         ids=["a cursor of the earlier version", "a key too short",
                              "a work-list key too short"])
def test_a_cursor_of_another_shape_is_refused_naming_it(api: Api, key: list[Any]) -> None:
    """A cursor of the earlier due-items key (due date, item), or one whose key does not
    fit its list, is refused as a bad cursor: never an error of the query."""
    token = seal_cursor(b"compliance-ledger/http-list-cursor", key)
    due = "true" if key[1] == "due-items" else "false"
    response = api.as_user("officer.national").get(
        "/api/worklist", params={"due": due, "cursor": token})
    assert response.status_code == 422, response.text
    assert [p["name"] for p in response.json()["invalid-params"]] == ["cursor"]
