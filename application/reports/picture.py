"""The risk picture and targeting against chance as figures: rows for a table and the
series a chart draws, computed one way for the plan report (which draws every chart into
its PDF at once) and for the analyst's dashboard (which shows the tables at once and draws
each chart on request, cached). Kept apart from both so that a figure in the report and
the same figure on the dashboard cannot drift.

Nothing here reads a database: the callers pass what the sources port returned (value
curve, rate rows of the risk run's results, an effectiveness measure)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from application.reports import charts
from application.reports.periodic_sections import hit_row, tiers_of
from application.reports.sources import Row
from application.reports.timeline import field_title
from application.targeting.effectiveness import Effectiveness
from domain.reference import INDUSTRIES

CHART_ROWS = 15
"""Groups drawn on a rates chart (the lowest); the table beside it lists them all."""
LABEL_CHARS = 30
"""Longest group label on a rates chart (it takes room from the bars)."""
TARGET_RATE = 0.95
"""The dashed line of the rates charts: the acceptable compliance rate."""

RateRow = dict[str, Any]


def industry_label(code: str) -> str:
    return f"{code} {INDUSTRIES.get(code, '')}".strip()


def rate_rows(rows: list[Row], label: Callable[[str], str] = field_title,
              ) -> list[RateRow]:
    """Rows of the risk run's compliance rates (key, rate, interval, lines) as the tables
    and charts show them: a readable label (by default the code in words,
    `record_keeping` -> `record keeping`), the code, the rate and its 95% interval."""
    return [{"key": label(str(r["key"])), "code": str(r["key"]), "rate": r["compliance_rate"],
             "low": r["compliance_low"], "high": r["compliance_high"], "lines": r["lines"],
             "discrepancies": r["discrepancies"]} for r in rows]


def rates_chart(rows: list[RateRow], title: str) -> str:
    """The lowest CHART_ROWS groups of `rows` (sorted lowest first by the caller) with
    their intervals and the target line."""
    shown = [r for r in rows if r["rate"] is not None][:CHART_ROWS]
    return charts.rates_with_intervals(
        [_short(r["key"]) for r in shown], [r["rate"] for r in shown],
        [r["low"] for r in shown], [r["high"] for r in shown], title=title,
        target=TARGET_RATE)


def _short(label: str, width: int = LABEL_CHARS) -> str:
    """A chart's group label cut at a word, with an ellipsis saying so (the table beside
    the chart has it whole): "85 Electrical and telecom eq" read as a typo."""
    return textwrap.shorten(label, width, placeholder=" …")


@dataclass(frozen=True)
class Concentration:
    """How the value of trade is spread over importers, and the account tiers' cut-offs:
    the curve as a few hundred points (charts.curve_points), not every importer's value,
    so that it is small enough to store and to read back on every page."""

    importers: int
    """Importers scored."""
    xs: list[float]
    ys: list[float]
    """The curve: share of importers (largest first), share of value."""
    tiers: list[dict[str, Any]]
    """Per tier: importers, value, share, cumulative share at its end."""

    @property
    def cut_offs(self) -> list[tuple[str, float]]:
        """(label, cumulative share) where each tier but the last ends."""
        return [(f"tier {r['tier']}", r["cumulative_share"]) for r in self.tiers[:-1]]


def concentration(values: list[tuple[float, int]]) -> Concentration:
    """From (annual value, tier) of every scored importer, highest value first."""
    count = len(values)
    return concentration_of(np.fromiter((value for value, _ in values), np.float64, count),
                            np.fromiter((tier for _, tier in values), np.int64, count))


def concentration_of(values: npt.NDArray[np.float64],
                     numbers: npt.NDArray[np.int64]) -> Concentration:
    """From every scored importer's annual value and tier, as two arrays in any order:
    ordered highest value first, so that the tiers' sums and the curve run through the
    values in one order whichever way they came (importers of equal value may change
    places: their values are the same numbers, so no sum changes)."""
    order = np.argsort(-values)
    ordered, tiers_in_order = values[order], numbers[order]
    xs, ys = charts.curve_points(ordered, ordered=True)
    return Concentration(len(values), xs, ys, tiers_of(ordered, tiers_in_order))


def concentration_chart(found: Concentration) -> str:
    return charts.concentration_curve_of(found.xs, found.ys, found.importers, found.cut_offs,
                                         title="Value concentration and tier cut-offs")


@dataclass(frozen=True)
class Targeting:
    """Targeted against random exams: the national row, the districts' and the rules'
    rows (hit_row shape), and the rows a chart compares (those with exams)."""

    national: dict[str, Any]
    districts: list[dict[str, Any]]
    rules: list[dict[str, Any]]
    shown: list[dict[str, Any]]


def targeting(measured: Effectiveness, districts: Collection[str] | None) -> Targeting:
    """National: the national row and every rule's; within `districts`: those districts'
    rows only (a rule's exams span districts, so rules are a national figure)."""
    national = hit_row(measured.overall)
    by_district = [hit_row(c) for c in measured.by_district
                   if districts is None or c.key in districts]
    rules = [hit_row(c) for c in measured.by_rule]
    candidates = [national, *rules] if districts is None else by_district
    shown = [r for r in candidates
             if r["targeted"]["examined"] or r["random"]["examined"]]
    return Targeting(national, by_district, rules, shown)


def targeting_series(found: Targeting) -> tuple[list[str], list[float], list[float],
                                                 list[float]]:
    """(labels, compliance, lower, upper) of the examined lines of each shown row, its
    targeted side then its random side: fewer compliant lines means more hits."""
    labels: list[str] = []
    rates: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for row in found.shown:
        for side in ("targeted", "random"):
            if row[side]["examined"]:
                labels.append(f"{row['key']} {side}")
                rates.append(1 - row[side]["rate"])
                lows.append(1 - row[side]["high"])
                highs.append(1 - row[side]["low"])
    return labels, rates, lows, highs


def targeting_chart(found: Targeting) -> str:
    labels, rates, lows, highs = targeting_series(found)
    return charts.rates_with_intervals(
        labels, rates, lows, highs,
        title="Targeted vs random exams: compliance of examined lines "
              "(lower = more hits)")
