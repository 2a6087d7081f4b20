"""Tamper evidence over HTTP: the full verification (`POST /api/verify`, as `compliance
verify`: chains, commit signatures, seals against the witness, sealed heads, snapshots and
ingest digests) and a seal (`POST /api/seal`, as `compliance seal`: verify everything, then
sign a checkpoint of every chain head). Both read the whole log, so they take as long as
the CLI's (minutes on a national ledger): a client waits for the answer.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from eventsourcing.persistence import IntegrityError, RecordConflictError
from litestar import Request, post
from litestar.params import JSONBody

from application.access import acting_as
from application.errors import ConcurrencyConflictError
from domain.errors import RuleViolationError
from domain.values import parse_reason
from infrastructure.case_names import name_subjects
from infrastructure.seal import (
    SealKeyError,
    SealRefusedError,
    full_verify,
    load_private_key,
    load_public_key,
    seal_ledger,
)
from infrastructure.seal_records import WitnessError
from infrastructure.snapshot_check import verify_snapshots
from infrastructure.stores import DatabaseUnavailableError
from interfaces.http.auth import services_of
from interfaces.http.params import Caller
from interfaces.http.services import HttpServices

log = logging.getLogger("compliance.http")
AnyRequest = Request[Any, Any, Any]


class VerificationFinding(msgspec.Struct):
    subject: str
    version: int | None
    problem: str


class LatestSeal(msgspec.Struct):
    number: int
    sealed_at: str
    checkpoint: int
    events: int
    aggregates: int
    key_id: str


class Verification(msgspec.Struct):
    """`verdict` is OK when nothing was found altered, TAMPERED otherwise (each problem
    names the case and version)."""

    verdict: str
    ok: bool
    events: int
    aggregates: int
    commits: int
    snapshots: int
    import_batches: int
    key_id: str
    seals: int
    witness_seals: int | None
    latest_seal: LatestSeal | None
    notes: list[str]
    problems: list[VerificationFinding]


def run_verification(services: HttpServices) -> Verification:
    """What `compliance verify` checks: chains, commit signatures, seals against the
    witness, sealed heads, snapshots and ingest digests. A public key that cannot be read
    means nothing can be proven: TAMPERED, as the CLI says."""
    settings, app = services.settings, services.app
    try:
        public_key = load_public_key(settings.seal_public_key_path)
    except SealKeyError as error:
        return Verification("TAMPERED", False, 0, 0, 0, 0, 0, "", 0, None, None, [], [
            VerificationFinding("seal key", None, f"cannot verify: {error}")])
    report = full_verify(app.recorder, public_key, settings.seal_witness_path)
    if app.snapshots is not None:
        report.snapshots, found = verify_snapshots(app.events, app.snapshots, report.heads,
                                                   settings.snapshot_interval)
        name_subjects(app.recorder, found)
        report.findings.extend(found)
    if not report.seals:
        report.notes.append("no seal yet: the newest events are protected by their commit "
                            "signatures only (POST /api/seal)")
    latest = report.latest_seal
    return Verification(
        "OK" if report.ok else "TAMPERED", report.ok, report.events, report.aggregates,
        report.commits, report.snapshots, report.batches, report.key_id, len(report.seals),
        report.witness_seals, None if latest is None else LatestSeal(
            latest.number, latest.sealed_at, latest.checkpoint, latest.events,
            latest.aggregates, latest.key_id),
        list(report.notes), [VerificationFinding(f.subject, f.version, f.problem)
                             for f in report.findings])


@post("/api/verify", sync_to_thread=True, tags=["audit"], status_code=200,
      summary="Prove nothing was altered (reads the whole log: may take minutes)")
def verify(request: AnyRequest, caller: Caller) -> Verification:
    caller.require("verify")
    result = run_verification(services_of(request))
    if not result.ok:
        log.warning("verify by %s: TAMPERED: %s", caller.actor,
                    "; ".join(f"{p.subject}: {p.problem}" for p in result.problems[:5]))
    return result


class SealRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class SealMade(msgspec.Struct):
    number: int
    checkpoint: int
    events: int
    aggregates: int
    merkle_root: str
    key_id: str
    sealed_at: str
    sealed_by: str


@post("/api/seal", sync_to_thread=True, tags=["audit"], status_code=201,
      summary="Verify everything, then sign a checkpoint of every chain head")
def seal(request: AnyRequest, caller: Caller, data: JSONBody[SealRequest]) -> SealMade:
    """Refused (422, rule LedgerVerifies) when the ledger does not verify: a seal over
    altered history would vouch for it. The seal log records who sealed; the reason goes
    to the server log, as seals carry none."""
    caller.require("seal")
    reason = parse_reason(data.reason)
    services = services_of(request)
    settings = services.settings
    key = load_private_key(settings.seal_key_path)
    try:
        with acting_as(caller):
            record = seal_ledger(services.app, key, settings.seal_witness_path, caller.actor)
    except SealRefusedError as error:
        raise RuleViolationError("LedgerVerifies", str(error)) from None
    except WitnessError as error:
        raise DatabaseUnavailableError(str(error)) from None
    except (RecordConflictError, IntegrityError):
        raise ConcurrencyConflictError("the seal log", None, None, message=(
            "another seal was recorded while this one was made; nothing was sealed by "
            "this request")) from None
    log.info("seal %s by %s: %s", record.number, caller.actor, " ".join(reason.split()))
    return SealMade(record.number, record.checkpoint, record.events, record.aggregates,
                record.merkle_root, record.key_id, record.sealed_at, caller.actor)


ROUTES = [verify, seal]
