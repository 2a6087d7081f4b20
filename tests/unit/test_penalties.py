"""Statutory penalty caps by culpability (19 U.S.C. 1592(c)), worked by hand.

Unless a test says otherwise the basis is: revenue loss 10 000.00, domestic value
500 000.00, dutiable value 400 000.00, interest rate 8%.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.penalties import CapPolicy, Culpability, penalty_cap

from .builders import penalty_basis

FRAUD, GROSS, NEGLIGENCE = (Culpability.FRAUD, Culpability.GROSS_NEGLIGENCE,
                            Culpability.NEGLIGENCE)


def cap(culpability: Culpability, *, prior_disclosure: bool = False,
        policy: CapPolicy | None = None, **values: str) -> Decimal:
    return penalty_cap(penalty_basis(culpability, prior_disclosure=prior_disclosure, **values),
                       policy)


# -- fraud ----------------------------------------------------------------------------------


def test_fraud_is_capped_at_the_domestic_value() -> None:
    assert cap(FRAUD) == Decimal("500000.00")


def test_fraud_is_capped_at_the_domestic_value_whatever_the_loss() -> None:
    assert cap(FRAUD, revenue_loss="900000.00") == Decimal("500000.00")
    assert cap(FRAUD, revenue_loss="0.00") == Decimal("500000.00")


def test_fraud_with_prior_disclosure_is_capped_at_one_times_the_loss() -> None:
    assert cap(FRAUD, prior_disclosure=True) == Decimal("10000.00")


def test_fraud_with_prior_disclosure_and_no_loss_is_capped_at_ten_percent_of_dutiable_value(
        ) -> None:
    # 400 000.00 x 10% = 40 000.00
    assert cap(FRAUD, prior_disclosure=True, revenue_loss="0.00") == Decimal("40000.00")


# -- gross negligence -----------------------------------------------------------------------


def test_gross_negligence_is_capped_at_four_times_the_loss_when_below_the_domestic_value(
        ) -> None:
    # min(500 000.00, 4 x 10 000.00 = 40 000.00)
    assert cap(GROSS) == Decimal("40000.00")


def test_gross_negligence_is_capped_at_the_domestic_value_when_below_four_times_the_loss(
        ) -> None:
    # min(30 000.00, 40 000.00)
    assert cap(GROSS, domestic_value="30000.00") == Decimal("30000.00")


def test_gross_negligence_at_exactly_four_times_the_loss_is_that_amount() -> None:
    assert cap(GROSS, domestic_value="40000.00") == Decimal("40000.00")


def test_gross_negligence_without_a_loss_is_capped_at_forty_percent_of_dutiable_value(
        ) -> None:
    # 400 000.00 x 40% = 160 000.00
    assert cap(GROSS, revenue_loss="0.00") == Decimal("160000.00")


# -- negligence -----------------------------------------------------------------------------


def test_negligence_is_capped_at_two_times_the_loss_when_below_the_domestic_value() -> None:
    # min(500 000.00, 2 x 10 000.00 = 20 000.00)
    assert cap(NEGLIGENCE) == Decimal("20000.00")


def test_negligence_is_capped_at_the_domestic_value_when_below_two_times_the_loss() -> None:
    # min(15 000.00, 20 000.00)
    assert cap(NEGLIGENCE, domestic_value="15000.00") == Decimal("15000.00")


def test_negligence_without_a_loss_is_capped_at_twenty_percent_of_dutiable_value() -> None:
    # 400 000.00 x 20% = 80 000.00
    assert cap(NEGLIGENCE, revenue_loss="0.00") == Decimal("80000.00")


# -- prior disclosure of (gross) negligence: interest on the loss ---------------------------


@pytest.mark.parametrize("culpability", [GROSS, NEGLIGENCE])
def test_prior_disclosure_of_negligence_caps_at_interest_on_the_loss(
        culpability: Culpability) -> None:
    # 10 000.00 x 8% = 800.00, whatever the domestic or dutiable value
    assert cap(culpability, prior_disclosure=True) == Decimal("800.00")
    assert cap(culpability, prior_disclosure=True, domestic_value="100.00") == Decimal("800.00")


@pytest.mark.parametrize("culpability", [GROSS, NEGLIGENCE])
def test_prior_disclosure_interest_follows_the_policy_rate(culpability: Culpability) -> None:
    # 10 000.00 x 5% = 500.00
    policy = CapPolicy(interest_rate=Decimal("0.05"))
    assert cap(culpability, prior_disclosure=True, policy=policy) == Decimal("500.00")


@pytest.mark.parametrize("culpability", [GROSS, NEGLIGENCE])
def test_prior_disclosure_of_negligence_without_a_loss_caps_at_nothing(
        culpability: Culpability) -> None:
    assert cap(culpability, prior_disclosure=True, revenue_loss="0.00") == Decimal("0.00")


def test_the_default_policy_charges_eight_percent_interest() -> None:
    assert CapPolicy().interest_rate == Decimal("0.08")
    basis = penalty_basis(NEGLIGENCE, prior_disclosure=True)
    assert penalty_cap(basis) == penalty_cap(basis, CapPolicy()) == Decimal("800.00")


# -- rounding to cents: a legal maximum is rounded down, never up --------------------------


@pytest.mark.parametrize(("culpability", "prior_disclosure", "values", "expected"), [
    # 1 234.56 x 8% = 98.7648 -> 98.76
    (NEGLIGENCE, True, {"revenue_loss": "1234.56"}, "98.76"),
    # 1 234.57 x 8% = 98.7656 -> 98.76
    (GROSS, True, {"revenue_loss": "1234.57"}, "98.76"),
    # 1 234.56 x 10% = 123.456 -> 123.45
    (FRAUD, True, {"revenue_loss": "0.00", "dutiable_value": "1234.56"}, "123.45"),
    # 1 234.57 x 40% = 493.828 -> 493.82
    (GROSS, False, {"revenue_loss": "0.00", "dutiable_value": "1234.57"}, "493.82"),
    # 1 234.57 x 20% = 246.914 -> 246.91
    (NEGLIGENCE, False, {"revenue_loss": "0.00", "dutiable_value": "1234.57"}, "246.91"),
])
def test_caps_are_rounded_to_the_cent(culpability: Culpability, prior_disclosure: bool,
                                      values: dict[str, str], expected: str) -> None:
    assert str(cap(culpability, prior_disclosure=prior_disclosure, **values)) == expected


@pytest.mark.parametrize("culpability", list(Culpability))
@pytest.mark.parametrize("prior_disclosure", [False, True])
def test_every_cap_is_stated_in_cents(culpability: Culpability,
                                      prior_disclosure: bool) -> None:
    result = penalty_cap(penalty_basis(culpability, revenue_loss="10000",
                                       domestic_value="500000", dutiable_value="400000",
                                       prior_disclosure=prior_disclosure))
    assert result.as_tuple().exponent == -2


def test_an_odd_interest_rate_is_still_rounded_to_the_cent() -> None:
    # 1 000.01 x 8.25% = 82.500825 -> 82.50
    policy = CapPolicy(interest_rate=Decimal("0.0825"))
    assert str(cap(NEGLIGENCE, prior_disclosure=True, policy=policy,
                   revenue_loss="1000.01")) == "82.50"
