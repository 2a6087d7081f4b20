"""The pushed cache and the change feed's handling of announcements, without a database:
an entry goes when an announcement names what it depends on; a read that began before
such an announcement does not store its (possibly stale) answer; a flush (the feed lost
or regained) refuses every read begun before it; `seen` moves only after the drops."""

from __future__ import annotations

from infrastructure.change_feed import ChangeFeed
from infrastructure.pushed_cache import PushedCache
from interfaces.http.app import caches_state


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _feed(cache: PushedCache[str, str]) -> ChangeFeed:
    feed = ChangeFeed("", "s", lambda: 0)
    feed.subscribers.append(cache)
    feed._connected(0)  # as if the LISTEN connection had come up
    return feed


def test_an_announcement_drops_the_entries_that_depend_on_what_it_names() -> None:
    cache: PushedCache[str, str] = PushedCache()
    feed = _feed(cache)
    assert cache.put("a", "case a", ["id-a"], feed.mark(), 60)
    assert cache.put("b", "case b", ["id-b"], feed.mark(), 60)
    feed.handle("7 id-a id-c")
    assert (cache.get("a"), cache.get("b"), feed.seen) == (None, "case b", 7)
    feed.handle("8 *")
    assert cache.get("b") is None
    assert feed.seen == 8


def test_a_read_begun_before_an_announcement_for_its_entry_is_not_stored() -> None:
    cache: PushedCache[str, str] = PushedCache()
    feed = _feed(cache)
    mark = feed.mark()
    feed.handle("3 id-a")  # committed after the read looked: what it read may be stale
    assert not cache.put("a", "stale", ["id-a"], mark, 60)
    assert cache.get("a") is None
    assert cache.put("b", "other", ["id-b"], mark, 60)  # not named: stored
    assert cache.put("a", "fresh", ["id-a"], feed.mark(), 60)


def test_nothing_is_stored_while_the_feed_is_down_nor_from_before_it_came_back() -> None:
    cache: PushedCache[str, str] = PushedCache()
    feed = _feed(cache)
    mark = feed.mark()
    assert cache.put("a", "case a", ["id-a"], mark, 60)
    feed._lost()
    assert cache.get("a") is None
    assert feed.mark() is None
    assert not feed.covers(0)
    assert not cache.put("a", "case a", ["id-a"], feed.mark(), 60)
    feed._connected(5)
    assert not cache.put("a", "case a", ["id-a"], mark, 60)
    assert cache.put("a", "case a", ["id-a"], feed.mark(), 60)
    assert feed.covers(5)
    assert not feed.covers(6)


def test_an_entry_lives_no_longer_than_its_seconds() -> None:
    clock = Clock()
    cache: PushedCache[str, str] = PushedCache(clock=clock)
    feed = _feed(cache)
    cache.put("a", "case a", ["id-a"], feed.mark(), 60)
    clock.now = 59.9
    assert cache.get("a") == "case a"
    clock.now = 60.0
    assert cache.get("a") is None


def test_an_unreadable_announcement_forgets_everything() -> None:
    cache: PushedCache[str, str] = PushedCache()
    feed = _feed(cache)
    cache.put("a", "case a", ["id-a"], feed.mark(), 60)
    feed.handle("garbage")
    assert cache.get("a") is None


def test_readiness_says_whether_the_caches_are_live() -> None:
    feed = ChangeFeed("host=127.0.0.1", "public", lambda: 0)
    assert caches_state(None) == ""  # SQLite: no caches across processes to report
    assert "caches off" in caches_state(feed)  # not listening (yet, or lost)
    feed.live = True
    assert "caches live" in caches_state(feed)
