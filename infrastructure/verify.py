"""`verify`: prove that nothing in the ledger was altered, with the public key alone.

One ordered pass over the notification log checks, for every event:
- its chain scheme and its link to its aggregate's previous event (edited, deleted,
  re-ordered and re-linked events break a link);
- that it belongs to a commit whose Ed25519 signature holds (an event added, edited or
  re-linked by someone without the signing key is not covered by a valid signature);
- against the latest seal: every sealed head (aggregate, version, content hash) must still
  be there unchanged; later events may only have been appended after it.
Before the pass, the seal chain is checked (numbers, links, signatures) against the witness
outside the database; after it, every import batch's stored rows against the digest its
`ImportBatch` event recorded. Every finding names the case by its number and the version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import ApplicationRecorder

from domain.seal_log import SEAL_LOG_ID
from infrastructure.case_names import name_subjects
from infrastructure.hash_chain import (
    CHAIN_SCHEME,
    GENESIS,
    commit_digest,
    content_hash,
    recorded_prev,
    recorded_scheme,
    split_signature,
)
from infrastructure.raw_log import pages
from infrastructure.seal_records import (
    HEADS_TABLE,
    SealRecord,
    WitnessError,
    merkle_root,
    read_witness,
)
from infrastructure.signing_keys import key_id, signature_holds

PAGE = 10_000
IMPORT_BATCH_TOPIC = "domain.import_batch:ImportBatch.Imported"
SEALED_TOPIC = "domain.seal_log:SealLog.Sealed"

if TYPE_CHECKING:
    from infrastructure.sql_tables import SqlTables  # loads pyarrow



@dataclass
class Finding:
    """One thing found wrong: what (the case number, importer, batch, seal), which version
    or row, and what broke."""

    subject: str
    version: int | None
    problem: str
    aggregate_id: str | None = None

    def __str__(self) -> str:
        where = f" version {self.version}" if self.version is not None else ""
        return f"{self.subject}{where}: {self.problem}"


@dataclass(frozen=True)
class BatchDigest:
    """What an ImportBatch event recorded about its stored rows."""

    batch_id: str
    kind: str
    file_name: str
    rows_loaded: int
    rows_digest: str


BatchChecker = Callable[[list[BatchDigest]], list[Finding]]


@dataclass
class LedgerReport:
    events: int = 0
    aggregates: int = 0
    commits: int = 0
    snapshots: int = 0
    batches: int = 0
    checkpoint: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict, repr=False)
    seals: list[SealRecord] = field(default_factory=list)
    witness_seals: int | None = None
    key_id: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def latest_seal(self) -> SealRecord | None:
        return self.seals[-1] if self.seals else None


# -- the seal chain ------------------------------------------------------------------------


def read_seal_log(recorder: ApplicationRecorder) -> tuple[list[SealRecord], list[Finding]]:
    """The seals recorded in the database, read raw (a damaged seal log is a finding)."""
    seals: list[SealRecord] = []
    findings: list[Finding] = []
    for stored in recorder.select_events(SEAL_LOG_ID):
        if stored.topic != SEALED_TOPIC:
            continue
        content, _ = split_signature(stored.state)
        try:
            data = msgspec.json.decode(content)
            seal = SealRecord.from_plain({**data, "sealed_at": data.get("timestamp", "")})
        except (msgspec.DecodeError, KeyError, TypeError, ValueError):
            findings.append(Finding("seal log", stored.originator_version,
                                    "seal record unreadable (altered)"))
            continue
        seals.append(seal)
    return seals, findings


def check_seal_chain(seals: list[SealRecord], witness: list[SealRecord] | None,
                     public_key: Ed25519PublicKey, witness_path: Path) -> list[Finding]:
    findings: list[Finding] = []
    trusted = key_id(public_key)
    previous = GENESIS
    for expected, seal in enumerate(seals, start=1):
        subject = seal.describe()
        if seal.number != expected:
            findings.append(Finding(subject, None, f"numbered {seal.number} where seal "
                                    f"{expected} should be (seals removed or re-ordered)"))
        if seal.previous != previous:
            findings.append(Finding(subject, None, "does not link to the seal before it "
                                    "(a seal was removed, rolled back or replaced)"))
        if seal.key_id != trusted:
            findings.append(Finding(subject, None, f"signed with key {seal.key_id}, not the "
                                    f"trusted key {trusted}"))
        elif not seal.signed_by(public_key):
            findings.append(Finding(subject, None, "signature does not hold (forged or "
                                    "altered)"))
        previous = seal.seal_hash
    if witness is None:
        if seals:
            findings.append(Finding("seal witness", None, f"{witness_path} is missing while "
                                    f"the database holds {len(seals)} seal(s)"))
        return findings
    for seal in witness:
        if not seal.signed_by(public_key):
            findings.append(Finding("seal witness", None, f"{seal.describe()} in "
                                    f"{witness_path} is not signed by the trusted key"))
    if len(seals) < len(witness):
        gone = (f"seal {len(witness)}" if len(witness) == len(seals) + 1
                else f"seals {len(seals) + 1}-{len(witness)}")
        findings.append(Finding("seal log", None, f"the database holds {len(seals)} seal(s), "
                                f"the witness {len(witness)}: {gone} removed or rolled back"))
    if len(seals) > len(witness):
        findings.append(Finding("seal witness", None, f"{witness_path} holds {len(witness)} "
                                f"seal(s), the database {len(seals)}: the witness was "
                                "truncated (or its last write failed: compliance seal "
                                "re-appends the database's signed seals)"))
    for ours, theirs in zip(seals, witness, strict=False):
        if not ours.same_seal(theirs):
            findings.append(Finding(ours.describe(), None, "differs from the witness's "
                                    f"seal {theirs.number} (replaced)"))
            break
    return findings


def sealed_heads(tables: SqlTables, seal: SealRecord) -> dict[str, tuple[int, str]] | None:
    """The heads `seal` covered, folded from the per-seal deltas; None when they no longer
    give the seal's signed root (then the locator itself was altered)."""
    try:
        rows = tables.rows(f"SELECT originator_id, version, hash FROM "
                           f"{tables.name(HEADS_TABLE)} WHERE seal_number <= ? "
                           "ORDER BY seal_number", (seal.number,))
    except Exception:  # the table is missing: the locator is gone
        return None
    heads = {str(oid): (int(version), str(digest)) for oid, version, digest in rows}
    if len(heads) != seal.aggregates or merkle_root(heads) != seal.merkle_root:
        return None
    return heads


# -- the pass over the log -----------------------------------------------------------------


@dataclass
class _Pending:
    oid: str
    version: int
    digest: str


def verify_ledger(recorder: ApplicationRecorder, public_key: Ed25519PublicKey,
                  witness_path: Path, *, batch_checker: BatchChecker | None = None,
                  progress: Callable[[int], None] | None = None) -> LedgerReport:
    from infrastructure.sql_tables import SqlTables

    report = LedgerReport(key_id=key_id(public_key))
    tables = SqlTables(recorder)
    seals, findings = read_seal_log(recorder)
    report.seals = seals
    report.findings.extend(findings)
    try:
        witness = read_witness(witness_path)
    except WitnessError as error:
        report.findings.append(Finding("seal witness", None, str(error)))
        witness = []
    report.witness_seals = None if witness is None else len(witness)
    report.findings.extend(check_seal_chain(seals, witness, public_key, witness_path))
    candidates = [s for s in (seals[-1:] + (witness or [])[-1:]) if s.signed_by(public_key)]
    target = max(candidates, key=lambda s: s.number) if candidates else None
    sealed: dict[str, tuple[int, str]] = {}
    if target is not None:
        found = sealed_heads(tables, target)
        if found is None:
            report.findings.append(Finding(target.describe(), None, "the list of chain heads "
                                           "it sealed no longer gives its signed root "
                                           "(altered)"))
        else:
            sealed = found
    batches = _pass(recorder, public_key, report, sealed, target, progress)
    if target is not None and sealed is not None:
        _unseen_heads(report, sealed, target)
    report.batches = len(batches)
    if batch_checker is not None:
        report.findings.extend(batch_checker(batches))
    name_subjects(recorder, report.findings)
    return report


def _pass(recorder: ApplicationRecorder, public_key: Ed25519PublicKey, report: LedgerReport,
          sealed: dict[str, tuple[int, str]], seal: SealRecord | None,
          progress: Callable[[int], None] | None) -> list[BatchDigest]:
    heads: dict[str, tuple[int, str]] = {}
    pending: list[_Pending] = []
    batches: list[BatchDigest] = []
    problems = report.findings
    seal_name = seal.describe() if seal else ""

    def problem(oid: str, version: int | None, text: str) -> None:
        problems.append(Finding(oid, version, text, oid))

    for page in pages(recorder, PAGE):
        for notification_id, oid, version, topic, state in page:
            content, signature = split_signature(state)
            digest = content_hash(topic, oid, version, content)
            last_version, last_hash = heads.get(oid, (0, GENESIS))
            scheme = recorded_scheme(content)
            if scheme != CHAIN_SCHEME:
                problem(oid, version, f"not written under chain scheme {CHAIN_SCHEME} "
                        f"(scheme {scheme or 'unnumbered'}): inserted outside the ledger")
            if version != last_version + 1:
                if version <= last_version:
                    text = f"out of order: recorded after version {last_version} (re-ordered)"
                else:
                    missing = (str(last_version + 1) if version == last_version + 2
                               else f"{last_version + 1}-{version - 1}")
                    text = f"version(s) {missing} missing before it (deleted)"
                problem(oid, version, text)
            elif recorded_prev(content) != last_hash:
                if last_version == 0:
                    problem(oid, version, "first event does not start the chain (altered)")
                else:
                    problem(oid, last_version, f"does not match the link recorded by version "
                            f"{version} (version {last_version} altered, or the link in "
                            f"{version})")
            sealed_head = sealed.get(oid)
            if sealed_head is not None and sealed_head[0] == version:
                if sealed_head[1] != digest:
                    problem(oid, version, f"differs from the head {seal_name} sealed "
                            "(altered since)")
                sealed_head_seen(sealed, oid)
            heads[oid] = (version, digest)
            pending.append(_Pending(oid, version, digest))
            if signature is not None:
                _close_commit(pending, signature.events, signature.signature, public_key,
                              problem)
                report.commits += 1
                pending = []
            if topic == IMPORT_BATCH_TOPIC:
                batch = _batch_digest(oid, content)
                if batch is not None:
                    batches.append(batch)
            report.checkpoint = notification_id
        report.events += len(page)
        if progress:
            progress(len(page))
    for event in pending:
        problem(event.oid, event.version, "not covered by any commit signature (appended "
                "without the signing key)")
    report.aggregates = len(heads)
    report.heads = heads
    return batches


def sealed_head_seen(sealed: dict[str, tuple[int, str]], oid: str) -> None:
    """Checked heads are marked by a negative version so the end of the pass can tell which
    sealed heads were never found."""
    version, digest = sealed[oid]
    sealed[oid] = (-version, digest)


def _unseen_heads(report: LedgerReport, sealed: dict[str, tuple[int, str]],
                  seal: SealRecord) -> None:
    for oid, (version, _digest) in sealed.items():
        if version < 0:
            continue
        current = report.heads.get(oid)
        if current is None:
            text = (f"the whole aggregate is gone ({seal.describe()} sealed it at version "
                    f"{version}; dropped)")
        else:
            text = (f"sealed by {seal.describe()} but the history now ends at version "
                    f"{current[0]} (versions up to {version} deleted)")
        report.findings.append(Finding(oid, version, text, oid))


def _close_commit(pending: list[_Pending], count: int, signature: bytes,
                  public_key: Ed25519PublicKey,
                  problem: Callable[[str, int | None, str], None]) -> None:
    if len(pending) > count:
        for event in pending[: len(pending) - count]:
            problem(event.oid, event.version, "not covered by any commit signature "
                    "(inserted without the signing key)")
        del pending[: len(pending) - count]
    last = pending[-1]
    if len(pending) < count:
        problem(last.oid, last.version, f"its commit was signed over {count} events; "
                f"{len(pending)} remain in place (events of the commit deleted or moved)")
        return
    if not signature_holds(public_key, signature, commit_digest([e.digest for e in pending])):
        others = sorted({e.oid for e in pending} - {last.oid})
        also = f" (the commit also holds {len(others)} other aggregate(s))" if others else ""
        problem(last.oid, last.version, "commit signature does not hold: an event of this "
                f"commit was altered or the signature forged{also}")


def _batch_digest(oid: str, content: bytes) -> BatchDigest | None:
    try:
        data = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return None
    digest = str(data.get("rows_digest") or "")
    if not digest:
        return None
    return BatchDigest(oid, str(data.get("kind")), str(data.get("file_name")),
                       int(data.get("rows_loaded", 0)), digest)
