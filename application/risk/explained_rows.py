"""A stored risk score (a row of the scores table, its adjustments as JSON) with the
explanation an analyst reads: the base factors from its figures, then its adjustments.
Shared by the store that serves the API and the web's ranking query."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import msgspec

from domain.risk_scoring import Factor, ScoreFigures, explanation


def explained_row(row: dict[str, Any], *, every_factor: bool = False) -> dict[str, Any]:
    """`row` with `explanation` in place of `adjustments`; `every_factor` lists all the
    adjustments, not only the strongest few."""
    result = dict(row)
    adjusted = [Factor(**factor) for factor in msgspec.json.decode(result.pop("adjustments"))]
    figures = ScoreFigures(
        annual_value=float(row["annual_value"]), tier=int(row["tier"]),
        discrepancy_rate=1 - float(row["compliance_rate"]),
        compliance_low=float(row["compliance_low"]),
        compliance_high=float(row["compliance_high"]), lines=int(row["lines"]),
        discrepancies=int(row["discrepancies"]),
        expected_noncompliant_value=float(row["expected_noncompliant_value"]),
        revenue_at_risk=float(row["revenue_at_risk"]), impact_level=row["impact_level"])
    factors = (explanation(figures, adjusted, top=4 + len(adjusted)) if every_factor
               else explanation(figures, adjusted))
    result["explanation"] = [asdict(factor) for factor in factors]
    return result
