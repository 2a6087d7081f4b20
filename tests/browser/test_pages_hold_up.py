"""What a careless or hostile user meets in the browser: a form sent on a stale version
shows what changed and records nothing; another district's case is the 404 page; markup in
a name or a reason is shown as text and never runs; the case page works from the keyboard
alone, every form field has a label, and axe-core finds no serious accessibility fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site, log_in
from tests.browser.steps import do_step
from tests.builders import register_importer, walk_assessment
from tests.e2e.http.conftest import PASSWORD

PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"


def _assessment(site: Site, importer: str, to: str = "opened") -> str:
    loader = site.loader()
    try:
        return walk_assessment(loader, importer, to)
    finally:
        loader.close()


def _fail_on_dialogs(page: Any) -> list[str]:
    opened: list[str] = []
    page.on("dialog", lambda dialog: (opened.append(dialog.message), dialog.dismiss()))
    return opened


def test_a_stale_form_shows_the_change_and_the_other_district_gets_404(
        chromium: Any, site: Site) -> None:
    number = _assessment(site, site.importer11)
    first = log_in(chromium, site, "supervisor11")
    second = log_in(chromium, site, "supervisor11b")
    first.goto(f"/assessments/{number}")
    second.goto(f"/assessments/{number}")  # both read version 1
    do_step(first, "assign", {"officer": "user:officer11", "reason": "rota"})
    second.click("#step-assign > summary")
    second.select_option("#assign-f-officer", "user:officer11b")
    second.fill("#assign-f-reason", "my pick")
    second.locator("#step-assign button[type=submit]").click()
    second.wait_for_load_state("load")
    site.shot(second, "stale-form")
    changed = second.locator("#changed-meanwhile")
    assert changed.is_visible()
    assert "user:officer11" in changed.inner_text()
    assert second.locator("#assign-f-officer").input_value() == "user:officer11b"
    assert "officer11b" not in second.locator(".facts-card").inner_text()

    outsider = log_in(chromium, site, "officer12")
    response = outsider.goto(f"/assessments/{number}")
    assert response is not None
    assert response.status == 404
    site.shot(outsider, "other-district-404")
    assert "Not found" in outsider.locator("h1").inner_text()


def test_markup_in_a_name_and_a_reason_is_shown_as_text(chromium: Any, site: Site) -> None:
    loader = site.loader()
    try:
        importer = register_importer(loader, district="11", legal_name=PAYLOAD)
    finally:
        loader.close()
    number = _assessment(site, importer)
    supervisor = log_in(chromium, site, "supervisor11")
    dialogs = _fail_on_dialogs(supervisor)
    supervisor.goto(f"/assessments/{number}")
    do_step(supervisor, "assign", {"officer": "user:officer11", "reason": PAYLOAD})
    assert PAYLOAD in supervisor.locator(".timeline").inner_text()
    supervisor.goto(f"/accounts/{importer}")
    site.shot(supervisor, "xss-as-text")
    assert PAYLOAD in supervisor.locator("main").inner_text()
    assert supervisor.evaluate("window.__pwned") is None
    assert dialogs == []


def test_the_case_page_works_from_the_keyboard_alone(chromium: Any, site: Site) -> None:
    number = _assessment(site, site.importer11)
    page = log_in(chromium, site, "supervisor11")
    page.goto(f"/assessments/{number}")
    for _ in range(80):  # Tab until the "assign" step has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('#step-assign') !== null"):
            break
    else:
        pytest.fail("the assign step cannot be reached with Tab")
    page.keyboard.press("Enter")  # opens the step
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "assign-f-officer"
    page.keyboard.type("officer11")  # the list's type-ahead: the first such officer
    assert page.evaluate("document.activeElement.value") == "user:officer11"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "assign-f-reason"
    page.keyboard.type("assigned without a mouse")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    assert "Recorded" in page.locator(".notice.ok").inner_text()


def _unlabelled_controls(page: Any) -> list[str]:
    return list(page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
        .map(e => e.name || e.id)"""))


@pytest.mark.parametrize("user", ["supervisor11", "officer11"])
def test_every_field_is_labelled_and_axe_finds_no_serious_fault(
        chromium: Any, site: Site, user: str) -> None:
    number = _assessment(site, site.importer11, "surveyed")
    context = chromium.new_context(base_url=site.url, bypass_csp=True)  # to inject axe
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    for path in ("/", f"/assessments/{number}", f"/history/{number}"):
        page.goto(path)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert _unlabelled_controls(page) == [], path
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("""async () => (await axe.run(document, {
            runOnly: ['wcag2a', 'wcag2aa']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))""")
        assert result == [], (path, result)
    context.close()
