"""/imports: an uploaded CSV is first a dry run that lists every bad row and column with
the value found there and loads nothing; confirming loads it as the caller and records
the batch, listed below the form; a file over the size limit is refused before it is
read; the upload needs the session's token and the permission; a job is its starter's."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from application.ingest.schemas import IngestKind
from interfaces.http.analysis_services import analysis_of
from tests.e2e.http.analysis_data import csv_bytes, notifications
from tests.e2e.http.conftest import FAST_ARGON2, Api
from tests.web.conftest import csrf, post_form

XSS = "<script>alert(1)</script>"


@pytest.fixture
def api_environ(store_environ: Mapping[str, str]) -> dict[str, str]:
    """As the shared fixture, with a 1 MiB upload limit to refuse a larger file."""
    return {**store_environ, **FAST_ARGON2, "COMPLIANCE_MAX_UPLOAD_MB": "1"}


def _upload(client: TestClient[Litestar], body: bytes, kind: str = "trade",
            name: str = "trade-2026.csv", reason: str = "monthly trade") -> str:
    response = client.post("/imports", data={"csrf_token": csrf(client), "kind": kind,
                                             "reason": reason},
                           files={"file": (name, body, "text/csv")}, follow_redirects=False)
    assert response.status_code == 303, response.text[-800:]
    return str(response.headers["location"])


def _finished(client: TestClient[Litestar], job: str) -> str:
    """The job's page once the job is done (the page polls while it runs)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = client.get(job, headers={"HX-Request": "true"})
        assert page.status_code == 200
        if 'hx-trigger="every 1s"' not in page.text:
            return page.text
        assert "<progress" in page.text
        time.sleep(0.05)
    raise AssertionError("the import job did not finish")


def _batches(web: Api) -> list[str]:
    return [b.file_name for b in analysis_of(web.app.state.services).ingest_tables.batches()]


def _trade_rows(web: Api) -> list[list[object]]:
    month = datetime.now(UTC).strftime("%Y-%m")
    return [[web.importer11, month, 3, 5, "1000.00", "50.00", "64", "VN"],
            [web.importer11, month, 3, 5, "1000.00", "50.00", "65", "VN"]]


def test_a_dry_run_names_every_bad_row_and_column_and_loads_nothing(web: Api) -> None:
    analyst = web.as_user("analyst11")
    before = notifications(web.ledger)
    good = _trade_rows(web)
    body = csv_bytes(IngestKind.TRADE, [good[0], ["12-34", *good[1][1:]],
                                        [*good[1][:4], XSS, "50.00", "65", "ZZ"]])
    page = _finished(analyst, _upload(analyst, body))
    assert "Dry run: nothing loaded." in page
    rows = re.findall(r'<tr><td class="num">(\d+)</td><th scope="row">([a-z_]+)</th>'
                      r"<td><code>([^<]*)</code></td><td>([^<]*)</td></tr>", page)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("3", "importer_number", "12-34"),
        ("4", "entered_value", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("4", "origin_country", "ZZ")]
    assert all(problem for *_, problem in rows)
    assert XSS not in page
    job = re.search(r'action="(/imports/jobs/[0-9a-f]+)/load"', page)
    assert job is not None
    listed = analyst.get(job.group(1) + "/errors.csv")
    assert listed.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(listed.text)))
    assert [(r["row"], r["column"], r["value"]) for r in table] == [
        ("3", "importer_number", "12-34"), ("4", "entered_value", XSS),
        ("4", "origin_country", "ZZ")]
    assert _batches(web) == []
    assert notifications(web.ledger) == before
    refused = post_form(analyst, job.group(1) + "/load", {"reason": "all of it"})
    assert refused.status_code == 303  # without "leave out the bad rows": refused whole
    assert "Not loaded (rejected)" in _finished(analyst, job.group(1))
    assert _batches(web) == []
    assert web.as_user("analyst.national").get(job.group(1)).status_code == 404


def test_a_confirmed_load_records_the_batch_as_the_caller(web: Api) -> None:
    analyst = web.as_user("analyst11")
    body = csv_bytes(IngestKind.TRADE, _trade_rows(web))
    job = _upload(analyst, body, name="trade <b>2026.csv")
    page = _finished(analyst, job)
    assert "every row is good" in page
    assert _batches(web) == []
    no_reason = post_form(analyst, job + "/load", {"reason": ""})
    assert no_reason.status_code == 422
    assert 'id="load-reason-error"' in no_reason.text
    assert post_form(analyst, job + "/load", {"reason": "checked"}).status_code == 303
    assert "Loaded: 2 rows as batch" in _finished(analyst, job)
    batches = analysis_of(web.app.state.services).ingest_tables.batches()
    assert [(b.file_name, b.kind, b.rows_loaded, b.actor) for b in batches] == [
        ("trade <b>2026.csv", "trade", 2, "user:analyst11")]
    listed = web.as_user("officer11").get("/imports").text
    assert "trade &lt;b&gt;2026.csv" in listed
    assert 'enctype="multipart/form-data"' not in listed  # an officer may not import
    again = _finished(analyst, _upload(analyst, body, name="again.csv"))
    assert "was loaded before" in again


def test_uploads_over_the_limit_without_the_token_or_the_permission_are_refused(
        web: Api) -> None:
    analyst, officer = web.as_user("analyst11"), web.as_user("officer11")
    before = notifications(web.ledger)
    big = csv_bytes(IngestKind.TRADE, _trade_rows(web)) + b"x" * (1024 * 1024 + 100_000)
    too_big = analyst.post("/imports", data={"csrf_token": csrf(analyst), "kind": "trade",
                                             "reason": "big"},
                           files={"file": ("big.csv", big, "text/csv")})
    assert too_big.status_code == 413
    no_token = analyst.post("/imports", data={"kind": "trade", "reason": "x"},
                            files={"file": ("a.csv", b"a\n", "text/csv")})
    assert no_token.status_code == 403
    assert "Form expired" in no_token.text
    forbidden = officer.post("/imports", data={"csrf_token": csrf(officer), "kind": "trade",
                                               "reason": "x"},
                             files={"file": ("a.csv", b"a\n", "text/csv")})
    assert forbidden.status_code == 403
    missing = analyst.post("/imports", data={"csrf_token": csrf(analyst), "kind": "colour",
                                             "reason": ""},
                           files={"file": ("", b"", "text/csv")})
    assert missing.status_code == 422
    for control in ("imp-kind", "imp-reason", "imp-file"):
        assert f'id="{control}-error"' in missing.text, control
    assert _batches(web) == []
    assert notifications(web.ledger) == before
