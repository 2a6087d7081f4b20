"""A selection plan: the next compliance assessments within a stated capacity.

Risk picks go to the highest risk scores (expected non-compliant value, adjusted); a
random share of the capacity is drawn from every eligible account, so the plan also
measures true compliance and how much better targeting does than chance. Accounts
assessed within the exclusion window are left out; partnership programmes (trusted
trader, self-assessment, compliance monitoring) exempt an account from risk selection but
not from the random draw, so partners' compliance is still measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

import numpy as np

from application.bulk_work import collector_paused
from application.ports import Authorise, Clock
from domain.assessment import AssessmentOrigin
from domain.errors import DomainError, InvalidValueError
from domain.importer_history import ImporterHistory
from domain.reference import ComplianceArea
from domain.selection_plan import SelectionPick, SelectionPlan
from domain.values import Period, parse_actor

EXEMPT_PROGRAMMES = frozenset({"trusted_trader", "self_assessment", "compliance_monitoring"})


class ScoresPort(Protocol):
    def all_scores(self) -> list[dict[str, Any]]:
        """Every scored account, highest score first."""
        ...


class HistoriesPort(Protocol):
    def histories(self) -> Mapping[str, ImporterHistory]: ...


@dataclass(frozen=True)
class PlanResult:
    plan_id: str
    period: str
    capacity: int
    random_share: float
    picks: list[SelectionPick]
    excluded: dict[str, int]
    opened: list[str] = field(default_factory=list)
    not_opened: dict[str, str] = field(default_factory=dict)


class SelectionPlanner:
    def __init__(self, scores: ScoresPort, accounts: HistoriesPort,
                 save: Callable[..., object], open_assessment: Callable[..., str],
                 clock: Clock, authorise: Authorise | None = None) -> None:
        """`authorise(actor, "selection_plan")` refuses an actor who may not plan (each
        assessment a plan opens is checked again, as the command it is)."""
        self.authorise = authorise
        self.scores = scores
        self.accounts = accounts
        self.save = save
        self.open_assessment = open_assessment
        self.clock = clock

    @collector_paused
    def plan(self, period: Period, capacity: int, random_share: float, *, actor: str,
             exclude_months: int = 24, seed: int = 0, open_cases: bool = False) -> PlanResult:
        actor = parse_actor(actor)
        if self.authorise is not None:
            self.authorise(actor, "selection_plan")
        if isinstance(capacity, bool) or capacity < 1:
            raise InvalidValueError("capacity", capacity, "must be at least 1")
        if not 0 <= random_share <= 1:
            raise InvalidValueError("random_share", random_share, "expected a share in [0, 1]")
        now = self.clock()
        if open_cases and period.end >= now.date():
            raise InvalidValueError("period", str(period),
                                    "must end before today to open assessments of it "
                                    f"({now.date().isoformat()})")
        histories = self.accounts.histories()
        cutoff = period.start - timedelta(days=round(exclude_months * 30.44))
        excluded = {"closed": 0, "assessed_recently": 0, "partnership_exempt_from_risk": 0,
                    "no_risk_found": 0}
        eligible: list[dict[str, Any]] = []
        risk_pool: list[dict[str, Any]] = []
        for row in self.scores.all_scores():
            history = histories.get(row["importer_number"])
            if history is not None and history.closed:
                # Closed since the last risk run, which would have dropped its score.
                excluded["closed"] += 1
                continue
            if history is not None and _recent(history.last_assessed, cutoff):
                excluded["assessed_recently"] += 1
                continue
            eligible.append(row)
            if history is not None and history.programmes & EXEMPT_PROGRAMMES:
                excluded["partnership_exempt_from_risk"] += 1
            elif float(row["score"]) <= 0:
                excluded["no_risk_found"] += 1
            else:
                risk_pool.append(row)
        random_count = math.floor(capacity * random_share + 0.5)  # half rounds up
        risk_count = capacity - random_count
        picks = [SelectionPick(
            importer_number=row["importer_number"], basis="risk", rank=rank,
            score=round(float(row["score"]), 2), tier=int(row["tier"]),
            district=row["district"],
            reason=(f"rank {rank} by risk score {float(row['score']):,.2f} (expected "
                    f"non-compliant value {float(row['expected_noncompliant_value']):,.2f}, "
                    f"estimated compliance {float(row['compliance_rate']):.1%}, "
                    f"{row['category']} risk, tier {row['tier']})"))
            for rank, row in enumerate(risk_pool[:risk_count], start=1)]
        chosen = {pick.importer_number for pick in picks}
        remaining = [row for row in eligible if row["importer_number"] not in chosen]
        generator = np.random.default_rng(seed)
        drawn: list[int] = (generator.choice(len(remaining), size=min(random_count,
                                                                       len(remaining)),
                                             replace=False).tolist()
                            if remaining and random_count else [])
        picks.extend(SelectionPick(
            importer_number=remaining[i]["importer_number"], basis="random", rank=0,
            score=round(float(remaining[i]["score"]), 2), tier=int(remaining[i]["tier"]),
            district=remaining[i]["district"],
            reason=(f"random draw ({random_share:.0%} of capacity, seed {seed}) from "
                    f"{len(remaining):,} eligible accounts, to measure compliance and the "
                    "hit rate of risk selection"))
            for i in sorted(drawn))
        plan = SelectionPlan.record(period, capacity, random_share, exclude_months, seed,
                                    tuple(picks), excluded, actor=actor,
                                    reason=f"selection plan for {period}", at=now)
        self.save(plan)
        opened: list[str] = []
        not_opened: dict[str, str] = {}
        if open_cases:
            for pick in picks:
                origin = (AssessmentOrigin.RISK_SELECTION if pick.basis == "risk"
                          else AssessmentOrigin.RANDOM)
                try:
                    opened.append(self.open_assessment(
                        pick.importer_number, origin=origin, period=period,
                        scope=list(ComplianceArea), actor=actor,
                        reason=f"selection plan {plan.id}: {pick.reason}",
                        idempotency_key=f"selection:{plan.id}:{pick.importer_number}"))
                except DomainError as refused:
                    # Each opening is its own command; one refused (say, an overlapping
                    # open assessment) leaves the others standing and is reported.
                    not_opened[pick.importer_number] = str(refused)
        return PlanResult(str(plan.id), str(period), capacity, random_share, picks, excluded,
                          opened, not_opened)


def _recent(last: date | None, cutoff: date) -> bool:
    return last is not None and last >= cutoff
