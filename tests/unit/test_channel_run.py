"""ChannelRun: one pass of channel decisions; its random share is a share in [0, 1)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.channel_run import ChannelRun
from domain.errors import InvalidValueError

from .builders import REASON, T0, assert_names

RUN = uuid4()


def record(random_share: float, **overrides: Any) -> ChannelRun:
    fields: dict[str, Any] = {
        "rule_versions": ("TR-2026-00001@1",), "random_share": random_share, "seed": 7,
        "input_batches": (uuid4(),), "counts": {"red": 3, "amber": 2, "green": 15},
        "random_exams": 1, "actor": "system:channel", "reason": REASON, "at": T0,
    }
    fields.update(overrides)
    return ChannelRun.record(RUN, **fields)


@pytest.mark.parametrize("share", [0.0, 0.05, 0.5, 0.999999])
def test_a_share_in_zero_to_one_is_recorded(share: float) -> None:
    run = record(share)
    [event] = run.pending_events
    assert isinstance(event, ChannelRun.EntriesChannelled)
    assert event.random_share == share
    assert (run.id, run.entries, run.counts) == (RUN, 20, {"red": 3, "amber": 2, "green": 15})


@pytest.mark.parametrize("share", [1.0, 1.5, -0.01, -1.0, float("nan")],
                         ids=["one", "above one", "just below zero", "minus one", "nan"])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(InvalidValueError) as refused:
        record(share)
    assert_names(refused.value, field="random_share",
                 mentions=[repr(share), "expected a share in [0, 1)"])
