"""ImprovementPlan until approved: draft, change actions, submit, approve or send back
(four eyes); what follows is in test_improvement_plan_outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from domain.case_numbers import case_id
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.improvement_plan import CorrectiveAction, ImprovementPlan, PlanState

from .builders import (
    DEFICIENT,
    DUE_ON,
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
    assert_names,
    assert_refused,
    at,
    drafted_plan,
    implemented_plan,
    plan_with_actions,
    submitted_plan,
)
from .plan_support import (
    CLASSIFICATION,
    LATER,
    ORIGIN,
    TOMORROW,
    VALUE,
    YESTERDAY,
    add,
    amend,
    change,
    complete,
    last_event,
)

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
