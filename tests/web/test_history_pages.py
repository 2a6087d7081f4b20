"""The auditor's timeline page: the state as of a version or a moment is the application's
own (application.history), a diff names exactly the fields that changed, a long history
is paged (and "more" comes as rows for htmx), the integrity panel tells an intact case
from an altered one, hostile text is shown as text, and scope is the API's: another
district's case is the 404 page, a role without history reads the 403 page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from application.history import diff, history, state_as_of
from domain.case_numbers import case_id
from domain.importer_account import importer_account_id
from interfaces.composition import build_application
from interfaces.web.history_view import PAGE_SIZE, shown
from tests.builders import FakeClock, register_importer, walk_assessment
from tests.e2e.http.conftest import Api
from tests.integration.raw_store import RawEvents

XSS = '<script>alert(1)</script> & "quotes" \u00e9\u4e2d'
START = datetime.now(UTC) - timedelta(days=3)


def _assessment(web: Api, to: str = "findings_issued") -> str:
    """An assessment of district 11, one event an hour from START."""
    clock = FakeClock(START)
    loader = build_application(web.settings, clock, access_control=False)
    try:
        return walk_assessment(loader, web.importer11, to, clock=clock)
    finally:
        loader.close()


def _state_cells(page: str) -> dict[str, str]:
    table = page[page.index('id="state-fields"'):]
    table = table[:table.index("</table>")]
    return {name: html.unescape(value) for name, value in re.findall(
        r'<th scope="row">([^<]+)</th><td class="value">([^<]*)</td>', table)}


def _versions_listed(page: str) -> list[int]:
    return [int(v) for v in re.findall(r'<tr id="v(\d+)">', page)]


def test_the_state_as_of_a_version_or_a_moment_is_the_applications(web: Api) -> None:
    number = _assessment(web)
    auditor = web.as_user("auditor")
    loader = web.ledger_loader()
    for version in (1, 3, 5):
        page = auditor.get(f"/history/{number}", params={"as_of": str(version)})
        assert page.status_code == 200, page.text[-800:]
        expected = state_as_of(loader, case_id(number), version=version, label=number)
        assert _state_cells(page.text) == {k: shown(v) for k, v in expected.items()}
        assert f"after version <strong>{version}</strong>" in page.text
    latest = auditor.get(f"/history/{number}")
    entries = history(loader, case_id(number), number)
    assert f"after version <strong>{len(entries)}</strong>" in latest.text
    assert _state_cells(latest.text)["state"] == "findings_issued"

    between = entries[2].recorded_at + (entries[3].recorded_at - entries[2].recorded_at) / 2
    moment = between.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    at = auditor.get(f"/history/{number}", params={"at": moment})
    assert at.status_code == 200, at.text[-800:]
    assert "after version <strong>3</strong>" in at.text
    assert _state_cells(at.text)["version"] == "3"
    assert f'value="{moment}"' in at.text  # the picker keeps the choice
    before = auditor.get(f"/history/{number}", params={"at": "2000-01-01T00:00"})
    assert before.status_code == 422
    assert 'id="state-error"' in before.text
    missing = auditor.get(f"/history/{number}", params={"as_of": "99"})
    assert missing.status_code == 422
    assert "latest is version" in missing.text


def test_a_diff_shows_exactly_the_fields_that_changed(web: Api) -> None:
    number = _assessment(web)
    auditor = web.as_user("auditor")
    page = auditor.get(f"/history/{number}", params={"diff": "2..5"})
    assert page.status_code == 200, page.text[-800:]
    expected = diff(web.ledger_loader(), case_id(number), 2, 5, number)
    table = page.text[page.text.index('id="diff-fields"'):]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td class="value"><del>([^<]*)</del></td>'
                      r'<td class="value"><ins>([^<]*)</ins></td>', table)
    assert {name: (html.unescape(a), html.unescape(b)) for name, a, b in rows} == {
        name: (shown(a), shown(b)) for name, (a, b) in expected.items()}
    assert {"state", "survey", "tests"} <= {name for name, _, _ in rows}
    # the two-select form is sent on to the URL that keeps the choice
    form = auditor.get(f"/history/{number}", params={"from": "2", "to": "5", "as_of": "3"},
                       follow_redirects=False)
    assert form.status_code == 303
    assert form.headers["location"] == f"/history/{number}?as_of=3&diff=2..5#diff"
    same = auditor.get(f"/history/{number}", params={"diff": "3..3"})
    assert 'id="diff-none"' in same.text
    garbled = auditor.get(f"/history/{number}", params={"diff": "two..five"})
    assert garbled.status_code == 422
    assert "is not a version" in garbled.text


def test_a_long_history_is_paged_newest_or_oldest_first(web: Api) -> None:
    loader = web.ledger_loader()
    number = register_importer(loader, district="11")
    for turn in range(2 * PAGE_SIZE + 10):
        loader.set_compliance_class(number, "abcd"[turn % 4], actor="user:officer11",
                                    reason=f"review {turn}")
    total = 2 * PAGE_SIZE + 11
    client = web.as_user("officer11")
    first = client.get(f"/history/{number}")
    assert first.status_code == 200
    assert _versions_listed(first.text) == list(range(total, total - PAGE_SIZE, -1))
    following = total - PAGE_SIZE
    assert f"start={following}" in first.text
    assert 'type="number" id="as_of"' not in first.text  # 111 versions: still a select
    more = client.get(f"/history/{number}/events", params={"start": str(following)},
                      headers={"HX-Request": "true"})
    assert more.status_code == 200
    assert "<html" not in more.text  # rows to swap in, not a page
    assert more.text.lstrip().startswith("<tr")
    assert _versions_listed(more.text) == list(range(following, following - PAGE_SIZE, -1))
    last = client.get(f"/history/{number}/events", params={"start": "11"},
                      headers={"HX-Request": "true"})
    assert _versions_listed(last.text) == list(range(11, 0, -1))
    assert 'id="more-events"' not in last.text
    plain = client.get(f"/history/{number}/events", params={"start": "11"},
                       follow_redirects=False)  # without htmx: the page at that point
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/history/{number}?start=11#events"
    oldest = client.get(f"/history/{number}", params={"order": "oldest", "start": "101"})
    assert _versions_listed(oldest.text) == list(range(101, total + 1))
    assert "review 109" in oldest.text
    entries = history(loader, importer_account_id(number), number)
    assert [e.version for e in entries] == list(range(1, total + 1))


def test_hostile_text_in_a_reason_is_shown_as_text(web: Api) -> None:
    number = _assessment(web, "opened")
    web.ledger_loader().assign_officer(number, "user:officer11", actor="user:supervisor11",
                                       reason=XSS)
    for path in (f"/history/{number}", f"/history/{number}?as_of=2",
                 f"/history/{number}?diff=1..2"):
        page = web.as_user("auditor").get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)</script>" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; \u00e9\u4e2d" \
            in page.text, path


def test_the_timeline_is_scoped_like_the_api(web: Api) -> None:
    number = _assessment(web, "assigned")
    for path in (f"/history/{number}", f"/history/{number}/integrity",
                 f"/history/{number}/events", f"/history/{web.importer11}"):
        for user in ("officer12", "analyst12", "supervisor12"):
            hidden = web.as_user(user).get(path, headers={"HX-Request": "true"})
            assert hidden.status_code == 404, (user, path)
            assert "Not found" in hidden.text
        assert web.as_user("officer11").get(path, headers={"HX-Request": "true"}
                                            ).status_code == 200, path
    outside = web.as_user("officer12").get(f"/history/{number}")
    missing = web.as_user("officer12").get("/history/CA-2026-99999")
    assert missing.status_code == 404
    assert outside.text.replace(number, "N") == missing.text.replace("CA-2026-99999", "N")
    for user in ("rep11", "admin"):
        refused = web.as_user(user).get(f"/history/{number}")
        assert refused.status_code == 403, user
    assert web.as_user("officer11").get("/history/user:officer11b").status_code == 403
    users = web.as_user("auditor").get("/history/user:officer11b")
    assert users.status_code == 200
    assert "$argon2" not in users.text
    assert "&lt;redacted&gt;" in users.text


@pytest.mark.parametrize("sealed", [False, True], ids=["unsealed", "sealed"])
def test_the_integrity_panel_tells_an_intact_case_from_an_altered_one(
        web: Api, sealed: bool) -> None:
    number = _assessment(web, "surveyed")
    if sealed:
        made = web.as_user("admin").post("/api/seal", json={"reason": "before the audit"})
        assert made.status_code == 201, made.text
    auditor = web.as_user("auditor")
    page = auditor.get(f"/history/{number}")
    assert f'hx-get="/history/{number}/integrity"' in page.text
    panel = auditor.get(f"/history/{number}/integrity", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert "<html" not in panel.text
    assert 'id="integrity-verdict">intact<' in panel.text
    assert 'id="key-fingerprint"' in panel.text
    if sealed:
        assert "It sealed this case at version 3" in panel.text
    else:
        assert "No seal yet" in panel.text

    raw = RawEvents.of(web.ledger, web.settings)
    version, said, edited = ((3, b"survey interviews held", b"survey interviews skipped")
                             if sealed else (2, b"next officer", b"last officer"))
    topic, state = raw.read(case_id(number), version)
    assert said in state
    raw.rewrite(case_id(number), version, topic, state.replace(said, edited))
    altered = auditor.get(f"/history/{number}/integrity")
    assert altered.status_code == 200
    assert "<html" in altered.text  # without htmx: a page of its own
    assert 'id="integrity-verdict">TAMPERED<' in altered.text
    problems = altered.text[altered.text.index('id="integrity-problems"'):]
    problems = problems[:problems.index("</ul>")]
    assert f"version {version}: its commit signature does not hold" in problems
    if sealed:  # the head the seal covered was edited
        assert "version 3: differs from the head seal 1 sealed" in problems
    else:  # the next event's link no longer matches
        assert "version 3: does not link to version 2" in problems
