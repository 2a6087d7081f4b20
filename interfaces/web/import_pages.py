"""/imports: upload a CSV file from the national systems (the importer register, trade,
samples, declarations), see every bad row and column of a dry run before anything is
loaded, then load it; the batches loaded so far below.

The same ingest as POST /api/imports/{kind} (application.ingest, all or nothing), run as
a background job (interfaces.web.import_jobs) whose page polls with htmx and shows a
progress bar. The upload is refused past COMPLIANCE_MAX_UPLOAD_MB before it is read
(Content-Length), and litestar spools it to disk as it arrives, never whole in memory."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from application.access import Principal
from application.ingest.schemas import IngestKind
from domain.errors import InvalidValueError
from domain.values import parse_reason, refuse_control_characters
from interfaces.http.analysis_services import analysis
from interfaces.http.auth import services_of
from interfaces.http.imports import MIB, PERMISSION, READ
from interfaces.http.params import Caller
from interfaces.http.reads import csv_response
from interfaces.web.import_jobs import JOBS, ImportJob
from interfaces.web.rendering import page
from interfaces.web.routes import require_csrf

ERRORS_SHOWN = 500
"""Bad rows listed on the page; every one is in the CSV download."""
BATCHES_SHOWN = 200
MULTIPART_SLACK = 64 * 1024
"""The form's other fields and boundaries around the file."""
KINDS = [("accounts", "Importer register (accounts)"), ("trade", "Trade activity"),
         ("samples", "Compliance samples (examined lines)"), ("entries", "Declarations (entries)")]


@dataclass
class UploadForm:
    kind: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _imports_page(request: Request[Any, Any, Any], caller: Principal, form: UploadForm,
                  status_code: int = 200) -> Template:
    caller.require(READ)
    found = list(reversed(analysis(request).ingest_tables.batches()))
    return page(request, caller, "imports.html", status_code=status_code, form=form,
                kinds=KINDS, may_import=caller.may(PERMISSION), batches=found[:BATCHES_SHOWN],
                batches_total=len(found),
                limit_mb=services_of(request).settings.max_upload_mb)


@get("/imports", sync_to_thread=True, include_in_schema=False)
def imports_page(request: Request[Any, Any, Any], caller: Caller) -> Template:
    return _imports_page(request, caller, UploadForm())


async def _guard_upload(request: Request[Any, Any, Any]) -> None:
    """Before the body is read: the size it announces (a browser always sends one), then
    the CSRF token, as for every other form."""
    limit = services_of(request).settings.max_upload_mb * MIB
    announced = request.headers.get("content-length", "")
    if not announced.isdigit():
        raise HTTPException(status_code=411, detail="send the file from the upload form")
    if int(announced) > limit + MULTIPART_SLACK:
        raise RequestEntityTooLarge(detail=f"the file is larger than the {limit // MIB} MiB "
                                           "an upload may be")
    await require_csrf(request)


def _file_name(upload: UploadFile, kind: str) -> str:
    """A plain file name for the batch record (the browser's, without any folder)."""
    name = Path((upload.filename or "").replace("\\", "/")).name.strip()
    refuse_control_characters("file", name)
    if not name or len(name) > 200 or name in (".", ".."):
        return f"{kind}.csv"
    return name


def _start(request: Request[Any, Any, Any], caller: Principal,
           sent: FormMultiDict) -> Response[Any]:
    kind_text, reason = sent.get("kind"), sent.get("reason")
    form = UploadForm(kind_text if isinstance(kind_text, str) else "",
                      reason if isinstance(reason, str) else "")
    upload = sent.get("file")
    kind: IngestKind | None = None
    try:
        kind = IngestKind(form.kind)
    except ValueError:
        form.errors["kind"] = "choose what the file holds"
    try:
        parse_reason(form.reason)
    except InvalidValueError as bad:
        form.errors["reason"] = bad.reason
    name = ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        form.errors["file"] = "choose the CSV file"
    else:
        try:
            name = _file_name(upload, form.kind or "upload")
        except InvalidValueError as bad:
            form.errors["file"] = f"the file's name: {bad.reason}"
    if form.errors or kind is None or not isinstance(upload, UploadFile):
        return _imports_page(request, caller, form, 422)
    folder = Path(tempfile.mkdtemp(prefix="compliance-web-upload-"))
    try:
        with (folder / name).open("wb") as sink:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, sink, 1024 * 1024)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job = JOBS.start(analysis(request).ingestion, caller, kind, folder, name, form.reason)
    return Redirect(f"/imports/jobs/{job.job_id}", status_code=303)


@post("/imports", include_in_schema=False, status_code=303, request_max_body_size=None,
      before_request=_guard_upload)
async def import_upload(request: Request[Any, Any, Any], caller: Caller) -> Response[Any]:
    caller.require(PERMISSION)
    sent = await request.form()
    try:
        return await anyio.to_thread.run_sync(partial(_start, request, caller, sent))
    finally:
        for value in sent.values():
            if isinstance(value, UploadFile):
                await value.close()


def _job_page(request: Request[Any, Any, Any], caller: Principal, job: ImportJob,
              errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    """The job as it stands now: read here, in this order (a job sets `finished` last),
    because the template is rendered after the handler returns, while the job runs on."""
    finished = job.finished
    snapshot = {"finished": finished, "failure": job.failure, "report": job.dry_run,
                "loaded": job.loaded, "stage": job.stage, "done": job.done,
                "total": job.total, "elapsed": job.elapsed, "phase": job.phase}
    return page(request, caller, "import_job.html", status_code=status_code, job=job,
                shown=ERRORS_SHOWN, errors=errors or {}, kinds=dict(KINDS), **snapshot)


@get("/imports/jobs/{job_id:str}", sync_to_thread=True, include_in_schema=False)
def import_job(request: Request[Any, Any, Any], caller: Caller,
               job_id: FromPath[str]) -> Template:
    caller.require(PERMISSION)
    return _job_page(request, caller, JOBS.get(caller, job_id))


@post("/imports/jobs/{job_id:str}/load", sync_to_thread=True, include_in_schema=False,
      status_code=303)
def import_load(request: Request[Any, Any, Any], caller: Caller, job_id: FromPath[str],
                data: Annotated[dict[str, str], Body(
                    media_type=RequestEncodingType.URL_ENCODED)]) -> Response[Any]:
    caller.require(PERMISSION)
    job = JOBS.get(caller, job_id)
    reason = str(data.get("reason", ""))
    try:
        parse_reason(reason)
    except InvalidValueError as bad:
        return _job_page(request, caller, job, {"reason": bad.reason}, 422)
    JOBS.load(analysis(request).ingestion, job, data.get("skip_invalid") == "on", reason)
    return Redirect(f"/imports/jobs/{job.job_id}", status_code=303)


@get("/imports/jobs/{job_id:str}/errors.csv", sync_to_thread=True, include_in_schema=False)
def import_errors(caller: Caller, job_id: FromPath[str]) -> Response[str]:
    """Every bad row of the dry run: row, column, the value in the file, the problem."""
    caller.require(PERMISSION)
    job = JOBS.get(caller, job_id)
    errors = job.dry_run.errors if job.dry_run is not None else []
    return csv_response(({"row": e.row, "column": e.column, "value": job.value(e),
                          "problem": e.reason} for e in errors),
                        "import-errors-" + re.sub(r"[^A-Za-z0-9._-]", "_",
                                                  job.file_name.rsplit(".", 1)[0])[:80],
                        columns=("row", "column", "value", "problem"))


ROUTES = [imports_page, import_upload, import_job, import_load, import_errors]
