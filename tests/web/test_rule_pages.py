"""/rules: an analyst drafts a rule from the form (recorded as the caller, with its
reason); bad conditions are named beside the conditions field and record nothing; an
officer may not draft (the 403 page); a hostile rule name is shown as text in the list,
on the rule's facts and in its version history; the backtest is a chart with its numbers
beside it."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.e2e.http.analysis_data import notifications, seed_world
from tests.e2e.http.conftest import Api
from tests.web.conftest import post_form

XSS = '<script>alert(1)</script> & "quotes" ünïcode'
FORM: dict[str, Any] = {
    "name": "Footwear from VN", "conditions": json.dumps({"hs_prefix": ["64"], "origin": "VN"}),
    "channel": "red", "effective_from": "2026-01-01", "effective_to": "",
    "districts": ["11"], "reason": "origin pattern", "idempotency_key": "rule-form-key-1"}


def _draft(web: Api, **changes: Any) -> str:
    response = post_form(web.as_user("analyst11"), "/rules", {**FORM, **changes})
    assert response.status_code == 303, response.text[-1500:]
    location = str(response.headers["location"])
    assert re.fullmatch(r"/rules/TR-\d{4}-\d{5}", location)
    return location.rsplit("/", 1)[1]


def test_a_draft_from_the_form_is_recorded_as_the_caller_and_shown_as_text(web: Api) -> None:
    number = _draft(web, name=XSS)
    rule = web.ledger_loader().get_rule(number)
    assert (rule.state.value, rule.author, rule.definition.name) == (
        "drafted", "user:analyst11", XSS)
    assert rule.definition.districts == ("11",)
    first = next(iter(web.ledger.events.get(rule.id)))
    assert first.reason == "origin pattern"  # type: ignore[attr-defined]
    again = post_form(web.as_user("analyst11"), "/rules", {**FORM, "name": XSS})
    assert again.headers["location"] == f"/rules/{number}"  # a double submit: one rule
    assert web.ledger_loader().rule_numbers() == [number]
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; ünïcode"
    pages = {"list": web.as_user("officer11").get("/rules").text,
             "facts": web.as_user("auditor").get(f"/rules/{number}").text,
             "history": web.as_user("analyst12").get(f"/rules/{number}/analysis").text}
    for name, html in pages.items():
        assert "<script>alert(1)" not in html, name
        assert escaped in html, name
    assert "the goods originate in <strong>VN</strong>" in pages["facts"]
    assert f'hx-get="/rules/{number}/analysis"' in pages["facts"]
    assert "user:analyst11" in pages["history"]


def test_bad_conditions_are_named_beside_the_field_and_record_nothing(web: Api) -> None:
    analyst = web.as_user("analyst11")
    before = notifications(web.ledger)
    for conditions, named in ((json.dumps({"origin": "XX"}), "conditions.origin"),
                              (json.dumps({"colour": "red"}), "conditions.colour"),
                              ('{"origin": "VN",}', "not valid JSON"),
                              ("[]", "expected a JSON object")):
        refused = post_form(analyst, "/rules", {**FORM, "conditions": conditions,
                                                "idempotency_key": "bad-rule-key-01"})
        assert refused.status_code == 422, conditions
        error = re.search(r'<p class="field-error" id="rule-conditions-error">([^<]*)</p>',
                          refused.text)
        assert error is not None, conditions
        assert named in error.group(1), (conditions, error.group(1))
        assert re.search(r'<textarea id="rule-conditions"[^>]*aria-invalid="true"',
                         refused.text)
        assert 'value="Footwear from VN"' in refused.text  # the rest is kept as typed
    several = post_form(analyst, "/rules", {**FORM, "channel": "green", "reason": ""})
    assert several.status_code == 422
    for field in ("rule-channel", "rule-reason"):
        assert f'id="{field}-error"' in several.text, field
    backwards = post_form(analyst, "/rules", {**FORM, "effective_to": "2025-01-01"})
    assert "is before effective_from" in backwards.text
    assert 'id="rule-to-error"' in backwards.text
    assert notifications(web.ledger) == before
    assert web.ledger_loader().rule_numbers() == []


def test_an_officer_may_not_draft_a_rule(web: Api) -> None:
    officer = web.as_user("officer11")
    before = notifications(web.ledger)
    assert officer.get("/rules/new").status_code == 403
    refused = post_form(officer, "/rules", FORM)
    assert refused.status_code == 403
    assert "<h1>403" in refused.text
    assert "Draft a rule" not in officer.get("/rules").text
    assert notifications(web.ledger) == before


def test_the_backtest_is_a_chart_with_its_numbers_and_the_versions_are_listed(
        web: Api) -> None:
    world = seed_world(web.settings)
    number = _draft(web, effective_from=f"{world.year}-01-01", districts=[])
    national = web.as_user("analyst.national")
    for step in ("approve", "publish"):
        assert national.post(f"/api/rules/{number}/{step}",
                             json={"reason": step}).status_code == 200
    assert national.post(f"/api/rules/{number}/amend", json={
        "name": "Footwear, any origin", "conditions": {"hs_prefix": "64"},
        "channel": "amber", "effective_from": f"{world.year}-01-01",
        "reason": "wider"}).status_code == 200
    fragment = web.as_user("analyst12").get(f"/rules/{number}/analysis",
                                            headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    versions = re.findall(r'<th scope="row">v(\d)', fragment.text)
    assert versions == ["2", "1"]
    assert re.search(r'v1<br><span class="badge ok">in force</span>', fragment.text)
    numbers = re.search(r'<table id="backtest-numbers">.*?</table>', fragment.text, re.S)
    assert numbers is not None
    examined = re.findall(r'<td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>',
                          numbers.group(0))
    assert examined == [("16", "10"), ("16", "10"), ("0", "0")]  # every line: footwear, VN
    chart = web.as_user("analyst12").get(f"/rules/{number}/backtest.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.startswith("<svg")
    assert f'src="/rules/{number}/backtest.svg"' in fragment.text
    assert web.as_user("analyst12").get("/rules/TR-2026-99999/analysis").status_code == 404
