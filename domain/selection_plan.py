"""SelectionPlan: a period's chosen assessments within capacity, each pick with its basis
(risk or random) and the reason, recorded as one decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.base import CaseAggregate, natural_id, require_aware
from domain.values import Period, parse_actor, parse_reason


@dataclass(frozen=True)
class SelectionPick:
    importer_number: str
    basis: str
    """risk or random"""
    rank: int
    """Rank by risk score for a risk pick; 0 for a random one."""
    score: float
    tier: int
    district: str
    reason: str


class SelectionPlan(CaseAggregate):
    picks: tuple[SelectionPick, ...]

    def __init__(self) -> None:
        """State is set by the Planned event's apply."""

    class Planned(CaseAggregate.Created):
        period_start: str
        period_end: str
        capacity: int
        random_share: float
        exclude_months: int
        seed: int
        picks: tuple[SelectionPick, ...]
        excluded: dict[str, int]

        def apply(self, aggregate: SelectionPlan) -> None:
            aggregate.picks = self.picks

    @classmethod
    def record(cls, period: Period, capacity: int, random_share: float, exclude_months: int,
               seed: int, picks: tuple[SelectionPick, ...], excluded: dict[str, int], *,
               actor: str, reason: str, at: datetime) -> SelectionPlan:
        return cls._create(cls.Planned, id=natural_id("selection-plan",
                                                      f"{period}:{require_aware(at).isoformat()}"),
                           timestamp=at, actor=parse_actor(actor), reason=parse_reason(reason),
                           period_start=period.start.isoformat(),
                           period_end=period.end.isoformat(), capacity=capacity,
                           random_share=random_share, exclude_months=exclude_months, seed=seed,
                           picks=picks, excluded=excluded)
