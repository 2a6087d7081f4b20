"""The case pages: the steps offered are exactly those the domain's transition table and
the caller's role allow; a form records one event as the caller with its reason; a bad
field is named beside it and records nothing; a form sent on a stale version shows what
changed and records nothing; another district's case is the 404 page; hostile text is
shown as text; a representative completes an action by uploading its evidence, which is
kept by its SHA-256 and only ever served back as a download."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from application.access import Principal
from application.next_steps import offered_steps
from domain.case_numbers import case_id
from interfaces.composition import build_application
from interfaces.web.case_registry import CASE_TYPES
from tests.builders import walk_assessment, walk_to_findings
from tests.e2e.http.conftest import Api
from tests.web.conftest import post_form

XSS = '<script>alert("x")</script> & "quotes"'


def _open_assessment(web: Api, importer: str, to: str = "opened") -> str:
    loader = build_application(web.settings, access_control=False)
    try:
        return walk_assessment(loader, importer, to)
    finally:
        loader.close()


def _steps_on_page(html: str) -> list[str]:
    return re.findall(r'<details class="step[^"]*" id="step-([a-z-]+)"', html)


def _form_fields(html: str, command: str) -> dict[str, str]:
    """The hidden fields of one step's form (version, idempotency key)."""
    start = html.index(f'id="step-{command}"')
    form = html[start:html.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))


def _events_after(web: Api, number: str, version: int) -> list[Any]:
    return list(web.ledger.events.get(case_id(number), gt=version))


def test_each_role_is_offered_exactly_the_steps_the_domain_allows_it_now(web: Api) -> None:
    number = _open_assessment(web, web.importer11)
    assessment = web.ledger_loader().get_assessment(number)
    for user in ("supervisor11", "officer11", "analyst11", "auditor"):
        client = web.as_user(user)
        page = client.get(f"/assessments/{number}")
        assert page.status_code == 200, (user, page.text[-500:])
        expected = [spec.name for spec in CASE_TYPES["assessments"].specs
                    if spec.permission in offered_steps(assessment, _principal(web, user))]
        assert _steps_on_page(page.text) == expected, user
    assert "assign" in _steps_on_page(web.as_user("supervisor11").get(
        f"/assessments/{number}").text)
    assert _steps_on_page(web.as_user("auditor").get(f"/assessments/{number}").text) == []


def _principal(web: Api, username: str) -> Principal:
    from application.identity import principal_of
    user = web.ledger.find_user(username)
    assert user is not None
    return principal_of(user)


def test_a_step_sent_from_its_form_records_one_event_as_the_caller(web: Api) -> None:
    number = _open_assessment(web, web.importer11)
    client = web.as_user("supervisor11")
    page = client.get(f"/assessments/{number}").text
    hidden = _form_fields(page, "assign")
    response = post_form(client, f"/assessments/{number}/assign", {
        **hidden, "officer": "user:officer11", "reason": XSS})
    assert response.status_code == 303, response.text[-800:]
    assert response.headers["location"] == f"/assessments/{number}?done=assign"
    events = _events_after(web, number, int(hidden["version"]))
    assert [(e.actor, e.reason) for e in events] == [("user:supervisor11", XSS)]
    again = post_form(client, f"/assessments/{number}/assign", {
        **hidden, "officer": "user:officer11", "reason": XSS})  # a double click
    assert again.status_code == 303
    assert len(_events_after(web, number, int(hidden["version"]))) == 1
    shown = client.get(response.headers["location"]).text
    assert "Recorded: Assign (or reassign) the officer" in shown
    assert "<script>alert" not in shown
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;" in shown


def test_a_bad_field_is_named_beside_it_and_nothing_is_recorded(web: Api) -> None:
    number = _open_assessment(web, web.importer11, "assigned")
    client = web.as_user("officer11")
    page = client.get(f"/assessments/{number}").text
    hidden = _form_fields(page, "survey")
    response = post_form(client, f"/assessments/{number}/survey", {
        **hidden, "surveyed_on": "31/02/2026", "reason": "survey held"})
    assert response.status_code == 422
    html = response.text
    survey = html[html.index('id="step-survey"'):]
    assert 'id="step-survey" open' in html
    assert re.search(r'name="surveyed_on" value="31/02/2026"[^>]*aria-invalid="true"', survey)
    assert 'class="field-error"' in survey
    assert _events_after(web, number, int(hidden["version"])) == []


def test_a_business_rule_refusal_is_shown_with_the_form(web: Api) -> None:
    number = _draft_plan(web)
    rep = web.as_user("rep11")
    hidden = _form_fields(rep.get(f"/plans/{number}").text, "submit")
    response = post_form(rep, f"/plans/{number}/submit", {**hidden, "reason": "done"})
    assert response.status_code == 422
    submit = response.text[response.text.index('id="step-submit"'):]
    assert 'id="step-submit" open' in response.text
    assert 'role="alert"' in submit
    assert "action" in submit[:submit.index("</form>")].lower()
    assert _events_after(web, number, int(hidden["version"])) == []


def test_a_form_sent_on_a_stale_version_shows_what_changed_and_records_nothing(
        web: Api) -> None:
    number = _open_assessment(web, web.importer11)
    first, second = web.as_user("supervisor11"), web.as_user("supervisor11b")
    hidden = _form_fields(first.get(f"/assessments/{number}").text, "assign")
    stale = _form_fields(second.get(f"/assessments/{number}").text, "assign")
    assert post_form(first, f"/assessments/{number}/assign", {
        **hidden, "officer": "user:officer11", "reason": "rota"}).status_code == 303
    response = post_form(second, f"/assessments/{number}/assign", {
        **stale, "officer": "user:officer11b", "reason": "my pick"})
    assert response.status_code == 409
    html = response.text
    assert "The case changed while you were filling the form" in html
    changed = html[html.index('id="changed-meanwhile"'):]
    assert "user:officer11" in changed
    assert "<del>—</del>" in changed  # no officer before: a dash, never Python's None
    assert "None" not in changed[:changed.index("</table>")]
    assert 'value="user:officer11b"' in html  # the form, as the user left it
    resend = _form_fields(html, "assign")
    assert resend["version"] == str(int(stale["version"]) + 1)
    assert [e.actor for e in _events_after(web, number, int(stale["version"]))] == [
        "user:supervisor11"]
    redo = post_form(second, f"/assessments/{number}/assign", {
        **resend, "officer": "user:officer11b", "reason": "my pick, having seen the change"})
    assert redo.status_code == 303
    assert web.ledger_loader().get_assessment(number).officer == "user:officer11b"


def test_another_districts_case_is_the_not_found_page_for_reads_and_forms(web: Api) -> None:
    number = _open_assessment(web, web.importer12)
    client = web.as_user("officer11")
    page = client.get(f"/assessments/{number}")
    missing = client.get("/assessments/CA-2026-99999")
    assert page.status_code == missing.status_code == 404
    assert "Not found" in page.text
    version = web.ledger_loader().get_assessment(number).version
    posted = post_form(client, f"/assessments/{number}/cancel", {"reason": "not mine"})
    assert posted.status_code == 404
    assert _events_after(web, number, version) == []


def _draft_plan(web: Api) -> str:
    loader = build_application(web.settings, access_control=False)
    try:
        _, result = walk_to_findings(loader, web.importer11)
    finally:
        loader.close()
    assert result.plan_number is not None
    return result.plan_number


def test_the_representative_proposes_submits_and_completes_with_evidence(web: Api) -> None:
    number = _draft_plan(web)
    rep = web.as_user("rep11")
    due = (web.ledger.clock().date() + timedelta(days=30)).isoformat()
    for area in web.ledger_loader().get_plan(number).deficient_areas:
        hidden = _form_fields(rep.get(f"/plans/{number}").text, "add-action")
        added = post_form(rep, f"/plans/{number}/add-action", {
            **hidden, "area": area.value, "description": f"retrain on {area.value}",
            "owner": "user:rep11", "due_on": due, "reason": "corrects the finding"})
        assert added.status_code == 303, added.text[-600:]
    hidden = _form_fields(rep.get(f"/plans/{number}").text, "submit")
    assert post_form(rep, f"/plans/{number}/submit",
                     {**hidden, "reason": "proposal"}).status_code == 303
    supervisor = web.as_user("supervisor11")
    hidden = _form_fields(supervisor.get(f"/plans/{number}").text, "approve")
    assert post_form(supervisor, f"/plans/{number}/approve",
                     {**hidden, "reason": "sound"}).status_code == 303
    page = rep.get(f"/plans/{number}").text
    assert 'enctype="multipart/form-data"' in page
    hidden = _form_fields(page, "complete-action")
    document = b"%PDF-1.7 attendance register"
    refused = rep.post(f"/plans/{number}/complete-action", data={
        **hidden, "csrf_token": _csrf(rep), "action_id": "A1", "evidence": "register",
        "completed_on": web.ledger.clock().date().isoformat(), "reason": "held"},
        files={"document_file": ("page.html", b"<html><script>x</script></html>",
                                 "text/html")}, follow_redirects=False)
    assert refused.status_code == 422
    assert "are not accepted as evidence" in refused.text
    done = rep.post(f"/plans/{number}/complete-action", data={
        **hidden, "csrf_token": _csrf(rep), "action_id": "A1", "evidence": "register",
        "completed_on": web.ledger.clock().date().isoformat(), "reason": "held"},
        files={"document_file": ("register.pdf", document, "application/pdf")},
        follow_redirects=False)
    assert done.status_code == 303, done.text[-600:]
    plan = web.ledger_loader().get_plan(number)
    completed = next(a for a in plan.actions if a.action_id == "A1")
    assert completed.evidence is not None
    assert completed.evidence.sha256 == hashlib.sha256(document).hexdigest()
    download = rep.get(f"/plans/{number}/evidence/{completed.evidence.sha256}")
    assert download.status_code == 200
    assert download.content == document
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"
    other = web.as_user("rep12").get(f"/plans/{number}/evidence/{completed.evidence.sha256}")
    assert other.status_code == 404


def _csrf(client: Any) -> str:
    from tests.web.conftest import csrf
    return csrf(client)


def test_the_officer_is_chosen_from_those_the_case_may_be_given_to(web: Api) -> None:
    """The assign form offers the enabled officers and supervisors of the case's district
    and national ones; whoever else is sent (a typo, another district's officer) is
    refused beside the field and nothing is recorded."""
    number = _open_assessment(web, web.importer11)
    client = web.as_user("supervisor11")
    page = client.get(f"/assessments/{number}").text
    start = page.index('id="step-assign"')
    form = page[start:page.index("</form>", start)]
    offered = re.findall(r'<option value="(user:[^"]+)"', form)
    assert {"user:officer11", "user:officer11b", "user:officer.national",
            "user:supervisor11", "user:supervisor.national"} <= set(offered)
    assert not {"user:officer12", "user:supervisor12", "user:analyst11",
                "user:admin"} & set(offered)
    hidden = _form_fields(page, "assign")
    for sent, reason in (("user:oficer11", "user:oficer11 is not a user"),
                         ("user:officer12", "user:officer12 does not work in district 11")):
        refused = post_form(client, f"/assessments/{number}/assign", {
            **hidden, "officer": sent, "reason": "rota"})
        assert refused.status_code == 422
        assert reason in refused.text
    assert _events_after(web, number, int(hidden["version"])) == []
