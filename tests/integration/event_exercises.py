"""Commands that between them make every event type of every aggregate (and a snapshot
of each kind), on a store under test: what the round-trip tests save and read back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from application.compliance_cases import ComplianceCases
from application.identity import AuthenticationError
from domain.case_file import case_file_id
from domain.case_numbers import case_id, sequence_id
from domain.importer_account import importer_account_id
from domain.reminder import OverdueDigest, OverdueLine, Reminder
from domain.user import USER_DIRECTORY_ID, user_id
from infrastructure.passwords import Argon2Hasher
from infrastructure.seal import seal_ledger
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
