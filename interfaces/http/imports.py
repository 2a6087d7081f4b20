"""/api/imports: loading a CSV file from the national systems (the importer register,
trade activity, compliance samples, declarations) and the batches loaded so far. What
`compliance import accounts|trade|samples|entries FILE` offers, as the caller.

The CSV is the raw request body (`Content-Type: text/csv`). It is streamed to a private
temporary file as it arrives, never held whole in memory, and refused with 413 once it
passes COMPLIANCE_MAX_UPLOAD_MB (before a byte is read when Content-Length says so). The
import itself (validate everything, then load all or nothing) runs in a worker thread, as
the caller, exactly as the CLI runs it.

The answer is the import report: 201 when the file was loaded, 200 for a dry run
(`status` validated, with every bad row it found: the check itself succeeded) or a file
loaded before (already_imported). A file with a bad row, of which nothing was loaded, is
refused: 422 problem details whose `errors` list every bad row's number (the header is
row 1), column and reason, as the CLI lists them.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, Operation, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.params import FromPath, QueryParameter

from application.access import Principal, acting_as
from application.ingest.ingestion import ImportReport, Ingestion
from application.ingest.schemas import SCHEMAS, IngestKind
from domain.errors import InvalidValueError
from domain.values import refuse_control_characters
from infrastructure.csv_files import read_csv_file
from interfaces.http.analysis_services import analysis, checked
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.problems import ImportRejectedError, RowError

PERMISSION = "import_file"
READ = "read:imports"
MIB = 1024 * 1024
MAX_ERRORS_SHOWN = 10_000
"""A file of a million bad rows answers with the first ten thousand (and the count)."""


class RowErrorOut(msgspec.Struct):
    row: int
    column: str
    reason: str


class Difference(msgspec.Struct):
    registered: str
    file: str


class AccountChangeOut(msgspec.Struct):
    """An importer the file describes otherwise than the register: reported, never
    overwritten."""

    row: int
    importer_number: str
    differences: dict[str, Difference]


class ImportResult(msgspec.Struct):
    kind: str
    file_name: str
    sha256: str
    batch_id: str
    status: str
    """loaded, rejected (nothing loaded), validated (dry run) or already_imported"""
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rows_unchanged: int
    errors: list[RowErrorOut]
    errors_total: int
    changes: list[AccountChangeOut]


class BatchOut(msgspec.Struct):
    batch_id: str
    kind: str
    file_name: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    actor: str
    loaded_at: str


class ImportBatches(msgspec.Struct):
    """Oldest first."""

    items: list[BatchOut]


@dataclass
class CsvUpload(Operation):
    """The upload's body in the OpenAPI schema: raw CSV (there is no Struct to name)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True, description="The CSV file, header first, UTF-8",
            content={"text/csv": OpenAPIMediaType(schema=Schema(
                type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))})


def _kind(value: str) -> IngestKind:
    try:
        return IngestKind(value.strip().lower())
    except ValueError:
        raise InvalidValueError("kind", value, "expected one of: " + ", ".join(
            kind.value for kind in IngestKind)) from None


def _file_name(value: str | None) -> str | None:
    """The name the batch records (the upload's own name, if given): a plain file name."""
    if value is None:
        return None
    refuse_control_characters("file_name", value)
    name = value.strip()
    if not name or len(name) > 200 or "/" in name or "\\" in name or name in (".", ".."):
        raise InvalidValueError("file_name", value, "expected a plain file name of at most "
                                "200 characters, e.g. trade-2026-01.csv")
    return name


def _result(report: ImportReport) -> ImportResult:
    return ImportResult(
        kind=report.kind, file_name=report.file_name, sha256=report.sha256,
        batch_id=report.batch_id, status=report.status, rows_read=report.rows_read,
        rows_loaded=report.rows_loaded, rows_rejected=report.rows_rejected,
        rows_unchanged=report.rows_unchanged,
        errors=[RowErrorOut(e.row, e.column, e.reason)
                for e in report.errors[:MAX_ERRORS_SHOWN]],
        errors_total=len(report.errors),
        changes=[AccountChangeOut(c.row, c.importer_number, {
            name: Difference(old, new) for name, (old, new) in c.differences.items()})
            for c in report.changes])


def _run_import(ingestion: Ingestion, caller: Principal, kind: IngestKind, path: Path,
                skip_invalid: bool, dry_run: bool) -> ImportReport:
    """In a worker thread, which does not inherit the request's context: act as the
    caller here."""
    with acting_as(caller):
        csv_file = read_csv_file(path, SCHEMAS[kind](date.min).columns)
        return ingestion.import_file(kind, csv_file, actor=caller.actor,
                                     skip_invalid=skip_invalid, dry_run=dry_run)


async def _receive(request: Request[Any, Any, Any], target: Path, limit: int) -> None:
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise RequestEntityTooLarge(detail=f"the file is larger than the "
                                           f"{limit // MIB} MiB an upload may be")
    received = 0
    async with await anyio.open_file(target, "wb") as sink:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise RequestEntityTooLarge(detail=f"the file is larger than the "
                                                   f"{limit // MIB} MiB an upload may be")
            await sink.write(chunk)


@post("/api/imports/{kind:str}", tags=["imports"], operation_id="imports-upload",
      request_max_body_size=None, operation_class=CsvUpload, status_code=200,
      responses={201: ResponseSpec(ImportResult, description="The file was loaded")},
      summary="Validate, then load, a CSV file as one batch (all or nothing)")
async def upload(
        request: Request[Any, Any, Any], caller: Caller, kind: FromPath[str],
        dry_run: Annotated[bool, QueryParameter(
            description="Only validate; load nothing")] = False,
        skip_invalid: Annotated[bool, QueryParameter(
            description="Load the good rows; report the bad ones")] = False,
        file_name: Annotated[str | None, QueryParameter(
            description="The file's name, recorded with the batch")] = None,
) -> Response[ImportResult]:
    caller.require(PERMISSION)  # refused before a byte of the body is read
    chosen, name = checked(lambda: _kind(kind), lambda: _file_name(file_name))
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media != "text/csv":
        raise HTTPException(status_code=415, detail="send the file as the body with "
                                                    "Content-Type: text/csv")
    services = services_of(request)
    ingestion = analysis(request).ingestion
    folder = Path(tempfile.mkdtemp(prefix="compliance-upload-"))
    try:
        target = folder / (name or f"{chosen.value}.csv")
        await _receive(request, target, services.settings.max_upload_mb * MIB)
        report = await anyio.to_thread.run_sync(_run_import, ingestion, caller, chosen,
                                                target, skip_invalid, dry_run)
    finally:
        await anyio.to_thread.run_sync(shutil.rmtree, folder, True)
    if report.status == "rejected" and not dry_run:
        raise ImportRejectedError([RowError(e.row, e.column, e.reason)
                                   for e in report.errors[:MAX_ERRORS_SHOWN]],
                                  len(report.errors))
    return Response(_result(report), status_code=201 if report.status == "loaded" else 200)


@get("/api/imports", sync_to_thread=True, tags=["imports"], operation_id="imports-list",
     summary="The batches loaded so far, each with its provenance")
def batches(request: Request[Any, Any, Any], caller: Caller,
            kind: Annotated[str | None, QueryParameter(
                description="accounts, trade, samples or entries")] = None) -> ImportBatches:
    caller.require(READ)
    chosen = checked(lambda: _kind(kind))[0].value if kind is not None else None
    found = analysis(request).ingest_tables.batches(chosen)
    return ImportBatches([BatchOut(str(b.batch_id), b.kind, b.file_name, b.sha256,
                                   b.rows_read, b.rows_loaded, b.rows_rejected, b.actor,
                                   b.loaded_at.isoformat()) for b in found])


ROUTES: list[Any] = [upload, batches]
