"""Statutory caps on penalties for false statements, by culpability (19 U.S.C. 1592(c)),
so a proposed or decided amount can be checked against the law it cites."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

_CENT = Decimal("0.01")


class Culpability(StrEnum):
    NEGLIGENCE = "negligence"
    GROSS_NEGLIGENCE = "gross_negligence"
    FRAUD = "fraud"


@dataclass(frozen=True)
class PenaltyBasis:
    """The values a cap is computed from."""

    culpability: Culpability
    revenue_loss: Decimal
    domestic_value: Decimal
    dutiable_value: Decimal
    prior_disclosure: bool


@dataclass(frozen=True)
class CapPolicy:
    """Interest charged on the loss where a prior disclosure reduces the cap to interest."""

    interest_rate: Decimal = Decimal("0.08")


def penalty_cap(basis: PenaltyBasis, policy: CapPolicy | None = None) -> Decimal:
    rules = policy or CapPolicy()
    loss, domestic, dutiable = basis.revenue_loss, basis.domestic_value, basis.dutiable_value
    if basis.culpability is Culpability.FRAUD:
        if basis.prior_disclosure:
            cap = loss if loss > 0 else dutiable * Decimal("0.10")
        else:
            cap = domestic
    else:
        multiple, share = ((Decimal(4), Decimal("0.40"))
                           if basis.culpability is Culpability.GROSS_NEGLIGENCE
                           else (Decimal(2), Decimal("0.20")))
        if basis.prior_disclosure:
            cap = loss * rules.interest_rate
        elif loss > 0:
            cap = min(domestic, loss * multiple)
        else:
            cap = dutiable * share
    return cap.quantize(_CENT, rounding=ROUND_DOWN)  # a legal maximum never rounds up
