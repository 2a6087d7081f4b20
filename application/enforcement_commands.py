"""Use cases of enforcement actions: proposal, review by the enforcement evaluation team,
notices, response, decision, payment or collection, withdrawal and closure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from application.workflow_steps import WorkflowSteps
from domain.case_numbers import case_id, parse_case_number
from domain.enforcement_action import EnforcementAction, EnforcementKind, ResponseKind, Vote
from domain.penalties import Culpability, PenaltyBasis
from domain.values import parse_enum, parse_money


def penalty_basis(culpability: Culpability | str | None, revenue_loss: Decimal | str | None,
                  domestic_value: Decimal | str | None, dutiable_value: Decimal | str | None,
                  prior_disclosure: bool) -> PenaltyBasis | None:
    if culpability is None:
        return None
    return PenaltyBasis(
        parse_enum(Culpability, culpability, "culpability"),
        parse_money(revenue_loss if revenue_loss is not None else "0", "revenue_loss"),
        parse_money(domestic_value if domestic_value is not None else "0", "domestic_value"),
        parse_money(dutiable_value if dutiable_value is not None else "0", "dutiable_value"),
        prior_disclosure)


class EnforcementCommands(WorkflowSteps):
    def get_enforcement(self, number: str) -> EnforcementAction:
        canonical = parse_case_number(number)
        return self._load(case_id(canonical), EnforcementAction, "enforcement action",
                          canonical)

    def propose_enforcement(self, importer_number: str, *, kind: EnforcementKind | str,
                            legal_basis: str, facts: str, culpability: Culpability | str | None,
                            revenue_loss: Decimal | str | None = None,
                            domestic_value: Decimal | str | None = None,
                            dutiable_value: Decimal | str | None = None,
                            prior_disclosure: bool = False,
                            amount: Decimal | str | None = None,
                            examinations_until: date | str | None = None,
                            source_case: str | None = None, actor: str, reason: str,
                            expected_version: int | None = None,
                            idempotency_key: str | None = None) -> str:
        """Propose an action on an importer; `expected_version` is the importer account's."""
        def run() -> str:
            account = self.get_importer(importer_number)
            self._expect_version(account, expected_version)
            source = parse_case_number(source_case, "source_case") if source_case else None
            changed, action = self._propose_enforcement(
                account, kind=kind, legal_basis=legal_basis, facts=facts, source_case=source,
                basis=penalty_basis(culpability, revenue_loss, domestic_value, dutiable_value,
                                    prior_disclosure),
                amount=amount, examinations_until=examinations_until, actor=actor,
                reason=reason, at=self.clock())
            self._save(account.label, *changed, result=action.number)
            return action.number
        return self._once("propose_enforcement", idempotency_key, actor, str, run,
                          self._importer_loads(importer_number, "EA"))

    def _enforcement_command(self, command: str, number: str, actor: str,
                             expected_version: int | None, idempotency_key: str | None,
                             decide: Callable[[EnforcementAction], None]) -> int:
        return self._step(command, lambda: self.get_enforcement(number), actor,
                          expected_version, idempotency_key, decide, self._case_loads(number))

    def change_culpability(self, number: str, culpability: Culpability | str, *,
                           amount: Decimal | str | None = None,
                           prior_disclosure: bool | None = None, actor: str, reason: str,
                           expected_version: int | None = None,
                           idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "change_culpability", number, actor, expected_version, idempotency_key,
            lambda a: a.change_culpability(culpability, proposed_amount=amount,
                                           prior_disclosure=prior_disclosure,
                                           cap_policy=self.workflow.caps, actor=actor,
                                           reason=reason, at=self.clock()))

    def record_review_vote(self, number: str, vote: Vote | str, *, actor: str, reason: str,
                           expected_version: int | None = None,
                           idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "record_review_vote", number, actor, expected_version, idempotency_key,
            lambda a: a.record_review_vote(vote, actor=actor, reason=reason, at=self.clock()))

    def conclude_review(self, number: str, *, actor: str, reason: str,
                        expected_version: int | None = None,
                        idempotency_key: str | None = None) -> bool:
        def run() -> bool:
            action = self.get_enforcement(number)
            return self._command(action, action.label, expected_version, lambda a: (
                a.conclude_review(actor=actor, reason=reason, at=self.clock())))
        return self._once("conclude_review", idempotency_key, actor, bool, run,
                          self._case_loads(number))

    def issue_enforcement(self, number: str, *, response_due_on: date | str | None = None,
                          actor: str, reason: str, expected_version: int | None = None,
                          idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "issue_enforcement", number, actor, expected_version, idempotency_key,
            lambda a: a.issue(response_due_on=response_due_on, today=self.clock().date(),
                              actor=actor, reason=reason, at=self.clock()))

    def issue_penalty_notice(self, number: str, *, response_due_on: date | str, actor: str,
                             reason: str, expected_version: int | None = None,
                             idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "issue_penalty_notice", number, actor, expected_version, idempotency_key,
            lambda a: a.issue_penalty_notice(response_due_on=response_due_on,
                                             today=self.clock().date(), actor=actor,
                                             reason=reason, at=self.clock()))

    def record_enforcement_response(self, number: str, response_kind: ResponseKind | str,
                                    summary: str, *, actor: str, reason: str,
                                    expected_version: int | None = None,
                                    idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "record_enforcement_response", number, actor, expected_version, idempotency_key,
            lambda a: a.record_response(response_kind, summary, actor=actor, reason=reason,
                                        at=self.clock()))

    def decide_enforcement(self, number: str, amount: Decimal | str, *, actor: str,
                           reason: str, expected_version: int | None = None,
                           idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "decide_enforcement", number, actor, expected_version, idempotency_key,
            lambda a: a.decide(amount, cap_policy=self.workflow.caps, actor=actor,
                               reason=reason, at=self.clock()))

    def record_payment(self, number: str, amount: Decimal | str, paid_on: date | str, *,
                       actor: str, reason: str, expected_version: int | None = None,
                       idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "record_payment", number, actor, expected_version, idempotency_key,
            lambda a: a.record_payment(amount, paid_on, actor=actor, reason=reason,
                                       at=self.clock()))

    def refer_for_collection(self, number: str, *, actor: str, reason: str,
                             expected_version: int | None = None,
                             idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "refer_for_collection", number, actor, expected_version, idempotency_key,
            lambda a: a.refer_for_collection(actor=actor, reason=reason, at=self.clock()))

    def withdraw_enforcement(self, number: str, *, actor: str, reason: str,
                             expected_version: int | None = None,
                             idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "withdraw_enforcement", number, actor, expected_version, idempotency_key,
            lambda a: a.withdraw(actor=actor, reason=reason, at=self.clock()))

    def close_enforcement(self, number: str, *, actor: str, reason: str,
                          expected_version: int | None = None,
                          idempotency_key: str | None = None) -> int:
        return self._enforcement_command(
            "close_enforcement", number, actor, expected_version, idempotency_key,
            lambda a: a.close(actor=actor, reason=reason, at=self.clock()))
