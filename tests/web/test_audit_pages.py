"""The audit-log search page: the auditor finds events by actor, case and period, newest
first, a page at a time, each linking to its case's timeline; a bad period is named beside
its field; hostile text in a reason is shown as text; every other role gets the 403 page."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

from tests.builders import register_importer, walk_assessment
from tests.e2e.http.conftest import Api

XSS = '<script>alert(1)</script> & "quotes"'


def _positions(text: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', text)]


def test_the_auditor_searches_by_actor_case_and_period(web: Api) -> None:
    loader = web.ledger_loader()
    number = walk_assessment(loader, web.importer11, "assigned")
    loader.record_survey(number, {"value": "adequate", "classification": "weak"},
                         loader.clock().date(), actor="user:officer11", reason=XSS)
    auditor = web.as_user("auditor")
    by_case = auditor.get("/audit", params={"case": number.lower()})
    assert by_case.status_code == 200
    assert by_case.text.count(f'href="/history/{number}"') == 3
    assert 'value="' + number.lower() + '"' in by_case.text  # the search is kept
    events = re.findall(r"<td>Assessment\.(\w+)</td>", by_case.text)
    assert events == ["SurveyRecorded", "OfficerAssigned", "Opened"]  # newest first
    assert "<script>alert(1)</script>" not in by_case.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;" in by_case.text

    by_actor = auditor.get("/audit", params={"actor": "officer11"})  # user: is implied
    assert re.findall(r"<td>Assessment\.(\w+)</td>", by_actor.text) == ["SurveyRecorded"]
    today = loader.clock().date().isoformat()
    within = auditor.get("/audit", params={"case": number, "since": today, "until": today})
    assert len(_positions(within.text)) == 3
    later = auditor.get("/audit", params={"case": number, "since": "2999-01-01"})
    assert _positions(later.text) == []
    bad = auditor.get("/audit", params={"since": "yesterday", "actor": "officer11"})
    assert bad.status_code == 422
    assert 'id="since" name="since" type="date" value="yesterday" aria-invalid="true" ' \
           'aria-describedby="since-error"' in bad.text
    assert 'id="since-error">expected a date' in bad.text


def test_the_log_is_paged_newest_first(web: Api) -> None:
    loader = web.ledger_loader()
    for _ in range(60):
        register_importer(loader, district="12")
    auditor = web.as_user("auditor")
    first = auditor.get("/audit", params={"actor": "user:tester"})
    positions = _positions(first.text)
    assert len(positions) == 50
    assert positions == sorted(positions, reverse=True)
    older = re.search(r'rel="next" href="/audit\?actor=user%3Atester&amp;before=([^"]+)"',
                      first.text)
    assert older is not None
    before = unquote(html.unescape(older.group(1)))
    assert before.endswith(f"~{positions[-1]}")
    rest = _positions(auditor.get("/audit", params={"actor": "user:tester",
                                                    "before": before}).text)
    assert len(rest) >= 10
    assert max(rest) < min(positions)
    assert not set(rest) & set(positions)
    garbled = auditor.get("/audit", params={"before": "nonsense"})
    assert garbled.status_code == 422
    assert 'id="before-error"' in garbled.text


def test_only_auditors_read_the_audit_log(web: Api) -> None:
    for user in ("officer11", "supervisor.national", "analyst.national", "admin", "rep11"):
        refused = web.as_user(user).get("/audit")
        assert refused.status_code == 403, user
        assert "Forbidden" in refused.text
        assert 'href="/audit"' not in refused.text  # not offered in the navigation either
    assert 'href="/audit"' in web.as_user("auditor").get("/audit").text
