"""/api/plans: improvement plans — actions drafted, submitted, approved or sent back,
amended, completed with evidence, implementation reported (which schedules the follow-up
verification), escalation; one plan with its actions; the list (from the work list).

Plans are opened by an assessment's findings, never here. An importer's representative
drafts, submits, completes and reports for its own importers; approving and sending back
are a supervisor's (and never the drafter's or the submitter's: the domain's four eyes)."""

from __future__ import annotations

from typing import Any

import msgspec

from application.compliance_cases import ComplianceCases
from application.queries import plan_summary
from domain.case_numbers import case_id
from domain.improvement_plan import Evidence
from domain.reference import ComplianceArea
from domain.values import parse_actor, parse_date, parse_enum, parse_name, parse_text
from interfaces.http.case_lists import build_case_list
from interfaces.http.commands import (
    CommandSpec,
    Common,
    ReasonOnly,
    build_command_handler,
    checked,
    reason_only_step,
)
from interfaces.http.reads import build_case_read

RESOURCE = "plans"


class AddAction(msgspec.Struct, forbid_unknown_fields=True):
    area: str
    description: str
    owner: str
    """user:<id> responsible at the importer."""
    due_on: str
    reason: str


class ChangeAction(msgspec.Struct, forbid_unknown_fields=True):
    action_id: str
    area: str
    description: str
    owner: str
    due_on: str
    reason: str


class AmendAction(msgspec.Struct, forbid_unknown_fields=True):
    action_id: str
    description: str
    owner: str
    due_on: str
    reason: str


class RemoveAction(msgspec.Struct, forbid_unknown_fields=True):
    action_id: str
    reason: str


class CompleteAction(msgspec.Struct, forbid_unknown_fields=True):
    """Evidence as `compliance plans complete-action` takes it: what shows the action was
    done, the document's reference and the document's SHA-256 (so a later substitution of
    the document is detectable)."""

    action_id: str
    evidence: str
    document: str
    sha256: str
    completed_on: str
    reason: str


def load(app: ComplianceCases, number: str) -> Any:
    return app.get_plan(number)


def describe(app: ComplianceCases, number: str) -> dict[str, Any]:
    """As `compliance plans show --json`: the summary and every action with its evidence."""
    plan = app.get_plan(number)
    return {**plan_summary(plan),
            "action_list": msgspec.to_builtins(plan.actions, str_keys=True)}



def _action_fields(body: AddAction | ChangeAction | AmendAction) -> dict[str, Any]:
    return {"description": lambda: parse_text("description", body.description, 200,
                                              multiline=True),
            "owner": lambda: parse_actor(body.owner, "owner"),
            "due_on": lambda: parse_date(body.due_on, "due_on")}


def _area(value: str) -> ComplianceArea:
    return parse_enum(ComplianceArea, value, "area")


def _add(app: ComplianceCases, number: str, body: AddAction, common: Common) -> str:
    checked(body.reason, area=lambda: _area(body.area), **_action_fields(body))
    return app.add_plan_action(number, area=body.area, description=body.description,
                               owner=body.owner, due_on=body.due_on, **common.kwargs())


def _change(app: ComplianceCases, number: str, body: ChangeAction, common: Common) -> int:
    checked(body.reason, area=lambda: _area(body.area), **_action_fields(body))
    return app.change_plan_action(number, body.action_id, area=body.area,
                                  description=body.description, owner=body.owner,
                                  due_on=body.due_on, **common.kwargs())


def _amend(app: ComplianceCases, number: str, body: AmendAction, common: Common) -> int:
    checked(body.reason, **_action_fields(body))
    return app.amend_plan_action(number, body.action_id, description=body.description,
                                 owner=body.owner, due_on=body.due_on, **common.kwargs())


def _remove(app: ComplianceCases, number: str, body: RemoveAction, common: Common) -> int:
    checked(body.reason)
    return app.remove_plan_action(number, body.action_id, **common.kwargs())


def _digest(value: str) -> str:
    """The SHA-256 as Evidence.parse checks it (the other parts are checked on their own)."""
    return Evidence.parse("digest", "digest", value).sha256


def _complete(app: ComplianceCases, number: str, body: CompleteAction, common: Common) -> int:
    checked(body.reason,
             evidence=lambda: parse_text("evidence", body.evidence, 200, multiline=True),
             document=lambda: parse_name(body.document, "document"),
             sha256=lambda: _digest(body.sha256),
             completed_on=lambda: parse_date(body.completed_on, "completed_on"))
    evidence = Evidence.parse(body.evidence, body.document, body.sha256)
    return app.complete_plan_action(number, body.action_id, evidence=evidence,
                                    completed_on=body.completed_on, **common.kwargs())



SPECS = [
    CommandSpec(RESOURCE, "add-action", AddAction, "add_plan_action", _add,
                "Add a corrective action to a draft plan; the result is its id"),
    CommandSpec(RESOURCE, "change-action", ChangeAction, "change_plan_action", _change,
                "Change an action of a draft plan"),
    CommandSpec(RESOURCE, "remove-action", RemoveAction, "remove_plan_action", _remove,
                "Remove an action from a draft plan"),
    CommandSpec(RESOURCE, "submit", ReasonOnly, "submit_plan", reason_only_step("submit_plan"),
                "Submit the plan (the importer's representative)"),
    CommandSpec(RESOURCE, "approve", ReasonOnly, "approve_plan", reason_only_step("approve_plan"),
                "Approve a submitted plan (a supervisor, not its drafter or submitter)"),
    CommandSpec(RESOURCE, "send-back", ReasonOnly, "send_back_plan",
                reason_only_step("send_back_plan"), "Send a submitted plan back, saying why"),
    CommandSpec(RESOURCE, "amend-action", AmendAction, "amend_plan_action", _amend,
                "Amend an action of an approved plan (recorded with its reason)"),
    CommandSpec(RESOURCE, "complete-action", CompleteAction, "complete_plan_action",
                _complete, "Complete an action with evidence"),
    CommandSpec(RESOURCE, "report-implementation", ReasonOnly, "report_implementation",
                reason_only_step("report_implementation"),
                "Report implementation; the result is the follow-up verification scheduled"),
    CommandSpec(RESOURCE, "escalate", ReasonOnly, "escalate_plan",
                reason_only_step("escalate_plan"),
                "Escalate to enforcement; the result is the enforcement action proposed"),
]

COLUMNS = ("id", "number", "importer_number", "district", "state", "assessment_number",
           "deficient_areas", "actions", "actions_completed", "proposal_due_on",
           "verification_number", "enforcement_number", "version")
"""The list's CSV header: the keys of application.queries.plan_summary."""

ROUTES = [build_command_handler(spec, load) for spec in SPECS]
ROUTES += [build_case_read(RESOURCE, "read:plans", describe, case_id),
           build_case_list(RESOURCE, "improvement_plan", "read:plans", COLUMNS)]
