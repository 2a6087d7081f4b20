"""ChannelRun: one pass of channel decisions over loaded declarations. The decisions
themselves are bulk rows; this event records what decided them (the rule versions in
force, the random share and its seed, the input batches) and the counts, so a run can be
reproduced and audited."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.base import CaseAggregate, require_aware
from domain.errors import InvalidValueError
from domain.values import parse_actor, parse_reason


class ChannelRun(CaseAggregate):
    entries: int
    counts: dict[str, int]

    def __init__(self) -> None:
        """State is set by the EntriesChannelled event's apply."""

    class EntriesChannelled(CaseAggregate.Created):
        rule_versions: tuple[str, ...]
        random_share: float
        seed: int
        input_batches: tuple[UUID, ...]
        entries: int
        counts: dict[str, int]
        random_exams: int

        def apply(self, aggregate: ChannelRun) -> None:
            aggregate.entries = self.entries
            aggregate.counts = dict(self.counts)

    @classmethod
    def record(cls, run_id: UUID, *, rule_versions: tuple[str, ...], random_share: float,
               seed: int, input_batches: tuple[UUID, ...], counts: dict[str, int],
               random_exams: int, actor: str, reason: str, at: datetime) -> ChannelRun:
        if not 0 <= random_share < 1:
            raise InvalidValueError("random_share", random_share, "expected a share in [0, 1)")
        return cls._create(cls.EntriesChannelled, id=run_id,
                           timestamp=require_aware(at), actor=parse_actor(actor),
                           reason=parse_reason(reason), rule_versions=rule_versions,
                           random_share=random_share, seed=seed, input_batches=input_batches,
                           entries=sum(counts.values()), counts=counts,
                           random_exams=random_exams)
