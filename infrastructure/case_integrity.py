"""The tamper evidence of one case, quickly enough for a page: what `verify` checks for
the whole ledger, narrowed to one aggregate's events, plus what the latest seal says about
it.

- its chain: every event under the current scheme, versions 1..n without a gap, each
  linked to the content hash of the one before it (from the genesis hash);
- its commit signatures: each commit holding one of its events is checked with the
  public key (a commit of this case alone from its own events; one shared with other cases
  read from the log around it; a bulk commit larger than MAX_COMMIT is left to the full
  verify, and said so);
- the latest seal: signed by the trusted key, the same as the witness's copy outside the
  database, and the case's head when it was sealed (from the seal's head list) still the
  event stored at that version.

The full verify also checks the seal chain from the first seal, the head list against the
seal's signed root, every other case and the import batches; the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.hash_chain import (
    CHAIN_SCHEME,
    GENESIS,
    CommitSignature,
    commit_digest,
    content_hash,
    recorded_prev,
    recorded_scheme,
    split_signature,
)
from infrastructure.report_evidence import StoreEvidence
from infrastructure.seal_records import HEADS_TABLE, SealRecord, WitnessError, read_witness
from infrastructure.signing_keys import SealKeyError, key_id, load_public_key, signature_holds
from infrastructure.sql_tables import SqlTables
from infrastructure.verify import read_seal_log

MAX_COMMIT = 2_000
"""A commit with more events than this (a bulk import or risk run) is not read for a page."""
WINDOWS = (16, 256)
"""How far after an event the log is read to find the signature closing its commit: a
short read first (most commits are a few events), then a longer one."""
MAX_READS = 200
"""Reads of the log a page may make for shared commits; the rest is left to the full
verify (and counted)."""


@dataclass
class SealView:
    number: int
    sealed_at: str
    checkpoint: int
    events: int
    aggregates: int
    key_id: str
    signature_holds: bool
    witness: str
    """"agrees", "missing", "differs" or "unreadable: ..." (the copy outside the database)."""
    head_version: int | None = None
    """The case's version when sealed (None: recorded after this seal)."""
    head_matches: bool | None = None


@dataclass
class CaseIntegrity:
    events: int = 0
    commits_checked: int = 0
    commits_left: int = 0
    """Commits too large (or too many) to read for a page: the full verify checks them."""
    reads: int = field(default=0, repr=False)
    problems: list[str] = field(default_factory=list)
    key_fingerprint: str | None = None
    seal: SealView | None = None
    seals: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Event:
    position: int
    version: int
    digest: str
    signature: CommitSignature | None


def check_case(recorder: ApplicationRecorder, aggregate_id: UUID, public_key_path: Path,
               witness_path: Path) -> CaseIntegrity:
    result = CaseIntegrity()
    try:
        public_key: Any = load_public_key(public_key_path)
        result.key_fingerprint = key_id(public_key)
    except SealKeyError as error:
        public_key = None
        result.problems.append(f"cannot check signatures: {error}")
    events = _chain(recorder, aggregate_id, result)
    if public_key is not None:
        _commits(recorder, events, public_key, result)
        _latest_seal(recorder, aggregate_id, events, public_key, witness_path, result)
    return result


def _chain(recorder: ApplicationRecorder, aggregate_id: UUID,
           result: CaseIntegrity) -> list[_Event]:
    stored = recorder.select_events(aggregate_id)
    positions = StoreEvidence(recorder, None).notification_ids(aggregate_id, 2**62)
    result.events = len(stored)
    if len(positions) != len(stored):
        result.problems.append("the log's positions do not match the case's events")
        positions = [0] * len(stored)
    events: list[_Event] = []
    previous = GENESIS
    for expected, (event, position) in enumerate(zip(stored, positions, strict=True),
                                                 start=1):
        content, signature = split_signature(event.state)
        version = event.originator_version
        if recorded_scheme(content) != CHAIN_SCHEME:
            result.problems.append(f"version {version}: not written under chain scheme "
                                   f"{CHAIN_SCHEME} (inserted outside the ledger)")
        if version != expected:
            result.problems.append(f"version {version} found where {expected} should be "
                                   "(events deleted or re-ordered)")
        elif recorded_prev(content) != previous:
            result.problems.append(f"version {version}: does not link to version "
                                   f"{version - 1} (one of them altered)" if version > 1 else
                                   "version 1: does not start the chain (altered)")
        previous = content_hash(event.topic, str(aggregate_id), version, content)
        events.append(_Event(position, version, previous, signature))
    return events


def _commits(recorder: ApplicationRecorder, events: list[_Event], public_key: Any,
             result: CaseIntegrity) -> None:
    """Every commit holding one of the case's events, checked once."""
    by_position = {event.position: event for event in events}
    checked_up_to = 0
    for index, event in enumerate(events):
        if event.position <= checked_up_to:
            continue
        own = _own_commit(events, index)
        if own is not None:
            digests, signature, end = own
        else:
            found = _shared_commit(recorder, event.position, by_position, result)
            if isinstance(found, int):
                checked_up_to = found
                continue
            digests, signature, end = found
        if not signature_holds(public_key, signature.signature, commit_digest(digests)):
            result.problems.append(f"version {event.version}: its commit signature does "
                                   "not hold (an event of the commit altered or the "
                                   "signature forged)")
        result.commits_checked += 1
        checked_up_to = end


def _own_commit(events: list[_Event], start: int,
                ) -> tuple[list[str], CommitSignature, int] | None:
    """The commit starting at events[start] when it holds only this case's events (the
    usual command: one case saved), found without reading the log."""
    for end in range(start, len(events)):
        if end > start and events[end].position != events[end - 1].position + 1:
            return None
        signature = events[end].signature
        if signature is not None:
            if signature.events != end - start + 1:
                return None
            return ([e.digest for e in events[start:end + 1]], signature,
                    events[end].position)
    return None


def _shared_commit(recorder: ApplicationRecorder, position: int, own: dict[int, _Event],
                   result: CaseIntegrity) -> tuple[list[str], CommitSignature, int] | int:
    """The commit around `position`, read from the log: (its content hashes, its
    signature, its last position); else the last position it is known not to be
    checkable to here (too large or too many reads: counted; not signed: a problem)."""
    if result.reads >= MAX_READS:
        result.commits_left += 1
        return position
    closing = None
    for window in WINDOWS:
        result.reads += 1
        after = recorder.select_notifications(start=position, limit=window)
        closing = next(((n, signature) for n in after
                        if (signature := split_signature(n.state)[1]) is not None), None)
        if closing is not None or len(after) < window:
            break
    if closing is None:
        if len(after) < WINDOWS[-1]:
            event = own[position]
            result.problems.append(f"version {event.version}: not covered by any commit "
                                   "signature (appended without the signing key)")
        else:
            result.commits_left += 1
        return after[-1].id if after else position
    last, signature = closing
    if signature.events > MAX_COMMIT:
        result.commits_left += 1
        return last.id
    first = last.id - signature.events + 1
    result.reads += 1
    members = recorder.select_notifications(start=first, limit=signature.events,
                                            stop=last.id)
    digests = [content_hash(n.topic, str(n.originator_id), n.originator_version,
                            split_signature(n.state)[0]) for n in members]
    if first > position or len(members) != signature.events:
        event = own[position]
        result.problems.append(f"version {event.version}: its commit was signed over "
                               f"{signature.events} events that are no longer in place")
    return digests, signature, last.id


def _latest_seal(recorder: ApplicationRecorder, aggregate_id: UUID, events: list[_Event],
                 public_key: Any, witness_path: Path, result: CaseIntegrity) -> None:
    seals, unreadable = read_seal_log(recorder)
    result.seals = len(seals)
    result.problems.extend(str(finding) for finding in unreadable)
    if not seals:
        return
    seal = seals[-1]
    view = SealView(seal.number, seal.sealed_at, seal.checkpoint, seal.events,
                    seal.aggregates, seal.key_id,
                    seal.key_id == key_id(public_key) and seal.signed_by(public_key),
                    _witness(witness_path, seal))
    result.seal = view
    if not view.signature_holds:
        result.problems.append(f"seal {seal.number} is not signed by the trusted key")
    if view.witness != "agrees":
        result.problems.append(f"seal {seal.number}: the witness copy {view.witness}")
    head = _sealed_head(recorder, seal, aggregate_id)
    if head is None:
        return
    view.head_version = head[0]
    stored = next((e for e in events if e.version == head[0]), None)
    view.head_matches = stored is not None and stored.digest == head[1]
    if not view.head_matches:
        result.problems.append(f"version {head[0]}: differs from the head seal "
                               f"{seal.number} sealed (altered or deleted since)")


def _witness(path: Path, seal: SealRecord) -> str:
    try:
        witness = read_witness(path)
    except WitnessError as error:
        return f"unreadable: {error}"
    if witness is None or len(witness) < seal.number:
        return "missing"
    return "agrees" if witness[seal.number - 1].same_seal(seal) else "differs"


def _sealed_head(recorder: ApplicationRecorder, seal: SealRecord,
                 aggregate_id: UUID) -> tuple[int, str] | None:
    """The case's head in the seal's head list (each seal records the heads that changed
    since the one before): None when the case was first recorded after the seal."""
    tables = SqlTables(recorder)
    try:
        rows = tables.rows(f"SELECT version, hash FROM {tables.name(HEADS_TABLE)} "
                           "WHERE originator_id = ? AND seal_number <= ? "
                           "ORDER BY seal_number DESC LIMIT 1",
                           (str(aggregate_id), seal.number))
    except Exception:  # the table is gone: the full verify reports the locator missing
        return None
    return (int(rows[0][0]), str(rows[0][1])) if rows else None
