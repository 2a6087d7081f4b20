"""Statistics views: compliance rates (per area, industry, district, period, from
assessment findings and verification re-tests), enforcement (by kind, state, district;
amounts proposed, decided, paid; time to decision) and plan progress (actions due,
completed, overdue per plan and district)."""

from __future__ import annotations

from typing import Any, ClassVar

from domain.assessment import Assessment
from domain.enforcement_action import EnforcementAction
from domain.follow_up_verification import FollowUpVerification
from domain.importer_account import ImporterAccount
from domain.improvement_plan import ImprovementPlan
from projections.view import Handler, Statement, View, cents

CS_CASE = ("INSERT INTO {cs_cases} (case_id, number, source, importer_id, district) "
           "VALUES (?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING")
CS_FINDING = ("INSERT INTO {cs_findings} (case_number, area, source, industry, district, "
              "period, lines, discrepancies, loss_cents) SELECT c.number, ?, c.source, "
              "COALESCE(i.industry, ''), c.district, ?, ?, ?, ? FROM {cs_cases} c LEFT JOIN "
              "{cs_importers} i ON i.importer_id = c.importer_id WHERE c.case_id = ? "
              "ON CONFLICT (case_number, area) DO UPDATE SET lines = excluded.lines")


def _importer(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement("INSERT INTO {cs_importers} (importer_id, industry) VALUES (?, ?) "
                      "ON CONFLICT (importer_id) DO NOTHING",
                      (str(event.originator_id), event.industry))]


def _case(source: str) -> Handler:
    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        return [Statement(CS_CASE, (str(event.originator_id), event.number, source,
                                    str(event.importer_id), event.district))]
    return handler


def _findings(_: Any, event: Any, __: int) -> list[Statement]:
    period = event.timestamp.strftime("%Y-%m")
    return [Statement(CS_FINDING, (f.area.value, period, f.lines_tested, f.discrepancies,
                                   cents(f.revenue_loss), str(event.originator_id)))
            for f in event.findings]


class ComplianceStatistics(View):
    name = "compliance_statistics"
    tables: ClassVar[dict[str, str]] = {
        "cs_importers": "importer_id TEXT PRIMARY KEY, industry TEXT NOT NULL",
        "cs_cases": ("case_id TEXT PRIMARY KEY, number TEXT NOT NULL, source TEXT NOT NULL, "
                     "importer_id TEXT NOT NULL, district TEXT NOT NULL"),
        "cs_findings": ("case_number TEXT NOT NULL, area TEXT NOT NULL, source TEXT NOT NULL, "
                        "industry TEXT NOT NULL, district TEXT NOT NULL, period TEXT NOT NULL, "
                        "lines INTEGER NOT NULL, discrepancies INTEGER NOT NULL, "
                        "loss_cents BIGINT NOT NULL, PRIMARY KEY (case_number, area)"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("cs_findings_district", "cs_findings", "district, period"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {
        ImporterAccount.Registered: _importer,
        Assessment.Opened: _case("assessment"),
        Assessment.FindingsIssued: _findings,
        FollowUpVerification.Scheduled: _case("verification"),
        FollowUpVerification.Concluded: _findings,
    }


ES_SET = "UPDATE {es_actions} SET {column} = ? WHERE case_id = ?"


def _es_set(column: str, value_of: Any) -> Handler:
    sql = ES_SET.replace("{column}", column)

    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        return [Statement(sql, (value_of(event), str(event.originator_id)))]
    return handler


def _proposed(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement(
        "INSERT INTO {es_actions} (case_id, number, kind, state, district, proposed_cents, "
        "decided_cents, paid_cents, proposed_on, proposed_day, decided_on, days_to_decision) "
        "VALUES (?, ?, ?, 'proposed', ?, ?, NULL, NULL, ?, ?, NULL, NULL) "
        "ON CONFLICT (case_id) DO NOTHING",
        (str(event.originator_id), event.number, event.kind.value, event.district,
         cents(event.proposed_amount), event.timestamp.date().isoformat(),
         event.timestamp.date().toordinal()))]


def _decided(_: Any, event: Any, __: int) -> list[Statement]:
    day = event.timestamp.date()
    return [Statement(
        "UPDATE {es_actions} SET state = 'decided', decided_cents = ?, decided_on = ? "
        "WHERE case_id = ?", (cents(event.decided_amount), day.isoformat(),
                              str(event.originator_id))),
        Statement("UPDATE {es_actions} SET days_to_decision = ? - proposed_day WHERE "
                  "case_id = ?", (day.toordinal(), str(event.originator_id)))]


def _paid(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement("UPDATE {es_actions} SET state = 'paid', paid_cents = ? WHERE "
                      "case_id = ?", (cents(event.amount), str(event.originator_id)))]


def _state(name: str) -> Handler:
    return _es_set("state", lambda _: name)


class EnforcementStatistics(View):
    name = "enforcement_statistics"
    tables: ClassVar[dict[str, str]] = {
        "es_actions": ("case_id TEXT PRIMARY KEY, number TEXT NOT NULL, kind TEXT NOT NULL, "
                       "state TEXT NOT NULL, district TEXT NOT NULL, proposed_cents BIGINT, "
                       "decided_cents BIGINT, paid_cents BIGINT, proposed_on TEXT NOT NULL, "
                       "proposed_day INTEGER NOT NULL, decided_on TEXT, "
                       "days_to_decision INTEGER"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("es_actions_district", "es_actions", "district, kind, state"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {
        EnforcementAction.Proposed: _proposed,
        EnforcementAction.CulpabilityChanged: _es_set("proposed_cents",
                                                      lambda e: cents(e.proposed_amount)),
        EnforcementAction.ReviewConcluded: _es_set(
            "state", lambda e: "approved_for_issue" if e.approved else "rejected"),
        EnforcementAction.Issued: _state("issued"),
        EnforcementAction.PenaltyNoticeIssued: _state("penalty_notice_issued"),
        EnforcementAction.ResponseRecorded: _state("response_received"),
        EnforcementAction.Decided: _decided,
        EnforcementAction.PaymentRecorded: _paid,
        EnforcementAction.ReferredForCollection: _state("referred_for_collection"),
        EnforcementAction.Withdrawn: _state("withdrawn"),
        EnforcementAction.Closed: _state("closed"),
    }


PP_ACTION = ("INSERT INTO {pp_actions} (plan_id, action_id, plan_number, district, area, "
             "due_on, completed_on) SELECT plan_id, ?, number, district, ?, ?, NULL FROM "
             "{pp_plans} WHERE plan_id = ? ON CONFLICT (plan_id, action_id) DO UPDATE SET "
             "due_on = excluded.due_on")


def _plan(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement("INSERT INTO {pp_plans} (plan_id, number, district, state) VALUES "
                      "(?, ?, ?, 'draft') ON CONFLICT (plan_id) DO NOTHING",
                      (str(event.originator_id), event.number, event.district))]


def _plan_action(_: Any, event: Any, __: int) -> list[Statement]:
    action = event.action
    return [Statement(PP_ACTION, (action.action_id, action.area.value,
                                  action.due_on.isoformat(), str(event.originator_id)))]


def _action_removed(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement("DELETE FROM {pp_actions} WHERE plan_id = ? AND action_id = ?",
                      (str(event.originator_id), event.action_id))]


def _action_completed(_: Any, event: Any, __: int) -> list[Statement]:
    return [Statement("UPDATE {pp_actions} SET completed_on = ? WHERE plan_id = ? AND "
                      "action_id = ?", (event.completed_on.isoformat(),
                                        str(event.originator_id), event.action_id))]


def _plan_state(name: str) -> Handler:
    def handler(_: Any, event: Any, __: int) -> list[Statement]:
        return [Statement("UPDATE {pp_plans} SET state = ? WHERE plan_id = ?",
                          (name, str(event.originator_id)))]
    return handler


class PlanProgress(View):
    name = "plan_progress"
    tables: ClassVar[dict[str, str]] = {
        "pp_plans": ("plan_id TEXT PRIMARY KEY, number TEXT NOT NULL, district TEXT NOT NULL, "
                     "state TEXT NOT NULL"),
        "pp_actions": ("plan_id TEXT NOT NULL, action_id TEXT NOT NULL, "
                       "plan_number TEXT NOT NULL, district TEXT NOT NULL, area TEXT NOT NULL, "
                       "due_on TEXT NOT NULL, completed_on TEXT, "
                       "PRIMARY KEY (plan_id, action_id)"),
    }
    indexes: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("pp_actions_district", "pp_actions", "district, due_on"),
    )
    handlers: ClassVar[dict[type[Any], Handler]] = {
        ImprovementPlan.Drafted: _plan,
        ImprovementPlan.ActionAdded: _plan_action,
        ImprovementPlan.ActionChanged: _plan_action,
        ImprovementPlan.ActionAmended: _plan_action,
        ImprovementPlan.ActionRemoved: _action_removed,
        ImprovementPlan.ActionCompleted: _action_completed,
        ImprovementPlan.Submitted: _plan_state("submitted"),
        ImprovementPlan.SentBack: _plan_state("draft"),
        ImprovementPlan.Approved: _plan_state("approved"),
        ImprovementPlan.ImplementationReported: _plan_state("implementation_reported"),
        ImprovementPlan.VerificationScheduled: _plan_state("verification_scheduled"),
        ImprovementPlan.ClosedEffective: _plan_state("closed_effective"),
        ImprovementPlan.Escalated: _plan_state("escalated"),
    }
