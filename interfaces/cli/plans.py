"""`compliance plans ...`: improvement plans from draft to effective closure."""

from __future__ import annotations

from typing import Any

import click

from application.compliance_cases import ComplianceCases
from application.queries import list_plans, plan_summary
from domain.improvement_plan import Evidence, PlanState
from interfaces.cli.context import (
    case_step,
    cli_context,
    common,
    emit_json,
    json_option,
    recorded,
    run_guarded,
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


@plans.command("list")
@click.option("--state", type=click.Choice([s.value for s in PlanState]), default=None)
@click.option("--district", default=None)
@click.option("--importer", "importer_number", default=None)
@json_option
def list_command(state: str | None, district: str | None, importer_number: str | None,
                 as_json: bool) -> None:
    """List improvement plans."""
    def action() -> None:
        rows = list_plans(cli_context().app, district=district, state=state,
                          importer_number=importer_number)
        if as_json:
            emit_json(rows)
            return
        for row in rows:
            click.echo(f"{row['number']}  {row['importer_number']}  {row['district']}  "
                       f"{row['state']:<24} actions {row['actions_completed']}/"
                       f"{row['actions']}")
        click.echo(f"{len(rows)} plan(s)")
    run_guarded(action)


@plans.command()
@click.argument("number")
@json_option
def show(number: str, as_json: bool) -> None:
    """Show a plan with its actions and evidence."""
    def action() -> None:
        plan = cli_context().app.get_plan(number)
        summary = plan_summary(plan)
        summary["action_list"] = to_plain(plan.actions)
        if as_json:
            emit_json(summary)
            return
        for key, value in summary.items():
            if key != "action_list":
                click.echo(f"{key:>20}: {value}")
        for item in plan.actions:
            done = f"done {item.completed_on}" if item.completed_on else f"due {item.due_on}"
            click.echo(f"  {item.action_id} [{item.area.value}] {item.description} "
                       f"({item.owner}, {done})")
    run_guarded(action)


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
