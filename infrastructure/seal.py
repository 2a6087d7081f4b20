"""Seals: a Merkle root over every aggregate's chain head (id, version, hash) at a point of
the log, signed with an Ed25519 key kept outside the database. Anyone with the public key
can check a seal; `verify` recomputes the root from the stored events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import ApplicationRecorder, EventStore

from application.compliance_cases import ComplianceCases
from domain.seal_log import SEAL_LOG_ID, SealLog
from infrastructure.verify import VerificationReport, verify_chains


class SealKeyError(ValueError):
    """The seal key is missing or unreadable; says which file."""


def merkle_root(heads: Mapping[UUID | str, tuple[int, str]]) -> str:
    level = [hashlib.sha256(f"{oid}|{version}|{digest}".encode()).digest()
             for oid, (version, digest) in sorted(heads.items(), key=lambda item: str(item[0]))]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest()
                 for i in range(0, len(level), 2)]
    return level[0].hex()


def seal_message(checkpoint: int, aggregates: int, events: int, root: str) -> bytes:
    return f"compliance-ledger-seal|{checkpoint}|{aggregates}|{events}|{root}".encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_path(private_path: Path) -> Path:
    return private_path.with_suffix(private_path.suffix + ".pub")


def create_key(private_path: Path) -> Ed25519PrivateKey:
    """Write a new key pair; the private file is readable by its owner only."""
    if private_path.exists():
        raise SealKeyError(f"{private_path} already exists; refusing to replace a seal key")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_key_path(private_path).write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise SealKeyError(f"no seal key at {path} (create one with "
                           "`compliance seal --new-key`)") from None
    except ValueError as error:
        raise SealKeyError(f"{path} is not a PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SealKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey | None:
    if not path.exists():
        return None
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise SealKeyError(f"{path} is not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class SealRecord:
    checkpoint: int
    aggregates: int
    events: int
    merkle_root: str
    key_id: str
    signature: str


def sign(key: Ed25519PrivateKey, checkpoint: int, heads: Mapping[UUID | str, tuple[int, str]],
         events: int) -> SealRecord:
    root = merkle_root(heads)
    signature = key.sign(seal_message(checkpoint, len(heads), events, root)).hex()
    return SealRecord(checkpoint, len(heads), events, root, key_id(key.public_key()), signature)


def signature_holds(public_key: Ed25519PublicKey, seal: SealRecord) -> bool:
    try:
        public_key.verify(bytes.fromhex(seal.signature), seal_message(
            seal.checkpoint, seal.aggregates, seal.events, seal.merkle_root))
    except (InvalidSignature, ValueError):
        return False
    return True


def latest_seal(events: EventStore[UUID]) -> tuple[SealRecord, datetime] | None:
    """The newest seal recorded in the seal log, with when it was recorded."""
    for event in events.get(SEAL_LOG_ID, desc=True):
        if isinstance(event, SealLog.Sealed):
            return SealRecord(event.checkpoint, event.aggregates, event.events,
                              event.merkle_root, event.key_id, event.signature), event.timestamp
    return None


def seal_ledger(app: ComplianceCases, key: Ed25519PrivateKey, actor: str) -> SealRecord:
    """Seal every chain head up to the current end of the log; refused if any chain is
    already broken, so a seal never certifies tampered history."""
    checkpoint = app.recorder.max_notification_id() or 0
    report = verify_chains(app.recorder, checkpoint=checkpoint,
                           unsealed=frozenset({SEAL_LOG_ID}))
    if not report.ok:
        raise SealRefusedError(f"not sealed: {len(report.problems)} chain problem(s), first: "
                               f"{report.problems[0]}")
    record = sign(key, checkpoint, report.sealed_heads, report.sealed_events)
    log = app.find_aggregate(SEAL_LOG_ID) or SealLog.start(actor=actor, at=app.clock())
    log.seal(checkpoint=record.checkpoint, aggregates=record.aggregates, events=record.events,
             merkle_root=record.merkle_root, key_id=record.key_id,
             signature=record.signature, actor=actor, at=app.clock())
    app.save(log)
    return record


def verify_with_seal(recorder: ApplicationRecorder, events: EventStore[UUID],
                     public_key: Ed25519PublicKey | None,
                     progress: Callable[[int], None] | None = None,
                     ) -> tuple[VerificationReport, SealCheck]:
    """One pass over the log checks every chain and recomputes the latest seal."""
    found = latest_seal(events)
    report = verify_chains(recorder, progress, checkpoint=found[0].checkpoint if found else None,
                           unsealed=frozenset({SEAL_LOG_ID}))
    return report, check_seal(report, found, public_key)


def check_seal(report: VerificationReport, found: tuple[SealRecord, datetime] | None,
               public_key: Ed25519PublicKey | None) -> SealCheck:
    if found is None:
        return SealCheck(None, None, [], "no seal recorded yet (compliance seal)")
    seal, sealed_at = found
    problems: list[str] = []
    recomputed = merkle_root(report.sealed_heads)
    when = sealed_at.isoformat()
    if (recomputed, len(report.sealed_heads), report.sealed_events) != (
            seal.merkle_root, seal.aggregates, seal.events):
        problems.append(
            f"seal of {when} does not match the stored history: it sealed {seal.events} events "
            f"in {seal.aggregates} aggregates (root {seal.merkle_root[:16]}), the store now "
            f"holds {report.sealed_events} events in {len(report.sealed_heads)} aggregates "
            f"(root {recomputed[:16]}) up to notification {seal.checkpoint}: events were "
            "deleted, altered or rewritten")
    note = None
    if public_key is None:
        note = "seal signature not checked: no public key file"
    elif key_id(public_key) != seal.key_id:
        problems.append(f"seal of {when} was signed with key {seal.key_id}, not with the "
                        f"trusted key {key_id(public_key)}")
    elif not signature_holds(public_key, seal):
        problems.append(f"seal of {when} has an invalid signature (forged or altered)")
    return SealCheck(seal, sealed_at, problems, note)


@dataclass(frozen=True)
class SealCheck:
    seal: SealRecord | None
    sealed_at: datetime | None
    problems: list[str]
    note: str | None


class SealRefusedError(RuntimeError):
    """Sealing was refused because the history is already broken."""
