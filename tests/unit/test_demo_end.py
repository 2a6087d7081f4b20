"""The demo's default last day: its evening (trade, risk run and due scan at 18:00-20:00
UTC) must be over, so that nothing it records lies in the future of the real clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

from interfaces.cli.main import demo_end


def test_before_the_evening_is_over_the_demo_ends_yesterday() -> None:
    assert demo_end(datetime(2026, 12, 1, 4, 30, tzinfo=UTC)) == date(2026, 11, 30)
    assert demo_end(datetime(2026, 12, 1, 20, 29, tzinfo=UTC)) == date(2026, 11, 30)


def test_once_the_evening_is_over_the_demo_ends_today() -> None:
    assert demo_end(datetime(2026, 12, 1, 20, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert demo_end(datetime(2026, 12, 1, 23, 59, tzinfo=UTC)) == date(2026, 12, 1)
