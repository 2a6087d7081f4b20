"""Sealing and full verification of the ledger.

`seal_ledger` first verifies everything (every chain and commit signature, the seal chain
against the witness, every head the latest seal covered, every import batch's rows) and
refuses, naming what broke, unless all holds: a seal never launders damage. It then signs
a Merkle root over every aggregate's head, including the seal log's own (so the seal log is
covered by the seals), linked to the previous seal; stores the heads that changed since
that seal (the locator `verify` uses to name a case whose sealed head is gone) in the same
transaction as the seal event; and appends the seal to the witness outside the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.persistence import ApplicationRecorder

from application.compliance_cases import ComplianceCases
from domain.seal_log import SEAL_LOG_ID, SealLog
from infrastructure.hash_chain import GENESIS
from infrastructure.seal_records import (
    HEADS_TABLE,
    SealRecord,
    append_to_witness,
    merkle_root,
    read_witness,
)
from infrastructure.signing_keys import (
    SealKeyError,
    create_key,
    key_id,
    load_private_key,
    load_public_key,
    public_key_path,
)
from infrastructure.verify import (
    LedgerReport,
    check_seal_chain,
    read_seal_log,
    sealed_heads,
    verify_ledger,
)

__all__ = ["SealKeyError", "SealRefusedError", "create_key", "full_verify", "load_private_key",
           "load_public_key", "public_key_path", "seal_ddl", "seal_ledger"]

if TYPE_CHECKING:
    pass  # loads pyarrow



class SealRefusedError(RuntimeError):
    """Sealing was refused because the ledger does not verify; names what broke."""


def seal_ddl() -> list[str]:
    return [f"CREATE TABLE IF NOT EXISTS {{schema}}{HEADS_TABLE} ("
            "seal_number BIGINT NOT NULL, originator_id TEXT NOT NULL, "
            "version BIGINT NOT NULL, hash TEXT NOT NULL, "
            "PRIMARY KEY (seal_number, originator_id))"]


def full_verify(recorder: ApplicationRecorder, public_key: Ed25519PublicKey,
                witness_path: Path, progress: Callable[[int], None] | None = None,
                ) -> LedgerReport:
    """Chains, commit signatures, seals and witness, sealed heads and ingest digests."""
    from infrastructure.ingest_integrity import IngestIntegrity  # loads pyarrow

    return verify_ledger(recorder, public_key, witness_path,
                         batch_checker=IngestIntegrity(recorder).checker, progress=progress)


def reappend_missing_seals(recorder: ApplicationRecorder, public_key: Ed25519PublicKey,
                           witness_path: Path) -> int:
    """Seals committed to the database whose witness write did not happen (a crash between
    the two) are appended now, if they continue the witness and verify; returns how many."""
    seals, problems = read_seal_log(recorder)
    witness = read_witness(witness_path) or []
    continues = all(ours.same_seal(theirs) for ours, theirs in zip(seals, witness,
                                                                   strict=False))
    chain_holds = not check_seal_chain(seals, seals, public_key, witness_path)
    if problems or len(seals) <= len(witness) or not continues or not chain_holds:
        return 0
    for seal in seals[len(witness):]:
        append_to_witness(witness_path, seal)
    return len(seals) - len(witness)


def seal_ledger(app: ComplianceCases, key: Ed25519PrivateKey, witness_path: Path,
                actor: str, progress: Callable[[int], None] | None = None) -> SealRecord:
    app.authorise(actor, "seal")  # a seal names who sealed: someone allowed to
    reappend_missing_seals(app.recorder, key.public_key(), witness_path)
    report = full_verify(app.recorder, key.public_key(), witness_path, progress)
    if not report.ok:
        listed = "; ".join(str(f) for f in report.findings[:5])
        more = (f" (and {len(report.findings) - 5} more; run compliance verify)"
                if len(report.findings) > 5 else "")
        raise SealRefusedError(f"not sealed: the ledger does not verify: {listed}{more}")
    import pyarrow as pa

    from infrastructure.sql_tables import SqlTables

    tables = SqlTables(app.recorder)
    previous = report.latest_seal
    before = sealed_heads(tables, previous) if previous is not None else {}
    if before is None:  # cannot happen after a clean verify; never seal over it
        raise SealRefusedError("not sealed: the previous seal's head list does not verify")
    heads = report.heads
    unsigned = SealRecord(
        number=(previous.number if previous else 0) + 1, checkpoint=report.checkpoint,
        aggregates=len(heads), events=report.events, merkle_root=merkle_root(heads),
        previous=previous.seal_hash if previous else GENESIS,
        key_id=key_id(key.public_key()), signature="")
    signature = key.sign(unsigned.message()).hex()
    now = app.clock()
    record = SealRecord(unsigned.number, unsigned.checkpoint, unsigned.aggregates,
                        unsigned.events, unsigned.merkle_root, unsigned.previous,
                        unsigned.key_id, signature, now.isoformat())
    changed = {oid: head for oid, head in heads.items() if before.get(oid) != head}
    delta = pa.table({
        "seal_number": pa.array([record.number] * len(changed), pa.int64()),
        "originator_id": pa.array(list(changed), pa.string()),
        "version": pa.array([v for v, _ in changed.values()], pa.int64()),
        "hash": pa.array([h for _, h in changed.values()], pa.string())})

    def write_heads(cursor: object) -> None:
        tables.execute_in(cursor, f"DELETE FROM {tables.name(HEADS_TABLE)} "
                          "WHERE seal_number >= ?", (record.number,))
        tables.insert_in(cursor, HEADS_TABLE, delta)

    log = app.find_aggregate(SEAL_LOG_ID) or SealLog.start(actor=actor, at=now)
    log.seal(number=record.number, checkpoint=record.checkpoint,
             aggregates=record.aggregates, events=record.events,
             merkle_root=record.merkle_root, previous=record.previous,
             key_id=record.key_id, signature=record.signature,
             seal_hash=record.seal_hash, actor=actor, at=now)
    app.save(log, write_also=write_heads)
    append_to_witness(witness_path, record)
    return record
