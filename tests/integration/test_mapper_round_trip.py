"""Every event of every aggregate, and every snapshot, comes back from the real database
exactly as it went in: same types (UUID, Decimal with its places, date, aware datetime,
enums, nested dataclasses, tuples, dicts keyed by enums), same values."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate, DomainEventProtocol
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.compliance_cases import ALL_TYPES, ComplianceCases
from application.identity import AuthenticationError
from application.log_replay import event_topics
from domain.case_file import case_file_id
from domain.case_numbers import case_id, sequence_id
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import AccountStatus, importer_account_id
from domain.improvement_plan import ImprovementPlan
from domain.reference import ComplianceArea
from domain.reminder import OverdueDigest, OverdueLine, Reminder
from domain.user import USER_DIRECTORY_ID, user_id
from infrastructure.hash_chain import GENESIS, PREV_KEY, event_hash
from infrastructure.mapper import MsgspecMapper, MsgspecTranscoder
from infrastructure.passwords import Argon2Hasher
from infrastructure.seal import seal_ledger
from infrastructure.settings import load_settings
from tests.builders import (
    ACTOR,
    ENFORCER,
    OFFICER,
    SUPERVISOR,
    FakeClock,
    evidence,
    propose_penalty,
    record_retests,
    register_importer,
    walk_assessment,
    walk_enforcement,
    walk_plan,
    walk_to_findings,
)
from tests.integration.risk_support import exercise_risk_and_targeting


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


def exercise_every_event_type(app: ComplianceCases, clock: FakeClock) -> dict[str, UUID]:
    """Commands that between them raise every event of every aggregate."""
    managed = register_importer(app)
    commands: tuple[Callable[[], object], ...] = (
        lambda: app.assign_account_manager(managed, "user:manager.one", actor=ACTOR,
                                           reason="new account"),
        lambda: app.join_partnership(managed, "trusted_trader", "2021-06-01", actor=ACTOR,
                                     reason="validated"),
        lambda: app.join_partnership(managed, "self_assessment", date(2022, 2, 1),
                                     actor=ACTOR, reason="accepted"),
        lambda: app.leave_partnership(managed, "trusted_trader", "2024-12-31", actor=ACTOR,
                                      reason="left voluntarily"),
        lambda: app.set_compliance_class(managed, "aa", actor=ACTOR, reason="annual review"),
        lambda: app.set_tier(managed, 1, Decimal("1234567.80"), Decimal("0.81250"), 2025,
                             actor="system:tiering", reason="yearly tiering"),
        lambda: app.suspend_importer(managed, actor=ACTOR, reason="unpaid duty"),
        lambda: app.reinstate_importer(managed, actor=ACTOR, reason="duty paid"),
    )
    for command in commands:
        clock.advance()
        command()
    audited = register_importer(app)
    closed = walk_assessment(app, audited, "closed", clock=clock)
    cancelled = walk_assessment(app, audited, "cancelled", clock=clock)
    clock.advance()
    app.close_importer(audited, actor=ACTOR, reason="ceased trading")
    workflow = exercise_the_workflow(app, clock)
    targeting = exercise_risk_and_targeting(app, clock)
    users = exercise_users(app, clock)
    deadlines = exercise_deadlines(app, clock)
    clock.advance()
    signer = app.events.signer  # type: ignore[attr-defined]
    seal_ledger(app, signer.key, signer.path.parent / "seal-witness.jsonl", "system:sealer")
    return {
        "managed importer": importer_account_id(managed),
        "audited importer": importer_account_id(audited),
        "closed assessment": case_id(closed),
        "cancelled assessment": case_id(cancelled),
        "case file": case_file_id(audited),
        "sequence": sequence_id("CA", clock.now.year),
        **workflow,
        **targeting,
        **users,
        **deadlines,
    }


def exercise_users(app: ComplianceCases, clock: FakeClock) -> dict[str, UUID]:
    """Every event of users (grants, scope, credentials, logins, tokens) and of the user
    directory."""
    hasher = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
    app.add_user("round.trip", roles=["officer"], districts=["11"], email="rt@customs.example",
                 password_hash=hasher.hash("a password for the trip"), actor="system:setup",
                 reason="new officer")
    app.add_user("rep.trip", roles=["importer_representative"], importers=["12-3456789AB"],
                 actor="system:setup", reason="broker")
    commands: tuple[Callable[[], object], ...] = (
        lambda: app.set_user_email("round.trip", "trip@customs.example", actor=ACTOR,
                                   reason="new address"),
        lambda: app.grant_role("round.trip", "supervisor", actor=ACTOR, reason="promoted"),
        lambda: app.revoke_role("round.trip", "officer", actor=ACTOR, reason="supervises"),
        lambda: app.assign_districts("round.trip", ["11", "12"], actor=ACTOR, reason="wider"),
        lambda: app.assign_importers("rep.trip", ["12-3456789AB", "98-7654321ZY"],
                                     actor=ACTOR, reason="second client"),
        lambda: app.create_token("round.trip", "nightly", roles=["supervisor"],
                                 districts=["12"], expires_at=clock.now + timedelta(days=30),
                                 actor=ACTOR, reason="a job"),
        lambda: app.revoke_token("round.trip", app.get_user("round.trip").tokens[0].token_id,
                                 actor=ACTOR, reason="done"),
        lambda: app.disable_user("round.trip", actor=ACTOR, reason="leave"),
        lambda: app.enable_user("round.trip", actor=ACTOR, reason="back"),
        lambda: app.authenticate_password("round.trip", "a password for the trip", hasher,
                                          max_failures=2),
    )
    for command in commands:
        clock.advance()
        command()
    for _ in range(2):
        clock.advance()
        with pytest.raises(AuthenticationError):
            app.authenticate_password("round.trip", "wrong", hasher, max_failures=2)
    return {"user": user_id("round.trip"), "representative": user_id("rep.trip"),
            "user directory": USER_DIRECTORY_ID}


def exercise_deadlines(app: ComplianceCases, clock: FakeClock) -> dict[str, UUID]:
    """The scheduler's events: overdue flags on a plan, a verification and a penalty, its
    response window closed, a reminder and a district's overdue digest."""
    scheduler = "system:scheduler"
    importer = register_importer(app, district="11")
    _, findings = walk_to_findings(app, importer, clock=clock)
    plan = findings.plan_number
    assert plan is not None
    late = clock.now.date() + timedelta(days=400)
    clock.advance()
    app.flag_overdue(plan, "proposal", today=late, actor=scheduler, reason="overdue rule")
    verification = walk_plan(app, plan, clock=clock)
    assert verification is not None
    clock.advance()
    app.flag_overdue(verification, "retest", today=late, actor=scheduler, reason="overdue")
    penalty = propose_penalty(app, importer)
    walk_enforcement(app, penalty, "penalty_notice_issued", clock=clock)
    clock.advance()
    app.flag_overdue(penalty, "response", today=late, actor=scheduler, reason="overdue")
    clock.advance()
    app.close_response_window(penalty, today=late, actor=scheduler, reason="no response")
    due = app.get_plan(plan).proposal_due_on
    reminder = Reminder.record(
        case_number=plan, item="proposal", kind="plan_proposal", description="proposal",
        district="11", importer_number=importer, due_on=due, offset_days=-14,
        recipients=["user:rep.one", "user:rep.two"], unreachable=["user:rep.two"],
        actor=scheduler, reason="reminder rule", at=clock.advance())
    digest = OverdueDigest.record(
        district="11", day=late, count=1,
        lines=[OverdueLine(plan, "proposal", "proposal of corrective actions", due, None)],
        recipients=["user:chief"], unreachable=[], actor=scheduler, reason="digest rule",
        at=clock.advance())
    assert app.record_reminders([reminder], actor=scheduler, write_also=lambda _: _nothing)
    assert app.record_overdue_digest(digest, actor=scheduler, write_also=lambda _: _nothing)
    # The reminder and the digest are one event each: no snapshot to compare.
    return {"flagged plan": case_id(plan), "flagged verification": case_id(verification),
            "penalty gone unanswered": case_id(penalty)}


def _nothing(_: object) -> None:
    """Writes no other rows (the mails are the outbox's, tested elsewhere)."""


def exercise_the_workflow(app: ComplianceCases, clock: FakeClock) -> dict[str, UUID]:
    """Every event of improvement plans, follow-up verifications, enforcement actions and
    command receipts, raised through the workflow commands."""
    importer = register_importer(app)
    _, findings = walk_to_findings(app, importer, clock=clock)
    plan = findings.plan_number
    assert plan is not None
    due = clock.now.date() + timedelta(days=30)
    broker = "user:importer.broker"
    commands: tuple[Callable[[], object], ...] = (
        lambda: app.add_plan_action(plan, area="value", description="second review of "
                                    "invoices", owner=broker, due_on=due, actor=ACTOR,
                                    reason="proposed"),
        lambda: app.add_plan_action(plan, area="value", description="valuation training",
                                    owner=broker, due_on=due, actor=ACTOR, reason="proposed"),
        lambda: app.change_plan_action(plan, "A2", area="value", description="valuation "
                                       "training for brokers", owner=broker, due_on=due,
                                       actor=ACTOR, reason="clarified"),
        lambda: app.remove_plan_action(plan, "A2", actor=ACTOR, reason="covered by A1"),
        lambda: app.submit_plan(plan, actor=ACTOR, reason="proposal received"),
        lambda: app.send_back_plan(plan, actor=SUPERVISOR, reason="owner missing"),
        lambda: app.submit_plan(plan, actor=ACTOR, reason="proposal resubmitted"),
        lambda: app.approve_plan(plan, actor=SUPERVISOR, reason="addresses the findings"),
        lambda: app.amend_plan_action(plan, "A1", description="second review of all "
                                      "invoices", owner="user:importer.cfo",
                                      due_on=due + timedelta(days=10), actor=ACTOR,
                                      reason="scope widened"),
        lambda: app.complete_plan_action(plan, "A1", evidence=evidence("review log"),
                                         completed_on=clock.now.date(), actor=ACTOR,
                                         reason="evidence received"),
    )
    for command in commands:
        clock.advance()
        command()
    clock.advance()
    verification = app.report_implementation(plan, actor=ACTOR, reason="implemented")
    clock.advance()
    app.assign_verification_officer(verification, OFFICER, actor=SUPERVISOR,
                                    reason="district workload plan")
    record_retests(app, verification, effective=True, clock=clock)
    clock.advance()
    app.conclude_verification(verification, actor=OFFICER, reason="re-tests complete")

    # A second plan whose verification is cancelled and which is escalated by hand; the
    # enforced-compliance programme it proposes is withdrawn.
    _, findings = walk_to_findings(app, register_importer(app), clock=clock)
    escalated = findings.plan_number
    assert escalated is not None
    cancelled = walk_plan(app, escalated, clock=clock)
    assert cancelled is not None
    record_retests(app, cancelled, effective=False, clock=clock)
    clock.advance()
    app.cancel_verification(cancelled, actor=OFFICER, reason="premises closed for works")
    clock.advance()
    programme = app.escalate_plan(escalated, actor=OFFICER, reason="overdue beyond grace")
    clock.advance()
    app.withdraw_enforcement(programme, actor=ENFORCER, reason="importer sold the business")

    # A penalty paid and closed (proposed with an idempotency key: a receipt), and one
    # referred for collection.
    clock.advance()
    paid = propose_penalty(app, importer, culpability="gross_negligence", amount="3500.00",
                           idempotency_key="penalty-proposal-0001")
    clock.advance()
    app.change_culpability(paid, "negligence", amount="1800.00", actor=ENFORCER,
                           reason="no evidence of gross negligence")
    walk_enforcement(app, paid, "decided", clock=clock)
    clock.advance()
    app.record_payment(paid, "1200.00", clock.now.date(), actor=ENFORCER, reason="paid")
    clock.advance()
    app.close_enforcement(paid, actor=ENFORCER, reason="paid in full")
    clock.advance()
    collected = propose_penalty(app, importer)
    walk_enforcement(app, collected, "decided", clock=clock)
    clock.advance()
    app.refer_for_collection(collected, actor=ENFORCER, reason="unpaid after 60 days")
    return {
        "improvement plan": case_id(plan),
        "escalated plan": case_id(escalated),
        "concluded verification": case_id(verification),
        "cancelled verification": case_id(cancelled),
        "paid penalty": case_id(paid),
        "penalty referred for collection": case_id(collected),
        "withdrawn programme": case_id(programme),
        "plan sequence": sequence_id("IP", clock.now.year),
    }


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
