"""Which steps a case offers now: each case type's step table (STEPS, domain/base.py) against
the command methods it guards, the steps each state of the lifecycle opens, and
`offered_steps` against the role permissions.

Every case type is driven through its own methods into every state of its lifecycle (an
enforcement action of every kind). There, every step of its table is attempted with valid
input: a step is open exactly when its method gets past the state check (and, for an
enforcement action, the kind and penalty-notice checks), and a step that is not open is
refused with the table's own message. So a method that checks the wrong step, or none, is
caught; and the open steps of each state are spelled out (tests/unit/step_scenarios.py),
so a changed table is too.
"""

from __future__ import annotations

import importlib

import pytest

from application.access import PERMISSIONS, SCHEDULER_DUTIES, Principal, system_principal
from application.next_steps import offered_steps
from domain.base import CaseAggregate
from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.user import Role

from .builders import (
    IMPORTER_NUMBER,
    issued_action,
    plan_with_actions,
    submitted_plan,
)
from .step_scenarios import (
    ALL,
    DRAFTING,
    EARLIER_REFUSALS,
    INVOKERS,
    SCENARIOS,
    STATES,
    WORKFLOW_STEPS,
    Scenario,
    then,
)


@pytest.mark.parametrize("case_type", list(SCENARIOS), ids=lambda t: t.__name__)
def test_every_state_is_reached_and_every_step_attempted(case_type: type[CaseAggregate]) -> None:
    assert {s.state for s in SCENARIOS[case_type]} == set(STATES[case_type])
    assert set(INVOKERS[case_type]) == set(case_type.STEPS)


@pytest.mark.parametrize(("case_type", "scenario"), ALL)
def test_a_state_opens_the_steps_of_its_lifecycle(case_type: type[CaseAggregate],
                                                  scenario: Scenario) -> None:
    case = scenario.build()
    assert (type(case), case.step_state()) == (case_type, scenario.state)
    assert case.steps_open_now() == scenario.opens


def attempt(case: CaseAggregate, command: str) -> str:
    """How the step's method answers: refused by the case's "state", by its "kind", by a
    step "precondition", by a rule checked "earlier" than the state; else it "passed" them
    (taken, or refused by its input or the actor, which the table does not judge)."""
    preconditions = {rule.name for rule in case.step_preconditions(command)}
    try:
        INVOKERS[type(case)][command](case)
    except InvalidTransitionError as refusal:
        expected = InvalidTransitionError(case._case_label(), case.step_state(),
                                          case.STEPS[command].label, case.step_states(command))
        return "state" if str(refusal) == str(expected) else f"refused as {refusal}"
    except InvalidValueError:
        if case.step_applies(command):
            raise  # the input given above is wrong, not the case
        return "kind"  # "only penalties are decided", "... action has no culpability"
    except RuleViolationError as refusal:
        if refusal.rule in preconditions:
            return "precondition"
        return "earlier" if EARLIER_REFUSALS.get(command) == refusal.rule else "passed"
    return "passed"


@pytest.mark.parametrize(("case_type", "scenario"), ALL)
def test_the_methods_refuse_exactly_the_steps_that_are_not_open(
        case_type: type[CaseAggregate], scenario: Scenario) -> None:
    disagreements = []
    for command in case_type.STEPS:
        case = scenario.build()
        is_open = command in case.steps_open_now()
        if case.step_state() not in case.step_states(command):
            expected = {"state", "earlier"} if command in EARLIER_REFUSALS else {"state"}
        elif not case.step_applies(command):
            expected = {"kind"}
        elif any(rule.is_broken() for rule in case.step_preconditions(command)):
            expected = {"precondition"}
        else:
            expected = {"passed"}
        outcome = attempt(case, command)
        if outcome not in expected or is_open != (outcome == "passed"):
            disagreements.append(f"{command}: open={is_open}, method {outcome}")
    assert disagreements == []


def principal(role: Role) -> Principal:
    importers = frozenset({IMPORTER_NUMBER}) if role is Role.IMPORTER_REPRESENTATIVE else None
    return Principal(f"user:{role.value}", frozenset({role}), None, importers)


@pytest.mark.parametrize(("case_type", "scenario"), ALL)
def test_a_caller_is_offered_the_open_steps_its_roles_permit(
        case_type: type[CaseAggregate], scenario: Scenario) -> None:
    case = scenario.build()
    assert type(case) is case_type
    for role in (Role.OFFICER, Role.SUPERVISOR, Role.IMPORTER_REPRESENTATIVE, Role.AUDITOR,
                 Role.ANALYST):
        expected = tuple(c for c in case.steps_open_now() if c in PERMISSIONS[role])
        assert offered_steps(case, principal(role)) == expected, role


def test_who_is_offered_what_on_a_submitted_plan_and_a_noticed_penalty() -> None:
    plan = submitted_plan()
    assert offered_steps(plan, principal(Role.SUPERVISOR)) == (
        "approve_plan", "send_back_plan", "escalate_plan")
    assert offered_steps(plan, principal(Role.OFFICER)) == ("escalate_plan",)
    assert offered_steps(plan, principal(Role.IMPORTER_REPRESENTATIVE)) == ()
    assert offered_steps(plan, principal(Role.AUDITOR)) == ()
    assert offered_steps(plan_with_actions(), principal(Role.IMPORTER_REPRESENTATIVE)) == (
        DRAFTING)
    noticed = then(lambda: issued_action("penalty"), "issue_penalty_notice")()
    assert offered_steps(noticed, principal(Role.OFFICER)) == (
        "record_enforcement_response", "withdraw_enforcement")
    assert offered_steps(noticed, system_principal("system:scheduler")) == (
        "record_enforcement_response", "close_response_window", "withdraw_enforcement")


def test_every_step_is_a_command_the_application_grants_or_its_workflow_takes() -> None:
    granted = set().union(*PERMISSIONS.values()) | SCHEDULER_DUTIES
    unknown = {command for case_type in SCENARIOS for command in case_type.STEPS
               if command not in granted}
    assert unknown == WORKFLOW_STEPS


def test_every_http_command_on_an_existing_case_is_a_step_a_page_can_offer() -> None:
    creating = {"open_assessment", "propose_enforcement", "draft_rule", "register_importer"}
    steps = {command for case_type in SCENARIOS for command in case_type.STEPS}
    commands = {spec.permission
                for module in ("assessments", "plans", "enforcement", "verifications", "rules",
                               "accounts")
                for spec in importlib.import_module(f"interfaces.http.{module}").SPECS}
    assert commands - creating - steps == set()
    assert creating <= commands
