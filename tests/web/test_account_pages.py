"""The importer pages: an account shows its facts, partnerships, class and tier, its risk
score with every factor the API explains, its trade, all its cases and its timeline; the
register is filtered and paged; scope is the API's (another district's importer is the
404 page, a representative sees its own importer only, and not customs' assessment of
it); hostile text in a name is shown as text."""

from __future__ import annotations

import html
import re

from tests.builders import register_importer, walk_assessment
from tests.e2e.http.analysis_data import seed_world
from tests.e2e.http.conftest import Api

XSS = '<script>alert(1)</script> & "Sons" \u00e9'


def _register_page_numbers(text: str) -> list[str]:
    return re.findall(r'<a class="mono" href="/accounts/([0-9A-Z-]+)">', text)


def test_an_account_shows_its_facts_cases_and_timeline(web: Api) -> None:
    loader = web.ledger_loader()
    number = web.importer11
    loader.join_partnership(number, "trusted_trader", "2021-04-01", actor="user:officer11",
                            reason="certified")
    loader.set_compliance_class(number, "b", actor="user:officer11", reason="reviewed")
    loader.assign_account_manager(number, "user:officer11b", actor="user:supervisor11",
                                  reason="portfolio")
    assessment = walk_assessment(loader, number, "assigned")
    page = web.as_user("officer11").get(f"/accounts/{number}")
    assert page.status_code == 200, page.text[-600:]
    facts = page.text[page.text.index('id="account-facts"'):]
    assert "trusted trader since 2021-04-01" in facts
    assert 'id="account-class">b<' in facts
    assert "user:officer11b" in facts
    cases = page.text[page.text.index('id="cases"'):]
    assert f'href="/assessments/{assessment}"' in cases
    assert "assigned" in cases
    timeline = page.text[page.text.index('id="account-timeline"'):]
    assert f'href="/history/{assessment}"' in timeline
    assert "portfolio" in timeline
    assert f'href="/history/{number}"' in page.text


def test_the_risk_score_shows_every_factor_the_api_explains(web: Api) -> None:
    world = seed_world(web.settings)
    ran = web.as_user("analyst.national").post("/api/risk/runs", json={
        "year": world.year, "reason": "annual risk run"})
    assert ran.status_code == 201, ran.text
    number = world.in11[1]
    explained = web.as_user("officer11").get(f"/api/risk/{number}").json()
    page = web.as_user("officer11").get(f"/accounts/{number}")
    assert page.status_code == 200
    factors = page.text[page.text.index('id="risk-factors"'):]
    factors = factors[:factors.index("</table>")]
    shown = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]*)</td>', factors)
    assert [(html.unescape(f), html.unescape(v)) for f, v in shown] == [
        (f["factor"], f["value"]) for f in explained["explanation"]]
    trade = page.text[page.text.index('id="trade"'):]
    assert f'<th scope="row">{world.year}</th>' in trade
    assert "200,000.00" in trade  # the second importer's value, as loaded
    assert "random samples" in page.text


def test_scope_officers_see_their_district_representatives_their_importer(web: Api) -> None:
    for user in ("officer12", "supervisor12", "analyst12"):
        hidden = web.as_user(user).get(f"/accounts/{web.importer11}")
        assert hidden.status_code == 404, user
        assert "Not found" in hidden.text
    missing = web.as_user("officer12").get("/accounts/99-9999999ZZ")
    assert missing.status_code == 404
    assert web.as_user("auditor").get(f"/accounts/{web.importer11}").status_code == 200
    rep = web.as_user("rep11")
    own = rep.get(f"/accounts/{web.importer11}")
    assert own.status_code == 200
    assert 'id="risk"' not in own.text  # customs' own assessment is not shown
    assert 'id="account-tier"' not in own.text
    assert rep.get(f"/accounts/{web.importer12}").status_code == 404
    assert _register_page_numbers(rep.get("/accounts").text) == [web.importer11]
    assert web.as_user("admin").get(f"/accounts/{web.importer11}").status_code == 403


def test_the_register_is_filtered_and_paged_within_scope(web: Api) -> None:
    loader = web.ledger_loader()
    harbour = [register_importer(loader, district="11", legal_name=f"Harbour {i} Ltd")
               for i in range(3)]
    for _ in range(50):
        register_importer(loader, district="11", legal_name="Inland Goods")
    client = web.as_user("officer11")
    first = client.get("/accounts")
    assert first.status_code == 200
    listed = _register_page_numbers(first.text)
    assert len(listed) == 50
    following = re.search(r'rel="next" href="/accounts\?cursor=([^"]+)"', first.text)
    assert following is not None
    rest = client.get(f"/accounts?cursor={html.unescape(following.group(1))}")
    more = _register_page_numbers(rest.text)
    assert not set(listed) & set(more)
    assert len(listed) + len(more) == 54  # the fixture's importer11 and the 53 above
    assert web.importer12 not in listed + more
    assert sorted(listed + more) == listed + more
    found = client.get("/accounts", params={"name": "harbour"})
    assert sorted(_register_page_numbers(found.text)) == sorted(harbour)
    by_number = client.get("/accounts", params={"name": harbour[0][:5]})
    assert harbour[0] in _register_page_numbers(by_number.text)
    assert _register_page_numbers(client.get("/accounts", params={"district": "12"}).text) \
        == []
    national = web.as_user("officer.national").get("/accounts", params={"district": "12"})
    assert _register_page_numbers(national.text) == [web.importer12]
    bad = client.get("/accounts", params={"tier": "9", "name": "harbour"})
    assert bad.status_code == 422
    assert 'aria-invalid="true" aria-describedby="tier-error"' in bad.text
    assert 'id="tier-error">expected 1, 2, 3 or 4<' in bad.text
    assert 'value="harbour"' in bad.text  # what was typed is kept
    garbled = client.get("/accounts", params={"cursor": "nonsense"})
    assert garbled.status_code == 422


def test_a_name_with_markup_is_shown_as_text(web: Api) -> None:
    number = register_importer(web.ledger_loader(), district="11", legal_name=XSS)
    for path in (f"/accounts/{number}", "/accounts?name=sons"):
        page = web.as_user("officer11").get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Sons&#34; \u00e9" \
            in page.text, path
