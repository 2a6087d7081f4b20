"""The view runners on the real databases: a live runner picks up new commands; two
runners of one view apply every event exactly once; a rebuild keeps what a following worker
applied meanwhile; an event a view cannot handle stops it at that event and, once fixed, it
resumes there without skipping any."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.utils import _topic_cache, register_topic

from application.compliance_cases import ComplianceCases
from domain.base import CaseAggregate
from infrastructure.settings import Settings, load_settings
from interfaces.composition import build_application, initialise_store
from projections import queries
from projections.catalogue import VIEWS
from projections.runner import ProjectionFailedError
from projections.view import View
from projections.views.account_register import AccountRegister
from projections.views.audit_log import AuditLog
from projections.worker import Projections
from tests.builders import (
    ACTOR,
    FakeClock,
    register_importer,
    walk_assessment,
    walk_to_findings,
)
from tests.conftest import drop_schema, unique_schema
from tests.integration.view_support import (
    GHOST_TOPIC,
    RawLog,
    all_current,
    audit_ids,
    differences,
    dump_all,
    follow_in_thread,
    load_demo,
    positions,
    projections,
    rebuilt_dumps,
    wait_until,
)

__all__ = ["projections"]  # fixtures, used by name


def test_a_runner_following_live_picks_up_commands_made_after_it_started(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    walk_assessment(app, register_importer(app), "assigned", clock=clock)
    follower = Projections(make_app())
    stop = threading.Event()
    thread, errors = follow_in_thread(follower, stop)
    try:
        wait_until(lambda: all_current(follower), what="the initial catch-up")
        importer = register_importer(app, district="33")
        assessment, result = walk_to_findings(app, importer, clock=clock)
        app.set_compliance_class(importer, "b", actor=ACTOR, reason="annual review")
        newest = app.recorder.max_notification_id()

        wait_until(lambda: all(p == newest for p in positions(follower).values()),
                   what=f"every view at notification {newest}",
                   state=lambda: positions(follower))
        store = follower.store
        [row] = queries.account_register(store, importer_number=importer)
        assert (row["open_cases"], row["compliance_class"]) == (2, "b")
        assert {r["number"] for r in queries.worklist(store, clock().date(), district="33")} \
            == {assessment, result.plan_number}
        assert audit_ids(store)[-1] == newest
        # and again, a single event
        app.suspend_importer(importer, actor=ACTOR, reason="unpaid duty")
        wait_until(lambda: queries.account_register(store, importer_number=importer)[0][
            "status"] == "suspended", what="the suspension in the register")
        wait_until(lambda: all_current(follower), what="every view at the newest event",
                   state=lambda: positions(follower))
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive(), "the follower did not stop when told to"
    assert errors == []
    assert all_current(follower)
    assert differences(dump_all(follower.store), rebuilt_dumps(follower)) == {}


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[Settings]:
    schema = unique_schema()
    try:
        settings = load_settings({"COMPLIANCE_DATABASE_URL": postgres_url,
                                  "COMPLIANCE_POSTGRES_SCHEMA": schema})
        initialise_store(settings)
        yield settings
    finally:
        drop_schema(postgres_url, schema)


@pytest.mark.postgres
def test_two_runners_of_every_view_at_once_apply_each_event_exactly_once(
        postgres_store: Settings) -> None:
    apps = [build_application(postgres_store) for _ in range(4)]
    writer, *readers = apps
    try:
        runners = [Projections(app) for app in readers]
        stops = [threading.Event() for _ in range(2)]
        errors: list[BaseException] = []
        writing = threading.Event()

        def follow(projections: Projections, stop: threading.Event) -> None:
            try:
                projections.follow(stop)
            except BaseException as error:
                errors.append(error)

        def catch_up_repeatedly(projections: Projections) -> None:
            try:
                while writing.is_set():
                    projections.catch_up()
                    time.sleep(0.01)
            except BaseException as error:
                errors.append(error)

        writing.set()
        threads = [threading.Thread(target=follow, args=(runners[i], stops[i]), daemon=True)
                   for i in range(2)]
        threads.append(threading.Thread(target=catch_up_repeatedly, args=(runners[2],),
                                        daemon=True))
        for thread in threads:
            thread.start()
        load_demo(writer, accounts=300, seed=5)
        writing.clear()
        newest = writer.recorder.max_notification_id()
        for projections in runners[:2]:
            wait_until(lambda p=projections: all_current(p), timeout=30,
                       what=f"both followers at {newest}",
                       state=lambda p=projections: positions(p))
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []

        store = runners[0].store
        assert positions(runners[0]) == dict.fromkeys(VIEWS, newest)
        assert audit_ids(store) == RawLog(writer, postgres_store).notification_ids()
        assert len(audit_ids(store)) == newest  # one row per id, none twice, no gaps
        followed = dump_all(store)
        assert differences(followed, rebuilt_dumps(Projections(writer))) == {}
    finally:
        for app in apps:
            app.close()


def test_a_batch_another_runner_partly_applied_meanwhile_is_applied_only_from_there_on(
        app: ComplianceCases, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
        make_app: Callable[..., ComplianceCases]) -> None:
    importer = register_importer(app)
    walk_assessment(app, importer, "opened", clock=clock)
    app.set_compliance_class(importer, "a", actor=ACTOR, reason="annual review")
    first, second = Projections(make_app()), Projections(make_app())
    mine, other = first.runner(AccountRegister), second.runner(AccountRegister)
    page = app.recorder.select_notifications(start=1, limit=100,
                                             topics=AccountRegister.topics)
    assert len(page) == 3  # registered, assessment opened, class set
    apply_batch = first.store.apply

    def other_commits_first(*args: Any, **kwargs: Any) -> int:
        # The interleaving two processes can produce: this runner has read the position
        # and decoded its batch; the other runner commits the first two events now.
        assert other.apply(page[:2]) == 2
        return apply_batch(*args, **kwargs)

    monkeypatch.setattr(first.store, "apply", other_commits_first)
    applied = mine.apply(page)

    [row] = queries.account_register(first.store)
    assert (row["open_cases"], row["compliance_class"]) == (1, "a")  # one open assessment
    assert applied == 1
    assert mine.position() == page[-1].id
    monkeypatch.undo()
    assert mine.apply(page) == 0  # nothing new: nothing applied
    kept = first.store.dump(AccountRegister)
    first.rebuild(AccountRegister)
    assert kept == first.store.dump(AccountRegister)


def test_two_workers_starting_at_once_on_a_fresh_store_both_start(
        make_app: Callable[..., ComplianceCases]) -> None:
    workers = [Projections(make_app()) for _ in range(3)]
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def start(projections: Projections) -> None:
        try:
            barrier.wait(timeout=10)
            for view in VIEWS.values():  # what the first `compliance project` does
                projections.runner(view)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert all(rows == [] for tables in dump_all(workers[0].store).values()
               for rows in tables.values())


def test_a_rebuild_while_a_worker_follows_keeps_what_the_worker_applied_meanwhile(
        app: ComplianceCases, clock: FakeClock, store: Settings,
        make_app: Callable[..., ComplianceCases]) -> None:
    walk_assessment(app, register_importer(app), "assigned", clock=clock)
    follower = Projections(make_app())
    stop = threading.Event()
    thread, errors = follow_in_thread(follower, stop, [AuditLog, AccountRegister])
    registered: list[str] = []
    try:
        for view in (AuditLog, AccountRegister):
            wait_until(lambda v=view: follower.store.position(v) ==
                       app.recorder.max_notification_id(), what=f"{view.name} current")
        rebuilder = Projections(make_app())
        for view in (AuditLog, AccountRegister):
            pages = {"seen": 0}

            def command_while_rebuilding(_: int, view: type[View] = view,
                                         pages: dict[str, int] = pages) -> None:
                # After each of the rebuild's two passes a command arrives, and the live
                # worker applies it before the rebuilt view takes over.
                pages["seen"] += 1
                if pages["seen"] <= 2:
                    registered.append(register_importer(app))
                    newest = app.recorder.max_notification_id()
                    wait_until(lambda: follower.store.position(view) == newest,
                               what=f"the worker applying {newest} to {view.name}")

            rebuilder.rebuild(view, command_while_rebuilding)
            assert pages["seen"] >= 2
        registered.append(register_importer(app))
        wait_until(lambda: all(follower.store.position(v) == app.recorder.max_notification_id()
                               for v in (AuditLog, AccountRegister)), what="worker current")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert errors == []
    assert audit_ids(follower.store) == RawLog(app, store).notification_ids()
    numbers = {r["importer_number"] for r in queries.account_register(follower.store)}
    assert set(registered) <= numbers
    live = {v.name: follower.store.dump(v) for v in (AuditLog, AccountRegister)}
    for view in (AuditLog, AccountRegister):
        follower.rebuild(view)
    assert live == {v.name: follower.store.dump(v) for v in (AuditLog, AccountRegister)}


def test_a_polling_subscription_delivers_an_event_committed_while_it_starts(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite only: the polling subscription is SQLite's (PostgreSQL has LISTEN/NOTIFY)."""
    settings = load_settings({"COMPLIANCE_SQLITE_PATH": str(tmp_path / "ledger.db")})
    initialise_store(settings)
    reader = build_application(settings)
    writer = build_application(settings, access_control=False)  # its actor is no user
    try:
        register_importer(writer)
        recorder: Any = reader.recorder
        main = threading.current_thread()
        first_query_done = threading.Event()
        select, newest_id = recorder.select_notifications, recorder.max_notification_id

        def select_then_commit(*args: Any, **kwargs: Any) -> Any:
            found = select(*args, **kwargs)
            if not first_query_done.is_set():  # the pull thread's first query
                register_importer(writer)      # ... and a commit right after it
                first_query_done.set()
            return found

        def newest() -> Any:
            if threading.current_thread() is main:  # the subscription starting up
                first_query_done.wait(timeout=1)
            return newest_id()

        monkeypatch.setattr(recorder, "select_notifications", select_then_commit)
        monkeypatch.setattr(recorder, "max_notification_id", newest)
        received: list[int] = []
        with recorder.subscribe(gt=0) as subscription:
            consumer = threading.Thread(
                target=lambda: received.extend(n.id for n in subscription), daemon=True)
            consumer.start()
            assert first_query_done.wait(timeout=5)
            wait_until(lambda: received[-1:] == [newest_id()], timeout=5,
                       what="the event committed during start-up",
                       state=lambda: (received, newest_id()))
            subscription.stop()
        consumer.join(timeout=5)
        assert received == list(range(1, newest_id() + 1))
    finally:
        reader.close()
        writer.close()


# -- 3. an event a view cannot handle --------------------------------------------------------




class Ghost(CaseAggregate):
    """Stands in for code deployed after the event was written: the fix."""

    class Appeared(CaseAggregate.Event):
        sighting: str


@pytest.fixture
def ghost_topic() -> Iterator[str]:
    yield GHOST_TOPIC
    _topic_cache.pop(GHOST_TOPIC, None)  # the "fix" must not outlive the test


def test_an_event_the_audit_log_cannot_decode_stops_it_there_and_after_the_fix_it_resumes(
        app: ComplianceCases, clock: FakeClock, store: Settings, ghost_topic: str,
        projections: Projections) -> None:
    walk_assessment(app, register_importer(app), "surveyed", clock=clock)
    projections.catch_up()
    before = app.recorder.max_notification_id()
    raw = RawLog(app, store)
    state = (b'{"actor":"user:ghost.hunter","reason":"seen in the archive",'
             b'"sighting":"north wing","timestamp":"2026-03-01T10:00:00+00:00"}')
    ghost_id = raw.insert(uuid4(), 1, ghost_topic, state)
    assert ghost_id == before + 1
    walk_assessment(app, register_importer(app), "assigned", clock=clock)  # after the ghost
    newest = app.recorder.max_notification_id()
    assert newest > ghost_id
    audit = projections.runner(AuditLog)

    for _ in range(2):  # a retry without the fix fails the same way
        with pytest.raises(ProjectionFailedError) as failure:
            audit.catch_up()
        assert failure.value.notification_id == ghost_id
        assert f"notification {ghost_id}" in str(failure.value)
        assert "audit_log" in str(failure.value)
        assert audit.position() == ghost_id - 1
        assert max(audit_ids(projections.store)) == ghost_id - 1
    with pytest.raises(ProjectionFailedError, match=f"notification {ghost_id}"):
        projections.catch_up()  # the worker's path too; views of other topics carry on
    for view in VIEWS.values():
        if view is not AuditLog:
            assert projections.store.position(view) == newest, view.name
    assert projections.store.position(AuditLog) == ghost_id - 1

    register_topic(ghost_topic, Ghost.Appeared)
    applied = audit.catch_up()

    assert applied == newest - ghost_id + 1
    assert audit.position() == newest
    assert audit_ids(projections.store) == raw.notification_ids() == list(range(1, newest + 1))
    [row] = queries.audit_log(projections.store, actor="user:ghost.hunter")
    assert (row["notification_id"], row["aggregate"], row["event"], row["reason"],
            row["recorded_at"]) == (ghost_id, "Ghost", "Appeared", "seen in the archive",
                                    datetime(2026, 3, 1, 10, tzinfo=UTC).isoformat())


def test_an_undecodable_event_in_the_middle_of_a_batch_keeps_nothing_of_that_batch(
        app: ComplianceCases, clock: FakeClock, store: Settings, ghost_topic: str,
        projections: Projections) -> None:
    walk_assessment(app, register_importer(app), "opened", clock=clock)
    ghost_id = RawLog(app, store).insert(
        uuid4(), 1, ghost_topic, b'{"actor":"user:ghost.hunter","reason":"r",'
        b'"sighting":"attic","timestamp":"2026-03-01T10:00:00+00:00"}')
    walk_assessment(app, register_importer(app), "opened", clock=clock)
    audit = projections.runner(AuditLog)

    with pytest.raises(ProjectionFailedError) as failure:
        audit.catch_up()

    assert failure.value.notification_id == ghost_id
    assert audit.position() < ghost_id
    assert [i for i in audit_ids(projections.store) if i >= ghost_id] == []
    register_topic(ghost_topic, Ghost.Appeared)
    audit.catch_up()
    assert audit_ids(projections.store) == RawLog(app, store).notification_ids()
    assert projections.store.position(AccountRegister) is None  # untouched by the above
