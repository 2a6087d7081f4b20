"""Every event of every aggregate, and every snapshot, comes back from the real database
exactly as it went in: same types (UUID, Decimal with its places, date, aware datetime,
enums, nested dataclasses, tuples, dicts keyed by enums), same values."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate, CanMutateAggregate, DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.compliance_cases import ALL_TYPES, ComplianceCases
from application.log_replay import event_topics
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import AccountStatus, importer_account_id
from domain.improvement_plan import ImprovementPlan
from domain.reference import ComplianceArea
from infrastructure.hash_chain import GENESIS, PREV_KEY, event_hash
from infrastructure.mapper import MsgspecMapper, MsgspecTranscoder
from infrastructure.settings import load_settings
from tests.builders import (
    ACTOR,
    OFFICER,
    FakeClock,
    register_importer,
)
from tests.integration.event_exercises import exercise_every_event_type


def concrete_event_topics() -> set[str]:
    """Every event class an aggregate declares, less the per-aggregate `Event` and
    `Created` bases the library generates."""
    topics = {t for t in event_topics(ALL_TYPES) if not t.endswith((".Event", ".Created"))}
    topics.add("domain.user:User.Created")  # declared by User itself, with its grants
    assert len(topics) == (10     # ImporterAccount
                           + 7    # Assessment
                           + 14   # ImprovementPlan
                           + 14   # EnforcementAction
                           + 6    # FollowUpVerification
                           + 2    # ImporterCaseFile
                           + 2    # CaseNumberSequence
                           + 2    # SealLog
                           + 1    # CommandReceipt
                           + 1    # ImportBatch
                           + 5    # TargetingRule
                           + 1    # ChannelRun
                           + 1    # SelectionPlan
                           + 14   # User
                           + 2    # UserDirectory
                           + 1    # Reminder
                           + 1)   # OverdueDigest
    return topics


def assert_identical(original: Any, reloaded: Any, path: str = "event") -> None:
    """Equal values of identical types, all the way down (Decimal keeps its exponent,
    datetimes keep their offset)."""
    assert type(reloaded) is type(original), (
        f"{path}: {type(original).__name__} came back as {type(reloaded).__name__}")
    if dataclasses.is_dataclass(original) and not isinstance(original, type):
        for field in dataclasses.fields(original):
            assert_identical(getattr(original, field.name), getattr(reloaded, field.name),
                             f"{path}.{field.name}")
    elif isinstance(original, Mapping):
        # Key order carries no meaning (the encoder sorts keys); key types and values do.
        assert set(original) == set(reloaded), f"{path}: keys differ"
        keys_back = {key: key for key in reloaded}
        for key, value in original.items():
            assert_identical(key, keys_back[key], f"{path}[{key!r}] key")
            assert_identical(value, reloaded[key], f"{path}[{key!r}]")
    elif isinstance(original, tuple | list):
        assert len(original) == len(reloaded), f"{path}: length differs"
        for index, (item, item_back) in enumerate(zip(original, reloaded, strict=True)):
            assert_identical(item, item_back, f"{path}[{index}]")
    elif isinstance(original, Decimal):
        assert str(original) == str(reloaded), f"{path}: {original} came back as {reloaded}"
    elif isinstance(original, datetime):
        assert original == reloaded, path
        assert original.utcoffset() == reloaded.utcoffset(), path
    else:
        assert original == reloaded, f"{path}: {original!r} came back as {reloaded!r}"


def assert_same_event(original: DomainEventProtocol[UUID],
                      reloaded: DomainEventProtocol[UUID]) -> None:
    label = f"{type(original).__qualname__} v{original.originator_version}"
    assert type(reloaded) is type(original), label
    assert sorted(vars(reloaded)) == sorted(vars(original)), label
    for name, value in vars(original).items():
        assert_identical(value, vars(reloaded)[name], f"{label}.{name}")
    assert reloaded == original, label


def capture_saved_events(app: ComplianceCases) -> list[DomainEventProtocol[UUID]]:
    """Every domain event the application hands to its event store, as it was handed."""
    captured: list[DomainEventProtocol[UUID]] = []
    put = app.events.put

    def recording_put(events: Any, **kwargs: Any) -> Any:
        recordings = put(events, **kwargs)
        captured.extend(events)
        return recordings

    app.events.put = recording_put  # type: ignore[method-assign, assignment]
    # The bulk row path (a risk run's RiskAssessed events) hands the store rows, not event
    # objects: here those events take the object path, so that every event type's object
    # is round-tripped; test_risk_run_rows holds the rows to the same stored bytes.
    app.event_rows = lambda: None  # type: ignore[method-assign, assignment, return-value]
    return captured


def test_every_event_type_of_every_aggregate_reloads_identical_to_what_was_saved(
        app: ComplianceCases, clock: FakeClock,
        make_app: Callable[..., ComplianceCases]) -> None:
    saved = capture_saved_events(app)
    exercise_every_event_type(app, clock)
    fresh = make_app()  # another process: nothing but the database in common

    assert {get_topic(type(e)) for e in saved} == concrete_event_topics()
    for original in saved:
        version = original.originator_version
        reloaded = list(fresh.events.get(original.originator_id, gt=version - 1, lte=version))
        assert len(reloaded) == 1
        assert_same_event(original, reloaded[0])


def test_the_notification_log_decodes_to_the_same_events_in_saved_order(
        app: ComplianceCases, clock: FakeClock) -> None:
    saved = capture_saved_events(app)
    exercise_every_event_type(app, clock)

    notifications = app.recorder.select_notifications(start=1, limit=1000)
    decoded = [app.mapper.to_domain_event(n) for n in notifications]

    assert len(decoded) == len(saved)
    for original, reloaded in zip(saved, decoded, strict=True):
        assert_same_event(original, reloaded)


def test_the_bulk_decoder_gives_what_to_domain_event_gives_with_ids_kept_as_text_if_asked(
        app: ComplianceCases, clock: FakeClock) -> None:
    """The rebuild's per-topic decoder (MsgspecMapper.event_decoder) against the mapper's
    own decoding, for every event type: equal events, except that with `text_ids` an id
    given as text stays that text (where the topic decodes without an upcast) instead of
    becoming a UUID."""
    exercise_every_event_type(app, clock)
    mapper = app.mapper
    assert isinstance(mapper, MsgspecMapper)
    kept_as_text: set[str] = set()
    for notification in app.recorder.select_notifications(start=1, limit=1000):
        expected = mapper.to_domain_event(notification)
        text = str(notification.originator_id)
        for text_ids in (False, True):
            decode = mapper.event_decoder(notification.topic, text_ids=text_ids)
            assert_same_event(expected, decode(notification.originator_id,
                                               notification.originator_version,
                                               notification.state))
            decoded = decode(text, notification.originator_version, notification.state)
            if type(decoded.originator_id) is str:
                assert text_ids
                assert decoded.originator_id == text
                kept_as_text.add(notification.topic)
                assert {**vars(decoded), "originator_id": expected.originator_id} == \
                    vars(expected)
            else:
                assert_same_event(expected, decoded)
    assert get_topic(ImprovementPlan.Drafted) in kept_as_text


def replay_without_snapshots(app: ComplianceCases, aggregate_id: UUID,
                             version: int | None = None) -> Aggregate:
    aggregate = None
    for event in app.events.get(aggregate_id, lte=version):
        aggregate = cast(CanMutateAggregate[UUID], event).mutate(aggregate)
    assert isinstance(aggregate, Aggregate)
    return aggregate


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def test_aggregates_loaded_from_snapshots_equal_a_full_replay(
        store_environ: dict[str, str], make_app: Callable[..., ComplianceCases],
        clock: FakeClock) -> None:
    settings = load_settings({**store_environ, "COMPLIANCE_SNAPSHOT_INTERVAL": "2"})
    assert settings.snapshot_interval == 2
    app = make_app(settings)
    aggregates = exercise_every_event_type(app, clock)
    fresh = make_app(settings)
    assert fresh.snapshots is not None

    for label, aggregate_id in aggregates.items():
        snapshots = list(fresh.snapshots.get(aggregate_id))
        replayed = replay_without_snapshots(fresh, aggregate_id)
        assert snapshots, f"{label}: no snapshot taken at interval 2"
        # Commands snapshot every second version; a bulk append (a risk run's events on
        # hundreds of thousands of accounts) takes none, so the newest may lag by one.
        versions = [s.originator_version for s in snapshots]
        assert versions == list(range(2, versions[-1] + 1, 2)), label
        assert replayed.version - versions[-1] < 2 + (label == "managed importer"), label
        for snapshot in snapshots:
            from_snapshot = cast(CanMutateAggregate[UUID], snapshot).mutate(None)
            assert isinstance(from_snapshot, Aggregate)
            assert_identical(state(replay_without_snapshots(
                fresh, aggregate_id, snapshot.originator_version)), state(from_snapshot),
                f"{label} snapshot v{snapshot.originator_version}")
        loaded: Aggregate = fresh.repository.get(aggregate_id)
        assert_identical(state(replayed), state(loaded), label)
        assert type(loaded) is type(replayed)


def test_stored_state_is_compact_key_sorted_json_carrying_the_predecessor_hash(
        app: ComplianceCases, clock: FakeClock) -> None:
    exercise_every_event_type(app, clock)
    heads: dict[object, str] = {}

    for notification in app.recorder.select_notifications(start=1, limit=1000):
        raw = notification.state
        document = json.loads(raw)
        canonical = json.dumps(document, separators=(",", ":"), sort_keys=True,
                               ensure_ascii=False).encode()
        assert raw == canonical, raw
        assert raw.startswith(b'{"' + PREV_KEY.encode() + b'":"')
        assert document[PREV_KEY] == heads.get(notification.originator_id, GENESIS)
        assert "originator_id" not in document
        assert "originator_version" not in document
        heads[notification.originator_id] = event_hash(
            notification.topic, notification.originator_id,
            notification.originator_version, raw)


def test_value_types_are_stored_as_readable_text(app: ComplianceCases) -> None:
    """Decimals as strings (no float rounding), dates ISO, enums by value, UTC with Z."""
    number = register_importer(app)
    app.set_tier(number, 2, Decimal("1000000.10"), Decimal("0.95000"), 2025, actor=ACTOR,
                 reason="yearly tiering")
    [_, tier_set] = app.recorder.select_notifications(start=1, limit=10)
    document = json.loads(tier_set.state)
    assert document["annual_value"] == "1000000.10"
    assert document["cumulative_share"] == "0.95000"
    assert document["timestamp"] == "2026-03-01T09:00:00Z"
    account = app.get_importer(number)
    assert type(account.annual_value) is Decimal
    assert str(account.annual_value) == "1000000.10"
    assert type(account.registered_on) is date
    assert type(account.status) is AccountStatus


# -- what the four-eyes rules remember, in ledgers written before they did ------------------


def _rewritten(stored: StoredEvent, change: Callable[[dict[str, Any]], None]) -> StoredEvent:
    document = json.loads(stored.state)
    change(document)
    return StoredEvent(originator_id=stored.originator_id,
                       originator_version=stored.originator_version, topic=stored.topic,
                       state=json.dumps(document, sort_keys=True).encode())


def test_a_verification_scheduled_before_its_reporter_was_recorded_takes_its_actor() -> None:
    """Version 1 of FollowUpVerification.Scheduled had no reporter; the workflow scheduled it
    with the actor who reported the implementation, so that actor is the reporter."""
    mapper = MsgspecMapper(transcoder=MsgspecTranscoder())
    verification = FollowUpVerification.schedule(
        number="FV-2026-00001", importer_id=importer_account_id("12-3456789AB"),
        importer_number="12-3456789AB", district="11", plan_number="IP-2026-00001",
        areas=(ComplianceArea.VALUE,), target_rate=Decimal("0.95"), due_on=date(2026, 9, 1),
        implementation_reported_by="user:rep.new", actor="user:rep.old",
        reason="implementation reported", at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    stored = mapper.to_stored_event(verification.collect_events()[0])
    assert json.loads(stored.state)["class_version"] == 2

    def as_version_1(document: dict[str, Any]) -> None:
        del document["class_version"], document["implementation_reported_by"]

    old = mapper.to_domain_event(_rewritten(stored, as_version_1))
    replayed = cast(CanMutateAggregate[UUID], old).mutate(None)
    assert isinstance(replayed, FollowUpVerification)
    assert replayed.implementation_reported_by == "user:rep.old"
    current = cast(CanMutateAggregate[UUID], mapper.to_domain_event(stored)).mutate(None)
    assert isinstance(current, FollowUpVerification)
    assert current.implementation_reported_by == "user:rep.new"


def test_a_plan_snapshot_taken_before_plans_remembered_their_actors_still_loads() -> None:
    mapper = MsgspecMapper(transcoder=MsgspecTranscoder())
    plan = ImprovementPlan.draft(
        number="IP-2026-00001", importer_id=importer_account_id("12-3456789AB"),
        importer_number="12-3456789AB", district="11", assessment_number="CA-2026-00001",
        deficient_areas=(ComplianceArea.VALUE,), target_rate=Decimal("0.95"),
        proposal_due_on=date(2026, 5, 1), actor=OFFICER, reason="findings",
        at=datetime(2026, 3, 2, 9, tzinfo=UTC))
    stored = mapper.to_stored_event(ImprovementPlan.Snapshot.take(plan))

    def before_four_eyes(document: dict[str, Any]) -> None:
        for name in ("drafted_by", "submitted_by", "implementation_reported_by"):
            del document["state"][name]

    restored = cast(CanMutateAggregate[UUID], mapper.to_domain_event(
        _rewritten(stored, before_four_eyes))).mutate(None)
    assert isinstance(restored, ImprovementPlan)
    assert (restored.drafted_by, restored.submitted_by,
            restored.implementation_reported_by) == (None, None, None)
    assert restored.number == plan.number
