"""The audit log's time text (projections.view.iso_time) is `isoformat()`'s, whatever the
time: the fast way for UTC times and isoformat itself for any other."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from projections.view import iso_time

TIMES = [
    datetime(2025, 10, 7, 9, 0, tzinfo=UTC),
    datetime(2025, 10, 7, 9, 0, 0, 1, tzinfo=UTC),
    datetime(2025, 10, 7, 9, 0, 0, 120_000, tzinfo=UTC),
    datetime(2025, 10, 7, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2025, 10, 7, 9, 0),  # naive
    datetime(2025, 10, 7, 9, 0, 0, 7),
    datetime(2025, 10, 7, 9, 0, tzinfo=timezone(timedelta(hours=2))),
    datetime(2025, 10, 7, 9, 0, tzinfo=timezone(timedelta(hours=-2, minutes=-30))),
    datetime(2025, 10, 7, 9, 0, tzinfo=timezone(timedelta(seconds=30))),  # RFC 3339 has none
    datetime(2025, 10, 7, 9, 0, tzinfo=timezone(timedelta(0))),  # UTC, not the singleton
]


@pytest.mark.parametrize("value", TIMES, ids=lambda value: value.isoformat())
def test_the_text_is_isoformats(value: datetime) -> None:
    assert iso_time(value) == value.isoformat()


def test_a_time_decoded_from_an_event_takes_the_fast_way_and_gives_the_same_text() -> None:
    """An event's stored time ("...Z") decodes to a time in UTC itself, the case the fast
    way is for."""
    for text in ('"2026-04-02T01:00:00Z"', '"2026-04-02T01:00:00.000250Z"'):
        value = msgspec.json.decode(text, type=datetime)
        assert value.tzinfo is UTC
        assert iso_time(value) == value.isoformat()
