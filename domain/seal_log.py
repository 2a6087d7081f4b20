"""SealLog: signed checkpoints of every aggregate's chain head.

A hash chain cannot show its own last event removed, a whole aggregate dropped, or a history
rewritten and re-hashed by someone with database access. A seal fixes the heads of all
chains at a point of the log under a signature whose private key lives outside the database.
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

    def __init__(self) -> None:
        """State is set by the Started event's apply."""

    class Started(CaseAggregate.Created):
        def apply(self, aggregate: SealLog) -> None:
            aggregate.seals = 0
            aggregate.last_checkpoint = 0

    @classmethod
    def start(cls, *, actor: str, at: datetime) -> SealLog:
        return cls._create(cls.Started, id=SEAL_LOG_ID, timestamp=require_aware(at),
                           actor=parse_actor(actor), reason="first seal of the ledger")

    class Sealed(CaseAggregate.Event):
        checkpoint: int
        aggregates: int
        events: int
        merkle_root: str
        key_id: str
        signature: str

        def apply(self, aggregate: SealLog) -> None:
            aggregate.seals += 1
            aggregate.last_checkpoint = self.checkpoint

    def seal(self, *, checkpoint: int, aggregates: int, events: int, merkle_root: str,
             key_id: str, signature: str, actor: str, at: datetime) -> None:
        self._record(self.Sealed, at, actor=parse_actor(actor),
                     reason=f"seal of {aggregates} chain heads up to notification {checkpoint}",
                     checkpoint=checkpoint, aggregates=aggregates, events=events,
                     merkle_root=merkle_root, key_id=key_id, signature=signature)
