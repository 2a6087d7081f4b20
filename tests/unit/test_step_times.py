"""The national demo's step table: steps in order, a total that is their sum, and a step
still recorded when it fails (so a failed load shows how far it got)."""

from __future__ import annotations

import pytest

from interfaces.cli.step_times import StepTimes, peak_rss_mib


def test_steps_are_listed_in_order_with_a_total() -> None:
    times = StepTimes()
    with times.step("importing the accounts"):
        sum(range(10_000))
    with times.step("first risk run"):
        pass
    lines = times.lines()
    assert [line.split()[0] for line in lines] == ["importing", "first", "total"]
    assert times.total_seconds() == pytest.approx(sum(s.seconds for s in times.steps))
    assert all("peak" in line and "MiB" in line for line in lines[:-1])


def test_a_failing_step_is_still_recorded() -> None:
    times = StepTimes()
    with pytest.raises(RuntimeError), times.step("views caught up"):
        raise RuntimeError("view failed")
    assert [step.name for step in times.steps] == ["views caught up"]


def test_peak_memory_is_this_process_s_and_plausible() -> None:
    before = peak_rss_mib()
    ballast = bytearray(64 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])
    assert peak_rss_mib() >= before
    assert peak_rss_mib() >= 64
