"""Figures both periodic reports derive the same way from what the sources return: the
value concentration curve and its tiers, hit-rate rows of targeted against random exams,
and the ledger position and as-of time every report states. Kept apart from the builders
so the plan and the annual report cannot drift in how they compute one figure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.reports.sources import PeriodicSources
from application.targeting.effectiveness import Comparison, HitRate


@dataclass(frozen=True)
class Stamp:
    position: int
    as_of: datetime


def stamp(sources: PeriodicSources, position: int | None) -> Stamp:
    """Catch the views up to the position, then state it and its time."""
    at = sources.prepare(position)
    return Stamp(at, sources.as_of(at))


def tiers(values: list[tuple[float, int]]) -> list[dict[str, Any]]:
    """Importers and value per account tier, with each tier's share and the cumulative
    share at its end (the cut-off the concentration curve marks)."""
    total = sum(value for value, _ in values)
    found: dict[int, dict[str, Any]] = {}
    for value, tier in values:
        row = found.setdefault(tier, {"tier": tier, "importers": 0, "value": 0.0})
        row["importers"] += 1
        row["value"] += value
    running, result = 0.0, []
    for row in sorted(found.values(), key=lambda r: int(r["tier"])):
        running += row["value"]
        row["share"] = row["value"] / total if total else 0.0
        row["cumulative_share"] = running / total if total else 0.0
        result.append(row)
    return result


def hit_row(comparison: Comparison) -> dict[str, Any]:
    """A targeted-vs-random row; a side with no exams has no rate (not 0%)."""
    def side(rate: HitRate) -> dict[str, Any]:
        if not rate.examined:
            return {"examined": 0, "hits": 0, "rate": None, "low": None, "high": None}
        return {"examined": rate.examined, "hits": rate.hits, "rate": rate.rate,
                "low": rate.low, "high": rate.high}
    return {"key": comparison.key, "targeted": side(comparison.targeted),
            "random": side(comparison.random), "lift": comparison.lift,
            "better": comparison.clearly_better}
