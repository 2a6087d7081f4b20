"""Use cases of targeting rules (national criteria): draft, approve, publish, amend, retire."""

from __future__ import annotations

from collections.abc import Callable

from eventsourcing.utils import get_topic

from application.case_store import CaseStore
from application.histories import HistoryRequest
from domain.case_numbers import case_id, parse_case_number, sequence_id
from domain.targeting_rule import RuleDefinition, TargetingRule


class TargetingCommands(CaseStore):
    def get_rule(self, number: str) -> TargetingRule:
        canonical = parse_case_number(number)
        return self._load(case_id(canonical), TargetingRule, "targeting rule", canonical)

    def rule_numbers(self) -> list[str]:
        """Every rule ever drafted, oldest first (rules are few: a scan of their first
        events is cheap)."""
        numbers: list[str] = []
        start = 1
        topic = get_topic(TargetingRule.Drafted)
        while True:
            page = self.recorder.select_notifications(start=start, limit=1000, topics=[topic])
            numbers.extend(self.decode_stored_event(n).number for n in page)
            if len(page) < 1000:
                return numbers
            start = page[-1].id + 1

    def rules(self) -> list[TargetingRule]:
        return [self.get_rule(number) for number in self.rule_numbers()]

    def draft_rule(self, definition: RuleDefinition, *, actor: str, reason: str,
                   idempotency_key: str | None = None) -> str:
        def run() -> str:
            at = self.clock()
            sequence, number = self._take_number("TR", at, f"targeting rule {definition.name}")
            rule = TargetingRule.draft(number, definition, actor=actor, reason=reason, at=at)
            self._save(rule.label, sequence, rule, result=number)
            return number
        year = self.hints.year
        return self._once("draft_rule", idempotency_key, actor, str, run, [
            HistoryRequest.first_and_last(sequence_id("TR", year))] if year else [])

    def _rule_command(self, command: str, number: str, actor: str,
                      expected_version: int | None, idempotency_key: str | None,
                      decide: Callable[[TargetingRule], None]) -> int:
        return self._step(command, lambda: self.get_rule(number), actor, expected_version,
                          idempotency_key, decide, self._cases_loads(number))

    def approve_rule(self, number: str, *, actor: str, reason: str,
                     expected_version: int | None = None,
                     idempotency_key: str | None = None) -> int:
        return self._rule_command("approve_rule", number, actor, expected_version,
                                  idempotency_key, lambda r: r.approve(
                                      actor=actor, reason=reason, at=self.clock()))

    def publish_rule(self, number: str, *, actor: str, reason: str,
                     expected_version: int | None = None,
                     idempotency_key: str | None = None) -> int:
        return self._rule_command("publish_rule", number, actor, expected_version,
                                  idempotency_key, lambda r: r.publish(
                                      actor=actor, reason=reason, at=self.clock()))

    def amend_rule(self, number: str, definition: RuleDefinition, *, actor: str, reason: str,
                   expected_version: int | None = None,
                   idempotency_key: str | None = None) -> int:
        return self._rule_command("amend_rule", number, actor, expected_version,
                                  idempotency_key, lambda r: r.amend(
                                      definition, actor=actor, reason=reason, at=self.clock()))

    def retire_rule(self, number: str, *, actor: str, reason: str,
                    expected_version: int | None = None,
                    idempotency_key: str | None = None) -> int:
        return self._rule_command("retire_rule", number, actor, expected_version,
                                  idempotency_key, lambda r: r.retire(
                                      actor=actor, reason=reason, at=self.clock()))
