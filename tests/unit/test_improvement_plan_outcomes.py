"""ImprovementPlan once approved: amend and complete actions with evidence, report
implementation, schedule verification, close effective or escalate (drafting and
review are in test_improvement_plan)."""


from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.improvement_plan import CorrectiveAction, Evidence, ImprovementPlan, PlanState

from .builders import (
    DUE_ON,
    ENFORCEMENT_NUMBER,
    IMPORTER_STAFF,
    OFFICER,
    REASON,
    T0,
    TODAY,
    VERIFICATION_NUMBER,
    approved_plan,
    assert_names,
    assert_refused,
    at,
    closed_plan,
    drafted_plan,
    escalated_plan,
    evidence,
    implemented_plan,
    plan_awaiting_verification,
    plan_with_actions,
    submitted_plan,
)
from .plan_support import (
    LATER,
    TOMORROW,
    VALUE,
    YESTERDAY,
    add,
    amend,
    change,
    close,
    complete,
    last_event,
)

# -- approved: amend, complete, report ------------------------------------------------------


def test_an_approved_plans_actions_cannot_be_changed_added_or_removed() -> None:
    plan = approved_plan()
    assert_refused(plan, lambda: change(plan), InvalidTransitionError,
                   mentions=["is approved", "approved plans are amended"])
    assert_refused(plan, lambda: add(plan), InvalidTransitionError)
    assert_refused(plan, lambda: plan.remove_action("A1", actor=OFFICER, reason=REASON,
                                                    at=LATER), InvalidTransitionError)


def test_an_approved_action_is_amended_with_a_recorded_reason_and_keeps_its_area() -> None:
    plan = approved_plan()

    amend(plan, "A1", due_on=TOMORROW, reason="supplier audit moved to April")

    assert plan.actions[0] == CorrectiveAction("A1", VALUE, "quarterly supplier audit",
                                               "user:compliance.qian", TOMORROW)
    event = last_event(plan)
    assert type(event).__name__ == "ActionAmended"
    assert (event.actor, event.reason) == (OFFICER, "supplier audit moved to April")
    assert plan.state is PlanState.APPROVED


def test_an_amendment_needs_a_reason_and_a_due_date_not_in_the_past() -> None:
    plan = approved_plan()
    assert_refused(plan, lambda: amend(plan, reason=" "), InvalidValueError, field="reason")
    assert_refused(plan, lambda: amend(plan, due_on=YESTERDAY), RuleViolationError,
                   rule="DueDateIsNotInThePast")
    assert_refused(plan, lambda: amend(plan, "A7"), RuleViolationError, rule="ActionExists")


def test_a_draft_action_is_changed_not_amended() -> None:
    plan = plan_with_actions()
    assert_refused(plan, lambda: amend(plan), InvalidTransitionError,
                   mentions=["only allowed when approved"])


def test_a_completed_action_cannot_be_amended() -> None:
    plan = approved_plan()
    complete(plan, "A1")
    assert_refused(plan, lambda: amend(plan, "A1"), RuleViolationError,
                   rule="ActionIsNotCompletedTwice")


def test_completing_an_action_records_the_day_and_the_evidence() -> None:
    plan = approved_plan()

    # Reported the day after: the day it was done is recorded, not the day it was reported.
    complete(plan, "A2", completed_on=TODAY.isoformat(), today=TOMORROW)

    done = plan.actions[1]
    assert done.is_completed
    assert done.completed_on == TODAY
    assert done.evidence == evidence()
    assert not plan.actions[0].is_completed
    assert plan.state is PlanState.APPROVED


def test_an_action_may_be_completed_today_but_not_tomorrow() -> None:
    plan = approved_plan()
    assert_refused(plan, lambda: complete(plan, completed_on=TOMORROW), RuleViolationError,
                   rule="CompletedOnIsNotInTheFuture",
                   mentions=[f"completed_on: {TOMORROW} is in the future (today is {TODAY})"])
    complete(plan, completed_on=TODAY)
    assert plan.actions[0].completed_on == TODAY


def test_an_action_cannot_be_completed_before_the_plan_existed() -> None:
    plan = approved_plan()  # drafted at T0, on TODAY
    assert_refused(plan, lambda: complete(plan, completed_on="2025-01-03", today=TOMORROW),
                   RuleViolationError, rule="CompletedOnIsNotBeforeThePlanExisted",
                   mentions=[f"completed_on: 2025-01-03 is before the plan existed ({TODAY})"])
    assert_refused(plan, lambda: complete(plan, completed_on=YESTERDAY), RuleViolationError,
                   rule="CompletedOnIsNotBeforeThePlanExisted")
    complete(plan, completed_on=TODAY, today=TOMORROW)
    assert plan.actions[0].completed_on == TODAY


def test_an_action_cannot_be_completed_twice() -> None:
    plan = approved_plan()
    complete(plan, "A1", completed_on=TODAY, today=TOMORROW)
    assert_refused(plan, lambda: complete(plan, "A1", today=TOMORROW), RuleViolationError,
                   rule="ActionIsNotCompletedTwice", mentions=["A1", TODAY.isoformat()])


def test_completing_an_unknown_action_is_refused() -> None:
    plan = approved_plan()
    assert_refused(plan, lambda: complete(plan, "A3"), RuleViolationError, rule="ActionExists")


def test_actions_of_a_plan_not_yet_approved_cannot_be_completed() -> None:
    plan = plan_with_actions()
    assert_refused(plan, lambda: complete(plan), InvalidTransitionError)


def test_implementation_is_reported_only_when_every_action_is_completed() -> None:
    plan = approved_plan()
    complete(plan, "A1")

    def report() -> None:
        plan.report_implementation(actor=IMPORTER_STAFF, reason=REASON, at=LATER)

    assert_refused(plan, report, RuleViolationError,
                   rule="ImplementationNeedsEveryActionCompleted", mentions=["open: A2"])

    complete(plan, "A2")
    report()
    assert plan.state is PlanState.IMPLEMENTATION_REPORTED


def test_overdue_actions_are_the_open_ones_due_before_today() -> None:
    plan = approved_plan()
    complete(plan, "A1")
    due = DUE_ON
    assert plan.overdue_actions(due) == []
    assert [a.action_id for a in plan.overdue_actions(due + timedelta(days=1))] == ["A2"]


# -- evidence -------------------------------------------------------------------------------


def test_evidence_keeps_a_lower_case_digest_and_tidies_its_texts() -> None:
    digest = "AB" * 32
    parsed = Evidence.parse("  signed training log\n  and attendance list ",
                            " dms://evidence/1 ", f" {digest} ")
    # the description may run over lines; the document reference is one line
    assert parsed == Evidence("signed training log\n  and attendance list",
                              "dms://evidence/1", "ab" * 32)


@pytest.mark.parametrize("digest", [
    "a" * 63, "a" * 65, "g" * 64, "", "sha256:" + "a" * 57, None, 12345,
])
def test_evidence_without_a_sha256_digest_is_refused(digest: object) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        Evidence.parse("log", "dms://evidence/1", digest)  # type: ignore[arg-type]
    assert_names(excinfo.value, field="evidence_sha256", mentions=["SHA-256"])


@pytest.mark.parametrize(("description", "document_ref", "field"), [
    (" ", "dms://1", "evidence_description"),
    ("log", "", "evidence_document_ref"),
])
def test_evidence_needs_a_description_and_a_document_reference(
        description: str, document_ref: str, field: str) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        Evidence.parse(description, document_ref, "0" * 64)
    assert_names(excinfo.value, field=field)


# -- verification, closing, escalation ------------------------------------------------------


def test_scheduling_the_verification_records_its_number_and_due_date() -> None:
    plan = implemented_plan()
    due = TODAY + timedelta(days=182)

    plan.schedule_verification(VERIFICATION_NUMBER, due, actor="system:workflow", at=LATER)

    assert plan.state is PlanState.VERIFICATION_SCHEDULED
    assert (plan.verification_number, plan.verification_due_on) == (VERIFICATION_NUMBER, due)
    assert last_event(plan).reason == f"implementation reported; verification due {due}"


def test_a_verification_is_not_scheduled_before_implementation_is_reported() -> None:
    plan = approved_plan()
    assert_refused(plan, lambda: plan.schedule_verification(
        VERIFICATION_NUMBER, TODAY, actor="system:workflow", at=LATER),
        InvalidTransitionError, mentions=["only allowed when implementation_reported"])


def test_closing_a_plan_before_a_verification_is_scheduled_is_refused() -> None:
    plan = implemented_plan()
    assert_refused(plan, lambda: close(plan), RuleViolationError,
                   rule="PlanCannotCloseBeforeVerification",
                   mentions=["before a follow-up verification is scheduled"])


def test_closing_a_plan_whose_verification_was_not_effective_is_refused() -> None:
    plan = plan_awaiting_verification()
    assert_refused(plan, lambda: close(plan, effective=False), RuleViolationError,
                   rule="PlanCannotCloseBeforeVerification",
                   mentions=[f"verification {VERIFICATION_NUMBER} has concluded effective"])


@pytest.mark.parametrize("other", ["FV-2026-00002", None])
def test_closing_a_plan_on_another_verification_is_refused(other: str | None) -> None:
    plan = plan_awaiting_verification()
    assert_refused(plan, lambda: close(plan, verification_number=other), RuleViolationError,
                   rule="PlanCannotCloseBeforeVerification",
                   mentions=[f"verification {VERIFICATION_NUMBER} has concluded effective"])


def test_a_plan_closes_effective_on_its_effective_verification() -> None:
    plan = plan_awaiting_verification()
    close(plan)
    assert plan.state is PlanState.CLOSED_EFFECTIVE
    assert last_event(plan).verified_rate == Decimal("0.9900")  # type: ignore[attr-defined]


@pytest.mark.parametrize("build", [drafted_plan, submitted_plan, approved_plan,
                                   implemented_plan, plan_awaiting_verification])
def test_a_plan_can_be_escalated_from_every_state_that_is_not_final(
        build: Callable[[], ImprovementPlan]) -> None:
    plan = build()
    plan.escalate(ENFORCEMENT_NUMBER, actor=OFFICER, reason="importer not cooperating",
                  at=LATER)
    assert plan.state is PlanState.ESCALATED
    assert plan.enforcement_number == ENFORCEMENT_NUMBER
    assert last_event(plan).reason == "importer not cooperating"


FINAL_PLAN_COMMANDS: list[Callable[[ImprovementPlan], object]] = [
    lambda p: add(p),
    lambda p: change(p),
    lambda p: p.remove_action("A1", actor=OFFICER, reason=REASON, at=LATER),
    lambda p: p.submit(actor=OFFICER, reason=REASON, at=LATER),
    lambda p: p.approve(actor=OFFICER, reason=REASON, at=LATER),
    lambda p: p.send_back(actor=OFFICER, reason=REASON, at=LATER),
    lambda p: amend(p),
    lambda p: complete(p),
    lambda p: p.report_implementation(actor=OFFICER, reason=REASON, at=LATER),
    lambda p: p.schedule_verification("FV-2026-00009", TODAY, actor=OFFICER, at=LATER),
    lambda p: p.escalate("EA-2026-00009", actor=OFFICER, reason=REASON, at=LATER),
]


@pytest.mark.parametrize("command", FINAL_PLAN_COMMANDS)
@pytest.mark.parametrize("build", [closed_plan, escalated_plan])
def test_a_closed_or_escalated_plan_takes_no_command(
        build: Callable[[], ImprovementPlan],
        command: Callable[[ImprovementPlan], object]) -> None:
    plan = build()
    assert_refused(plan, lambda: command(plan), InvalidTransitionError,
                   mentions=[f"is {plan.state.value}"])


def test_a_closed_plan_cannot_close_again() -> None:
    plan = closed_plan()
    assert_refused(plan, lambda: close(plan), InvalidTransitionError,
                   mentions=["is closed_effective"])


def test_a_plan_escalated_after_its_verification_was_scheduled_cannot_close() -> None:
    plan = plan_awaiting_verification()
    plan.escalate(ENFORCEMENT_NUMBER, actor=OFFICER, reason=REASON, at=LATER)
    assert_refused(plan, lambda: close(plan), InvalidTransitionError, mentions=["is escalated"])


def test_a_plan_escalated_before_any_verification_cannot_close_either() -> None:
    plan = escalated_plan()
    assert_refused(plan, lambda: close(plan), RuleViolationError,
                   rule="PlanCannotCloseBeforeVerification")


def test_the_whole_lifecycle_records_one_event_per_step_each_with_actor_and_reason() -> None:
    plan = closed_plan()
    events = plan.pending_events
    assert [type(e).__name__ for e in events] == [
        "Drafted", "ActionAdded", "ActionAdded", "Submitted", "Approved", "ActionCompleted",
        "ActionCompleted", "ImplementationReported", "VerificationScheduled",
        "ClosedEffective"]
    assert all(e.actor and e.reason for e in events)  # type: ignore[attr-defined]
    assert [e.timestamp for e in events] == [T0, *(at(m) for m in range(1, 10))]
    assert plan.version == len(events)
    assert all(a.is_completed and a.evidence for a in plan.actions)
