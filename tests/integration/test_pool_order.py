"""The application's PostgreSQL pool hands out the connection returned last
(infrastructure.pool_order): sequential commands keep to one server process, while
concurrent ones still get connections of their own."""

from __future__ import annotations

import threading

import pytest

from application.compliance_cases import ComplianceCases
from infrastructure.pool_order import MostRecentFirst, hand_out_most_recent_first

on_postgres = pytest.mark.parametrize("store_environ", [
    pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


def _backend_pid(app: ComplianceCases) -> int:
    with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
        row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
    assert row is not None
    return int(row["pid"])


@on_postgres
def test_sequential_uses_keep_to_the_connection_returned_last(app: ComplianceCases) -> None:
    pool = app.recorder.datastore.pool  # type: ignore[attr-defined]
    pool.wait()  # every one of min_size connections is open and idle
    assert len(pool._pool) >= 2, "the pool should hold several idle connections"
    pids = {_backend_pid(app) for _ in range(10)}
    assert len(pids) == 1, f"sequential uses went to {len(pids)} server processes"


@on_postgres
def test_concurrent_uses_still_get_connections_of_their_own(app: ComplianceCases) -> None:
    held = threading.Barrier(3)
    pids: list[int] = []

    def use() -> None:
        with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
            assert row is not None
            pids.append(int(row["pid"]))
            held.wait(timeout=10)  # all three hold a connection at once

    threads = [threading.Thread(target=use) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(set(pids)) == 3


@on_postgres
def test_making_a_pool_lifo_keeps_its_idle_connections_and_is_idempotent(
        app: ComplianceCases) -> None:
    pool = app.recorder.datastore.pool  # type: ignore[attr-defined]
    pool.wait()
    idle = list(pool._pool)
    hand_out_most_recent_first(pool)
    assert isinstance(pool._pool, MostRecentFirst)
    assert list(pool._pool) == idle


def test_most_recent_first_pops_what_was_appended_last() -> None:
    idle: MostRecentFirst[str] = MostRecentFirst(["a", "b"])
    idle.append("c")
    assert [idle.popleft(), idle.popleft(), idle.popleft()] == ["c", "b", "a"]


def test_a_pool_without_a_deque_is_refused() -> None:
    class Odd:
        _pool: list[object] = []

    with pytest.raises(TypeError, match="pool_order"):
        hand_out_most_recent_first(Odd())
