"""The RiskAssessed events of a risk run, in either of two forms that store the same bytes:
event objects (`assessed_events`: what `save` takes, built by domain.importer_account's
`risk_assessed` with a Decimal per money or rate field and a tuple of RiskFactors) or rows
of fields (`AssessedRows`: what the bulk row path takes, application.event_rows).

A first national run appends 443,000 of them. As objects, each costs a dozen Decimals,
a RiskFactor per adjustment and the library's event construction, only to be taken apart
again by the mapper; as rows, the run's arrays are formatted a chunk at a time into the
values the mapper would have produced from those objects (a Decimal of `f"{x:.2f}"` is
stored as that text). The tests hold the two forms to identical stored rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import repeat
from typing import Any, overload
from uuid import UUID

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from application.event_rows import ColumnChunk, EventRow, Same, rows_from_columns
from application.risk.factor_columns import factor_lists
from application.risk.fixed_texts import fixed_texts
from domain.importer_account import ImporterAccount, RiskFactor, risk_assessed
from domain.risk_scoring import (
    CATEGORIES,
    IMPACT_LEVELS,
    METHOD_VERSION,
    Adjustments,
    Factor,
    RiskInputs,
    RiskScores,
)

CHUNK = 10_000
"""Rows formatted at a time: the texts of a chunk are made with one comprehension per
field, and only a chunk of them is held while the events stream to the store."""

_MONEY = ("score", "expected_noncompliant_value", "revenue_at_risk", "annual_value")
_RATES = ("compliance_rate", "compliance_low", "compliance_high", "cumulative_share")


@dataclass(frozen=True)
class AssessedFigures:
    """Everything a run's RiskAssessed events carry, as the run's arrays (one entry per
    registered importer, in the run's order) and the run's own values."""

    at: datetime
    actor: str
    year: int
    batches: tuple[UUID, ...]
    inputs: RiskInputs
    scores: RiskScores
    compliance_rate: npt.NDArray[np.float64]
    compliance_low: npt.NDArray[np.float64]
    compliance_high: npt.NDArray[np.float64]
    cumulative_share: npt.NDArray[np.float64]
    lines: npt.NDArray[np.int64]
    discrepancies: npt.NDArray[np.int64]
    explanations: Adjustments

    @property
    def reason(self) -> str:
        return f"risk run for {self.year} ({METHOD_VERSION})"

    def column(self, name: str) -> npt.NDArray[np.float64]:
        """A money or rate field's values for every importer."""
        scores, inputs = self.scores, self.inputs
        arrays = {"score": scores.score,
                  "expected_noncompliant_value": scores.expected_noncompliant_value,
                  "revenue_at_risk": scores.revenue_at_risk,
                  "annual_value": inputs.annual_value,
                  "compliance_rate": self.compliance_rate,
                  "compliance_low": self.compliance_low,
                  "compliance_high": self.compliance_high,
                  "cumulative_share": self.cumulative_share}
        return arrays[name]


@dataclass(frozen=True)
class Targets:
    """The changed importers: their positions in the run's arrays, their account ids and
    the version each one's RiskAssessed event takes (its head's version + 1)."""

    positions: list[int]
    account_ids: list[UUID]
    versions: list[int]
    prevs: list[str] | None = None
    """The content hash of each one's head (the head its version follows), when read
    set-wise: the event rows take them as the chunks' `prevs`."""


def assessed_events(figures: AssessedFigures, targets: Targets
                    ) -> list[ImporterAccount.RiskAssessed]:
    """The events as objects, one per changed importer (the path `save` takes)."""
    return [_event(figures, i, account_id, version)
            for i, account_id, version in zip(targets.positions, targets.account_ids,
                                               targets.versions, strict=True)]


def _event(figures: AssessedFigures, i: int, account_id: UUID,
           version: int) -> ImporterAccount.RiskAssessed:
    scores, inputs = figures.scores, figures.inputs
    return risk_assessed(
        account_id, version, figures.at, actor=figures.actor, reason=figures.reason,
        method_version=METHOD_VERSION, year=figures.year,
        score=_money(scores.score[i]),
        expected_noncompliant_value=_money(scores.expected_noncompliant_value[i]),
        revenue_at_risk=_money(scores.revenue_at_risk[i]),
        compliance_rate=_rate(figures.compliance_rate[i]),
        compliance_low=_rate(figures.compliance_low[i]),
        compliance_high=_rate(figures.compliance_high[i]),
        lines_examined=int(figures.lines[i]), discrepancies=int(figures.discrepancies[i]),
        category=CATEGORIES[scores.category[i]], impact_level=IMPACT_LEVELS[scores.impact[i]],
        tier=int(inputs.tier[i]), annual_value=_money(inputs.annual_value[i]),
        cumulative_share=_rate(figures.cumulative_share[i]),
        explanation=tuple(RiskFactor(f.factor, f.value, _rate(f.effect))
                          for f in figures.explanations[i]),
        input_batches=figures.batches)


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


def _rate(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


class AssessedRows(Sequence[EventRow]):
    """The events as rows of values in `order` (the path of application.event_rows,
    EventRows.fields), made a chunk at a time as they are iterated, so that the store can
    take each chunk while the next is made."""

    def __init__(self, figures: AssessedFigures, targets: Targets,
                 order: Sequence[str]) -> None:
        self.figures = figures
        self.targets = targets
        self.order = order

    def __len__(self) -> int:
        return len(self.targets.positions)

    @overload
    def __getitem__(self, index: int) -> EventRow: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[EventRow]: ...

    def __getitem__(self, index: int | slice) -> EventRow | Sequence[EventRow]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        k = range(len(self))[index]
        return self._chunk(k, k + 1)[0]

    def __iter__(self) -> Iterator[EventRow]:
        for start in range(0, len(self), CHUNK):
            yield from self._chunk(start, min(start + CHUNK, len(self)))

    def column_chunks(self) -> Iterator[ColumnChunk]:
        """The same events a chunk of columns at a time (application.event_rows.ColumnRows):
        money and rates as texts made by numpy and pyarrow (fixed_texts), counts and labels
        as arrays, the run's own values once; only the explanations stay per event."""
        figures, targets = self.figures, self.targets
        scores, inputs = figures.scores, figures.inputs
        same = {"timestamp": figures.at, "actor": figures.actor, "reason": figures.reason,
                "method_version": METHOD_VERSION, "year": figures.year,
                "input_batches": figures.batches}
        categories = pa.array(CATEGORIES, pa.string())
        impacts = pa.array(IMPACT_LEVELS, pa.string())
        explanations = figures.explanations
        for start in range(0, len(self), CHUNK):
            stop = min(start + CHUNK, len(self))
            positions = targets.positions[start:stop]
            index = np.array(positions, dtype=np.int64)
            columns: dict[str, Any] = {name: Same(value) for name, value in same.items()}
            columns.update({name: fixed_texts(figures.column(name)[index], 2)
                            for name in _MONEY})
            columns.update({name: fixed_texts(figures.column(name)[index], 6)
                            for name in _RATES})
            columns.update({
                "lines_examined": pa.array(figures.lines[index].astype(np.int64)),
                "discrepancies": pa.array(figures.discrepancies[index].astype(np.int64)),
                "category": categories.take(pa.array(scores.category[index].astype(np.int64))),
                "impact_level": impacts.take(pa.array(scores.impact[index].astype(np.int64))),
                "tier": pa.array(inputs.tier[index].astype(np.int64)),
                "explanation": factor_lists(explanations, index)})
            yield ColumnChunk(targets.account_ids[start:stop], targets.versions[start:stop],
                              columns, None if targets.prevs is None
                              else targets.prevs[start:stop])

    def _chunk(self, start: int, stop: int) -> list[EventRow]:
        """One column per field for the chunk (the texts made a column at a time), zipped
        into rows."""
        figures, targets = self.figures, self.targets
        positions = targets.positions[start:stop]
        index = np.array(positions, dtype=np.int64)
        scores, inputs = figures.scores, figures.inputs
        columns: dict[str, Iterable[Any]] = {
            name: _texts(figures.column(name)[index], 2) for name in _MONEY}
        columns.update({name: _texts(figures.column(name)[index], 6) for name in _RATES})
        explanations = figures.explanations
        columns.update({
            "timestamp": repeat(figures.at), "actor": repeat(figures.actor),
            "reason": repeat(figures.reason), "method_version": repeat(METHOD_VERSION),
            "year": repeat(figures.year), "input_batches": repeat(figures.batches),
            "lines_examined": figures.lines[index].tolist(),
            "discrepancies": figures.discrepancies[index].tolist(),
            "category": [CATEGORIES[c] for c in scores.category[index].tolist()],
            "impact_level": [IMPACT_LEVELS[c] for c in scores.impact[index].tolist()],
            "tier": inputs.tier[index].tolist(),
            "explanation": [_factors(explanations[i]) for i in positions]})
        return rows_from_columns(self.order, targets.account_ids[start:stop],
                                 targets.versions[start:stop], columns)


def _texts(values: npt.NDArray[np.float64], places: int) -> list[str]:
    """What the mapper stores for `Decimal(f"{value:.{places}f}")` of each value: that text,
    except for the non-finite values, which a Decimal spells its own way ('NaN',
    'Infinity'). (Joining digits column-wise in pyarrow was measured slower: making the
    Python strings dominates either way.)"""
    texts = [f"{value:.{places}f}" for value in values.tolist()]
    if not np.isfinite(values).all():
        texts = [text if math.isfinite(value) else str(Decimal(text))
                 for text, value in zip(texts, values.tolist(), strict=True)]
    return texts


def _text(value: float, places: int) -> str:
    text = f"{value:.{places}f}"
    return text if math.isfinite(value) else str(Decimal(text))


def _factors(factors: list[Factor]) -> list[dict[str, Any]]:
    """A RiskFactor tuple as the mapper stores it: each factor an object of its fields."""
    return [{"factor": f.factor, "value": f.value, "effect": _text(f.effect, 6)}
            for f in factors]
