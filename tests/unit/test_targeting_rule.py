"""TargetingRule: parsing a definition (every condition, normalised; every bad input refused
naming its field) and the lifecycle draft -> approve (not by the author) -> publish ->
amend -> retire, with the version in force and where and when it fires."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.targeting_rule import (
    Channel,
    RuleConditions,
    RuleDefinition,
    RuleState,
    TargetingRule,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANALYST = "user:analyst.wang"
SUPERVISOR = "user:supervisor.chen"
NUMBER = "TR-2026-00001"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def definition(**overrides: Any) -> RuleDefinition:
    fields: dict[str, Any] = {
        "name": "Footwear from Viet Nam",
        "conditions": {"hs_prefix": ["6403"], "origin": ["VN"]},
        "channel": "red",
        "districts": [],
        "effective_from": "2026-01-01",
        "effective_to": None,
    }
    fields.update(overrides)
    return RuleDefinition.parse(**fields)


def drafted(rule_definition: RuleDefinition | None = None) -> TargetingRule:
    return TargetingRule.draft(NUMBER, rule_definition or definition(), actor=ANALYST,
                               reason="origin pattern in footwear", at=T0)


def published(rule_definition: RuleDefinition | None = None) -> TargetingRule:
    rule = drafted(rule_definition)
    rule.approve(actor=SUPERVISOR, reason="reviewed", at=at(1))
    rule.publish(actor=SUPERVISOR, reason="in force nationally", at=at(2))
    return rule


# -- conditions ------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ({"hs_prefix": ["6403", " 64.04 ", "6403"]}, RuleConditions(hs_prefixes=("6403", "6404"))),
    ({"hs_prefix": "7208510000"}, RuleConditions(hs_prefixes=("7208510000",))),
    ({"origin": ["vn", " CN ", "VN"]}, RuleConditions(origins=("CN", "VN"))),
    ({"tier": [4, "1", " 3 "]}, RuleConditions(tiers=(1, 3, 4))),
    ({"compliance_class": ["D", " c "]}, RuleConditions(compliance_classes=("c", "d"))),
    ({"compliance_class": "aa"}, RuleConditions(compliance_classes=("aa",))),
    ({"risk_category": ["High", "elevated"]},
     RuleConditions(risk_categories=("elevated", "high"))),
    ({"min_risk_score": "1500"}, RuleConditions(min_risk_score=Decimal("1500.00"))),
    ({"min_value": " 25000.5 "}, RuleConditions(min_value=Decimal("25000.50"))),
    ({"min_value": 0}, RuleConditions(min_value=Decimal("0.00"))),
])
def test_every_condition_is_parsed_and_normalised(raw: dict[str, Any],
                                                  expected: RuleConditions) -> None:
    assert RuleConditions.parse(raw) == expected


def test_conditions_combine_and_describe_themselves() -> None:
    conditions = RuleConditions.parse({
        "hs_prefix": "64", "origin": ["VN", "KH"], "tier": 4, "compliance_class": "d",
        "risk_category": "high", "min_risk_score": "10", "min_value": "5000"})
    assert conditions == RuleConditions(("64",), ("KH", "VN"), (4,), ("d",), ("high",),
                                        Decimal("10.00"), Decimal("5000.00"))
    assert conditions.describe() == ("HS 64, origin KH/VN, tier 4, class d, risk high, "
                                     "risk score >= 10.00, value >= 5000.00")


@pytest.mark.parametrize(("raw", "field"), [
    ({"colour": "red"}, "conditions.colour"),
    ({"origin": "VN", "hs_chapter": "64"}, "conditions.hs_chapter"),
    ({"hs_prefix": "77"}, "conditions.hs_prefix"),
    ({"hs_prefix": "abc"}, "conditions.hs_prefix"),
    ({"hs_prefix": "6"}, "conditions.hs_prefix"),
    ({"hs_prefix": "64031234567"}, "conditions.hs_prefix"),
    ({"hs_prefix": ["6403", "00"]}, "conditions.hs_prefix"),
    ({"origin": "XX"}, "conditions.origin"),
    ({"origin": "VNM"}, "conditions.origin"),
    ({"tier": 5}, "conditions.tier"),
    ({"tier": 0}, "conditions.tier"),
    ({"tier": True}, "conditions.tier"),
    ({"compliance_class": "z"}, "conditions.compliance_class"),
    ({"risk_category": "extreme"}, "conditions.risk_category"),
    ({"min_value": "-1"}, "conditions.min_value"),
    ({"min_value": "ten"}, "conditions.min_value"),
    ({"min_risk_score": "-0.01"}, "conditions.min_risk_score"),
    ({}, "conditions"),
    ({"origin": None}, "conditions"),
    ({"hs_prefix": []}, "conditions.hs_prefix"),
    ({"origin": [], "tier": 4}, "conditions.origin"),
])
def test_a_bad_condition_is_refused_naming_its_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        RuleConditions.parse(raw)
    assert refused.value.field == field
    assert field in str(refused.value)


# -- definitions -----------------------------------------------------------------------


def test_a_definition_is_parsed_and_normalised() -> None:
    parsed = definition(name="  Steel from China ", channel="AMBER",
                        districts=["26", "1", "24", "01"], effective_from=date(2026, 2, 1),
                        effective_to="2026-12-31")
    assert parsed.name == "Steel from China"
    assert parsed.channel is Channel.AMBER
    assert parsed.districts == ("01", "24", "26")
    assert (parsed.effective_from, parsed.effective_to) == (date(2026, 2, 1),
                                                           date(2026, 12, 31))
    assert definition().districts == ()
    assert definition().effective_to is None


@pytest.mark.parametrize(("overrides", "field"), [
    ({"channel": "green"}, "channel"),
    ({"channel": "purple"}, "channel"),
    ({"districts": ["11", "99"]}, "districts"),
    ({"districts": ["00"]}, "districts"),
    ({"effective_from": "2026-06-01", "effective_to": "2026-05-31"}, "effective_to"),
    ({"effective_from": "1 June 2026"}, "effective_from"),
    ({"effective_to": "2026-13-01"}, "effective_to"),
    ({"conditions": {}}, "conditions"),
    ({"conditions": {"origin": "XX"}}, "conditions.origin"),
    ({"name": "   "}, "name"),
])
def test_a_bad_definition_is_refused_naming_its_field(overrides: dict[str, Any],
                                                      field: str) -> None:
    with pytest.raises(InvalidValueError) as refused:
        definition(**overrides)
    assert refused.value.field == field


def test_reversed_dates_name_effective_from_in_the_reason() -> None:
    with pytest.raises(InvalidValueError, match=r"before effective_from \(2026-06-01\)"):
        definition(effective_from="2026-06-01", effective_to="2026-05-31")


def test_a_one_day_rule_is_allowed() -> None:
    one_day = definition(effective_from="2026-06-01", effective_to="2026-06-01")
    assert one_day.in_force_on(date(2026, 6, 1))
    assert not one_day.in_force_on(date(2026, 6, 2))


# -- lifecycle -------------------------------------------------------------------------


def test_a_drafted_rule_is_not_in_force() -> None:
    rule = drafted()
    assert (rule.state, rule.rule_version, rule.author) == (RuleState.DRAFTED, 1, ANALYST)
    assert rule.in_force is None
    assert rule.in_force_version is None
    assert not rule.fires_on(date(2026, 6, 1), "11")


def test_the_author_cannot_approve_their_own_rule() -> None:
    rule = drafted()
    with pytest.raises(RuleViolationError) as refused:
        rule.approve(actor=ANALYST, reason="looks fine to me", at=at(1))
    assert refused.value.rule == "ApproverIsNotTheAuthor"
    assert ANALYST in str(refused.value)
    assert rule.state is RuleState.DRAFTED
    assert len(rule.collect_events()) == 1  # only Drafted


def test_a_rule_is_published_only_once_approved() -> None:
    rule = drafted()
    with pytest.raises(InvalidTransitionError) as refused:
        rule.publish(actor=SUPERVISOR, reason="urgent", at=at(1))
    assert refused.value.state == "drafted"
    assert rule.state is RuleState.DRAFTED
    assert rule.in_force is None
    rule.approve(actor=SUPERVISOR, reason="reviewed", at=at(2))
    assert rule.state is RuleState.APPROVED
    assert rule.in_force is None
    rule.publish(actor=SUPERVISOR, reason="in force", at=at(3))
    assert rule.state is RuleState.PUBLISHED
    assert (rule.in_force, rule.in_force_version) == (definition(), 1)
    assert rule.fires_on(date(2026, 6, 1), "11")


def test_an_approved_rule_cannot_be_approved_again() -> None:
    rule = drafted()
    rule.approve(actor=SUPERVISOR, reason="reviewed", at=at(1))
    with pytest.raises(InvalidTransitionError):
        rule.approve(actor="user:someone.else", reason="again", at=at(2))


def test_an_amendment_leaves_the_published_version_in_force_until_published() -> None:
    rule = published()
    first = rule.in_force
    widened = definition(name="Footwear from Viet Nam and Cambodia",
                         conditions={"hs_prefix": "64", "origin": ["VN", "KH"]})
    rule.amend(widened, actor=ANALYST, reason="pattern seen from Cambodia too", at=at(3))
    assert (rule.state, rule.rule_version) == (RuleState.DRAFTED, 2)
    assert rule.definition == widened
    assert (rule.in_force, rule.in_force_version) == (first, 1)
    assert rule.fires_on(date(2026, 6, 1), "11")

    with pytest.raises(RuleViolationError):  # the amender is now the author
        rule.approve(actor=ANALYST, reason="mine", at=at(4))
    rule.approve(actor=SUPERVISOR, reason="reviewed v2", at=at(5))
    assert (rule.in_force, rule.in_force_version) == (first, 1)
    rule.publish(actor=SUPERVISOR, reason="v2 in force", at=at(6))
    assert (rule.state, rule.in_force, rule.in_force_version) == (RuleState.PUBLISHED,
                                                                  widened, 2)


def test_a_different_analyst_amending_becomes_the_author_of_the_new_version() -> None:
    rule = published()
    rule.amend(definition(channel="amber"), actor="user:analyst.li", reason="downgrade",
               at=at(3))
    assert rule.author == "user:analyst.li"
    rule.approve(actor=ANALYST, reason="the first author may approve v2", at=at(4))
    assert rule.state is RuleState.APPROVED


def test_a_retired_rule_no_longer_fires_and_cannot_come_back() -> None:
    rule = published()
    assert rule.fires_on(date(2026, 6, 1), "11")
    rule.retire(actor=SUPERVISOR, reason="pattern gone", at=at(3))
    assert rule.state is RuleState.RETIRED
    assert rule.in_force is None
    assert not rule.fires_on(date(2026, 6, 1), "11")
    for step in (lambda: rule.approve(actor=SUPERVISOR, reason="x", at=at(4)),
                 lambda: rule.publish(actor=SUPERVISOR, reason="x", at=at(4)),
                 lambda: rule.amend(definition(), actor=ANALYST, reason="x", at=at(4)),
                 lambda: rule.retire(actor=SUPERVISOR, reason="x", at=at(4))):
        with pytest.raises(InvalidTransitionError):
            step()


def test_retiring_during_an_amendment_stops_the_version_in_force() -> None:
    rule = published()
    rule.amend(definition(channel="amber"), actor=ANALYST, reason="downgrade", at=at(3))
    rule.retire(actor=SUPERVISOR, reason="withdrawn", at=at(4))
    assert rule.in_force is None
    assert not rule.fires_on(date(2026, 6, 1), "11")


def test_a_published_rule_fires_only_within_its_dates() -> None:
    rule = published(definition(effective_from="2026-04-01", effective_to="2026-06-30"))
    assert not rule.fires_on(date(2026, 3, 31), "11")
    assert rule.fires_on(date(2026, 4, 1), "11")
    assert rule.fires_on(date(2026, 6, 30), "11")
    assert not rule.fires_on(date(2026, 7, 1), "11")


def test_an_open_ended_rule_fires_from_its_first_day_on() -> None:
    rule = published(definition(effective_from="2026-04-01"))
    assert not rule.fires_on(date(2026, 3, 31), "42")
    assert rule.fires_on(date(2030, 1, 1), "42")


def test_a_rule_for_named_districts_fires_only_there() -> None:
    rule = published(definition(districts=["24", "26"]))
    assert rule.fires_on(date(2026, 6, 1), "24")
    assert rule.fires_on(date(2026, 6, 1), "26")
    assert not rule.fires_on(date(2026, 6, 1), "11")
    national = published()
    assert all(national.fires_on(date(2026, 6, 1), f"{code:02d}") for code in range(1, 43))


def test_the_events_carry_the_versions() -> None:
    rule = published()
    rule.amend(definition(channel="amber"), actor=ANALYST, reason="downgrade", at=at(3))
    events = rule.collect_events()
    assert [type(e).__name__ for e in events] == ["Drafted", "Approved", "Published",
                                                  "Amended"]
    assert [getattr(e, "version", None) for e in events] == [None, 1, 1, 2]
    assert all(e.timestamp.tzinfo is not None for e in events)


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(InvalidValueError) as refused:
        TargetingRule.draft(NUMBER, definition(), actor=ANALYST, reason="x",
                            at=datetime(2026, 3, 2, 9, 0))
    assert refused.value.field == "at"
