"""The demo's case paths after findings: improvement plans (effective, escalated, in
progress, with overdue verifications) and enforcement actions (rejected, withdrawn, issued,
mitigated and paid, referred for collection), each driven by real commands days apart."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from application.compliance_cases import ComplianceCases
from domain.assessment import SampleTest
from domain.enforcement_action import EnforcementState
from domain.improvement_plan import Evidence, ImprovementPlan
from interfaces.demo_users import representative as representative_of

# (target, days it needs after the case starts, weight)
PLAN_TARGETS = (("draft", 0, 8), ("submitted", 25, 8), ("approved", 40, 12),
                ("scheduled", 100, 14), ("overdue", 290, 14), ("testing", 120, 6),
                ("cancelled", 120, 4), ("effective", 120, 20), ("escalated", 120, 14))
PENALTY_TARGETS = (("proposed", 0, 8), ("approved_for_issue", 10, 8), ("rejected", 10, 6),
                   ("issued", 15, 8), ("penalty_notice_issued", 50, 8),
                   ("response_received", 65, 10), ("decided", 95, 10), ("paid", 125, 16),
                   ("referred_for_collection", 125, 8), ("withdrawn", 15, 6),
                   ("closed", 130, 12))
PROGRAMME_TARGETS = (("proposed", 0, 3), ("approved_for_issue", 10, 3), ("issued", 15, 4),
                     ("closed", 40, 6), ("withdrawn", 15, 2))

if TYPE_CHECKING:
    from infrastructure.evidence_store import EvidenceDocument


class TargetRotation:
    """Deals targets in proportion to their weights, round-robin, skipping those the time
    left cannot reach, so even a small demo shows every state."""

    def __init__(self, targets: tuple[tuple[str, int, int], ...], rng: random.Random) -> None:
        self.deck = [(name, days) for name, days, weight in targets for _ in range(weight)]
        rng.shuffle(self.deck)
        self.position = 0

    def next(self, available: int) -> str:
        for offset in range(len(self.deck)):
            name, days = self.deck[(self.position + offset) % len(self.deck)]
            if days <= max(available, 0):
                self.deck.append(self.deck.pop((self.position + offset) % len(self.deck)))
                return name
        return self.deck[0][0]


class CaseWalker:
    """Moves the demo clock forward (never past `today`) between steps of one case."""

    def _evidence(self, number: str, action_id: str, representative: str) -> EvidenceDocument:
        """A small evidence document, kept in the evidence store as an upload is, so the
        plan pages can offer it for download."""
        # Imported here: they load pyarrow, which every other command starts without.
        from infrastructure.evidence_store import EvidenceStore
        from infrastructure.sql_tables import SqlTables

        text = (f"{number} action {action_id}: revised procedure and training records\n"
                f"Training held; attendance register and the revised procedure attached.\n")
        return EvidenceStore(SqlTables(self.app.recorder)).store(
            text.encode(), f"{number}-{action_id}-evidence.txt", by=representative,
            at=self._now())

    def __init__(self, app: ComplianceCases, clock: Callable[[], datetime],
                 set_clock: Callable[[datetime], None], rng: random.Random,
                 today: date) -> None:
        self.app, self.rng, self.today = app, rng, today
        self._now, self._set = clock, set_clock
        self.plans = TargetRotation(PLAN_TARGETS, rng)
        self.penalties = TargetRotation(PENALTY_TARGETS, rng)
        self.programmes = TargetRotation(PROGRAMME_TARGETS, rng)

    def later(self, low: int, high: int) -> None:
        moment = self._now() + timedelta(days=self.rng.randint(low, high),
                                         hours=self.rng.randint(0, 5))
        limit = datetime.combine(self.today, self._now().timetz())
        self._set(min(moment, limit))

    def days_left(self) -> int:
        return (self.today - self._now().date()).days

    # -- plans -------------------------------------------------------------------------

    def walk_plan(self, number: str, officer: str, supervisor: str) -> list[str]:
        """Returns the numbers of enforcement actions an escalation proposed."""
        app, rng = self.app, self.rng
        target = self.plans.next(self.days_left())
        plan = app.get_plan(number)
        representative = representative_of(plan.importer_number)
        if target == "draft":
            return []
        for area in plan.deficient_areas:
            self.later(2, 6)
            app.add_plan_action(
                number, area=area, description=f"correct {area.value} procedures and train "
                "the import team", owner=representative,
                due_on=self._now().date() + timedelta(days=rng.randint(30, 60)),
                actor=representative, reason="proposed corrective action")
        self.later(3, 8)
        app.submit_plan(number, actor=representative, reason="plan proposed to customs")
        if target == "submitted":
            return []
        if rng.random() < 0.3:
            self.later(2, 5)
            app.send_back_plan(number, actor=supervisor,
                               reason="actions too vague; name the controls to be changed")
            self.later(2, 5)
            app.submit_plan(number, actor=representative, reason="revised and resubmitted")
        self.later(3, 7)
        app.approve_plan(number, actor=supervisor, reason="actions address every deficiency")
        if target == "approved":
            return []
        for action in app.get_plan(number).actions:
            self.later(5, 15)
            stored = self._evidence(number, action.action_id, representative)
            app.complete_plan_action(
                number, action.action_id,
                evidence=Evidence.parse("revised procedure and training records",
                                        stored.file_name, stored.sha256),
                completed_on=self._now().date(), actor=representative,
                reason="completed as planned")
        self.later(3, 10)
        verification = app.report_implementation(number, actor=representative,
                                                 reason="all actions implemented")
        if target == "scheduled":  # not yet assigned: on the work list as `unassigned`
            return []
        self._set(min(self._now() + timedelta(hours=4),  # draws nothing from the rng
                      datetime.combine(self.today, self._now().timetz())))
        app.assign_verification_officer(verification, officer, actor=supervisor,
                                        reason="re-tests by the assessment's officer")
        if target == "overdue":
            return []
        return self._walk_verification(verification, target, app.get_plan(number), officer)

    def _walk_verification(self, number: str, target: str, plan: ImprovementPlan,
                           officer: str) -> list[str]:
        app, rng = self.app, self.rng
        if target == "cancelled":
            self.later(5, 20)
            app.cancel_verification(number, actor=officer,
                                    reason="importer merged into another account")
            return []
        effective = target != "escalated"
        for area in plan.deficient_areas:
            self.later(2, 8)
            lines = rng.randint(300, 500)
            errors = rng.randint(0, 1) if effective else rng.randint(lines // 12, lines // 6)
            value = Decimal(f"{lines * rng.uniform(800, 4000):.2f}")
            in_error = (value * errors / lines).quantize(Decimal("0.01"))
            app.record_retest(number, SampleTest.parse(area, lines, errors, value, in_error,
                                                       (in_error * Decimal("0.08")).quantize(
                                                           Decimal("0.01"))),
                              actor=officer, reason=f"re-test of {area.value}")
        if target == "testing":
            return []
        self.later(2, 6)
        result = app.conclude_verification(number, actor=officer,
                                           reason="re-testing complete")
        return [result.enforcement_number] if result.enforcement_number else []

    # -- enforcement -------------------------------------------------------------------

    def walk_enforcement(self, number: str, supervisor: str) -> None:
        app, rng = self.app, self.rng
        action = app.get_enforcement(number)
        rotation = self.penalties if action.is_monetary else self.programmes
        target = rotation.next(self.days_left())
        team = [f"user:eet-{action.district}-{i}" for i in (1, 2, 3)]
        if target == "proposed":
            return
        if target == "withdrawn":
            self.later(3, 10)
            app.withdraw_enforcement(number, actor=supervisor,
                                     reason="importer made a valid prior disclosure")
            return
        reject = target == "rejected"
        for reviewer in team[: 2 if rng.random() < 0.7 else 3]:
            self.later(1, 3)
            app.record_review_vote(number, "reject" if reject else "approve", actor=reviewer,
                                   reason="facts insufficient" if reject else
                                   "facts and amount supported by the findings")
        self.later(1, 3)
        app.conclude_review(number, actor=supervisor, reason="evaluation team decision")
        if target in ("approved_for_issue", "rejected"):
            return
        self.later(2, 5)
        monetary = action.is_monetary
        app.issue_enforcement(
            number, response_due_on=self._now().date() + timedelta(days=30) if monetary
            else None, actor=supervisor, reason="issued after review")
        if not monetary:
            if target == "closed":
                self.later(20, 30)
                app.close_enforcement(number, actor=supervisor,
                                      reason="programme agreed and monitored")
            return
        if target == "issued":
            return
        self.later(30, 35)
        app.issue_penalty_notice(number, response_due_on=self._now().date()
                                 + timedelta(days=30), actor=supervisor,
                                 reason="no adequate response to the pre-penalty notice")
        if target == "penalty_notice_issued":
            return
        self.later(10, 20)
        app.record_enforcement_response(number, "petition", "petition for mitigation citing "
                                        "cooperation and first offence",
                                        actor=supervisor, reason="petition received")
        if target == "response_received":
            return
        self.later(20, 30)
        proposed = action.proposed_amount or Decimal("0.00")
        decided = (proposed * Decimal(f"{rng.uniform(0.4, 0.9):.2f}")).quantize(
            Decimal("0.01"))
        app.decide_enforcement(number, decided, actor=supervisor,
                               reason="mitigated: cooperation and first offence")
        if target == "decided":
            return
        self.later(20, 30)
        if target == "referred_for_collection":
            app.refer_for_collection(number, actor=supervisor, reason="not paid when due")
            return
        app.record_payment(number, decided, self._now().date(), actor=supervisor,
                           reason="payment received")
        if target == "closed" and app.get_enforcement(number).state is EnforcementState.PAID:
            self.later(1, 5)
            app.close_enforcement(number, actor=supervisor, reason="paid in full")



    def propose_other_interventions(self, importer_numbers: list[str], start: datetime) -> None:
        """Interventions analysts propose outside the findings workflow, one of each kind
        in turn, each then walked down its own path."""
        app, rng = self.app, self.rng
        kinds = ("informed_compliance", "increased_examinations", "liquidated_damages",
                 "seizure_referral", "penalty")
        for index, importer_number in enumerate(importer_numbers):
            self._set(start + timedelta(days=rng.randint(0, 40)))
            kind = kinds[index % len(kinds)]
            account = app.get_importer(importer_number)
            analyst = f"user:analyst-{account.district}"
            loss = Decimal(f"{rng.uniform(2000, 90000):.2f}")
            monetary = kind in ("liquidated_damages", "penalty")
            number = app.propose_enforcement(
                importer_number, kind=kind, legal_basis="19 U.S.C. 1592" if monetary else
                "national criteria for trade compliance",
                facts=f"targeting hits and exam results indicate {kind.replace('_', ' ')} is "
                "warranted", culpability="negligence" if monetary else None,
                revenue_loss=loss if monetary else None,
                domestic_value=loss * 10 if monetary else None,
                dutiable_value=loss * 8 if monetary else None,
                amount=(loss * Decimal("1.5")).quantize(Decimal("0.01")) if monetary else None,
                examinations_until=self.today + timedelta(days=120)
                if kind == "increased_examinations" else None,
                actor=analyst, reason="risk analysis of the past year")
            self.walk_enforcement(number, f"user:supervisor-{account.district}")
