"""ImporterAccount: registration, management, partnerships and its status lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from domain.errors import InvalidTransitionError, InvalidValueError, RuleViolationError
from domain.importer_account import (
    AccountStatus,
    ComplianceClass,
    ImporterAccount,
    PartnershipProgramme,
    Registration,
    importer_account_id,
)

from .builders import (
    ACTOR,
    BEIJING,
    IMPORTER_NUMBER,
    MANAGER,
    REASON,
    REGISTERED_ON,
    T0,
    TODAY,
    assert_names,
    assert_refused,
    at,
    registered_account,
    registration,
)

# -- registration -------------------------------------------------------------------------


def test_registering_an_importer_records_its_facts_and_makes_it_active() -> None:
    account = ImporterAccount.register(
        Registration.parse(" 12-3456789ab ", "  Harbour  Fasteners Ltd ", "5", "73",
                           "2020-01-15"),
        actor=ACTOR, reason="  new importer  ", at=T0)

    assert account.id == importer_account_id(IMPORTER_NUMBER)
    assert (account.importer_number, account.legal_name, account.district, account.industry,
            account.registered_on) == (IMPORTER_NUMBER, "Harbour Fasteners Ltd", "05", "73",
                                       REGISTERED_ON)
    assert account.status is AccountStatus.ACTIVE
    assert account.account_manager is None
    assert account.partnerships == {}
    assert account.compliance_class is None
    assert account.tier is None
    assert account.annual_value is None
    assert account.version == 1
    assert account.label == f"importer {IMPORTER_NUMBER}"
    (registered,) = account.pending_events
    assert isinstance(registered, ImporterAccount.Registered)
    assert (registered.actor, registered.reason, registered.timestamp) == (ACTOR, "new importer",
                                                                           T0)


def test_an_importer_may_be_registered_with_todays_date() -> None:
    assert registered_account(registered_on=TODAY).registered_on == TODAY


def test_a_registration_dated_in_the_future_is_refused() -> None:
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(RuleViolationError) as excinfo:
        registered_account(registered_on=tomorrow)
    assert_names(excinfo.value, rule="RegistrationDateIsNotInTheFuture",
                 mentions=["registered_on 2026-03-03", "2026-03-02"])


def test_today_is_the_date_where_the_registering_clock_is() -> None:
    """20:00 UTC on 2 March is already 04:00 on 3 March in Beijing (UTC+8)."""
    evening_utc = T0.replace(hour=20)
    account = ImporterAccount.register(registration(registered_on="2026-03-03"), actor=ACTOR,
                                       reason=REASON, at=evening_utc.astimezone(BEIJING))
    assert account.registered_on == date(2026, 3, 3)
    with pytest.raises(RuleViolationError) as excinfo:
        ImporterAccount.register(registration(registered_on="2026-03-03"), actor=ACTOR,
                                 reason=REASON, at=evening_utc)
    assert_names(excinfo.value, rule="RegistrationDateIsNotInTheFuture")


@pytest.mark.parametrize(("field", "bad"), [
    ("importer_number", "12-34567"),
    ("legal_name", "   "),
    ("district", "43"),
    ("industry", "77"),
    ("registered_on", "15/01/2020"),
])
def test_a_registration_with_a_malformed_fact_is_refused(field: str, bad: str) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        registration(**{field: bad})
    assert_names(excinfo.value, field=field, mentions=[repr(bad)])


@pytest.mark.parametrize(("field", "bad"), [("actor", "wang"), ("reason", " ")])
def test_registration_needs_a_valid_actor_and_a_reason(field: str, bad: str) -> None:
    command: dict[str, object] = {"actor": ACTOR, "reason": REASON, field: bad}
    with pytest.raises(InvalidValueError) as excinfo:
        ImporterAccount.register(registration(), at=T0, **command)  # type: ignore[arg-type]
    assert_names(excinfo.value, field=field)


def test_registration_needs_a_timezone_aware_time() -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        ImporterAccount.register(registration(), actor=ACTOR, reason=REASON,
                                 at=datetime(2026, 3, 2, 9, 0))
    assert_names(excinfo.value, field="at", mentions=["timezone-aware"])


def test_the_account_id_is_derived_from_the_normalised_importer_number() -> None:
    assert importer_account_id("12-3456789ab") == importer_account_id(IMPORTER_NUMBER)
    assert importer_account_id("12-3456789AC") != importer_account_id(IMPORTER_NUMBER)
    with pytest.raises(InvalidValueError):
        importer_account_id("not-a-number")


# -- management ---------------------------------------------------------------------------


def test_an_account_manager_can_be_assigned_and_replaced() -> None:
    account = registered_account()
    account.assign_account_manager(MANAGER, actor=ACTOR, reason=REASON, at=at(1))
    account.assign_account_manager("user:manager.zhao", actor=ACTOR, reason=REASON, at=at(2))
    assert account.account_manager == "user:manager.zhao"
    assert account.version == 3


def test_an_account_manager_must_be_a_user_or_system_actor() -> None:
    account = registered_account()
    assert_refused(account, lambda: account.assign_account_manager(
        "manager.chen", actor=ACTOR, reason=REASON, at=at(1)),
        InvalidValueError, field="manager", mentions=["'manager.chen'"])


def test_a_compliance_class_can_be_set_in_any_case() -> None:
    account = registered_account()
    account.set_compliance_class("AA", actor=ACTOR, reason=REASON, at=at(1))
    assert account.compliance_class is ComplianceClass.AA
    account.set_compliance_class(ComplianceClass.C, actor=ACTOR, reason=REASON, at=at(2))
    assert account.compliance_class is ComplianceClass.C


def test_an_unknown_compliance_class_is_refused() -> None:
    account = registered_account()
    assert_refused(account, lambda: account.set_compliance_class(
        "e", actor=ACTOR, reason=REASON, at=at(1)),
        InvalidValueError, field="compliance_class", mentions=["'e'", "aa, a, b, c, d"])


def test_a_tier_records_its_value_and_the_inputs_that_decided_it() -> None:
    account = registered_account()
    account.set_tier(2, "1250000.5", Decimal("0.42"), 2025, actor="system:tiering",
                     reason="annual tiering", at=at(1))
    assert (account.tier, account.annual_value) == (2, Decimal("1250000.50"))
    tier_set = account.pending_events[-1]
    assert isinstance(tier_set, ImporterAccount.TierSet)
    assert (tier_set.cumulative_share, tier_set.year) == (Decimal("0.42"), 2025)


@pytest.mark.parametrize("tier", [0, 5, -1, "1"])
def test_a_tier_other_than_1_to_4_is_refused(tier: object) -> None:
    account = registered_account()
    assert_refused(account, lambda: account.set_tier(
        tier, Decimal("100.00"), Decimal("0.5"), 2025,  # type: ignore[arg-type]
        actor=ACTOR, reason=REASON, at=at(1)),
        InvalidValueError, field="tier", mentions=[repr(tier), "1, 2, 3 or 4"])


def test_a_tier_with_a_negative_annual_value_is_refused() -> None:
    account = registered_account()
    assert_refused(account, lambda: account.set_tier(
        1, "-1.00", Decimal("0.1"), 2025,  # type: ignore[arg-type]
        actor=ACTOR, reason=REASON, at=at(1)),
        InvalidValueError, field="annual_value", mentions=["'-1.00'", "negative"])


# -- partnerships -------------------------------------------------------------------------


def joined(programme: str = "trusted_trader", on: str = "2021-06-01") -> ImporterAccount:
    account = registered_account()
    account.join_partnership(programme, on, actor=ACTOR, reason=REASON, at=at(1))
    return account


def test_joining_a_programme_records_the_joining_date() -> None:
    account = joined()
    assert account.partnerships == {"trusted_trader": date(2021, 6, 1)}


def test_a_programme_may_be_joined_on_the_registration_date() -> None:
    account = registered_account()
    account.join_partnership(PartnershipProgramme.SELF_ASSESSMENT, REGISTERED_ON, actor=ACTOR,
                             reason=REASON, at=at(1))
    assert account.partnerships == {"self_assessment": REGISTERED_ON}


def test_an_importer_cannot_join_the_same_programme_twice() -> None:
    account = joined()
    assert_refused(account, lambda: account.join_partnership(
        "TRUSTED_TRADER", "2022-01-01", actor=ACTOR, reason=REASON, at=at(2)),
        RuleViolationError, rule="ProgrammeIsJoinedOnlyOnce", mentions=["trusted_trader"])


def test_different_programmes_can_be_held_at_once() -> None:
    account = joined()
    account.join_partnership("compliance_monitoring", "2022-01-01", actor=ACTOR,
                             reason=REASON, at=at(2))
    assert set(account.partnerships) == {"trusted_trader", "compliance_monitoring"}


def test_a_programme_cannot_be_joined_before_the_importer_was_registered() -> None:
    account = registered_account()
    refusal = assert_refused(account, lambda: account.join_partnership(
        "trusted_trader", "2020-01-14", actor=ACTOR, reason=REASON, at=at(1)),
        RuleViolationError, mentions=["joined_on 2020-01-14", "registration date (2020-01-15)"])
    # DateIsNotBefore names itself after the field and the step it follows.
    assert_names(refusal, rule="JoinedOnIsNotBeforeRegistrationDate")


@pytest.mark.parametrize(("programme", "on", "field"), [
    ("partner_of_the_month", "2021-06-01", "programme"),
    ("trusted_trader", "June 2021", "joined_on"),
])
def test_joining_with_a_malformed_programme_or_date_is_refused(programme: str, on: str,
                                                              field: str) -> None:
    account = registered_account()
    assert_refused(account, lambda: account.join_partnership(
        programme, on, actor=ACTOR, reason=REASON, at=at(1)),
        InvalidValueError, field=field)


def test_leaving_a_programme_removes_it_and_allows_rejoining() -> None:
    account = joined()
    account.leave_partnership("trusted_trader", "2023-06-30", actor=ACTOR, reason=REASON,
                              at=at(2))
    assert account.partnerships == {}
    account.join_partnership("trusted_trader", "2024-01-01", actor=ACTOR, reason=REASON,
                             at=at(3))
    assert account.partnerships == {"trusted_trader": date(2024, 1, 1)}


def test_an_importer_cannot_leave_a_programme_it_is_not_in() -> None:
    account = joined()
    assert_refused(account, lambda: account.leave_partnership(
        "self_assessment", "2023-06-30", actor=ACTOR, reason=REASON, at=at(2)),
        RuleViolationError, rule="OnlyAMemberCanLeaveAProgramme", mentions=["self_assessment"])


def test_a_programme_cannot_be_left_before_it_was_joined() -> None:
    account = joined(on="2021-06-01")
    assert_refused(account, lambda: account.leave_partnership(
        "trusted_trader", "2021-05-31", actor=ACTOR, reason=REASON, at=at(2)),
        RuleViolationError, rule="LeftOnIsNotBeforeJoiningDate",
        mentions=["left_on 2021-05-31", "joining date (2021-06-01)"])


def test_a_programme_may_be_left_on_the_day_it_was_joined() -> None:
    account = joined(on="2021-06-01")
    account.leave_partnership("trusted_trader", "2021-06-01", actor=ACTOR, reason=REASON,
                              at=at(2))
    assert account.partnerships == {}


def test_leaving_with_a_malformed_date_is_refused() -> None:
    account = joined()
    assert_refused(account, lambda: account.leave_partnership(
        "trusted_trader", "2023-02-30", actor=ACTOR, reason=REASON, at=at(2)),
        InvalidValueError, field="left_on", mentions=["'2023-02-30'"])


# -- every command needs an actor, a reason and an aware time ----------------------------


def account_commands(actor: str, reason: str,
                     when: datetime) -> dict[str, Callable[[ImporterAccount], None]]:
    return {
        "assign_account_manager": lambda a: a.assign_account_manager(
            MANAGER, actor=actor, reason=reason, at=when),
        "join_partnership": lambda a: a.join_partnership(
            "self_assessment", "2022-01-01", actor=actor, reason=reason, at=when),
        "leave_partnership": lambda a: a.leave_partnership(
            "trusted_trader", "2023-01-01", actor=actor, reason=reason, at=when),
        "set_compliance_class": lambda a: a.set_compliance_class(
            "b", actor=actor, reason=reason, at=when),
        "set_tier": lambda a: a.set_tier(
            3, Decimal("10.00"), Decimal("0.9"), 2025, actor=actor, reason=reason, at=when),
        "suspend": lambda a: a.suspend(actor=actor, reason=reason, at=when),
        "close": lambda a: a.close(actor=actor, reason=reason, at=when),
    }


@pytest.mark.parametrize("command", sorted(account_commands(ACTOR, REASON, T0)))
@pytest.mark.parametrize(("actor", "reason", "when", "field"), [
    ("wang", REASON, T0, "actor"),
    (ACTOR, "  ", T0, "reason"),
    (ACTOR, REASON, datetime(2026, 3, 2, 9, 0), "at"),
])
def test_an_account_command_without_actor_reason_or_aware_time_is_refused(
        command: str, actor: str, reason: str, when: datetime, field: str) -> None:
    account = joined()
    assert_refused(account, lambda: account_commands(actor, reason, when)[command](account),
                   InvalidValueError, field=field)


# -- status lifecycle ---------------------------------------------------------------------


def test_an_active_account_can_be_suspended_and_reinstated() -> None:
    account = registered_account()
    account.suspend(actor=ACTOR, reason="unpaid duty", at=at(1))
    assert account.status is AccountStatus.SUSPENDED
    account.reinstate(actor=ACTOR, reason="duty paid", at=at(2))
    assert account.status is AccountStatus.ACTIVE
    assert account.version == 3


def test_a_suspended_account_is_still_managed_and_may_take_cases() -> None:
    account = joined()
    account.suspend(actor=ACTOR, reason=REASON, at=at(2))
    account.assign_account_manager(MANAGER, actor=ACTOR, reason=REASON, at=at(3))
    account.set_compliance_class("d", actor=ACTOR, reason=REASON, at=at(4))
    account.set_tier(4, Decimal("0.00"), Decimal("1"), 2025, actor=ACTOR, reason=REASON,
                     at=at(5))
    account.leave_partnership("trusted_trader", "2026-01-01", actor=ACTOR, reason=REASON,
                              at=at(6))
    account.ensure_open_for_cases()
    assert account.status is AccountStatus.SUSPENDED
    assert account.version == 7


def test_a_suspended_account_cannot_join_a_programme() -> None:
    account = registered_account()
    account.suspend(actor=ACTOR, reason=REASON, at=at(1))
    refusal = assert_refused(account, lambda: account.join_partnership(
        "trusted_trader", "2025-01-01", actor=ACTOR, reason=REASON, at=at(2)),
        InvalidTransitionError,
        mentions=[f"importer {IMPORTER_NUMBER} is suspended", "join a partnership programme",
                  "only allowed when active"])
    assert isinstance(refusal, InvalidTransitionError)
    assert (refusal.state, refusal.step) == ("suspended", "join a partnership programme")


def test_a_suspended_account_cannot_be_suspended_again() -> None:
    account = registered_account()
    account.suspend(actor=ACTOR, reason=REASON, at=at(1))
    assert_refused(account, lambda: account.suspend(actor=ACTOR, reason=REASON, at=at(2)),
                   InvalidTransitionError, mentions=["is suspended: cannot suspend"])


def test_an_active_account_cannot_be_reinstated() -> None:
    account = registered_account()
    assert_refused(account, lambda: account.reinstate(actor=ACTOR, reason=REASON, at=at(1)),
                   InvalidTransitionError,
                   mentions=["is active: cannot reinstate", "only allowed when suspended"])


@pytest.mark.parametrize("suspended_first", [False, True])
def test_an_active_or_suspended_account_can_be_closed(suspended_first: bool) -> None:
    account = registered_account()
    if suspended_first:
        account.suspend(actor=ACTOR, reason=REASON, at=at(1))
    account.close(actor=ACTOR, reason="ceased trading", at=at(2))
    assert account.status is AccountStatus.CLOSED


@pytest.mark.parametrize("command", [*sorted(account_commands(ACTOR, REASON, T0)), "reinstate",
                                     "ensure_open_for_cases"])
def test_a_closed_account_refuses_every_command(command: str) -> None:
    account = joined()
    account.close(actor=ACTOR, reason="ceased trading", at=at(2))
    commands = {
        **account_commands(ACTOR, REASON, at(3)),
        "reinstate": lambda a: a.reinstate(actor=ACTOR, reason=REASON, at=at(3)),
        "ensure_open_for_cases": lambda a: a.ensure_open_for_cases(),
    }
    refusal = assert_refused(account, lambda: commands[command](account),
                             InvalidTransitionError,
                             mentions=[f"importer {IMPORTER_NUMBER} is closed: cannot"])
    assert isinstance(refusal, InvalidTransitionError)
    assert refusal.state == "closed"
