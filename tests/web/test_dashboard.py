"""The dashboard at `/`: one panel per role of the caller, each scoped like the API's
lists. An officer sees its own cases and what is due in them, soonest first, never a case
of another district (even one assigned to it); a supervisor its district's queue, each
officer's workload, the unassigned cases, plans awaiting approval and enforcement awaiting
review; a representative its importers' plans, notices and verifications; the auditor the
latest seal; the admin the users; a user with two roles both panels; names as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from infrastructure.passwords import Argon2Hasher
from interfaces.composition import build_application
from tests.builders import (
    FakeClock,
    propose_penalty,
    register_importer,
    walk_assessment,
    walk_enforcement,
    walk_plan,
    walk_to_findings,
)
from tests.e2e.http.conftest import (  # noqa: F401 - fixtures
    PASSWORD,
    STAFF,
    Api,
    module_api,
    module_api_environ,
)

XSS = "<script>alert(1)</script> Imports"
CASE = re.compile(r'<th scope="row"><a href="/[a-z]+/([A-Z]{2}-\d{4}-\d{5})" class="mono">')


@dataclass(frozen=True)
class World:
    findings11: str
    """officer.one's assessment (findings issued) in district 11."""
    overdue_plan11: str
    """Its plan, drafted in March: the proposal is overdue."""
    assigned12: str
    """District 12, assigned to officer.one too: outside its scope."""
    unassigned11: str
    """Of an importer whose legal name is markup."""
    submitted11: str
    proposed11: str
    proposed12: str
    rep_plan: str
    rep_verification: str
    rep_notice: str


def _users(api: Api) -> None:
    """officer.one (the builders' officer) in district 11, and a supervisor who is also
    an officer."""
    loader = api.ledger_loader()
    digest = Argon2Hasher(time_cost=api.settings.argon2_time_cost,
                          memory_cost=api.settings.argon2_memory_kib).hash(PASSWORD)
    for name, roles in (("officer.one", ["officer"]), ("both11", ["officer", "supervisor"])):
        loader.add_user(name, roles=roles, districts=["11"], password_hash=digest,
                        actor="system:test-setup", reason="dashboard test staff")


@pytest.fixture(scope="module")
def world(module_api: Api) -> Iterator[World]:  # noqa: F811
    _users(module_api)
    loader = module_api.ledger_loader()
    clock = FakeClock()  # March 2026: a proposal due then is overdue now
    past = build_application(module_api.settings, clock, access_control=False)
    try:
        findings, drafted = walk_to_findings(past, register_importer(past, district="11"),
                                             clock=clock)
        _, submitted = walk_to_findings(loader, register_importer(loader, district="11"))
        assert drafted.plan_number
        assert submitted.plan_number
        walk_plan(loader, submitted.plan_number, "submitted")
        _, own = walk_to_findings(loader, module_api.importer11)
        assert own.plan_number
        verification = walk_plan(loader, own.plan_number)
        assert verification
        notice = propose_penalty(loader, module_api.importer11)
        walk_enforcement(loader, notice, "issued")
        yield World(
            findings11=findings, overdue_plan11=drafted.plan_number,
            assigned12=walk_assessment(loader, register_importer(loader, district="12"),
                                       "assigned"),
            unassigned11=walk_assessment(loader, register_importer(
                loader, district="11", legal_name=XSS)),
            submitted11=submitted.plan_number,
            proposed11=propose_penalty(loader, register_importer(loader, district="11")),
            proposed12=propose_penalty(loader, module_api.importer12),
            rep_plan=own.plan_number, rep_verification=verification, rep_notice=notice)
    finally:
        past.close()


def _section(page: str, heading_id: str) -> str:
    """The panel whose heading has this id (up to the end of its <section>)."""
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def _h3_block(panel: str, title: str) -> str:
    found = re.search(rf"<h3[^>]*>{re.escape(title)}</h3>", panel)
    assert found is not None, title
    start = found.start()
    end = panel.find("<h3", start + 4)
    return panel[start:end if end != -1 else len(panel)]


def test_an_officer_sees_its_cases_and_what_is_due_soonest_first(
        module_api: Api, world: World) -> None:  # noqa: F811
    page = module_api.as_user("officer.one").get("/")
    assert page.status_code == 200
    panel = _section(page.text, "officer-heading")
    mine = CASE.findall(_h3_block(panel, "Soonest due"))
    assert mine[0] == world.overdue_plan11  # due months ago: first
    assert {world.overdue_plan11, world.findings11} <= set(mine)
    assert world.assigned12 not in page.text  # assigned to it, but in district 12
    assert world.unassigned11 not in mine
    assert 'class="badge overdue">1 overdue</span>' in panel
    due = _h3_block(panel, "Due items in your cases")
    assert "proposal of corrective actions" in due
    assert re.search(r'\d+ d overdue', due)
    assert "supervisor-heading" not in page.text
    assert "analyst-heading" not in page.text


def test_a_supervisor_sees_its_district_queue_workload_and_what_awaits_it(
        module_api: Api, world: World) -> None:  # noqa: F811
    page = module_api.as_user("supervisor11").get("/").text
    panel = _section(page, "supervisor-heading")
    waiting = CASE.findall(_h3_block(panel, "Unassigned assessments and verifications"))
    assert waiting == [world.rep_verification, world.unassigned11]  # dated first
    assert CASE.findall(_h3_block(panel, "Plans awaiting approval")) == [world.submitted11]
    assert CASE.findall(_h3_block(panel, "Enforcement awaiting review")) == [
        world.proposed11]
    workload = _h3_block(panel, "Workload per officer")
    assert 'src="/charts/workload.svg"' in workload
    assert 'href="/worklist?officer=user%3Aofficer.one">officer.one</a>' in workload
    assert 'href="/worklist?officer=unassigned">nobody yet</a>' in workload
    assert world.proposed12 not in page
    assert world.assigned12 not in page
    assert "officer-heading" not in page


def test_a_user_with_two_roles_sees_both_panels(module_api: Api,  # noqa: F811
                                                world: World) -> None:
    page = module_api.as_user("both11").get("/").text
    assert 'id="officer-heading"' in page
    assert 'id="supervisor-heading"' in page
    assert world.unassigned11 in page


def test_a_representative_sees_its_importers_plans_notices_and_verifications(
        module_api: Api, world: World) -> None:  # noqa: F811
    page = module_api.as_user("rep11").get("/").text
    panel = _section(page, "representative-heading")
    assert CASE.findall(_h3_block(panel, "Improvement plans")) == [world.rep_plan]
    assert CASE.findall(_h3_block(panel, "Notices")) == [world.rep_notice]
    assert CASE.findall(_h3_block(panel, "Follow-up verifications")) == [
        world.rep_verification]
    assert "importer&#39;s response to the pre-penalty notice" in _h3_block(panel,
                                                                           "What is due")
    other = module_api.as_user("rep12").get("/").text
    for number in (world.rep_plan, world.rep_notice, world.rep_verification):
        assert number not in other


def test_the_auditor_and_the_admin_get_their_summaries(module_api: Api,  # noqa: F811
                                                       world: World) -> None:
    auditor = _section(module_api.as_user("auditor").get("/").text, "auditor-heading")
    assert "No seal yet" in auditor
    assert 'href="/audit"' in auditor
    admin = _section(module_api.as_user("admin").get("/").text, "admin-heading")
    people = len(STAFF) + 2 + 2  # the staff, rep11 and rep12, officer.one and both11
    assert f"{people} user(s), {people} enabled" in admin
    assert 'href="/users"' in admin
    assert world.unassigned11 not in admin


def test_an_importer_name_with_markup_is_shown_as_text(module_api: Api,  # noqa: F811
                                                       world: World) -> None:
    page = module_api.as_user("supervisor11").get("/").text
    assert world.unassigned11 in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Imports" in page
    assert "<script>alert(1)" not in page


@pytest.mark.usefixtures("world")
def test_an_analyst_before_any_risk_run_is_told_so_and_charts_say_no_data(
        module_api: Api) -> None:  # noqa: F811
    page = module_api.as_user("analyst11").get("/")
    assert page.status_code == 200
    panel = _section(page.text, "analyst-heading")
    assert "No risk run yet" in panel
    assert "No importer scored." in panel
    for name in ("concentration", "rates-industry", "targeting", "channels"):
        chart = module_api.as_user("analyst11").get(f"/charts/{name}.svg")
        assert chart.status_code == 200
        assert "no data" in chart.text
