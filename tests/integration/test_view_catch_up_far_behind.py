"""A catch-up of views far behind the log (a bulk load, views never built) goes through the
set-based rebuild, then on live; views only a little behind catch up live. Either way each
event is in each view exactly once, the positions end at the log's end, and the rows are
those the live path gives. While another rebuild holds the store's rebuild lock, the
catch-up waits for it, and rebuilds only what is still far behind."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import projections.worker as worker_module
from application.compliance_cases import ComplianceCases
from infrastructure.settings import Settings
from projections.catalogue import VIEWS
from projections.rebuild_lock import rebuild_lock
from projections.views.account_register import AccountRegister
from projections.views.worklist import WorkList
from projections.worker import Projections
from tests.integration.view_support import (
    RawLog,
    audit_ids,
    differences,
    dump_all,
    load_demo,
    positions,
    rebuilt_dumps,
)


@pytest.fixture
def rebuilt_views(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The views each set-based rebuild of the test rebuilt (rebuild_views spied on)."""
    calls: list[list[str]] = []
    original: Callable[..., dict[str, int]] = getattr(worker_module, "rebuild_views")  # noqa: B009

    def spy(store: Any, recorder: Any, mapper: Any, views: Any, *args: Any,
            **kwargs: Any) -> dict[str, int]:
        calls.append([view.name for view in views])
        return original(store, recorder, mapper, views, *args, **kwargs)

    monkeypatch.setattr(worker_module, "rebuild_views", spy)
    return calls


def test_views_at_zero_catch_up_by_a_rebuild_into_the_rows_the_live_path_gives(
        app: ComplianceCases, monkeypatch: pytest.MonkeyPatch, store: Settings,
        rebuilt_views: list[list[str]]) -> None:
    summary = load_demo(app, accounts=120)
    projections = Projections(app)
    monkeypatch.setattr(worker_module, "FAR_BEHIND", 10**9)  # first the live path
    projections.catch_up()
    assert rebuilt_views == []
    live = dump_all(projections.store)
    for view in VIEWS.values():  # forget the positions, keep the rows: a rebuild must
        projections.store.set_position(view, None)  # replace them, not add to them

    monkeypatch.setattr(worker_module, "FAR_BEHIND", 100)
    progress: list[tuple[str, int, int]] = []
    applied = projections.catch_up(progress=lambda *step: progress.append(step))

    assert rebuilt_views == [list(VIEWS)]
    assert applied["audit_log"] == summary.events
    assert positions(projections) == dict.fromkeys(VIEWS, summary.events)
    assert progress
    assert progress[-1][1] == progress[-1][2] == summary.events
    assert audit_ids(projections.store) == RawLog(app, store).notification_ids()
    caught_up = dump_all(projections.store)
    assert differences(live, caught_up) == {}
    assert live == caught_up


def test_only_the_views_far_behind_are_rebuilt_and_the_others_catch_up_live(
        app: ComplianceCases, monkeypatch: pytest.MonkeyPatch,
        rebuilt_views: list[list[str]]) -> None:
    load_demo(app, accounts=120, seed=3)
    projections = Projections(app)
    near = [AccountRegister, WorkList]
    projections.catch_up(near)  # small log: live
    assert rebuilt_views == []
    before = app.recorder.max_notification_id() or 0
    load_demo(app, accounts=10, seed=4)  # a little more: the near views stay near
    end = app.recorder.max_notification_id() or 0
    assert 0 < (end - before) * projections.store.rebuild_speedup < end

    monkeypatch.setattr(worker_module, "FAR_BEHIND", 1)
    projections.catch_up()

    assert rebuilt_views == [[view.name for view in VIEWS.values() if view not in near]]
    assert positions(projections) == dict.fromkeys(VIEWS, end)
    assert differences(dump_all(projections.store), rebuilt_dumps(projections)) == {}


def test_a_catch_up_far_behind_waits_for_another_rebuild_and_does_not_repeat_it(
        app: ComplianceCases, monkeypatch: pytest.MonkeyPatch, store: Settings,
        make_app: Callable[..., ComplianceCases],
        rebuilt_views: list[list[str]]) -> None:
    summary = load_demo(app, accounts=60, seed=8)
    monkeypatch.setattr(worker_module, "FAR_BEHIND", 1)
    projections = Projections(app)
    other = Projections(make_app())  # another process's rebuild, in effect
    outcome: dict[str, Any] = {}

    def catch_up() -> None:
        try:
            outcome["applied"] = projections.catch_up()
        except BaseException as error:
            outcome["error"] = error

    with rebuild_lock(other.store) as held:
        assert held
        waiting = threading.Thread(target=catch_up, daemon=True)
        waiting.start()
        other._rebuild(list(VIEWS.values()), None)  # the holder's rebuild of every view
    waiting.join(timeout=120)

    assert not waiting.is_alive()
    assert "error" not in outcome
    assert rebuilt_views == [list(VIEWS)]  # the holder's only: nothing left to rebuild
    assert outcome["applied"] == dict.fromkeys(VIEWS, 0)  # nor to apply live
    assert positions(projections) == dict.fromkeys(VIEWS, summary.events)
    assert audit_ids(projections.store) == RawLog(app, store).notification_ids()
    with rebuild_lock(other.store, wait=False) as held:  # released, so free again
        assert held


def test_the_services_catch_up_live_however_far_behind(
        app: ComplianceCases, monkeypatch: pytest.MonkeyPatch,
        rebuilt_views: list[list[str]]) -> None:
    """The API and the scheduler (rebuild_far_behind=False) never fork a rebuild from
    their threaded processes: a view at zero catches up live, to the same rows."""
    summary = load_demo(app, accounts=60, seed=5)
    projections = Projections(app)
    monkeypatch.setattr(worker_module, "FAR_BEHIND", 1)

    projections.catch_up([WorkList], rebuild_far_behind=False)

    assert rebuilt_views == []
    assert positions(projections)["worklist"] == summary.events
    projections.catch_up()
    assert rebuilt_views == [[view.name for view in VIEWS.values() if view is not WorkList]]
    assert differences(dump_all(projections.store), rebuilt_dumps(projections)) == {}
