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
from projections.view import Handler, Statement, View, iso

OPEN_CASE = ("INSERT INTO {wl_cases} (case_id, number, kind, importer_number, district, "
             "officer, state, next_step, due_on, opened_on, closed) "
             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT (case_id) DO NOTHING")
MOVE = "UPDATE {wl_cases} SET state = ?, next_step = ?, due_on = ? WHERE case_id = ?"
MOVE_KEEP_DUE = "UPDATE {wl_cases} SET state = ?, next_step = ? WHERE case_id = ?"
CLOSE = ("UPDATE {wl_cases} SET state = ?, next_step = '', due_on = NULL, closed = 1 "
         "WHERE case_id = ?")
OPEN_CASE_INHERITING = (
    "INSERT INTO {wl_cases} (case_id, number, kind, importer_number, district, officer, "
    "state, next_step, due_on, opened_on, closed) VALUES (?, ?, ?, ?, ?, "
    "COALESCE((SELECT officer FROM {wl_cases} WHERE case_id = ?), ?), ?, ?, ?, ?, 0) "
    "ON CONFLICT (case_id) DO NOTHING")
"""A case whose responsible officer is that of the case it came from (a plan: its
assessment's; an enforcement action: its source case's), else the given fallback."""
ASSIGN = "UPDATE {wl_cases} SET officer = ? WHERE case_id = ?"
ASSIGNED = ("UPDATE {wl_cases} SET state = ?, next_step = ? WHERE case_id = ? "
            "AND state = 'opened'")
DUE = ("INSERT INTO {wl_due} (item, case_id, case_number, kind, district, due_on, done, "
       "description, owner, reminded_offset, overdue) SELECT ?, case_id, number, ?, district, ?, "
       "0, ?, ?, NULL, 0 FROM {wl_cases} WHERE case_id = ? ON CONFLICT (item) DO UPDATE SET "
       "reminded_offset = CASE WHEN {wl_due}.due_on = excluded.due_on "
       "THEN {wl_due}.reminded_offset END, "
       "overdue = CASE WHEN {wl_due}.due_on = excluded.due_on THEN {wl_due}.overdue ELSE 0 END, "
       "due_on = excluded.due_on, done = 0, description = excluded.description, "
       "owner = excluded.owner")
"""A due item, keyed `<case id>/<item>` (item: "proposal", an action id, "retest",
"response"); a new due date starts its reminders and overdue flag afresh."""
REMINDED = ("UPDATE {wl_due} SET reminded_offset = ? WHERE item = ? AND due_on = ? "
            "AND (reminded_offset IS NULL OR reminded_offset < ?)")
FLAGGED = "UPDATE {wl_due} SET overdue = 1 WHERE item = ? AND due_on = ?"
DONE = "UPDATE {wl_due} SET done = 1 WHERE item = ?"
DROP_ITEM = "DELETE FROM {wl_due} WHERE item = ?"


def _open(kind: str, state: str, next_step: str, due: str | None = None) -> Handler:
    """A new case, with no officer responsible yet (whoever opened it is an analyst, or
    the importer's representative who reported a plan implemented)."""
    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        return [Statement(OPEN_CASE, (str(event.originator_id), event.number, kind,
                                      event.importer_number, event.district, None, state,
                                      next_step, iso(getattr(event, due)) if due else None,
                                      event.timestamp.date().isoformat()))]
    return handler


def _open_inheriting(kind: str, state: str, next_step: str, due: str | None,
                     source: Callable[[Any], str | None],
                     fallback: Callable[[Any], str | None]) -> Handler:
    """A new case whose responsible officer is that of the case `source(event)` names,
    else `fallback(event)`."""
    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        origin = _case_uuid(source(event))
        return [Statement(OPEN_CASE_INHERITING, (
            str(event.originator_id), event.number, kind, event.importer_number,
            event.district, None if origin is None else str(origin), fallback(event), state,
            next_step, iso(getattr(event, due)) if due else None,
            event.timestamp.date().isoformat()))]
    return handler


def _case_uuid(number: str | None) -> UUID | None:
    if not number:
        return None
    try:
        return id_of_case(number)
    except InvalidValueError:  # not a case number: nothing to inherit from
        return None


def _move(state: str, next_step: str, due: str | None = None) -> Handler:
    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        if due is None:
            return [Statement(MOVE_KEEP_DUE, (state, next_step, str(event.originator_id)))]
        return [Statement(MOVE, (state, next_step, iso(getattr(event, due)),
                                 str(event.originator_id)))]
    return handler


def _close(state: str) -> Handler:
    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        case_id = str(event.originator_id)
        return [Statement(CLOSE, (state, case_id)),
                Statement("UPDATE {wl_due} SET done = 1 WHERE case_id = ?", (case_id,))]
    return handler


def _assigned(_: Any, event: Any, __: int) -> list[Statement]:
    """An assessment's first assignment moves it on; a reassignment only changes who."""
    case = str(event.originator_id)
    return [Statement(ASSIGN, (event.officer, case)),
            Statement(ASSIGNED, ("assigned", "record the internal-control survey", case))]


def _verification_assigned(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(ASSIGN, (event.officer, str(event.originator_id)))]


def _plan_drafted(view: Any, event: Any, n: int) -> list[Statement]:
    opened = _open_inheriting("improvement_plan", "draft",
                              "importer proposes corrective actions", "proposal_due_on",
                              lambda e: e.assessment_number, lambda _: None)(view, event, n)
    return [*opened, Statement(DUE, (f"{event.originator_id}/proposal", "plan_proposal",
                                     iso(event.proposal_due_on),
                                     "proposal of corrective actions", None,
                                     str(event.originator_id)))]


def _action_due(_: Any, event: Any, __: int) -> list[Statement]:
    case = str(event.originator_id)
    action = event.action
    return [Statement(DUE, (f"{case}/{action.action_id}", "plan_action", iso(action.due_on),
                            f"action {action.action_id} ({action.description})",
                            action.owner, case))]


def _action_removed(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(DROP_ITEM, (f"{event.originator_id}/{event.action_id}",))]


def _action_done(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(DONE, (f"{event.originator_id}/{event.action_id}",))]


def _plan_submitted(view: Any, event: Any, n: int) -> list[Statement]:
    moved = _move("submitted", "supervisor approves or sends back")(view, event, n)
    return [*moved, Statement("UPDATE {wl_due} SET done = 1 WHERE case_id = ? AND kind = "
                              "'plan_proposal'", (str(event.originator_id),))]


def _verification_scheduled(view: Any, event: Any, n: int) -> list[Statement]:
    opened = _open("follow_up_verification", "scheduled", "re-test the corrected areas",
                   "due_on")(view, event, n)
    areas = ", ".join(area.value for area in event.areas)
    return [*opened, Statement(DUE, (f"{event.originator_id}/retest", "verification",
                                     iso(event.due_on), f"re-test of {areas}", None,
                                     str(event.originator_id)))]


def _response_due(state: str, notice: str) -> Handler:
    def handler(view: Any, event: Any, n: int) -> list[Statement]:
        moved = _move(state, "await the importer's response", "response_due_on")(view, event, n)
        if event.response_due_on is None:
            return moved
        case = str(event.originator_id)
        return [*moved, Statement(DUE, (f"{case}/response", "enforcement_response",
                                        iso(event.response_due_on),
                                        f"importer's response to the {notice}", None,
                                        case))]
    return handler


def _reminded(_: Any, event: Any, __: int) -> list[Statement]:
    item = f"{id_of_case(event.case_number)}/{event.item}"
    return [Statement(REMINDED, (event.offset_days, item, iso(event.due_on),
                                 event.offset_days))]


def _flagged(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(FLAGGED, (f"{event.originator_id}/{event.item}", iso(event.due_on)))]


def _window_closed(view: Any, event: Any, n: int) -> list[Statement]:
    moved = _move("response_overdue", "decide the amount: no response came", None)(
        view, event, n)
    return [*moved, Statement(DONE, (f"{event.originator_id}/response",))]


def _response_received(view: Any, event: Any, n: int) -> list[Statement]:
    moved = _move("response_received", "decide the amount", None)(view, event, n)
    return [*moved, Statement(DONE, (f"{event.originator_id}/response",))]


def _decided(view: Any, event: Any, n: int) -> list[Statement]:
    """A decision ends the wait for a response (one may never have come)."""
    moved = _move("decided", "collect payment", None)(view, event, n)
    return [*moved, Statement(DONE, (f"{event.originator_id}/response",))]


def _review_concluded(view: Any, event: Any, n: int) -> list[Statement]:
    if event.approved:
        return _move("approved_for_issue", "issue the notice")(view, event, n)
    return _close("rejected")(view, event, n)


def _verification_concluded(view: Any, event: Any, n: int) -> list[Statement]:
    state = "concluded_effective" if event.effective else "concluded_not_effective"
    return _close(state)(view, event, n)


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
        EnforcementAction.ResponseRecorded: _response_received,
        EnforcementAction.Decided: _decided,
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
        EnforcementAction.ResponseWindowClosed: _window_closed,
    }
