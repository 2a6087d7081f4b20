"""Proposal rules of an enforcement action that no other test runs: a non-monetary action
carries no amount, and increased examinations end after the day they are proposed.

T0 (the proposal time) is 2026-03-02 09:00 UTC, so TODAY is 2026-03-02."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.enforcement_action import MONETARY, EnforcementKind
from domain.errors import InvalidValueError

from .builders import TODAY, assert_names, proposed_action

NON_MONETARY = [k.value for k in EnforcementKind if k not in MONETARY]


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_a_non_monetary_action_proposed_with_an_amount_is_refused(kind: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        proposed_action(kind, proposed_amount="500.00")
    assert_names(refused.value, field="proposed_amount",
                 mentions=["'500.00'", f"a {kind} carries no amount"])


@pytest.mark.parametrize("kind", NON_MONETARY)
def test_a_non_monetary_action_with_a_zero_amount_is_refused_too(kind: str) -> None:
    """Zero is still an amount: only no amount at all is accepted."""
    with pytest.raises(InvalidValueError) as refused:
        proposed_action(kind, proposed_amount="0.00")
    assert_names(refused.value, field="proposed_amount", mentions=["carries no amount"])


@pytest.mark.parametrize("until", [TODAY, TODAY - timedelta(days=1), TODAY - timedelta(days=400)],
                         ids=["the proposal day", "the day before", "a year before"])
def test_increased_examinations_ending_on_or_before_the_proposal_day_are_refused(
        until: object) -> None:
    with pytest.raises(InvalidValueError) as refused:
        proposed_action("increased_examinations", examinations_until=until)
    assert_names(refused.value, field="examinations_until",
                 mentions=[str(until), "must be after the day the action is proposed"])


def test_increased_examinations_may_end_the_day_after_the_proposal() -> None:
    tomorrow = TODAY + timedelta(days=1)
    action = proposed_action("increased_examinations", examinations_until=tomorrow.isoformat())
    assert action.examinations_until == tomorrow


def test_the_end_of_examinations_is_checked_for_any_kind_that_gives_one() -> None:
    with pytest.raises(InvalidValueError) as refused:
        proposed_action("informed_compliance", examinations_until=TODAY.isoformat())
    assert_names(refused.value, field="examinations_until", mentions=["2026-03-02"])
