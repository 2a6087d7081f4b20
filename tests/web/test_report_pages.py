"""/reports in a browser's way: a dossier issued through the form (as the API issues it,
archived with its event), listed and downloaded within scope only (a district-12
supervisor neither sees nor fetches a district-11 dossier), the download the archive's
exact bytes as an attachment, a file checked against the ledger (an edited byte caught),
and a refused form answered beside its fields with what was typed shown as text.

Rendering a report takes seconds: one store per module and backend, one dossier issued
(and once more through htmx, which finds the same bytes), shared by every test."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from domain.report import report_id
from interfaces.report_service import ReportService
from tests.builders import walk_assessment
from tests.e2e.http.conftest import Api, module_api, module_api_environ  # noqa: F401
from tests.web.conftest import csrf, post_form

XSS = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Issued:
    api: Api
    case: str
    sha256: str


def _archive(api: Api) -> ReportService:
    """The archive as the CLI reads it (the operator's view: everything)."""
    return ReportService(api.ledger, api.settings)


def _reports(api: Api) -> list[str]:
    return [r.sha256 for r in _archive(api).listed(None, limit=1000)]


@pytest.fixture(scope="module")
def issued(module_api: Api) -> Issued:  # noqa: F811 - the shared fixture
    case = walk_assessment(module_api.ledger_loader(), module_api.importer11, "surveyed")
    client = module_api.as_user("supervisor11")
    response = post_form(client, "/reports", {
        "kind": "dossier", "subject": case, "reason": "court request 2026/114", "period": "",
        "district": "11", "year": "", "position": ""})
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/reports\?issued=([0-9a-f]{64})", response.headers["location"])
    assert found is not None, response.headers["location"]
    return Issued(module_api, case, found.group(1))


def test_the_issued_dossier_is_listed_with_who_when_and_where(issued: Issued) -> None:
    page = issued.api.as_user("supervisor11").get(f"/reports?issued={issued.sha256}")
    assert page.status_code == 200
    assert 'id="issued-notice"' in page.text
    assert issued.sha256 in page.text
    assert "user:supervisor11" in page.text
    assert f"Case dossier {issued.case}" in page.text
    assert f'href="/reports/{issued.sha256}.pdf"' in page.text
    recorded = issued.api.ledger.find_aggregate(report_id(issued.sha256))
    assert recorded is not None
    assert recorded.version == 1


def test_the_download_is_the_archived_bytes_as_an_attachment(issued: Issued) -> None:
    response = issued.api.as_user("officer11").get(f"/reports/{issued.sha256}.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert hashlib.sha256(response.content).hexdigest() == issued.sha256
    _, archived = _archive(issued.api).get(issued.sha256, None)
    assert response.content == archived


def test_a_supervisor_of_another_district_neither_sees_nor_fetches_it(issued: Issued) -> None:
    other = issued.api.as_user("supervisor12")
    listing = other.get("/reports")
    assert listing.status_code == 200
    assert issued.sha256 not in listing.text
    download = other.get(f"/reports/{issued.sha256}.pdf")
    assert download.status_code == 404
    assert download.headers["content-type"].startswith("text/html")
    missing = other.get(f"/reports/{'0' * 64}.pdf")
    assert missing.status_code == 404
    assert download.text.replace(issued.sha256, "X") == missing.text.replace("0" * 64, "X")
    before = _reports(issued.api)
    refused = post_form(other, "/reports", {"kind": "dossier", "subject": issued.case,
                                            "district": "12", "reason": "curious"})
    assert refused.status_code == 422
    assert 'id="report-subject-error"' in refused.text
    assert _reports(issued.api) == before
    assert issued.api.as_user("rep12").get(f"/reports/{issued.sha256}.pdf").status_code == 404
    assert issued.api.as_user("rep11").get(f"/reports/{issued.sha256}.pdf").status_code == 200


def test_the_verify_form_confirms_the_file_and_catches_an_edited_byte(issued: Issued) -> None:
    client = issued.api.as_user("auditor")
    original = client.get(f"/reports/{issued.sha256}.pdf").content
    ok = client.post("/reports/verify", data={"csrf_token": csrf(client)},
                     files={"file": ("dossier.pdf", original, "application/pdf")})
    assert ok.status_code == 200, ok.text
    assert "Verified" in ok.text
    assert "attached events equal the events the ledger holds" in ok.text
    edited = bytearray(original)
    at = original.index(b"\n%") + 2  # the binary-marker comment of line 2: one byte
    edited[at] ^= 0x01                # changed, the PDF (and the claim in it) still readable
    bad = client.post("/reports/verify", data={"csrf_token": csrf(client)},
                      files={"file": ("dossier.pdf", bytes(edited), "application/pdf")},
                      headers={"HX-Request": "true"})
    assert bad.status_code == 200
    assert "Not verified" in bad.text
    assert "altered" in bad.text
    assert "<html" not in bad.text  # the fragment htmx swaps in
    empty = client.post("/reports/verify", data={"csrf_token": csrf(client)},
                        files={"file": ("x.pdf", b"", "application/pdf")})
    assert empty.status_code == 422
    assert "the file is empty" in empty.text


def test_a_file_of_another_districts_report_is_confirmed_without_naming_its_details(
        issued: Issued) -> None:
    """A district-12 supervisor holding a district-11 dossier learns that the file is
    genuine, not who issued it, when, nor how the case's stored events compare; an
    altered copy is refused without naming the report it claims to be."""
    original = issued.api.as_user("auditor").get(f"/reports/{issued.sha256}.pdf").content
    other = issued.api.as_user("supervisor12")
    ok = other.post("/reports/verify", data={"csrf_token": csrf(other)},
                    files={"file": ("dossier.pdf", original, "application/pdf")})
    assert ok.status_code == 200, ok.text
    assert "Verified" in ok.text
    assert "Not verified" not in ok.text
    assert "outside your scope" in ok.text
    assert "supervisor11" not in ok.text
    assert "court request" not in ok.text
    assert "attached events equal" not in ok.text
    edited = bytearray(original)
    at = original.index(b"\n%") + 2
    edited[at] ^= 0x01
    bad = other.post("/reports/verify", data={"csrf_token": csrf(other)},
                     files={"file": ("dossier.pdf", bytes(edited), "application/pdf")})
    assert "Not verified" in bad.text
    assert "altered" in bad.text
    assert issued.sha256 not in bad.text
    assert issued.case not in bad.text


def test_issuing_through_htmx_answers_in_place_and_finds_the_same_bytes(
        issued: Issued) -> None:
    client = issued.api.as_user("supervisor11")
    before = _reports(issued.api)
    response = client.post("/reports", data={
        "kind": "dossier", "subject": issued.case, "district": "11",
        "reason": "the same, again", "csrf_token": csrf(client)},
        headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["hx-push-url"] == f"/reports?issued={issued.sha256}"
    assert 'id="reports-main"' in response.text
    assert "<html" not in response.text
    assert _reports(issued.api) == before  # the same document: the first record stands


def test_a_refused_form_names_each_field_and_shows_what_was_typed_as_text(
        issued: Issued) -> None:
    client: TestClient[Litestar] = issued.api.as_user("officer11")
    before = _reports(issued.api)
    response = post_form(client, "/reports", {"kind": "plan", "period": XSS, "district": "11",
                                              "reason": ""})
    assert response.status_code == 422
    assert 'id="report-reason" name="reason" rows="3" required aria-describedby=' in \
        response.text
    assert 'id="report-reason-error"' in response.text
    assert 'id="report-period-error"' in response.text
    assert XSS not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    national = post_form(client, "/reports", {"kind": "plan", "period": "2026-Q1",
                                              "district": "", "reason": "quarterly"})
    assert national.status_code == 422
    assert 'id="report-district-error"' in national.text
    annual = post_form(client, "/reports", {"kind": "annual", "year": "2025",
                                            "reason": "yearly"})
    assert annual.status_code == 422
    assert "outside their districts" in annual.text
    assert _reports(issued.api) == before
    representative = post_form(issued.api.as_user("rep11"), "/reports",
                               {"kind": "dossier", "subject": issued.case, "reason": "x"})
    assert representative.status_code == 403
    assert "Issue a report" not in issued.api.as_user("rep11").get("/reports").text
