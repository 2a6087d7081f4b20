"""TargetingRule: a national criterion that sends matching declarations to a document check
or a physical exam. Drafted by an analyst, approved by someone else, published to all or
named districts for a date range; amended as a new version (the published version stays in
force until the new one is published), and retired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.base import CaseAggregate, StepRule, require_aware
from domain.case_numbers import case_id
from domain.countries import ISO_3166_ALPHA2
from domain.errors import InvalidValueError
from domain.importer_account import ComplianceClass
from domain.reference import DISTRICTS, INDUSTRIES
from domain.rules import BusinessRule, check
from domain.values import parse_actor, parse_date, parse_money, parse_name, parse_reason


class Channel(StrEnum):
    """Per declaration: release, document check, physical exam (least to most severe)."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"


CHANNEL_SEVERITY = {Channel.GREEN: 0, Channel.AMBER: 1, Channel.RED: 2}
RISK_CATEGORIES = ("low", "moderate", "elevated", "high")


class RuleState(StrEnum):
    DRAFTED = "drafted"
    APPROVED = "approved"
    PUBLISHED = "published"
    RETIRED = "retired"


@dataclass(frozen=True)
class RuleConditions:
    """All given conditions must hold (AND); a list means any of its values (OR)."""

    hs_prefixes: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    tiers: tuple[int, ...] = ()
    compliance_classes: tuple[str, ...] = ()
    risk_categories: tuple[str, ...] = ()
    min_risk_score: Decimal | None = None
    min_value: Decimal | None = None

    FIELDS = ("hs_prefix", "origin", "tier", "compliance_class", "risk_category",
              "min_risk_score", "min_value")

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> RuleConditions:
        if not isinstance(raw, Mapping) or not raw:
            raise InvalidValueError("conditions", raw, "at least one condition is required "
                                    f"(any of: {', '.join(cls.FIELDS)})")
        unknown = sorted(set(raw) - set(cls.FIELDS))
        if unknown:
            raise InvalidValueError(f"conditions.{unknown[0]}", raw[unknown[0]],
                                    f"unknown condition; expected one of: {', '.join(cls.FIELDS)}")
        conditions = cls(
            hs_prefixes=_each(raw, "hs_prefix", _hs_prefix),
            origins=_each(raw, "origin", _origin),
            tiers=_each(raw, "tier", _tier),
            compliance_classes=_each(raw, "compliance_class", _class),
            risk_categories=_each(raw, "risk_category", _category),
            min_risk_score=(parse_money(raw["min_risk_score"], "conditions.min_risk_score")
                            if raw.get("min_risk_score") is not None else None),
            min_value=(parse_money(raw["min_value"], "conditions.min_value")
                       if raw.get("min_value") is not None else None))
        if conditions == cls():
            raise InvalidValueError("conditions", dict(raw), "every condition is empty")
        return conditions

    def describe(self) -> str:
        parts = []
        for label, values in (("HS", self.hs_prefixes), ("origin", self.origins),
                              ("tier", self.tiers), ("class", self.compliance_classes),
                              ("risk", self.risk_categories)):
            if values:
                parts.append(f"{label} {'/'.join(str(v) for v in values)}")
        if self.min_risk_score is not None:
            parts.append(f"risk score >= {self.min_risk_score}")
        if self.min_value is not None:
            parts.append(f"value >= {self.min_value}")
        return ", ".join(parts)


def _each(raw: Mapping[str, Any], name: str, parse: Any) -> tuple[Any, ...]:
    value = raw.get(name)
    if value is None:
        return ()
    values = value if isinstance(value, list | tuple) else [value]
    if not values:
        raise InvalidValueError(f"conditions.{name}", value, "is empty")
    return tuple(sorted({parse(item, f"conditions.{name}") for item in values}))


def _hs_prefix(value: Any, field: str) -> str:
    code = str(value).strip().replace(".", "")
    if not (code.isdigit() and 2 <= len(code) <= 10 and code[:2] in INDUSTRIES):
        raise InvalidValueError(field, value, "not an HS code prefix of 2-10 digits starting "
                                "with an HS chapter 01-97")
    return code


def _origin(value: Any, field: str) -> str:
    code = str(value).strip().upper()
    if code not in ISO_3166_ALPHA2:
        raise InvalidValueError(field, value, "not an ISO 3166 alpha-2 country code")
    return code


def _tier(value: Any, field: str) -> int:
    if isinstance(value, bool) or str(value).strip() not in ("1", "2", "3", "4"):
        raise InvalidValueError(field, value, "expected a tier 1-4")
    return int(str(value).strip())


def _class(value: Any, field: str) -> str:
    code = str(value).strip().lower()
    if code not in {c.value for c in ComplianceClass}:
        raise InvalidValueError(field, value, "expected one of: aa, a, b, c, d")
    return code


def _category(value: Any, field: str) -> str:
    code = str(value).strip().lower()
    if code not in RISK_CATEGORIES:
        raise InvalidValueError(field, value, f"expected one of: {', '.join(RISK_CATEGORIES)}")
    return code


@dataclass(frozen=True)
class RuleDefinition:
    name: str
    conditions: RuleConditions
    channel: Channel
    districts: tuple[str, ...]
    """Empty: every district (a national criterion)."""
    effective_from: date
    effective_to: date | None

    @classmethod
    def parse(cls, *, name: str, conditions: Mapping[str, Any], channel: str,
              districts: tuple[str, ...] | list[str] = (), effective_from: date | str,
              effective_to: date | str | None = None) -> RuleDefinition:
        chosen = str(channel).strip().lower()
        if chosen not in (Channel.AMBER.value, Channel.RED.value):
            raise InvalidValueError("channel", channel, "a rule sends entries to amber "
                                    "(document check) or red (physical exam)")
        codes = []
        for district in districts:
            code = str(district).strip().zfill(2)
            if code not in DISTRICTS:
                raise InvalidValueError("districts", district,
                                        "not one of the 42 district codes 01-42")
            codes.append(code)
        start = parse_date(effective_from, "effective_from")
        end = parse_date(effective_to, "effective_to") if effective_to else None
        if end is not None and end < start:
            raise InvalidValueError("effective_to", end.isoformat(),
                                    f"is before effective_from ({start.isoformat()})")
        return cls(parse_name(name, "name"), RuleConditions.parse(conditions), Channel(chosen),
                   tuple(sorted(set(codes))), start, end)

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None
                                               or day <= self.effective_to)


class ApproverIsNotTheAuthor(BusinessRule):
    def __init__(self, approver: str, author: str) -> None:
        self.approver, self.author = approver, author

    def is_broken(self) -> bool:
        return self.approver == self.author

    def message(self) -> str:
        return (f"{self.approver} drafted this version; a rule is approved by someone else "
                "(a supervisor)")


class TargetingRule(CaseAggregate):
    number: str
    state: RuleState
    rule_version: int
    definition: RuleDefinition
    """The latest version (drafted, approved or published)."""
    author: str
    in_force: RuleDefinition | None
    in_force_version: int | None

    STEPS = {
        "approve_rule": StepRule.of("approve", RuleState.DRAFTED),
        "publish_rule": StepRule.of("publish", RuleState.APPROVED),
        "amend_rule": StepRule.of("amend", RuleState.DRAFTED, RuleState.APPROVED,
                                  RuleState.PUBLISHED),
        "retire_rule": StepRule.of("retire", RuleState.DRAFTED, RuleState.APPROVED,
                                   RuleState.PUBLISHED),
    }

    def __init__(self) -> None:
        """State is set by the Drafted event's apply."""

    class Drafted(CaseAggregate.Created):
        number: str
        definition: RuleDefinition

        def apply(self, aggregate: TargetingRule) -> None:
            aggregate.number = self.number
            aggregate.state = RuleState.DRAFTED
            aggregate.rule_version = 1
            aggregate.definition = self.definition
            aggregate.author = self.actor
            aggregate.in_force = None
            aggregate.in_force_version = None

    @classmethod
    def draft(cls, number: str, definition: RuleDefinition, *, actor: str, reason: str,
              at: datetime) -> TargetingRule:
        return cls._create(cls.Drafted, id=case_id(number), timestamp=require_aware(at),
                           actor=parse_actor(actor), reason=parse_reason(reason),
                           number=number, definition=definition)

    @property
    def label(self) -> str:
        return f"targeting rule {self.number}"

    class Approved(CaseAggregate.Event):
        version: int

        def apply(self, aggregate: TargetingRule) -> None:
            aggregate.state = RuleState.APPROVED

    def approve(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("approve_rule")
        approver = parse_actor(actor)
        check(ApproverIsNotTheAuthor(approver, self.author))
        self._record(self.Approved, at, actor=approver, reason=parse_reason(reason),
                     version=self.rule_version)

    class Published(CaseAggregate.Event):
        version: int

        def apply(self, aggregate: TargetingRule) -> None:
            aggregate.state = RuleState.PUBLISHED
            aggregate.in_force = aggregate.definition
            aggregate.in_force_version = self.version

    def publish(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("publish_rule")
        self._record(self.Published, at, actor=parse_actor(actor), reason=parse_reason(reason),
                     version=self.rule_version)

    class Amended(CaseAggregate.Event):
        version: int
        definition: RuleDefinition

        def apply(self, aggregate: TargetingRule) -> None:
            aggregate.rule_version = self.version
            aggregate.definition = self.definition
            aggregate.author = self.actor
            aggregate.state = RuleState.DRAFTED

    def amend(self, definition: RuleDefinition, *, actor: str, reason: str,
              at: datetime) -> None:
        """A new version; the published one stays in force until this one is published."""
        self._refuse_unless_step("amend_rule")
        self._record(self.Amended, at, actor=parse_actor(actor), reason=parse_reason(reason),
                     version=self.rule_version + 1, definition=definition)

    class Retired(CaseAggregate.Event):
        def apply(self, aggregate: TargetingRule) -> None:
            aggregate.state = RuleState.RETIRED
            aggregate.in_force = None

    def retire(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("retire_rule")
        self._record(self.Retired, at, actor=parse_actor(actor), reason=parse_reason(reason))

    def fires_on(self, day: date, district: str) -> bool:
        definition = self.in_force
        return (definition is not None and definition.in_force_on(day)
                and (not definition.districts or district in definition.districts))
