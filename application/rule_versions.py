"""A targeting rule's versions, each with who drafted, approved and published it and why,
read from the rule's own events (a rule has a handful: replaying one is cheap, and no
view holds superseded definitions). The rule page shows them as the version history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.compliance_cases import ComplianceCases
from domain.targeting_rule import RuleDefinition, TargetingRule


@dataclass(frozen=True)
class Step:
    actor: str
    at: datetime
    reason: str


@dataclass
class RuleVersion:
    version: int
    definition: RuleDefinition
    drafted: Step
    approved: Step | None = None
    published: Step | None = None
    in_force: bool = False
    """The version in force now (published, not superseded, not retired)."""

    @property
    def conditions(self) -> str:
        return self.definition.conditions.describe()


@dataclass
class RuleHistory:
    number: str
    versions: list[RuleVersion] = field(default_factory=list)
    """Newest first."""
    retired: Step | None = None


def _step(event: Any) -> Step:
    return Step(str(event.actor), event.timestamp, str(event.reason))


def rule_history(app: ComplianceCases, number: str) -> RuleHistory:
    """Every version of the rule (loaded as the caller: a rule one may not read is not
    found, like a missing one)."""
    rule = app.get_rule(number)
    history = RuleHistory(rule.number)
    by_version: dict[int, RuleVersion] = {}
    for event, _state in app.replay_history(rule.id, label=rule.number):
        if isinstance(event, TargetingRule.Drafted):
            by_version[1] = RuleVersion(1, event.definition, _step(event))
        elif isinstance(event, TargetingRule.Amended):
            by_version[event.version] = RuleVersion(event.version, event.definition,
                                                    _step(event))
        elif isinstance(event, TargetingRule.Approved) and event.version in by_version:
            by_version[event.version].approved = _step(event)
        elif isinstance(event, TargetingRule.Published) and event.version in by_version:
            by_version[event.version].published = _step(event)
        elif isinstance(event, TargetingRule.Retired):
            history.retired = _step(event)
    if rule.in_force_version is not None and rule.in_force_version in by_version:
        by_version[rule.in_force_version].in_force = True
    history.versions = [by_version[v] for v in sorted(by_version, reverse=True)]
    return history
