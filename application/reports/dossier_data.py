"""Gathering a dossier: which aggregates it covers, each as it stood at the stated log
position, with its history up to there, its chain head and whether the latest seal covers
it. Everything is read as of `position` (a notification id), never "now": the same case
at the same position always gives the same dossier, however much the ledger grew since.

A dossier covers one case (CA-, IP-, EA-, FV-) or an importer: its account and every case
its case file lists at that position. The caller's scope applies as on every load: a case
outside it is "not found", as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from application.access import current_caller, scope_of
from application.compliance_cases import CASE_TYPES, ComplianceCases
from application.errors import NotFoundError
from application.history import HistoryEntry
from application.reports.ledger_evidence import LedgerEvidence, stored_events
from application.reports.timeline import history_until
from domain.assessment import Assessment
from domain.case_file import ImporterCaseFile, case_file_id
from domain.case_numbers import case_id, is_case_number, parse_case_number
from domain.enforcement_action import EnforcementAction
from domain.errors import InvalidValueError
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount, importer_account_id
from domain.improvement_plan import ImprovementPlan
from domain.seal_log import SEAL_LOG_ID, SealLog
from domain.values import parse_importer_number

KINDS: dict[type[Aggregate], str] = {
    ImporterAccount: "importer account", Assessment: "compliance assessment",
    ImprovementPlan: "improvement plan", EnforcementAction: "enforcement action",
    FollowUpVerification: "follow-up verification"}


@dataclass(frozen=True)
class Subject:
    """One aggregate the dossier covers, as of the dossier's position."""

    aggregate_id: UUID
    number: str
    """Its case number, or the importer number for an importer account."""
    kind: str
    aggregate: Any
    version: int
    positions: tuple[int, ...]
    """The notification id of each of its events, version 1 first."""
    entries: tuple[HistoryEntry, ...]
    head_hash: str


@dataclass(frozen=True)
class SealSeen:
    """The latest seal recorded at or before the dossier's position."""

    number: int
    checkpoint: int
    seal_hash: str
    key_id: str
    sealed_at: datetime


@dataclass(frozen=True)
class DossierData:
    key: str
    """What was asked for, normalised: a case number or an importer number."""
    is_importer: bool
    position: int
    as_of: datetime
    importer: ImporterAccount | None
    subjects: tuple[Subject, ...]
    seal: SealSeen | None
    key_fingerprint: str | None
    events: tuple[StoredEvent, ...]

    @property
    def names(self) -> dict[UUID, str]:
        """Ids to the numbers a reader knows them by."""
        found = {s.aggregate_id: s.number for s in self.subjects}
        if self.importer is not None:
            found[self.importer.id] = self.importer.importer_number
        return found


def log_position(app: ComplianceCases, position: int | None) -> tuple[int, datetime]:
    """The position to report at (the log's last notification when None) and the time of
    the event recorded there. InvalidValueError for a position the log does not hold."""
    last = app.recorder.max_notification_id() or 0
    if last == 0:
        raise InvalidValueError("position", position, "the ledger holds no events yet")
    chosen = last if position is None else position
    if isinstance(chosen, bool) or not isinstance(chosen, int) or not 1 <= chosen <= last:
        raise InvalidValueError("position", position,
                                f"expected a log position between 1 and {last}")
    found = app.recorder.select_notifications(start=chosen, limit=1)
    if not found or found[0].id != chosen:
        raise InvalidValueError("position", chosen, "no event is recorded at this position "
                                "(a gap in the log); choose the position of an event")
    return chosen, app.decode_stored_event(found[0]).timestamp


def _visible(aggregate: Any, what: str, key: str) -> None:
    caller = current_caller()
    if caller is not None:
        scope = scope_of(aggregate)
        if scope is not None and not caller.sees(*scope):
            raise NotFoundError(what, key)


def _subject(app: ComplianceCases, evidence: LedgerEvidence, aggregate_id: UUID,
             position: int, what: str, key: str) -> Subject:
    positions = evidence.notification_ids(aggregate_id, position)
    if not positions:
        raise NotFoundError(what, key)
    version = len(positions)
    aggregate = app.load_aggregate(aggregate_id, version=version, label=key)
    if not isinstance(aggregate, CASE_TYPES):
        raise NotFoundError(what, key)
    _visible(aggregate, what, key)
    entries = tuple(history_until(app, aggregate_id, version, key))
    head = app.events.recorder.select_events(aggregate_id, gt=version - 1, lte=version)
    return Subject(aggregate_id, key, KINDS[type(aggregate)], aggregate, version,
                   tuple(positions), entries, evidence.content_hash(head[0]))


def _at(app: ComplianceCases, evidence: LedgerEvidence, aggregate_id: UUID,
        position: int) -> Any:
    versions = len(evidence.notification_ids(aggregate_id, position))
    return app.load_aggregate(aggregate_id, version=versions) if versions else None


def latest_seal(app: ComplianceCases, evidence: LedgerEvidence,
                position: int) -> SealSeen | None:
    versions = len(evidence.notification_ids(SEAL_LOG_ID, position))
    for stored in reversed(app.events.recorder.select_events(SEAL_LOG_ID, lte=versions)
                           if versions else []):
        event = app.decode_stored_event(stored)
        if isinstance(event, SealLog.Sealed):
            return SealSeen(event.number, event.checkpoint, event.seal_hash, event.key_id,
                            event.timestamp)
    return None


def gather(app: ComplianceCases, key: str, evidence: LedgerEvidence,
           position: int | None = None) -> DossierData:
    """The dossier's data for a case number or an importer number, as of `position`."""
    if not isinstance(key, str):
        raise InvalidValueError("case", key, "expected a case or importer number")
    text = key.strip()
    at, as_of = log_position(app, position)
    if is_case_number(text):
        number = parse_case_number(text)
        subject = _subject(app, evidence, case_id(number), at, "case", number)
        if isinstance(subject.aggregate, ImporterAccount):
            raise NotFoundError("case", number)
        importer = _at(app, evidence, subject.aggregate.importer_id, at)
        subjects: tuple[Subject, ...] = (subject,)
        is_importer = False
    else:
        try:
            number = parse_importer_number(text)
        except InvalidValueError:
            raise InvalidValueError("case", key, "not a case number (CA-2026-00042) or an "
                                    "importer number (12-3456789AB)") from None
        account = _subject(app, evidence, importer_account_id(number), at, "importer",
                           number)
        importer = account.aggregate
        case_file = _at(app, evidence, case_file_id(number), at)
        cases = case_file.cases if isinstance(case_file, ImporterCaseFile) else ()
        subjects = (account, *(_subject(app, evidence, ref.case_id, at, "case", ref.number)
                               for ref in cases))
        is_importer = True
    events = stored_events(app, [s.aggregate_id for s in subjects],
                           {s.aggregate_id: s.version for s in subjects})
    return DossierData(number, is_importer, at, as_of,
                       importer if isinstance(importer, ImporterAccount) else None,
                       subjects, latest_seal(app, evidence, at), evidence.key_fingerprint(),
                       tuple(events))
