"""ImprovementPlan lifecycle: draft, submit, approve or send back, complete actions with
evidence, report implementation, schedule verification, close effective or escalate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.case_numbers import case_id
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.improvement_plan import CorrectiveAction, Evidence, ImprovementPlan, PlanState
from domain.reference import ComplianceArea

from .builders import (
    DEFICIENT,
    DUE_ON,
    ENFORCEMENT_NUMBER,
    IMPORTER_ID,
    IMPORTER_NUMBER,
    IMPORTER_STAFF,
    MANAGER,
    NUMBER,
    OFFICER,
    PLAN_NUMBER,
    REASON,
    T0,
    TARGET_RATE,
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

VALUE, CLASSIFICATION, ORIGIN = (ComplianceArea.VALUE, ComplianceArea.CLASSIFICATION,
                                 ComplianceArea.ORIGIN)
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)
LATER = at(30)


def add(plan: ImprovementPlan, area: ComplianceArea | str = VALUE, *,
        due_on: date | str = DUE_ON, today: date = TODAY, when: datetime = LATER) -> str:
    return plan.add_action(area=area, description="reconcile invoices to declarations",
                           owner=IMPORTER_STAFF, due_on=due_on, today=today,
                           actor=IMPORTER_STAFF, reason=REASON, at=when)


def change(plan: ImprovementPlan, action_id: str = "A1", *,
           area: ComplianceArea | str = VALUE, due_on: date | str = DUE_ON) -> None:
    plan.change_action(action_id, area=area, description="monthly invoice reconciliation",
                       owner="user:compliance.qian", due_on=due_on, today=TODAY,
                       actor=IMPORTER_STAFF, reason="owner changed", at=LATER)


def amend(plan: ImprovementPlan, action_id: str = "A1", *, due_on: date | str = DUE_ON,
          reason: str = "supplier audit moved") -> None:
    plan.amend_action(action_id, description="quarterly supplier audit",
                      owner="user:compliance.qian", due_on=due_on, today=TODAY, actor=OFFICER,
                      reason=reason, at=LATER)


def complete(plan: ImprovementPlan, action_id: str = "A1", *,
             completed_on: date | str = TODAY, today: date = TODAY) -> None:
    plan.complete_action(action_id, evidence=evidence(), completed_on=completed_on,
                         today=today, actor=IMPORTER_STAFF, reason="done", at=LATER)


def close(plan: ImprovementPlan, *, verification_number: str | None = VERIFICATION_NUMBER,
          effective: bool = True) -> None:
    plan.close_effective(verification_number=verification_number,
                         concluded_effective=effective, verified_rate=Decimal("0.9900"),
                         actor=OFFICER, reason="verification effective", at=LATER)


def last_event(plan: ImprovementPlan) -> ImprovementPlan.Event:
    return plan.pending_events[-1]  # type: ignore[return-value]


# -- drafting -------------------------------------------------------------------------------


def test_drafting_a_plan_records_the_assessment_its_deficient_areas_and_target() -> None:
    plan = drafted_plan()

    assert plan.id == case_id(PLAN_NUMBER)
    assert plan.label == f"improvement plan {PLAN_NUMBER}"
    assert (plan.number, plan.assessment_number) == (PLAN_NUMBER, NUMBER)
    assert (plan.importer_id, plan.importer_number, plan.district) == (
        IMPORTER_ID, IMPORTER_NUMBER, "11")
    assert plan.deficient_areas == DEFICIENT
    assert plan.target_rate == TARGET_RATE
    assert plan.proposal_due_on == TODAY + timedelta(days=60)
    assert plan.state is PlanState.DRAFT
    assert plan.actions == ()
    assert plan.next_action_serial == 1
    assert (plan.verification_number, plan.verification_due_on, plan.enforcement_number) == (
        None, None, None)
    assert plan.version == 1
    assert plan.created_on == T0


def test_a_plan_without_a_deficient_area_is_refused() -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        drafted_plan(areas=())
    assert_names(excinfo.value, field="deficient_areas")


def test_a_plan_with_a_malformed_number_is_refused() -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        ImprovementPlan.draft(
            number="IP-26-1", importer_id=IMPORTER_ID, importer_number=IMPORTER_NUMBER,
            district="11", assessment_number=NUMBER, deficient_areas=DEFICIENT,
            target_rate=TARGET_RATE, proposal_due_on=TODAY, actor=OFFICER, reason=REASON,
            at=T0)
    assert_names(excinfo.value, field="case_number")


# -- actions while draft --------------------------------------------------------------------


def test_adding_actions_numbers_them_in_order_and_records_who_owns_them() -> None:
    plan = drafted_plan()

    assert add(plan, VALUE) == "A1"
    assert add(plan, " Classification ") == "A2"

    assert plan.actions == (
        CorrectiveAction("A1", VALUE, "reconcile invoices to declarations", IMPORTER_STAFF,
                         DUE_ON),
        CorrectiveAction("A2", CLASSIFICATION, "reconcile invoices to declarations",
                         IMPORTER_STAFF, DUE_ON),
    )
    assert plan.next_action_serial == 3
    assert not any(a.is_completed for a in plan.actions)
    assert [type(e).__name__ for e in plan.pending_events] == [
        "Drafted", "ActionAdded", "ActionAdded"]


def test_an_action_may_fall_due_today() -> None:
    plan = drafted_plan()
    add(plan, due_on=TODAY.isoformat())
    assert plan.actions[0].due_on == TODAY


def test_an_action_due_in_the_past_is_refused() -> None:
    plan = drafted_plan()
    assert_refused(plan, lambda: add(plan, due_on=YESTERDAY), RuleViolationError,
                   rule="DueDateIsNotInThePast",
                   mentions=[YESTERDAY.isoformat(), TODAY.isoformat()])


def test_an_action_for_an_area_that_was_not_found_deficient_is_refused() -> None:
    plan = drafted_plan()
    assert_refused(plan, lambda: add(plan, ORIGIN), RuleViolationError,
                   rule="ActionAddressesADeficientArea",
                   mentions=["origin", "value, classification"])


def test_the_area_is_checked_before_the_due_date() -> None:
    plan = drafted_plan()
    assert_refused(plan, lambda: add(plan, ORIGIN, due_on=YESTERDAY), RuleViolationError,
                   rule="ActionAddressesADeficientArea")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"area": "tariff"}, "area"),
    ({"due_on": "next week"}, "due_on"),
    ({"owner": "zhao"}, "owner"),
    ({"description": "  "}, "description"),
    ({"reason": ""}, "reason"),
    ({"actor": "anonymous"}, "actor"),
])
def test_an_action_with_a_malformed_field_is_refused(overrides: dict[str, str],
                                                     field: str) -> None:
    plan = drafted_plan()
    fields = {"area": "value", "description": "retrain", "owner": IMPORTER_STAFF,
              "due_on": DUE_ON, "today": TODAY, "actor": IMPORTER_STAFF, "reason": REASON,
              "at": LATER, **overrides}
    assert_refused(plan, lambda: plan.add_action(**fields), InvalidValueError, field=field)


def test_an_action_stamped_with_a_naive_datetime_is_refused() -> None:
    plan = drafted_plan()
    assert_refused(plan, lambda: add(plan, when=datetime(2026, 3, 2, 10, 0)),
                   InvalidValueError, field="at")


def test_changing_a_draft_action_replaces_it_but_keeps_its_id() -> None:
    plan = plan_with_actions()

    change(plan, "A1", area="classification", due_on=TOMORROW)

    assert plan.actions[0] == CorrectiveAction("A1", CLASSIFICATION,
                                               "monthly invoice reconciliation",
                                               "user:compliance.qian", TOMORROW)
    assert plan.actions[1].action_id == "A2"
    assert type(last_event(plan)).__name__ == "ActionChanged"
    assert last_event(plan).reason == "owner changed"


def test_changing_an_unknown_action_is_refused_and_lists_the_known_ones() -> None:
    plan = plan_with_actions()
    assert_refused(plan, lambda: change(plan, "A9"), RuleViolationError, rule="ActionExists",
                   mentions=["A9", "A1, A2"])


def test_a_change_is_checked_by_the_same_rules_as_an_addition() -> None:
    plan = plan_with_actions()
    assert_refused(plan, lambda: change(plan, area=ORIGIN), RuleViolationError,
                   rule="ActionAddressesADeficientArea")
    assert_refused(plan, lambda: change(plan, due_on=YESTERDAY), RuleViolationError,
                   rule="DueDateIsNotInThePast")


def test_removing_an_action_does_not_free_its_id_for_reuse() -> None:
    plan = plan_with_actions()

    plan.remove_action("A2", actor=IMPORTER_STAFF, reason="merged into A1", at=LATER)
    assert [a.action_id for a in plan.actions] == ["A1"]

    assert add(plan, CLASSIFICATION) == "A3"


def test_removing_an_action_from_a_plan_without_actions_is_refused() -> None:
    plan = drafted_plan()
    assert_refused(plan, lambda: plan.remove_action("A1", actor=IMPORTER_STAFF, reason=REASON,
                                                    at=LATER),
                   RuleViolationError, rule="ActionExists", mentions=["actions: none"])


# -- submit, approve, send back -------------------------------------------------------------


def test_a_plan_without_actions_cannot_be_submitted() -> None:
    plan = drafted_plan()
    assert_refused(plan, lambda: plan.submit(actor=IMPORTER_STAFF, reason=REASON, at=LATER),
                   RuleViolationError, rule="PlanNeedsAtLeastOneAction")


def test_a_plan_must_have_an_action_for_every_deficient_area_to_be_submitted() -> None:
    plan = drafted_plan()
    add(plan, VALUE)
    assert_refused(plan, lambda: plan.submit(actor=IMPORTER_STAFF, reason=REASON, at=LATER),
                   RuleViolationError, rule="EveryDeficientAreaHasAnAction",
                   mentions=["classification"])


def test_submitting_a_complete_plan_puts_it_before_the_officer() -> None:
    plan = plan_with_actions()
    plan.submit(actor=IMPORTER_STAFF, reason="plan proposed", at=LATER)
    assert plan.state is PlanState.SUBMITTED
    assert plan.modified_on == LATER


@pytest.mark.parametrize("command", [
    lambda p: add(p, CLASSIFICATION),
    lambda p: change(p),
    lambda p: p.remove_action("A1", actor=IMPORTER_STAFF, reason=REASON, at=LATER),
    lambda p: p.submit(actor=IMPORTER_STAFF, reason=REASON, at=LATER),
    lambda p: amend(p),
    lambda p: complete(p),
])
def test_a_submitted_plan_takes_no_edits_until_it_is_decided(
        command: Callable[[ImprovementPlan], None]) -> None:
    plan = submitted_plan()
    assert_refused(plan, lambda: command(plan), InvalidTransitionError,
                   mentions=["is submitted"])


def test_approving_a_submitted_plan() -> None:
    plan = submitted_plan()
    plan.approve(actor=MANAGER, reason="actions address every deficiency", at=LATER)
    assert plan.state is PlanState.APPROVED


def test_a_draft_plan_cannot_be_approved_or_sent_back() -> None:
    plan = plan_with_actions()
    for command in (plan.approve, plan.send_back):
        assert_refused(plan, lambda c=command: c(actor=OFFICER, reason=REASON, at=LATER),
                       InvalidTransitionError, mentions=["is draft", "only allowed when submitted"])


def test_a_plan_sent_back_can_be_changed_and_resubmitted() -> None:
    plan = submitted_plan()

    plan.send_back(actor=MANAGER, reason="A2 is too vague", at=at(30))
    assert plan.state is PlanState.DRAFT
    change(plan, "A2", area=CLASSIFICATION)
    plan.submit(actor=IMPORTER_STAFF, reason="clarified A2", at=at(31))
    plan.approve(actor=MANAGER, reason="fine now", at=at(32))

    assert plan.state is PlanState.APPROVED
    assert plan.actions[1].description == "monthly invoice reconciliation"


# -- four eyes: neither the submitter nor the drafter approves or sends back ----------------


def test_a_plan_remembers_who_drafted_submitted_and_reported_it() -> None:
    plan = implemented_plan()
    assert (plan.drafted_by, plan.submitted_by, plan.implementation_reported_by) == (
        OFFICER, IMPORTER_STAFF, IMPORTER_STAFF)
    assert drafted_plan().submitted_by is None


def review(plan: ImprovementPlan, step: str, actor: str) -> None:
    command = plan.approve if step == "approve" else plan.send_back
    command(actor=actor, reason=REASON, at=LATER)


@pytest.mark.parametrize(("step", "words"), [("approve", "approve it"),
                                             ("send_back", "send it back")])
def test_the_submitter_cannot_approve_or_send_back_their_own_plan(step: str,
                                                                  words: str) -> None:
    plan = submitted_plan()
    assert_refused(plan, lambda: review(plan, step, IMPORTER_STAFF), RuleViolationError,
                   rule="PlanReviewerIsNotTheSubmitter",
                   mentions=[IMPORTER_STAFF, "submitted this plan", words])


@pytest.mark.parametrize(("step", "words"), [("approve", "approve it"),
                                             ("send_back", "send it back")])
def test_the_drafter_cannot_approve_or_send_back_the_plan(step: str, words: str) -> None:
    plan = submitted_plan()
    assert_refused(plan, lambda: review(plan, step, OFFICER), RuleViolationError,
                   rule="PlanReviewerIsNotTheDrafter",
                   mentions=[OFFICER, "drafted this plan", words])


@pytest.mark.parametrize("step", ["approve", "send_back"])
def test_someone_who_neither_drafted_nor_submitted_the_plan_reviews_it(step: str) -> None:
    plan = submitted_plan()
    review(plan, step, MANAGER)
    assert plan.state is (PlanState.APPROVED if step == "approve" else PlanState.DRAFT)
    assert last_event(plan).actor == MANAGER


def test_a_system_job_that_drafted_the_plan_is_not_a_person_and_does_not_count() -> None:
    plan = submitted_plan(drafted_by="system:workflow")
    plan.approve(actor="system:workflow", reason="approved by the batch rules", at=LATER)
    assert plan.state is PlanState.APPROVED


def test_the_submitter_who_counts_is_the_one_who_submitted_it_for_this_decision() -> None:
    plan = submitted_plan()
    plan.send_back(actor=MANAGER, reason="A2 is too vague", at=at(30))
    plan.submit(actor="user:compliance.qian", reason="clarified A2", at=at(31))
    assert plan.submitted_by == "user:compliance.qian"
    assert_refused(plan, lambda: plan.approve(actor="user:compliance.qian", reason=REASON,
                                              at=at(32)),
                   RuleViolationError, rule="PlanReviewerIsNotTheSubmitter",
                   mentions=["user:compliance.qian"])


def test_a_plan_restored_without_its_reviewers_actors_is_not_blocked() -> None:
    # State from a snapshot taken before plans remembered these actors: class defaults.
    plan = submitted_plan()
    del plan.drafted_by, plan.submitted_by
    assert (plan.drafted_by, plan.submitted_by) == (None, None)
    plan.approve(actor=IMPORTER_STAFF, reason=REASON, at=LATER)
    assert plan.state is PlanState.APPROVED


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
