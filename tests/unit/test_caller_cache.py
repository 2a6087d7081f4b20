"""The API's memory of callers it checked: trusted for its few seconds and no longer,
never past a token's own expiry, forgotten on logout and on any change to people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.access import Principal, Role
from interfaces.http.caller_cache import CallerCache

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
OFFICER = Principal("user:officer11", frozenset({Role.OFFICER}), frozenset({"11"}), None)


class Ticks:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_a_checked_caller_is_trusted_for_its_seconds_and_then_checked_again() -> None:
    ticks = Ticks()
    cache = CallerCache(2, clock=ticks)
    assert cache.get("secret", NOW) is None
    cache.put("secret", OFFICER)
    assert cache.get("secret", NOW) == OFFICER
    assert cache.get("another secret", NOW) is None
    ticks.value += 1.99
    assert cache.get("secret", NOW) == OFFICER
    ticks.value += 0.01
    assert cache.get("secret", NOW) is None


def test_a_token_is_never_trusted_past_its_expiry() -> None:
    token = Principal("user:feed", frozenset({Role.ANALYST}), None, None, "t1",
                      NOW + timedelta(seconds=1))
    cache = CallerCache(60, clock=Ticks())
    cache.put("clt_feed_t1_x", token)
    assert cache.get("clt_feed_t1_x", NOW) == token
    assert cache.get("clt_feed_t1_x", NOW + timedelta(seconds=1)) is None


def test_logout_forgets_one_session_and_a_change_to_people_forgets_all() -> None:
    cache = CallerCache(60, clock=Ticks())
    cache.put("a", OFFICER)
    cache.put("b", OFFICER)
    cache.forget("a")
    assert cache.get("a", NOW) is None
    assert cache.get("b", NOW) == OFFICER
    cache.clear()
    assert cache.get("b", NOW) is None


def test_zero_seconds_means_every_request_is_checked() -> None:
    cache = CallerCache(0, clock=Ticks())
    cache.put("a", OFFICER)
    assert cache.get("a", NOW) is None


def test_the_memory_is_bounded() -> None:
    cache = CallerCache(60, clock=Ticks(), max_entries=3)
    for name in "abcd":
        cache.put(name, OFFICER)
    assert cache.get("d", NOW) == OFFICER
    assert sum(cache.get(name, NOW) is not None for name in "abc") == 0


def test_negative_seconds_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CallerCache(-1)
