"""/reports: the PDF reports in the caller's scope (what was issued, when, by whom, at which
log position, with its SHA-256), a download of the exact bytes archived, a form that issues
one and a form that checks a file against the ledger.

Everything goes through the same ReportService as the API's /api/reports and the CLI's
`compliance report` (interfaces.report_service): the same scope (a dossier only of cases
the caller sees, a plan only of its districts, the annual report only nationally), the
same archive, the same `report verify` verdict.

Rendering takes seconds. The form is sent with htmx and shows a progress indicator while
the request renders in a worker thread (the server goes on answering others); without
JavaScript it is an ordinary form. No job state is kept in the process: several server
workers share only the database, and the report, once issued, is in the archive."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from application.access import ForbiddenError, Principal, acting_as
from application.errors import NotFoundError
from application.reports.archive import IndexedReport
from application.reports.periods import parse_period, parse_year
from domain.errors import DomainError, InvalidValueError
from domain.values import parse_reason
from interfaces.http.params import Caller
from interfaces.http.problems import InvalidRequestError
from interfaces.http.reports import _service as report_service
from interfaces.report_service import ReportRequest
from interfaces.web.rendering import is_htmx, page
from interfaces.web.risk_pages import district_choices

KINDS = (("dossier", "Dossier of a case or an importer"),
         ("plan", "Trade Compliance and Enforcement Plan (a period)"),
         ("annual", "Annual report to the oversight body (a year)"))
FIELDS = ("kind", "subject", "period", "district", "year", "position", "reason")
ALIASES = {"case": "subject"}
"""The dossier builder names the number it was given `case`; the form calls it subject."""
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""The app's request limit: no report this ledger issues comes near it."""
NEEDED: dict[str, tuple[str, str, Callable[[str, date], object] | None]] = {
    "dossier": ("subject", "a case number (CA-2026-00042) or an importer number", None),
    "plan": ("period", "a quarter (2026-Q1) or a year (2026)", parse_period),
    "annual": ("year", "the year reported on, e.g. 2025", parse_year),
}
"""Each kind's own field, and the builders' own check of it (so every bad field is named
at once, before seconds of rendering)."""
FILE_NAME = re.compile(r"^([0-9a-f]{64})\.pdf$")


@dataclass
class IssueForm:
    """What the user typed (kept when refused) and the refusals by field."""

    kind: str = "dossier"
    subject: str = ""
    period: str = ""
    district: str = ""
    year: str = ""
    position: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str = ""

    @classmethod
    def sent(cls, form: FormMultiDict) -> IssueForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""
        return cls(kind=text("kind"), subject=text("subject"), period=text("period"),
                   district=text("district"), year=text("year"), position=text("position"),
                   reason=text("reason"))

    def refuse(self, name: str, reason: str) -> None:
        name = ALIASES.get(name, name)
        if name in FIELDS:
            self.errors.setdefault(name, reason)
        else:
            self.refusal = f"{name}: {reason}" if name else reason

    def request(self, national: bool, today: date) -> ReportRequest:
        """The report asked for; each missing field of the chosen kind named (a plan of
        a district user names one of its districts: only a national user issues the
        national plan)."""
        if self.kind not in NEEDED:
            self.refuse("kind", "choose dossier, plan or annual")
        else:
            name, hint, check = NEEDED[self.kind]
            value = getattr(self, name)
            if not value:
                self.refuse(name, f"required for this kind: {hint}")
            elif check is not None:
                try:
                    check(value, today)
                except InvalidValueError as bad:
                    self.refuse(name, bad.reason)
        if self.kind == "plan" and not national and not self.district:
            self.refuse("district", "choose one of your districts")
        if self.position and not self.position.isdigit():
            self.refuse("position", "a log position is a whole number (empty: now)")
        try:
            parse_reason(self.reason)
        except InvalidValueError as bad:
            self.refuse("reason", bad.reason)
        if self.kind == "dossier":
            return ReportRequest("dossier", subject=self.subject)
        if self.kind == "plan":
            return ReportRequest("plan", period=self.period, district=self.district or None)
        return ReportRequest("annual", year=self.year)


def _national(caller: Principal) -> bool:
    districts, importers = caller.list_scope()
    return districts is None and importers is None


def _listing(request: Request[Any, Any, Any], caller: Principal, kind: str | None,
             limit: int) -> list[IndexedReport]:
    with acting_as(caller):
        return report_service(request).listed(caller, kind=kind, limit=limit)


def _page(request: Request[Any, Any, Any], caller: Principal, form: IssueForm,
          kind: str | None = None, limit: int = 100, issued: str | None = None,
          status_code: int = 200) -> Template:
    if status_code >= 400 and is_htmx(request):
        status_code = 200  # htmx swaps only a success: the refusals are in the page
    chosen = kind if kind in {k for k, _ in KINDS} else None
    limit = max(1, min(limit, 1000))
    reports = _listing(request, caller, chosen, limit)
    national = _national(caller)
    return page(request, caller, "reports.html", status_code=status_code, reports=reports,
                kind=chosen, kinds=KINDS, limit=limit, form=form,
                issued=next((r for r in reports if r.sha256 == issued), None),
                may_issue=caller.may("issue_report"), national=national,
                issue_kinds=[k for k in KINDS if national or k[0] != "annual"],
                districts=district_choices(caller))


@get("/reports", sync_to_thread=True, include_in_schema=False)
def report_list(request: Request[Any, Any, Any], caller: Caller,
                kind: FromQuery[str | None] = None, limit: FromQuery[str | None] = None,
                issued: FromQuery[str | None] = None) -> Template:
    caller.require("read:reports")
    count = int(limit) if limit and limit.isdigit() else 100
    form = IssueForm(district="" if caller.districts is None
                     else min(caller.districts, default=""))
    return _page(request, caller, form, kind, count, issued)


def _issue(request: Request[Any, Any, Any], caller: Principal,
           sent: FormMultiDict) -> Response[Any]:
    form = IssueForm.sent(sent)
    service = report_service(request)
    wanted = form.request(_national(caller), service.app.clock().date())
    if not form.errors:
        try:
            issued, _ = service.issue(wanted, actor=caller.actor, reason=form.reason,
                                      caller=caller,
                                      position=int(form.position) if form.position else None)
        except InvalidRequestError as bad:
            for param in bad.params:
                form.refuse(param.name, param.reason)
        except InvalidValueError as bad:
            form.refuse(bad.field, bad.reason)
        except NotFoundError as missing:
            # Out of scope and missing are the same answer, as everywhere.
            form.refuse("subject", str(missing))
        except ForbiddenError as outside:
            form.refuse("district" if form.kind == "plan" else "", str(outside))
        except DomainError as refused:
            form.refusal = str(refused)
        else:
            target = f"/reports?issued={issued.report.sha256}"
            if is_htmx(request):
                response = _page(request, caller, IssueForm(district=form.district),
                                 issued=issued.report.sha256)
                response.headers["HX-Push-Url"] = target
                return response
            return Redirect(target, status_code=303)
    return _page(request, caller, form, status_code=422)


@post("/reports", include_in_schema=False, status_code=303)
async def report_issue(request: Request[Any, Any, Any], caller: Caller) -> Response[Any]:
    caller.require("issue_report")  # refused before the form is read
    sent = await request.form()
    return await anyio.to_thread.run_sync(partial(_issue, request, caller, sent))


@get("/reports/{file_name:str}", sync_to_thread=True, include_in_schema=False)
def report_download(request: Request[Any, Any, Any], caller: Caller,
                    file_name: FromPath[str]) -> Response[bytes]:
    """The exact bytes archived, as a download (never shown as a page of this site)."""
    caller.require("read:reports")
    found = FILE_NAME.fullmatch(file_name)
    if found is None:
        raise NotFoundError("report", file_name[:80])
    with acting_as(caller):
        report, content = report_service(request).get(found.group(1), caller)
    name = getattr(report, "file_name", None) or f"{found.group(1)}.pdf"
    return Response(content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff",
        "ETag": f'"{found.group(1)}"',
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store"})


def _verify(request: Request[Any, Any, Any], caller: Principal,
            upload: UploadFile | None) -> Template:
    error, verdict, name, size = "", None, "", 0
    if upload is None or not upload.filename:
        error = "choose the PDF file to check"
    else:
        name = upload.filename[:200]
        content = upload.file.read(MAX_UPLOAD_BYTES + 1)
        size = len(content)
        if not content:
            error = "the file is empty"
        elif size > MAX_UPLOAD_BYTES:
            error = "larger than any report this ledger issues"
        else:
            verdict = report_service(request).verify(content, caller)
    shown = None
    if verdict is not None and verdict.report is not None:
        entry = verdict.report
        shown = entry if caller.sees(entry.district, entry.importer_number) else None
    status = 422 if error and not is_htmx(request) else 200
    return page(request, caller, "report_verdict.html", status_code=status, error=error,
                verdict=verdict, report=shown, file_name=name, size=size)


@post("/reports/verify", include_in_schema=False, status_code=200)
async def report_verify(request: Request[Any, Any, Any], caller: Caller) -> Template:
    """Reads nothing but the file and records nothing: a check, answered in place."""
    caller.require("read:reports")
    sent = await request.form()
    value = sent.get("file")
    upload = value if isinstance(value, UploadFile) else None
    return await anyio.to_thread.run_sync(partial(_verify, request, caller, upload))


ROUTES = [report_list, report_issue, report_download, report_verify]
