"""ImporterAccount: the registered importer of record and how it is managed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.base import CaseAggregate, StepRule, natural_id, require_aware
from domain.date_rules import DateIsNotInTheFuture
from domain.errors import InvalidValueError
from domain.rules import BusinessRule, check
from domain.values import (
    parse_actor,
    parse_date,
    parse_district,
    parse_enum,
    parse_importer_number,
    parse_industry,
    parse_money,
    parse_name,
    parse_reason,
)


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class PartnershipProgramme(StrEnum):
    TRUSTED_TRADER = "trusted_trader"
    SELF_ASSESSMENT = "self_assessment"
    COMPLIANCE_MONITORING = "compliance_monitoring"


class ComplianceClass(StrEnum):
    """Traders' compliance (credit) classes, best first."""

    AA = "aa"
    A = "a"
    B = "b"
    C = "c"
    D = "d"


@dataclass(frozen=True)
class RiskFactor:
    """One contributing factor of a risk score, as shown to the analyst."""

    factor: str
    value: str
    effect: Decimal


def importer_account_id(importer_number: str) -> UUID:
    return natural_id("importer", parse_importer_number(importer_number))


@dataclass(frozen=True)
class Registration:
    """The facts of a registration, validated once at the edge of the domain."""

    importer_number: str
    legal_name: str
    district: str
    industry: str
    registered_on: date

    @classmethod
    def parse(cls, importer_number: str, legal_name: str, district: str, industry: str,
              registered_on: date | str) -> Registration:
        return cls(
            importer_number=parse_importer_number(importer_number),
            legal_name=parse_name(legal_name, "legal_name"),
            district=parse_district(district),
            industry=parse_industry(industry),
            registered_on=parse_date(registered_on, "registered_on"),
        )


class RegistrationDateIsNotInTheFuture(BusinessRule):
    def __init__(self, registered_on: date, today: date, importer_number: str = "") -> None:
        self.registered_on, self.today = registered_on, today
        self.importer_number = importer_number

    def is_broken(self) -> bool:
        return self.registered_on > self.today

    def message(self) -> str:
        which = f"importer {self.importer_number}: " if self.importer_number else ""
        return (f"{which}registered_on {self.registered_on.isoformat()} is after today "
                f"({self.today.isoformat()}); a registration cannot be dated in the future")


@dataclass(frozen=True)
class RegistrationTerms:
    """Who registers, why and when: validated once, whether for one importer or for a
    batch of hundreds of thousands (every Registered event of a batch carries them)."""

    actor: str
    reason: str
    at: datetime
    today: date
    """The date at `at`, where the registering clock is: no registration may be later."""

    @classmethod
    def parse(cls, actor: str, reason: str, at: datetime) -> RegistrationTerms:
        return cls(parse_actor(actor), parse_reason(reason), require_aware(at), at.date())


def checked_registration(registration: Registration, terms: RegistrationTerms) -> UUID:
    """The rules a registration must meet, and the id its account is registered under.

    Pure, and the only place they are checked: ImporterAccount.register (one importer)
    and the application's bulk registration (which writes the Registered events as rows,
    without an aggregate per importer) both call it, so the two cannot drift apart."""
    check(RegistrationDateIsNotInTheFuture(registration.registered_on, terms.today,
                                           registration.importer_number))
    return natural_id("importer", registration.importer_number)


class ProgrammeIsJoinedOnlyOnce(BusinessRule):
    def __init__(self, programme: PartnershipProgramme, current: dict[str, date]) -> None:
        self.programme, self.current = programme, current

    def is_broken(self) -> bool:
        return self.programme.value in self.current

    def message(self) -> str:
        return f"the importer is already in the {self.programme.value} programme"


class OnlyAMemberCanLeaveAProgramme(BusinessRule):
    def __init__(self, programme: PartnershipProgramme, current: dict[str, date]) -> None:
        self.programme, self.current = programme, current

    def is_broken(self) -> bool:
        return self.programme.value not in self.current

    def message(self) -> str:
        return f"the importer is not in the {self.programme.value} programme"


class DateIsNotBefore(BusinessRule):
    """A dated step cannot precede the step it follows."""

    def __init__(self, field: str, value: date, earliest: date, what: str) -> None:
        self.field, self.value, self.earliest, self.what = field, value, earliest, what

    @property
    def name(self) -> str:
        field = self.field.title().replace("_", "")
        return f"{field}IsNotBefore{self.what.title().replace(' ', '')}"

    def is_broken(self) -> bool:
        return self.value < self.earliest

    def message(self) -> str:
        return (f"{self.field} {self.value.isoformat()} is before the {self.what} "
                f"({self.earliest.isoformat()})")


def risk_assessed(account_id: UUID, version: int, at: datetime, *, actor: str,
                  **result: Any) -> ImporterAccount.RiskAssessed:
    """A RiskAssessed event for an account known only by id and version: a national risk
    run appends to hundreds of thousands of accounts without loading each one."""
    event: ImporterAccount.RiskAssessed = ImporterAccount.RiskAssessed(  # type: ignore[call-arg]
        originator_id=account_id, originator_version=version, timestamp=require_aware(at),
        actor=parse_actor(actor), **result)
    return event


class ImporterAccount(CaseAggregate):
    """An importer of record. Its id is derived from the importer number, so the same
    importer can never be registered twice."""

    importer_number: str
    legal_name: str
    district: str
    industry: str
    registered_on: date
    status: AccountStatus
    account_manager: str | None
    partnerships: dict[str, date]
    compliance_class: ComplianceClass | None
    tier: int | None
    annual_value: Decimal | None
    # Defaults at class level: snapshots taken before risk scoring existed lack them.
    risk_score: Decimal | None = None
    risk_category: str | None = None
    risk_method: str | None = None

    STATE_FIELD = "status"
    STEPS = {
        "assign_account_manager": StepRule.of("assign an account manager",
                                              AccountStatus.ACTIVE, AccountStatus.SUSPENDED),
        "join_partnership": StepRule.of("join a partnership programme", AccountStatus.ACTIVE),
        "leave_partnership": StepRule.of("leave a partnership programme",
                                         AccountStatus.ACTIVE, AccountStatus.SUSPENDED),
        "set_compliance_class": StepRule.of("set the compliance class", AccountStatus.ACTIVE,
                                            AccountStatus.SUSPENDED),
        "set_tier": StepRule.of("set the account tier", AccountStatus.ACTIVE,
                                AccountStatus.SUSPENDED),
        "suspend_importer": StepRule.of("suspend", AccountStatus.ACTIVE),
        "reinstate_importer": StepRule.of("reinstate", AccountStatus.SUSPENDED),
        "close_importer": StepRule.of("close", AccountStatus.ACTIVE, AccountStatus.SUSPENDED),
        "open_case": StepRule.of("open a case", AccountStatus.ACTIVE, AccountStatus.SUSPENDED),
    }
    """`open_case` is the account's side of opening an assessment or proposing enforcement
    on the importer (ensure_open_for_cases): those commands create a case, they are not a
    step of the account, so no role is granted it by that name."""

    def __init__(self) -> None:
        """State is set by the Registered event's apply."""

    class Registered(CaseAggregate.Created):
        importer_number: str
        legal_name: str
        district: str
        industry: str
        registered_on: date

        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.importer_number = self.importer_number
            aggregate.legal_name = self.legal_name
            aggregate.district = self.district
            aggregate.industry = self.industry
            aggregate.registered_on = self.registered_on
            aggregate.status = AccountStatus.ACTIVE
            aggregate.account_manager = None
            aggregate.partnerships = {}
            aggregate.compliance_class = None
            aggregate.tier = None
            aggregate.annual_value = None
            aggregate.risk_score = None
            aggregate.risk_category = None
            aggregate.risk_method = None

    @classmethod
    def register(cls, registration: Registration, *, actor: str, reason: str,
                 at: datetime) -> ImporterAccount:
        terms = RegistrationTerms.parse(actor, reason, at)
        return cls._create(
            cls.Registered,
            id=checked_registration(registration, terms),
            timestamp=terms.at,
            actor=terms.actor,
            reason=terms.reason,
            importer_number=registration.importer_number,
            legal_name=registration.legal_name,
            district=registration.district,
            industry=registration.industry,
            registered_on=registration.registered_on,
        )

    @property
    def label(self) -> str:
        return f"importer {self.importer_number}"

    def ensure_open_for_cases(self) -> None:
        self._refuse_unless_step("open_case")

    class AccountManagerAssigned(CaseAggregate.Event):
        manager: str

        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.account_manager = self.manager

    def assign_account_manager(self, manager: str, *, actor: str, reason: str,
                               at: datetime) -> None:
        self._refuse_unless_step("assign_account_manager")
        self._record(self.AccountManagerAssigned, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), manager=parse_actor(manager, "manager"))

    class PartnershipJoined(CaseAggregate.Event):
        programme: PartnershipProgramme
        joined_on: date

        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.partnerships = {**aggregate.partnerships,
                                      self.programme.value: self.joined_on}

    def join_partnership(self, programme: PartnershipProgramme | str, joined_on: date | str,
                         *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("join_partnership")
        chosen = parse_enum(PartnershipProgramme, programme, "programme")
        day = parse_date(joined_on, "joined_on")
        check(ProgrammeIsJoinedOnlyOnce(chosen, self.partnerships),
              DateIsNotInTheFuture("joined_on", day, require_aware(at).date()),
              DateIsNotBefore("joined_on", day, self.registered_on, "registration date"))
        self._record(self.PartnershipJoined, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), programme=chosen, joined_on=day)

    class PartnershipLeft(CaseAggregate.Event):
        programme: PartnershipProgramme
        left_on: date

        def apply(self, aggregate: ImporterAccount) -> None:
            remaining = dict(aggregate.partnerships)
            remaining.pop(self.programme.value, None)
            aggregate.partnerships = remaining

    def leave_partnership(self, programme: PartnershipProgramme | str, left_on: date | str,
                          *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("leave_partnership")
        chosen = parse_enum(PartnershipProgramme, programme, "programme")
        day = parse_date(left_on, "left_on")
        check(OnlyAMemberCanLeaveAProgramme(chosen, self.partnerships))
        check(DateIsNotInTheFuture("left_on", day, require_aware(at).date()),
              DateIsNotBefore("left_on", day, self.partnerships[chosen.value], "joining date"))
        self._record(self.PartnershipLeft, at, actor=parse_actor(actor),
                     reason=parse_reason(reason), programme=chosen, left_on=day)

    class ComplianceClassSet(CaseAggregate.Event):
        compliance_class: ComplianceClass

        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.compliance_class = self.compliance_class

    def set_compliance_class(self, compliance_class: ComplianceClass | str, *, actor: str,
                             reason: str, at: datetime) -> None:
        self._refuse_unless_step("set_compliance_class")
        self._record(self.ComplianceClassSet, at, actor=parse_actor(actor),
                     reason=parse_reason(reason),
                     compliance_class=parse_enum(ComplianceClass, compliance_class,
                                                 "compliance_class"))

    class TierSet(CaseAggregate.Event):
        """Account tier by cumulative value share; records the inputs that decided it."""

        tier: int
        annual_value: Decimal
        cumulative_share: Decimal
        year: int

        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.tier = self.tier
            aggregate.annual_value = self.annual_value

    def set_tier(self, tier: int, annual_value: Decimal, cumulative_share: Decimal, year: int,
                 *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("set_tier")
        if isinstance(tier, bool) or tier not in (1, 2, 3, 4):
            raise InvalidValueError("tier", tier, "expected 1, 2, 3 or 4")
        self._record(self.TierSet, at, actor=parse_actor(actor), reason=parse_reason(reason),
                     tier=tier, annual_value=parse_money(annual_value, "annual_value"),
                     cumulative_share=cumulative_share, year=year)

    class RiskAssessed(CaseAggregate.Event):
        """A risk run's result for this importer, with everything needed to reproduce it:
        the method version, the year, the input batches and the factors."""

        method_version: str
        year: int
        score: Decimal
        expected_noncompliant_value: Decimal
        revenue_at_risk: Decimal
        compliance_rate: Decimal
        compliance_low: Decimal
        compliance_high: Decimal
        lines_examined: int
        discrepancies: int
        category: str
        impact_level: str
        tier: int
        annual_value: Decimal
        cumulative_share: Decimal
        explanation: tuple[RiskFactor, ...]
        input_batches: tuple[UUID, ...]

        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.risk_score = self.score
            aggregate.risk_category = self.category
            aggregate.risk_method = self.method_version
            aggregate.tier = self.tier
            aggregate.annual_value = self.annual_value

    class Suspended(CaseAggregate.Event):
        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.status = AccountStatus.SUSPENDED

    def suspend(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("suspend_importer")
        self._record(self.Suspended, at, actor=parse_actor(actor), reason=parse_reason(reason))

    class Reinstated(CaseAggregate.Event):
        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.status = AccountStatus.ACTIVE

    def reinstate(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("reinstate_importer")
        self._record(self.Reinstated, at, actor=parse_actor(actor), reason=parse_reason(reason))

    class Closed(CaseAggregate.Event):
        def apply(self, aggregate: ImporterAccount) -> None:
            aggregate.status = AccountStatus.CLOSED

    def close(self, *, actor: str, reason: str, at: datetime) -> None:
        self._refuse_unless_step("close_importer")
        self._record(self.Closed, at, actor=parse_actor(actor), reason=parse_reason(reason))
