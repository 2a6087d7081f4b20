"""What people call an aggregate: its case number, importer number or import batch, read
from its own first events; when none is left, from the audit-log view. Used to name what
`verify` found, so that an auditor reads `CA-2026-00001 version 4`, not a UUID."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from infrastructure.hash_chain import split_signature

if TYPE_CHECKING:
    from infrastructure.verify import Finding


def name_subjects(recorder: ApplicationRecorder, findings: list[Finding]) -> None:
    """Replace aggregate ids by what people call them: the case number, the importer
    number, the batch's file; the id stays when nothing readable is left."""
    names: dict[str, str] = {}
    for finding in findings:
        if finding.aggregate_id is None:
            continue
        if finding.aggregate_id not in names:
            names[finding.aggregate_id] = describe_aggregate(recorder, finding.aggregate_id)
        finding.subject = names[finding.aggregate_id]


def describe_aggregate(recorder: ApplicationRecorder, oid: str) -> str:
    try:
        stored = recorder.select_events(UUID(oid), limit=3)
    except Exception:
        stored = []
    kind = "aggregate"
    if not stored:
        return _named_by_audit_log(recorder, oid)
    for event in stored:
        kind = event.topic.rsplit(":", 1)[-1].split(".", 1)[0]
        try:
            data: Any = msgspec.json.decode(split_signature(event.state)[0])
        except msgspec.DecodeError:
            continue
        label = _label(kind, data)
        if label:
            return label
    return f"{kind} {oid}"


def _named_by_audit_log(recorder: ApplicationRecorder, oid: str) -> str:
    """An aggregate with no events left is named by the audit-log view, if it knew it."""
    from infrastructure.sql_tables import SqlTables

    try:
        tables = SqlTables(recorder)
        rows = tables.rows(f"SELECT case_ref FROM {tables.name('al_cases')} "
                           "WHERE case_id = ?", (oid,))
    except Exception:
        rows = []
    if rows:
        return f"{rows[0][0]} (named by the audit-log view: no event of it is left)"
    return f"aggregate {oid} (no event of it is left)"


def _label(kind: str, data: Mapping[str, Any]) -> str | None:
    if isinstance(data.get("number"), str):
        return str(data["number"])
    if kind == "ImportBatch" and data.get("file_name"):
        return f"import batch {data['file_name']} ({data.get('kind')})"
    if isinstance(data.get("importer_number"), str):
        prefix = "case file of importer" if kind == "ImporterCaseFile" else "importer"
        return f"{prefix} {data['importer_number']}"
    if isinstance(data.get("username"), str):
        return f"user {data['username']}"
    if kind == "SealLog":
        return "seal log"
    return None
