"""/api/reports: the PDF reports, as `compliance report` issues and lists them.

`POST /api/reports` issues one (a dossier of a case or an importer, the plan for a period
and district, the annual report for a year) as the caller, within the caller's scope; the
answer names the report and where to fetch it. `GET /api/reports` lists what the caller
may see; `GET /api/reports/{sha256}` serves the exact bytes that were issued
(`application/pdf`, with the SHA-256 as its ETag). A report outside the caller's scope is
"not found", as a case is."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Response, get, post
from litestar.params import Body, FromPath, QueryParameter

from application.reports.archive import IndexedReport
from domain.values import parse_reason
from interfaces.http.auth import services_of
from interfaces.http.commands import parse_fields
from interfaces.http.params import AnyRequest, Caller
from interfaces.report_service import ReportRequest, ReportService

ReportId = FromPath[str]


class ReportView(msgspec.Struct):
    sha256: str
    kind: str
    title: str
    parameters: dict[str, str]
    position: int
    district: str
    importer_number: str | None
    issued_at: str
    issued_by: str
    bytes: int
    generator: str
    href: str


def report_view(entry: IndexedReport) -> ReportView:
    return ReportView(entry.sha256, entry.kind, entry.title, entry.parameters,
                      entry.position, entry.district, entry.importer_number,
                      entry.issued_at.isoformat(), entry.issued_by, entry.size,
                      entry.generator, f"/api/reports/{entry.sha256}")


class ReportList(msgspec.Struct):
    items: list[ReportView]


class IssueReport(msgspec.Struct, forbid_unknown_fields=True):
    """`kind` dossier needs `subject` (a case or importer number); plan needs `period`
    (2026-Q1 or 2026) and optionally `district`; annual needs `year`."""

    kind: Literal["dossier", "plan", "annual"]
    reason: str
    subject: str | None = None
    period: str | None = None
    district: str | None = None
    year: str | None = None
    position: int | None = None


class IssuedView(msgspec.Struct):
    report: ReportView
    new: bool
    """False: these exact bytes had been issued before; the first record stands."""


def _service(request: AnyRequest) -> ReportService:
    services = services_of(request)
    found = getattr(services, "reports", None)
    if not isinstance(found, ReportService):
        found = ReportService(services.app, services.settings)
        services.reports = found
    return found


@get("/api/reports", sync_to_thread=True, tags=["reports"],
     summary="The reports issued, newest first, as the caller may see them")
def list_reports(request: AnyRequest, caller: Caller,
                 kind: Annotated[Literal["dossier", "plan", "annual"] | None, QueryParameter(
                     description="Only this kind")] = None,
                 limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100) -> ReportList:
    caller.require("read:reports")
    service = _service(request)
    entries = service.listed(caller, kind=kind, limit=limit)
    return ReportList([report_view(e) for e in entries])


@get("/api/reports/{sha256:str}", sync_to_thread=True, tags=["reports"],
     summary="An issued report's bytes, exactly as issued", media_type="application/pdf",
     responses={})
def get_report(request: AnyRequest, caller: Caller, sha256: ReportId) -> Response[bytes]:
    caller.require("read:reports")
    report, content = _service(request).get(sha256, caller)
    return Response(content, media_type="application/pdf",
                    headers={"ETag": f'"{report.sha256}"',
                             "Content-Disposition": f'attachment; filename="{report.file_name}"',
                             "Cache-Control": "private, max-age=31536000, immutable"})


@post("/api/reports", sync_to_thread=True, tags=["reports"], status_code=201,
      summary="Issue a report (PDF/A-3b) as the caller, within the caller's scope")
def issue_report(request: AnyRequest, caller: Caller,
                 data: Annotated[IssueReport, Body(media_type="application/json")],
                 ) -> Response[IssuedView]:
    caller.require("issue_report")
    parsed = parse_fields(reason=lambda: parse_reason(data.reason))
    service = _service(request)
    issued, _ = service.issue(
        ReportRequest(data.kind, subject=data.subject, period=data.period,
                      district=data.district, year=data.year),
        actor=caller.actor, reason=parsed["reason"], caller=caller, position=data.position)
    entry = service.store.find(issued.report.sha256)
    assert entry is not None  # written with the event
    return Response(IssuedView(report_view(entry), issued.new),
                    status_code=201 if issued.new else 200,
                    headers={"Location": f"/api/reports/{entry.sha256}"})


ROUTES = [list_reports, get_report, issue_report]
