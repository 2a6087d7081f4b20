"""`compliance plans ...`: improvement plans from draft to effective closure."""

from __future__ import annotations

from typing import Any

import click

from application.compliance_cases import ComplianceCases
from application.queries import plan_summary
from domain.improvement_plan import Evidence, PlanState
from interfaces.cli.context import (
    case_list,
    case_show,
    case_step,
    common,
    recorded,
    to_plain,
)

_ACTION_OPTIONS = (
    click.option("--area", required=True, help="The deficient area the action corrects."),
    click.option("--description", required=True),
    click.option("--owner", required=True, help="user:<id> responsible at the importer."),
    click.option("--due-on", required=True, help="ISO date; not before today."),
)


@click.group()
def plans() -> None:
    """Improvement plans: actions, submission, approval, evidence, implementation."""


def _plan_details(app: ComplianceCases, number: str) -> dict[str, Any]:
    plan = app.get_plan(number)
    return {**plan_summary(plan), "action_list": to_plain(plan.actions)}


plans.add_command(case_list(
    "List improvement plans.", "improvement_plan", [s.value for s in PlanState],
    lambda r: (f"{r['number']}  {r['importer_number']}  {r['district']}  {r['state']:<24} "
               f"actions {r['actions_completed']}/{r['actions']}"), "plan(s)"))
plans.add_command(case_show("Show a plan with its actions and evidence.", _plan_details))


def _add(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.add_plan_action(number, area=o["area"], description=o["description"],
                               owner=o["owner"], due_on=o["due_on"], **common(o))


def _change(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.change_plan_action(number, o["action_id"], area=o["area"],
                                  description=o["description"], owner=o["owner"],
                                  due_on=o["due_on"], **common(o))


def _amend(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    return app.amend_plan_action(number, o["action_id"], description=o["description"],
                                 owner=o["owner"], due_on=o["due_on"], **common(o))


def _complete(app: ComplianceCases, number: str, o: dict[str, Any]) -> Any:
    evidence = Evidence.parse(o["evidence"], o["document"], o["sha256"])
    return app.complete_plan_action(number, o["action_id"], evidence=evidence,
                                    completed_on=o["completed_on"], **common(o))


_ACTION_ID = click.option("--action", "action_id", required=True, help="Action id, e.g. A1.")

plans.add_command(case_step("add-action", "Add a corrective action to a draft plan.", _add,
                            lambda n, r: f"{n}: action {r} added", _ACTION_OPTIONS))
plans.add_command(case_step("change-action", "Change an action of a draft plan.", _change,
                            recorded, (_ACTION_ID, *_ACTION_OPTIONS)))
plans.add_command(case_step(
    "remove-action", "Remove an action from a draft plan.",
    lambda app, n, o: app.remove_plan_action(n, o["action_id"], **common(o)), recorded,
    (_ACTION_ID,)))
plans.add_command(case_step("submit", "Submit the plan (the importer's representative).",
                            lambda app, n, o: app.submit_plan(n, **common(o)), recorded))
plans.add_command(case_step("approve", "Approve a submitted plan (supervisor).",
                            lambda app, n, o: app.approve_plan(n, **common(o)), recorded))
plans.add_command(case_step("send-back", "Send a submitted plan back with reasons.",
                            lambda app, n, o: app.send_back_plan(n, **common(o)), recorded))
plans.add_command(case_step(
    "amend-action", "Amend an action of an approved plan (recorded with its reason).", _amend,
    recorded, (_ACTION_ID, *_ACTION_OPTIONS[1:])))
plans.add_command(case_step(
    "complete-action", "Complete an action with evidence.", _complete, recorded,
    (_ACTION_ID, click.option("--evidence", required=True, help="What shows it was done."),
     click.option("--document", required=True, help="Document reference."),
     click.option("--sha256", required=True, help="SHA-256 of the document."),
     click.option("--completed-on", required=True, help="ISO date."))))
plans.add_command(case_step(
    "report-implementation", "Report implementation; schedules the follow-up verification.",
    lambda app, n, o: app.report_implementation(n, **common(o)),
    lambda n, r: f"{n}: implementation reported; follow-up verification {r} scheduled"))
plans.add_command(case_step(
    "escalate", "Escalate to enforcement (e.g. overdue beyond grace).",
    lambda app, n, o: app.escalate_plan(n, **common(o)),
    lambda n, r: f"{n}: escalated; enforcement action {r} proposed"))
