"""Work list: every case with its state, the officer responsible, next step and due date,
and the due items inside cases (plan proposals and actions, verifications, responses to
notices), each described for people ("action A1 (review before filing)"). Days overdue are
computed when read, against the reader's date.

The officer responsible: an assessment's or a verification's assigned officer (none until
one is assigned); a plan's, its assessment's officer; an enforcement action's, its source
case's officer, else whoever proposed it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID

from domain.assessment import Assessment
from domain.case_numbers import case_id as id_of_case
from domain.enforcement_action import EnforcementAction
from domain.errors import InvalidValueError
from domain.follow_up_verification import FollowUpVerification
from domain.improvement_plan import ImprovementPlan
from domain.reminder import Reminder
from projections.rows import AtLeast, Lookup, OnConflict, Rows
from projections.view import Handler, View, iso

CASES, DUE = "wl_cases", "wl_due"
DUE_AGAIN = OnConflict(update=("due_on", "done", "description", "owner"),
                       kept=("reminded_offset", "overdue"), unless_same="due_on")
"""A due item, keyed `<case id>/<item>` (item: "proposal", an action id, "retest",
"response"), due again: a new due date starts its reminders and overdue flag afresh."""


def _open(kind: str, state: str, next_step: str, due: str | None = None) -> Handler:
    """A new case, with no officer responsible yet (whoever opened it is an analyst, or
    the importer's representative who reported a plan implemented)."""
    def handler(rows: Rows, event: Any, _: int) -> None:
        _open_case(rows, event, kind, None, state, next_step,
                   iso(getattr(event, due)) if due else None)
    return handler


def _open_case(rows: Rows, event: Any, kind: str, officer: Any, state: str,
               next_step: str, due_on: str | None) -> None:
    rows.insert(CASES, (str(event.originator_id), event.number, kind, event.importer_number,
                        event.district, officer, state, next_step, due_on,
                        event.timestamp.date().isoformat(), 0))


def _open_inheriting(kind: str, state: str, next_step: str, due: str | None,
                     source: Callable[[Any], str | None],
                     fallback: Callable[[Any], str | None]) -> Handler:
    """A new case whose responsible officer is that of the case `source(event)` names,
    else `fallback(event)`."""
    def handler(rows: Rows, event: Any, _: int) -> None:
        origin = _case_uuid(source(event))
        officer = (fallback(event) if origin is None else
                   Lookup(CASES, str(origin), "officer", fallback(event)))
        _open_case(rows, event, kind, officer, state, next_step,
                   iso(getattr(event, due)) if due else None)
    return handler


def _case_uuid(number: str | None) -> UUID | None:
    if not number:
        return None
    try:
        return id_of_case(number)
    except InvalidValueError:  # not a case number: nothing to inherit from
        return None


def _due(rows: Rows, case: str, item: str, kind: str, due_on: Any, description: str,
         owner: str | None = None) -> None:
    """A due item of an existing case (numbered and placed as the case is)."""
    rows.insert(DUE, (f"{case}/{item}", case, Lookup(CASES, case, "number"), kind,
                      Lookup(CASES, case, "district"), iso(due_on), 0, description, owner,
                      None, 0), requires=(CASES, case), on_conflict=DUE_AGAIN)


def _move(state: str, next_step: str, due: str | None = None) -> Handler:
    def handler(rows: Rows, event: Any, _: int) -> None:
        values: dict[str, Any] = {"state": state, "next_step": next_step}
        if due is not None:
            values["due_on"] = iso(getattr(event, due))
        rows.update(CASES, str(event.originator_id), values)
    return handler


def _close(state: str) -> Handler:
    def handler(rows: Rows, event: Any, _: int) -> None:
        case_id = str(event.originator_id)
        rows.update(CASES, case_id, {"state": state, "next_step": "", "due_on": None,
                                     "closed": 1})
        rows.update_where(DUE, {"case_id": case_id}, {"done": 1})
    return handler


def _assigned(rows: Rows, event: Any, _: int) -> None:
    """An assessment's first assignment moves it on; a reassignment only changes who."""
    case = str(event.originator_id)
    rows.update(CASES, case, {"officer": event.officer})
    rows.update(CASES, case, {"state": "assigned",
                              "next_step": "record the internal-control survey"},
                when={"state": "opened"})


def _verification_assigned(rows: Rows, event: Any, _: int) -> None:
    rows.update(CASES, str(event.originator_id), {"officer": event.officer})


def _plan_drafted(rows: Rows, event: Any, n: int) -> None:
    _open_inheriting("improvement_plan", "draft", "importer proposes corrective actions",
                     "proposal_due_on", lambda e: e.assessment_number,
                     lambda _: None)(rows, event, n)
    _due(rows, str(event.originator_id), "proposal", "plan_proposal", event.proposal_due_on,
         "proposal of corrective actions")


def _action_due(rows: Rows, event: Any, _: int) -> None:
    action = event.action
    _due(rows, str(event.originator_id), action.action_id, "plan_action", action.due_on,
         f"action {action.action_id} ({action.description})", action.owner)


def _action_removed(rows: Rows, event: Any, _: int) -> None:
    rows.delete(DUE, f"{event.originator_id}/{event.action_id}")


def _action_done(rows: Rows, event: Any, _: int) -> None:
    rows.update(DUE, f"{event.originator_id}/{event.action_id}", {"done": 1})


def _plan_submitted(rows: Rows, event: Any, n: int) -> None:
    _move("submitted", "supervisor approves or sends back")(rows, event, n)
    rows.update_where(DUE, {"case_id": str(event.originator_id), "kind": "plan_proposal"},
                      {"done": 1})


def _verification_scheduled(rows: Rows, event: Any, n: int) -> None:
    _open("follow_up_verification", "scheduled", "re-test the corrected areas",
          "due_on")(rows, event, n)
    areas = ", ".join(area.value for area in event.areas)
    _due(rows, str(event.originator_id), "retest", "verification", event.due_on,
         f"re-test of {areas}")


def _response_due(state: str, notice: str) -> Handler:
    def handler(rows: Rows, event: Any, n: int) -> None:
        _move(state, "await the importer's response", "response_due_on")(rows, event, n)
        if event.response_due_on is not None:
            _due(rows, str(event.originator_id), "response", "enforcement_response",
                 event.response_due_on, f"importer's response to the {notice}")
    return handler


def _reminded(rows: Rows, event: Any, _: int) -> None:
    rows.update(DUE, f"{id_of_case(event.case_number)}/{event.item}",
                {"reminded_offset": AtLeast(event.offset_days)},
                when={"due_on": iso(event.due_on)})


def _flagged(rows: Rows, event: Any, _: int) -> None:
    rows.update(DUE, f"{event.originator_id}/{event.item}", {"overdue": 1},
                when={"due_on": iso(event.due_on)})


def _answered(state: str, next_step: str) -> Handler:
    """The wait for the importer's response ends (one may never have come)."""
    def handler(rows: Rows, event: Any, n: int) -> None:
        _move(state, next_step)(rows, event, n)
        rows.update(DUE, f"{event.originator_id}/response", {"done": 1})
    return handler


def _review_concluded(rows: Rows, event: Any, n: int) -> None:
    if event.approved:
        _move("approved_for_issue", "issue the notice")(rows, event, n)
    else:
        _close("rejected")(rows, event, n)


def _verification_concluded(rows: Rows, event: Any, n: int) -> None:
    state = "concluded_effective" if event.effective else "concluded_not_effective"
    _close(state)(rows, event, n)


class WorkList(View):
    name = "worklist"
    tables: ClassVar[dict[str, str]] = {
        "wl_cases": ("case_id TEXT PRIMARY KEY, number TEXT NOT NULL, kind TEXT NOT NULL, "
                     "importer_number TEXT NOT NULL, district TEXT NOT NULL, officer TEXT, "
                     "state TEXT NOT NULL, next_step TEXT NOT NULL, due_on TEXT, "
                     "opened_on TEXT NOT NULL, closed INTEGER NOT NULL"),
        "wl_due": ("item TEXT PRIMARY KEY, case_id TEXT NOT NULL, case_number TEXT NOT NULL, "
                   "kind TEXT NOT NULL, district TEXT NOT NULL, due_on TEXT NOT NULL, "
                   "done INTEGER NOT NULL, description TEXT NOT NULL, "
                   "owner TEXT, reminded_offset INTEGER, overdue INTEGER NOT NULL"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("wl_cases_district", "wl_cases", "closed, district"),
        ("wl_cases_officer", "wl_cases", "closed, officer"),
        ("wl_due_district", "wl_due", "done, district, due_on"),
        ("wl_due_case", "wl_due", "case_id"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {
        Assessment.Opened: _open("assessment", "opened", "assign an officer"),
        Assessment.OfficerAssigned: _assigned,
        Assessment.SurveyRecorded: _move("surveyed", "record sample tests"),
        Assessment.SampleTestRecorded: _move("testing", "issue findings"),
        Assessment.FindingsIssued: _move("findings_issued", "close the assessment"),
        Assessment.Closed: _close("closed"),
        Assessment.Cancelled: _close("cancelled"),
        ImprovementPlan.Drafted: _plan_drafted,
        ImprovementPlan.ActionAdded: _action_due,
        ImprovementPlan.ActionChanged: _action_due,
        ImprovementPlan.ActionAmended: _action_due,
        ImprovementPlan.ActionRemoved: _action_removed,
        ImprovementPlan.ActionCompleted: _action_done,
        ImprovementPlan.Submitted: _plan_submitted,
        ImprovementPlan.SentBack: _move("draft", "importer revises the plan"),
        ImprovementPlan.Approved: _move("approved", "importer completes the actions"),
        ImprovementPlan.ImplementationReported: _move(
            "implementation_reported", "schedule the follow-up verification"),
        ImprovementPlan.VerificationScheduled: _move(
            "verification_scheduled", "await the follow-up verification", "due_on"),
        ImprovementPlan.ClosedEffective: _close("closed_effective"),
        ImprovementPlan.Escalated: _close("escalated"),
        EnforcementAction.Proposed: _open_inheriting(
            "enforcement_action", "proposed", "evaluation team reviews", None,
            lambda e: e.source_case, lambda e: e.actor),
        EnforcementAction.ReviewConcluded: _review_concluded,
        EnforcementAction.Issued: _response_due("issued", "pre-penalty notice"),
        EnforcementAction.PenaltyNoticeIssued: _response_due("penalty_notice_issued",
                                                             "penalty notice"),
        EnforcementAction.ResponseRecorded: _answered("response_received",
                                                      "decide the amount"),
        EnforcementAction.Decided: _answered("decided", "collect payment"),
        EnforcementAction.PaymentRecorded: _move("paid", "close the action", None),
        EnforcementAction.ReferredForCollection: _move("referred_for_collection",
                                                       "close the action", None),
        EnforcementAction.Withdrawn: _close("withdrawn"),
        EnforcementAction.Closed: _close("closed"),
        FollowUpVerification.Scheduled: _verification_scheduled,
        FollowUpVerification.OfficerAssigned: _verification_assigned,
        FollowUpVerification.RetestRecorded: _move("testing", "conclude the verification"),
        FollowUpVerification.Concluded: _verification_concluded,
        FollowUpVerification.Cancelled: _close("cancelled"),
        Reminder.Recorded: _reminded,
        ImprovementPlan.OverdueFlagged: _flagged,
        FollowUpVerification.OverdueFlagged: _flagged,
        EnforcementAction.OverdueFlagged: _flagged,
        EnforcementAction.ResponseWindowClosed: _answered(
            "response_overdue", "decide the amount: no response came"),
    }
