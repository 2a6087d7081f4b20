"""/api/reports: a dossier issued over HTTP as the caller, listed and fetched within scope
(a case of another district, or another importer's dossier, is not found), the bytes
served exactly as archived, and a national plan refused to a district user."""

from __future__ import annotations

import hashlib

from tests.builders import walk_assessment
from tests.e2e.http.conftest import Api


def test_a_dossier_is_issued_listed_and_served_within_scope(api: Api) -> None:
    number = walk_assessment(api.ledger_loader(), api.importer11, "surveyed")
    auditor = api.as_user("auditor")
    issued = auditor.post("/api/reports", json={"kind": "dossier", "subject": number,
                                                "reason": "court request 2026/114"})
    assert issued.status_code == 201, issued.text
    report = issued.json()["report"]
    assert report["kind"] == "dossier"
    assert report["district"] == "11"
    assert issued.headers["location"] == f"/api/reports/{report['sha256']}"

    pdf = api.as_user("officer11").get(report["href"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == report["sha256"]
    assert pdf.content.startswith(b"%PDF-")

    again = auditor.post("/api/reports", json={"kind": "dossier", "subject": number,
                                               "reason": "the same, again"})
    assert again.status_code == 200
    assert again.json()["new"] is False

    assert api.as_user("officer12").get(report["href"]).status_code == 404
    assert api.as_user("rep12").get(report["href"]).status_code == 404
    assert api.as_user("rep11").get(report["href"]).status_code == 200
    assert [r["sha256"] for r in api.as_user("officer11").get("/api/reports").json()[
        "items"]] == [report["sha256"]]
    assert api.as_user("officer12").get("/api/reports").json()["items"] == []


def test_bad_requests_and_scope_are_refused_before_anything_is_issued(api: Api) -> None:
    officer = api.as_user("officer11")
    national = officer.post("/api/reports", json={"kind": "plan", "period": "2026-Q1",
                                                  "reason": "quarterly"})
    assert national.status_code == 403, national.text
    bad = officer.post("/api/reports", json={"kind": "plan", "period": "2026-Q5",
                                             "district": "11", "reason": "quarterly"})
    assert bad.status_code == 422, bad.text
    assert "period" in bad.text
    unknown = officer.post("/api/reports", json={"kind": "dossier", "subject": "CA-2026-99999",
                                                 "reason": "look"})
    assert unknown.status_code == 404
    rep = api.as_user("rep11").post("/api/reports", json={"kind": "annual", "year": "2025",
                                                          "reason": "curious"})
    assert rep.status_code == 403
    assert api.as_user("auditor").get("/api/reports").json()["items"] == []
    assert api.as_user("auditor").get("/api/reports/" + "0" * 64).status_code == 404
    assert api.as_user("auditor").get("/api/reports/not-a-hash").status_code in (404, 422)
