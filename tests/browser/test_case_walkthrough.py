"""A whole case in a real browser, each step by the person whose role it is, through the
forms the case page offers: the supervisor assigns, the officer records the survey, the
tests and the findings; the importer's representative proposes an action, submits the
plan, uploads the evidence and reports it implemented; the supervisor approves; the officer
re-tests and concludes the verification effective. Then the auditor replays the assessment
as of version 3 and compares two versions. A screenshot of every page is kept."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tests.browser.conftest import Site, log_in
from tests.browser.steps import do_step
from tests.builders import walk_assessment


def _opened_assessment(site: Site) -> str:
    loader = site.loader()
    try:
        return walk_assessment(loader, site.importer11, "opened")
    finally:
        loader.close()


def _linked_number(page: Any, prefix: str) -> str:
    link = page.locator(".notice.ok a[href^='/']", has_text=prefix).first
    text = link.inner_text()
    assert re.fullmatch(rf"{prefix}-\d{{4}}-\d{{5}}", text), text
    return str(text)


def test_a_case_from_assignment_to_an_effective_verification(
        chromium: Any, site: Site, tmp_path: Path) -> None:
    today = date.today()
    number = _opened_assessment(site)

    supervisor = log_in(chromium, site, "supervisor11")
    supervisor.goto(f"/assessments/{number}")
    site.shot(supervisor, "01-assessment-opened")
    do_step(supervisor, "assign", {"officer": "user:officer11",
                                   "reason": "next on the district rota"})
    site.shot(supervisor, "02-assigned")

    officer = log_in(chromium, site, "officer11")
    officer.goto(f"/assessments/{number}")
    do_step(officer, "survey", {"ratings.value": "adequate",
                                "ratings.classification": "adequate",
                                "surveyed_on": today.isoformat(),
                                "reason": "survey at the importer's premises"})
    do_step(officer, "test", {"area": "value", "lines_tested": "200", "discrepancies": "40",
                              "value_tested": "100000.00", "value_in_error": "9000.00",
                              "revenue_loss": "700.00", "reason": "sample of value lines"})
    do_step(officer, "test", {"area": "classification", "lines_tested": "200",
                              "discrepancies": "2", "value_tested": "100000.00",
                              "value_in_error": "1500.50", "revenue_loss": "120.25",
                              "reason": "sample of classification lines"})
    site.shot(officer, "03-tested")
    do_step(officer, "findings", {"duty_paid": "250000.00", "reason": "testing complete"})
    site.shot(officer, "04-findings")
    plan = _linked_number(officer, "IP")

    rep = log_in(chromium, site, "rep11")
    rep.goto(f"/plans/{plan}")
    site.shot(rep, "05-plan-draft")
    do_step(rep, "add-action", {"area": "value", "description": "retrain the valuation team",
                                "owner": "user:rep11",
                                "due_on": (today + timedelta(days=30)).isoformat(),
                                "reason": "corrects the value finding"})
    do_step(rep, "submit", {"reason": "our proposal"})
    site.shot(rep, "06-plan-submitted")

    supervisor.goto(f"/plans/{plan}")
    do_step(supervisor, "approve", {"reason": "the action addresses the finding"})

    evidence = tmp_path / "attendance-register.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% attendance register of the valuation training\n")
    rep.goto(f"/plans/{plan}")
    do_step(rep, "complete-action", {"action_id": "A1", "evidence": "attendance register",
                                     "completed_on": today.isoformat(),
                                     "reason": "training held"},
            files={"document_file": evidence})
    site.shot(rep, "07-action-completed")
    download = rep.locator("a[download]", has_text="attendance-register.pdf")
    assert download.count() == 1
    do_step(rep, "report-implementation", {"reason": "every action done"})
    verification = _linked_number(rep, "FV")

    supervisor.goto(f"/verifications/{verification}")
    do_step(supervisor, "assign", {"officer": "user:officer11", "reason": "re-test"})
    officer.goto(f"/verifications/{verification}")
    do_step(officer, "retest", {"area": "value", "lines_tested": "500", "discrepancies": "10",
                                "value_tested": "100000.00", "value_in_error": "800.00",
                                "revenue_loss": "40.00", "reason": "re-test of value lines"})
    do_step(officer, "conclude", {"reason": "re-test within tolerance"})
    site.shot(officer, "08-verification-concluded")
    assert "concluded effective" in officer.locator("h1 .badge").inner_text()
    officer.goto(f"/plans/{plan}")
    assert "closed effective" in officer.locator("h1 .badge").inner_text()

    auditor = log_in(chromium, site, "auditor")
    auditor.goto(f"/history/{number}?as_of=3")
    site.shot(auditor, "09-history-as-of-3")
    assert "surveyed" in auditor.locator("main").inner_text()
    auditor.goto(f"/history/{number}?diff=2..5")
    site.shot(auditor, "10-history-diff-2-5")
    compared = auditor.locator("main").inner_text()
    assert "state" in compared
    assert "testing" in compared
