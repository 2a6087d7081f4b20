"""A rule's backtest as the rule page shows it: the numbers (the API's own backtest,
application.targeting.effectiveness) and their chart (application.reports.charts), both
kept per rule and log position, so a reload or a second reader does not replay the
samples or redraw the chart while nothing was recorded meanwhile.

The chart shows compliance (1 - hit rate) with its 95% interval for the lines the rule
selects among the random exams and for the random lines it misses: the rule is worth
having when the first bar sits clearly left of the second."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TypeVar

from application.compliance_cases import ComplianceCases
from application.reports.charts import rates_with_intervals
from application.targeting.effectiveness import Backtest, HitRate, TargetingEffectiveness

CACHED = 64
V = TypeVar("V")


@dataclass(frozen=True)
class BacktestRow:
    key: str
    label: str
    rate: HitRate


@dataclass(frozen=True)
class BacktestView:
    number: str
    version: int
    rows: list[BacktestRow]
    clearly_better: bool
    """The random lines it selects hit more than those it misses, beyond their intervals."""
    lift: float | None


def view_of(result: Backtest) -> BacktestView:
    rows = [BacktestRow("matched", "every examined line it selects", result.matched),
            BacktestRow("matched_random", "random-exam lines it selects", result.matched_random),
            BacktestRow("all_random", "random-exam lines it misses", result.all_random)]
    chosen, missed = result.matched_random, result.all_random
    lift = chosen.rate / missed.rate if missed.rate and chosen.examined else None
    return BacktestView(result.rule, result.version, rows,
                        chosen.examined > 0 and chosen.low > missed.high, lift)


def chart_of(view: BacktestView) -> str:
    shown = [row for row in view.rows if row.key != "matched" and row.rate.examined]
    return rates_with_intervals(
        [f"{row.label} ({row.rate.examined:,})" for row in shown],
        [1 - row.rate.rate for row in shown], [1 - row.rate.high for row in shown],
        [1 - row.rate.low for row in shown],
        title=f"{view.number} v{view.version}: lines it selects vs. lines it misses",
        height=2.0)


class BacktestCache:
    """Per (rule, log position): the view and, once asked for, its chart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._views: OrderedDict[tuple[str, int], BacktestView] = OrderedDict()
        self._charts: OrderedDict[tuple[str, int], str] = OrderedDict()

    def view(self, app: ComplianceCases, effectiveness: TargetingEffectiveness,
             number: str) -> BacktestView:
        """The rule is loaded as the caller (out of scope: not found) before the cache is
        asked, so a cached result is never handed to someone who may not read it."""
        rule = app.get_rule(number)
        key = (rule.number, app.recorder.max_notification_id() or 0)
        with self._lock:
            found = self._views.get(key)
        if found is None:
            found = view_of(effectiveness.backtest(rule))
            self._keep(self._views, key, found)
        return found

    def chart(self, app: ComplianceCases, effectiveness: TargetingEffectiveness,
              number: str) -> str:
        view = self.view(app, effectiveness, number)
        key = (view.number, app.recorder.max_notification_id() or 0)
        with self._lock:
            found = self._charts.get(key)
        if found is None:
            found = chart_of(view)
            self._keep(self._charts, key, found)
        return found

    def _keep(self, store: OrderedDict[tuple[str, int], V], key: tuple[str, int],
              value: V) -> None:
        with self._lock:
            store[key] = value
            while len(store) > CACHED:
                store.popitem(last=False)


BACKTESTS = BacktestCache()
