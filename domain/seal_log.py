"""SealLog: signed checkpoints of every aggregate's chain head, each linked to the one before.

Commit signatures make a forged or edited event detectable, but not the removal of whole
commits at the end of an aggregate's history. A seal fixes the heads of all chains at a
point of the log under the ledger's signing key, embeds the hash of the previous seal (so
seals cannot be removed or rolled back without breaking the chain) and is also written to
a witness outside the database.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.base import CaseAggregate, natural_id, require_aware
from domain.values import parse_actor

SEAL_LOG_ID: UUID = natural_id("seal-log", "ledger")


class SealLog(CaseAggregate):
    seals: int
    last_checkpoint: int
    last_seal_hash: str

    def __init__(self) -> None:
        """State is set by the Started event's apply."""

    class Started(CaseAggregate.Created):
        def apply(self, aggregate: SealLog) -> None:
            aggregate.seals = 0
            aggregate.last_checkpoint = 0
            aggregate.last_seal_hash = "0" * 64

    @classmethod
    def start(cls, *, actor: str, at: datetime) -> SealLog:
        return cls._create(cls.Started, id=SEAL_LOG_ID, timestamp=require_aware(at),
                           actor=parse_actor(actor), reason="first seal of the ledger")

    class Sealed(CaseAggregate.Event):
        number: int
        checkpoint: int
        aggregates: int
        events: int
        merkle_root: str
        previous: str
        key_id: str
        signature: str
        seal_hash: str

        def apply(self, aggregate: SealLog) -> None:
            aggregate.seals = self.number
            aggregate.last_checkpoint = self.checkpoint
            aggregate.last_seal_hash = self.seal_hash

    def seal(self, *, number: int, checkpoint: int, aggregates: int, events: int,
             merkle_root: str, previous: str, key_id: str, signature: str, seal_hash: str,
             actor: str, at: datetime) -> None:
        self._record(self.Sealed, at, actor=parse_actor(actor),
                     reason=f"seal {number} of {aggregates} chain heads up to notification "
                            f"{checkpoint}",
                     number=number, checkpoint=checkpoint, aggregates=aggregates,
                     events=events, merkle_root=merkle_root, previous=previous,
                     key_id=key_id, signature=signature, seal_hash=seal_hash)
