"""The work list page: scoped like the API's lists (an officer of district 11 never sees
district 12's cases, even one assigned to it), filtered, sorted and paged by what the URL
says, exported as CSV with the table's columns, refreshed in place by htmx, names shown
as text; and the supervisor's bulk assignment: one assign command per case, each its own
event with the reason, a refused case reported without stopping the others, refused as a
whole to a non-supervisor."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from domain.case_numbers import case_id
from domain.values import Period
from interfaces.composition import build_application
from interfaces.web.worklist_pages import CSV_COLUMNS
from tests.builders import (
    ACTOR,
    FakeClock,
    register_importer,
    walk_assessment,
    walk_plan,
    walk_to_findings,
)
from tests.e2e.http.conftest import Api, module_api, module_api_environ  # noqa: F401
from tests.web.conftest import post_form

XSS = "<script>alert(1)</script> & \"Sons\""
ROW = re.compile(r'<th scope="row"><a href="/[a-z]+/([A-Z]{2}-\d{4}-\d{5})" class="mono">')
NEXT = re.compile(r'<a href="(/worklist\?[^"]+)" hx-get="[^"]+" hx-target="#worklist" '
                  r'hx-push-url="true" rel="next">')


@dataclass(frozen=True)
class World:
    xss11: str
    """Unassigned, of an importer whose legal name is markup."""
    mine11: str
    """Assigned to officer11."""
    other11: str
    """Assigned to officer11b."""
    findings11: str
    plan11: str
    """A draft plan whose proposal was due months ago: overdue."""
    cancelled11: str
    mine12: str
    """District 12, yet assigned to officer11: still outside its scope."""
    open12: str


def _assessment(app: Any, district: str, officer: str | None = None, **fields: Any) -> str:
    number = walk_assessment(app, register_importer(app, district=district, **fields))
    if officer is not None:
        app.assign_officer(number, officer, actor=ACTOR, reason="rota")
    return number


@pytest.fixture(scope="module")
def world(module_api: Api) -> Iterator[World]:  # noqa: F811
    loader = build_application(module_api.settings, access_control=False)
    clock = FakeClock()  # March 2026: what is due then is overdue now
    past = build_application(module_api.settings, clock, access_control=False)
    try:
        findings, result = walk_to_findings(past, register_importer(past, district="11"),
                                            clock=clock)
        assert result.plan_number is not None
        yield World(
            xss11=_assessment(loader, "11", legal_name=XSS),
            mine11=_assessment(loader, "11", "user:officer11"),
            other11=_assessment(loader, "11", "user:officer11b"),
            findings11=findings, plan11=result.plan_number,
            cancelled11=walk_assessment(loader, register_importer(loader, district="11"),
                                        "cancelled"),
            mine12=_assessment(loader, "12", "user:officer11"),
            open12=_assessment(loader, "12"))
    finally:
        loader.close()
        past.close()


def listed(text: str) -> list[str]:
    return ROW.findall(text)


def test_an_officer_sees_only_its_districts_cases(module_api: Api,  # noqa: F811
                                                   world: World) -> None:
    officer = module_api.as_user("officer11")
    shown = listed(officer.get("/worklist").text)
    assert {world.xss11, world.mine11, world.other11, world.plan11} <= set(shown)
    assert not {world.mine12, world.open12, world.cancelled11} & set(shown)
    assert listed(officer.get("/worklist?district=12").text) == []
    assert listed(officer.get("/worklist?officer=me").text) == [world.mine11]
    other = listed(module_api.as_user("officer12").get("/worklist").text)
    assert {world.mine12, world.open12} <= set(other)
    assert not {world.xss11, world.mine11, world.plan11} & set(other)
    assert module_api.as_user("rep11").get("/worklist").status_code == 403


def test_filters_narrow_the_list_and_stay_in_the_url(module_api: Api,  # noqa: F811
                                                     world: World) -> None:
    officer = module_api.as_user("officer11")
    assert listed(officer.get("/worklist?kind=improvement_plan").text) == [world.plan11]
    assert listed(officer.get("/worklist?overdue=1").text) == [world.plan11]
    assert listed(officer.get("/worklist?due_before=2099-01-01").text) == [world.plan11]
    assert listed(officer.get("/worklist?due_before=2000-01-01").text) == []
    opened = set(listed(officer.get("/worklist?kind=assessment&state=opened").text))
    assert world.xss11 in opened
    assert world.mine11 not in opened
    assert listed(officer.get("/worklist?officer=user:officer11b").text) == [world.other11]
    assert world.xss11 in listed(officer.get("/worklist?officer=unassigned").text)
    closed = listed(officer.get("/worklist?status=closed").text)
    assert world.cancelled11 in closed
    assert world.mine11 not in closed
    page = officer.get("/worklist?kind=assessment&state=opened&sort=number&desc=1").text
    assert 'href="/worklist?kind=assessment&amp;state=opened&amp;sort=number"' in page
    assert '<option value="opened" selected>' in page


@pytest.mark.usefixtures("world")
def test_a_bad_filter_is_shown_beside_its_field(module_api: Api) -> None:  # noqa: F811
    response = module_api.as_user("officer11").get(
        "/worklist?kind=bogus&due_before=tomorrow&cursor=garbled")
    assert response.status_code == 422
    assert 'id="f-kind" name="kind" data-autosubmit aria-invalid="true" ' \
           'aria-describedby="f-kind-error"' in response.text
    assert 'id="f-due_before-error"' in response.text
    assert listed(response.text) == []
    cursor = module_api.as_user("officer11").get("/worklist?sort=number&cursor=garbled")
    assert cursor.status_code == 422
    assert "start again from the first page" in cursor.text


def test_sorting_and_cursor_paging_walk_the_whole_list_once(
        module_api: Api, world: World) -> None:  # noqa: F811
    officer = module_api.as_user("officer11")
    everything = listed(officer.get("/worklist?sort=number&limit=200").text)
    assert everything == sorted(everything)
    assert len(everything) >= 5
    pages, text = [], officer.get("/worklist?sort=number&limit=2").text
    while True:
        pages.append(listed(text))
        found = NEXT.search(text)
        if found is None:
            break
        text = officer.get(html.unescape(found.group(1))).text
    walked = [number for page in pages for number in page]
    assert walked == everything
    assert all(len(page) == 2 for page in pages[:-1])
    descending = listed(officer.get("/worklist?sort=number&desc=1&limit=200").text)
    assert descending == list(reversed(everything))
    by_due = listed(officer.get("/worklist?limit=200").text)
    assert by_due[0] == world.plan11  # the only dated case first, undated after it


def test_csv_exports_the_filtered_list_with_the_tables_columns(
        module_api: Api, world: World) -> None:  # noqa: F811
    officer = module_api.as_user("officer11")
    response = officer.get("/worklist.csv?kind=assessment&sort=number")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    numbers = [row[0] for row in rows[1:]]
    assert numbers == listed(officer.get("/worklist?kind=assessment&sort=number").text)
    named = next(row for row in rows[1:] if row[0] == world.xss11)
    assert named[CSV_COLUMNS.index("legal_name")] == XSS
    assert world.mine12 not in numbers
    same = officer.get("/worklist?kind=assessment&sort=number&format=csv")
    assert same.text == response.text


def test_htmx_gets_the_list_alone_and_the_url_to_show(module_api: Api,  # noqa: F811
                                                      world: World) -> None:
    response = module_api.as_user("officer11").get(
        "/worklist?kind=improvement_plan&state=&district=&status=open&sort=due_on",
        headers={"HX-Request": "true", "HX-Target": "worklist"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<h1>" not in response.text
    assert listed(response.text) == [world.plan11]
    assert response.headers["HX-Push-Url"] == "/worklist?kind=improvement_plan"


@pytest.mark.usefixtures("world")
def test_a_name_with_markup_is_shown_as_text(module_api: Api) -> None:  # noqa: F811
    page = module_api.as_user("supervisor11").get("/worklist").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Sons&#34;" in page
    assert "<script>alert(1)" not in page


# -- bulk assignment (a store of its own per test: it records events) --------------------


@dataclass(frozen=True)
class Assignable:
    first: str
    second: str
    verification: str
    cancelled: str
    elsewhere: str


def _assignable(web: Api) -> Assignable:
    loader = web.ledger_loader()
    _, result = walk_to_findings(loader, register_importer(loader, district="11"))
    assert result.plan_number is not None
    verification = walk_plan(loader, result.plan_number)
    assert verification is not None
    first = register_importer(loader, district="11")
    return Assignable(
        first=walk_assessment(loader, first),
        second=walk_assessment(loader, register_importer(loader, district="11")),
        verification=verification,
        cancelled=walk_assessment(loader, first, "cancelled",
                                  period=Period(date(2024, 1, 1), date(2024, 12, 31))),
        elsewhere=walk_assessment(loader, register_importer(loader, district="12")))


def _assignments(web: Api, number: str) -> list[tuple[str, str, str]]:
    """(officer, actor, reason) of every assignment event of a case."""
    found = []
    for event, _ in web.ledger_loader().replay_history(case_id(number)):
        if type(event).__name__ == "OfficerAssigned":
            found.append((event.officer, event.actor, event.reason))  # type: ignore[attr-defined]
    return found


def _events(web: Api) -> int:
    return int(web.ledger.recorder.max_notification_id() or 0)


def test_bulk_assignment_records_one_event_per_case_and_reports_refusals(web: Api) -> None:
    cases = _assignable(web)
    supervisor = web.as_user("supervisor11")
    page = supervisor.get("/worklist?officer=unassigned").text
    for number in (cases.first, cases.second, cases.verification):
        assert f'name="case" value="{number}"' in page
    batch = re.search(r'name="batch" value="([0-9a-f]+)"', page)
    assert batch is not None
    reason = "rota <b>week 48</b>"
    form = {"case": [cases.first, cases.verification, cases.cancelled, cases.elsewhere],
            "officer": "user:officer11", "reason": reason, "batch": batch.group(1),
            "back": "officer=unassigned"}
    response = post_form(supervisor, "/worklist/assign", form)
    assert response.status_code == 200
    assert "2 of 4 case(s) assigned" in response.text
    assert "rota &lt;b&gt;week 48&lt;/b&gt;" in response.text
    refusals = re.findall(r'badge bad">refused</span> ([^<]+)</td>', response.text)
    assert len(refusals) == 2
    assert any(cases.elsewhere in refusal and "Not found" in refusal for refusal in refusals)
    for number in (cases.first, cases.verification):
        assert _assignments(web, number) == [("user:officer11", "user:supervisor11", reason)]
    assert _assignments(web, cases.second) == []
    assert _assignments(web, cases.cancelled) == []
    assert _assignments(web, cases.elsewhere) == []
    before = _events(web)
    again = post_form(supervisor, "/worklist/assign", form)  # a reload sends it again
    assert again.status_code == 200
    assert _events(web) == before
    assert _assignments(web, cases.first) == [("user:officer11", "user:supervisor11", reason)]
    done = post_form(supervisor, "/worklist/assign", {
        "case": [cases.second], "officer": "user:officer11b", "reason": "rota",
        "back": "officer=unassigned"})
    assert done.status_code == 303
    assert done.headers["location"] == ("/worklist?officer=unassigned&assigned=1&"
                                        "to=user%3Aofficer11b")
    assert "1 case(s) assigned to officer11b." in supervisor.get(done.headers["location"]).text


def test_bulk_assignment_is_refused_to_a_non_supervisor_and_checks_its_form(
        web: Api) -> None:
    cases = _assignable(web)
    officer, supervisor = web.as_user("officer11"), web.as_user("supervisor11")
    before = _events(web)  # after the logins (a login may record its own event)
    assert "Assign the selected cases" not in officer.get("/worklist").text
    refused = post_form(officer, "/worklist/assign", {
        "case": [cases.first], "officer": "user:officer11", "reason": "mine now"})
    assert refused.status_code == 403
    assert _events(web) == before
    incomplete = post_form(supervisor, "/worklist/assign", {
        "case": [cases.first], "officer": "user:officer12", "reason": " ",
        "back": "officer=unassigned"})
    assert incomplete.status_code == 422
    text = incomplete.text
    assert 'id="bulk-reason" name="reason" required aria-invalid="true" ' \
           'aria-describedby="bulk-reason-error"' in text
    assert 'id="bulk-officer-error">choose an officer from the list' in text
    assert f'value="{cases.first}" checked' in text
    assert _events(web) == before
    assert _assignments(web, cases.first) == []
