"""Value parsing: every value object validates itself and names the field it refuses."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from domain.assessment import AssessmentOrigin
from domain.base import require_aware
from domain.errors import InvalidValueError
from domain.reference import DISTRICTS, INDUSTRIES, ComplianceArea, district_name
from domain.values import (
    Period,
    parse_actor,
    parse_count,
    parse_date,
    parse_district,
    parse_enum,
    parse_importer_number,
    parse_industry,
    parse_money,
    parse_name,
    parse_period,
    parse_reason,
)

from .builders import BEIJING, T0, assert_names


def refusal_of(parse, *args: object) -> InvalidValueError:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValueError) as excinfo:
        parse(*args)
    return excinfo.value


# -- actors and reasons --------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["user:officer.li", "system:nightly-tiering",
                                   "user:jane.doe@customs.example", "user:" + "a" * 64])
def test_people_and_jobs_are_valid_actors(actor: str) -> None:
    assert parse_actor(actor) == actor


@pytest.mark.parametrize("actor", ["officer.li", "admin:root", "user:", "user:has space",
                                   "USER:li", "user:" + "a" * 65, "", None, 42])
def test_anything_but_user_or_system_prefixed_ids_is_not_an_actor(actor: object) -> None:
    refusal = refusal_of(parse_actor, actor)
    assert_names(refusal, field="actor", mentions=[repr(actor), "user:<id>"])
    assert refusal.value == actor


def test_an_actor_refusal_names_the_field_it_was_given_for() -> None:
    assert_names(refusal_of(parse_actor, "li", "officer"), field="officer", mentions=["'li'"])


def test_a_reason_is_kept_without_surrounding_whitespace() -> None:
    assert parse_reason("  annual review \n") == "annual review"


@pytest.mark.parametrize("reason", ["", "   ", "\n\t", None])
def test_a_blank_reason_is_refused(reason: object) -> None:
    assert_names(refusal_of(parse_reason, reason), field="reason",
                 mentions=["non-empty reason"])


def test_a_reason_longer_than_2000_characters_is_refused_with_a_shortened_echo() -> None:
    refusal = refusal_of(parse_reason, "x" * 2001)
    assert_names(refusal, field="reason", mentions=["2000 characters"])
    assert refusal.value == "x" * 40 + "..."
    assert parse_reason("x" * 2000) == "x" * 2000


# -- importer numbers, districts, industries, names ------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("12-3456789AB", "12-3456789AB"),
    (" 12-3456789ab ", "12-3456789AB"),
    ("99-000000012", "99-000000012"),
])
def test_importer_numbers_are_normalised_to_upper_case(raw: str, expected: str) -> None:
    assert parse_importer_number(raw) == expected


@pytest.mark.parametrize("raw", ["123456789AB", "1-3456789AB", "12-345678AB", "12-3456789A",
                                 "12-3456789ABC", "12-3456789A!", "AB-3456789AB", "", None])
def test_malformed_importer_numbers_are_refused(raw: object) -> None:
    assert_names(refusal_of(parse_importer_number, raw), field="importer_number",
                 mentions=[repr(raw), "NN-NNNNNNNXX"])


@pytest.mark.parametrize("code", ["01", "11", "42"])
def test_district_codes_01_to_42_are_valid(code: str) -> None:
    assert parse_district(code) == code


def test_there_are_exactly_42_districts() -> None:
    assert sorted(DISTRICTS) == [f"{n:02d}" for n in range(1, 43)]
    assert district_name("11") == "Shanghai"
    assert district_name("00") == "National centre"


@pytest.mark.parametrize(("raw", "expected"), [("5", "05"), (" 7 ", "07"), ("09", "09")])
def test_a_single_digit_district_is_padded_to_two_digits(raw: str, expected: str) -> None:
    assert parse_district(raw) == expected


@pytest.mark.parametrize("code", ["00", "43", "x", "", "0", "005", 5, None])
def test_codes_outside_01_to_42_are_not_districts(code: object) -> None:
    assert_names(refusal_of(parse_district, code), field="district",
                 mentions=[repr(code), "01-42"])


@pytest.mark.parametrize(("raw", "expected"), [("01", "01"), ("73", "73"), ("97", "97"),
                                               ("3", "03"), (" 84 ", "84")])
def test_hs_chapters_01_to_97_are_industries(raw: str, expected: str) -> None:
    assert parse_industry(raw) == expected


def test_industries_are_the_96_hs_chapters_without_the_reserved_77() -> None:
    assert len(INDUSTRIES) == 96
    assert "77" not in INDUSTRIES


@pytest.mark.parametrize("code", ["77", "00", "98", "abc", "", None])
def test_reserved_or_unknown_hs_chapters_are_refused(code: object) -> None:
    assert_names(refusal_of(parse_industry, code), field="industry",
                 mentions=[repr(code), "HS chapter"])


def test_a_name_has_its_inner_whitespace_collapsed() -> None:
    assert parse_name("  Harbour   Fasteners Ltd ") == "Harbour Fasteners Ltd"
    assert parse_name("Caf\u00e9 \u4e2d\u56fd\u00a0Trading") == "Caf\u00e9 \u4e2d\u56fd Trading"


def test_a_name_is_one_line_so_a_tab_or_newline_in_it_is_refused() -> None:
    assert_names(refusal_of(parse_name, "Harbour\tFasteners", "legal_name"),
                 field="legal_name", mentions=["U+0009 (TAB) at position 8", "one line"])
    assert_names(refusal_of(parse_name, "Harbour\nFasteners", "legal_name"),
                 field="legal_name", mentions=["U+000A (LF) at position 8"])


@pytest.mark.parametrize(("raw", "reason"), [("", "must not be empty"),
                                             ("   ", "must not be empty"),
                                             ("n" * 201, "longer than 200")])
def test_blank_or_overlong_names_are_refused(raw: str, reason: str) -> None:
    assert_names(refusal_of(parse_name, raw, "legal_name"), field="legal_name",
                 mentions=[reason])


# -- money and counts -----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("1250.5", Decimal("1250.50")),
    (" 0 ", Decimal("0.00")),
    (12, Decimal("12.00")),
    (Decimal("3.10"), Decimal("3.10")),
    ("1e3", Decimal("1000.00")),
])
def test_money_is_held_to_the_cent(raw: object, expected: Decimal) -> None:
    parsed = parse_money(raw, "value_tested")  # type: ignore[arg-type]
    assert parsed == expected
    assert parsed.as_tuple().exponent == -2


@pytest.mark.parametrize(("raw", "reason"), [
    ("-0.01", "must not be negative"),
    (Decimal("-5"), "must not be negative"),
    ("10.005", "more than 2 decimal places"),
    ("0.001", "more than 2 decimal places"),
    ("ten", "not a decimal amount"),
    ("", "not a decimal amount"),
    (None, "not a decimal amount"),
    ("12,50", "not a decimal amount"),
    ("NaN", "not a finite amount"),
    ("Infinity", "not a finite amount"),
    ("1e30", "too large"),
])
def test_negative_fractional_cent_or_non_numeric_money_is_refused(raw: object,
                                                                  reason: str) -> None:
    assert_names(refusal_of(parse_money, raw, "value_in_error"), field="value_in_error",
                 mentions=[repr(raw), reason])


@pytest.mark.parametrize(("raw", "expected"), [(0, 0), ("17", 17), (" 3 ", 3), (250, 250)])
def test_counts_are_non_negative_whole_numbers(raw: object, expected: int) -> None:
    assert parse_count(raw, "lines_tested") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("raw", "reason"), [("-1", "must not be negative"),
                                             (-3, "must not be negative"),
                                             ("1.5", "not a whole number"),
                                             ("many", "not a whole number"),
                                             (None, "not a whole number")])
def test_negative_or_non_whole_counts_are_refused(raw: object, reason: str) -> None:
    assert_names(refusal_of(parse_count, raw, "discrepancies"), field="discrepancies",
                 mentions=[repr(raw), reason])


# -- dates, periods, enums, times ---------------------------------------------------------


def test_iso_dates_are_parsed_and_dates_pass_through() -> None:
    assert parse_date(" 2025-12-31 ", "surveyed_on") == date(2025, 12, 31)
    assert parse_date(date(2024, 2, 29), "surveyed_on") == date(2024, 2, 29)


@pytest.mark.parametrize("raw", ["31/12/2025", "2025-02-30", "2025-13-01", "yesterday", "",
                                 None])
def test_anything_but_a_real_iso_date_is_refused(raw: object) -> None:
    assert_names(refusal_of(parse_date, raw, "joined_on"), field="joined_on",
                 mentions=[repr(raw), "ISO date"])


def test_a_period_may_be_a_single_day() -> None:
    assert parse_period("2025-01-01", "2025-01-01") == Period(date(2025, 1, 1),
                                                              date(2025, 1, 1))


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    refusal = refusal_of(parse_period, "2025-06-01", "2025-05-31")
    assert_names(refusal, field="period_end", mentions=["2025-05-31", "before period_start"])


def test_a_period_with_a_malformed_start_names_the_start() -> None:
    assert_names(refusal_of(parse_period, "2025-6-1", "2025-06-30"), field="period_start")


def test_periods_overlap_when_they_share_at_least_one_day() -> None:
    year_2024 = Period(date(2024, 1, 1), date(2024, 12, 31))
    assert year_2024.overlaps(Period(date(2024, 12, 31), date(2025, 6, 30)))
    assert not year_2024.overlaps(Period(date(2025, 1, 1), date(2025, 6, 30)))
    assert str(year_2024) == "2024-01-01..2024-12-31"


@pytest.mark.parametrize("raw", ["Risk_Selection", " referral ", AssessmentOrigin.RANDOM])
def test_enums_accept_their_values_in_any_case(raw: object) -> None:
    assert isinstance(parse_enum(AssessmentOrigin, raw, "origin"),  # type: ignore[arg-type]
                      AssessmentOrigin)


@pytest.mark.parametrize("raw", ["risk selection", "audit", "", ComplianceArea.VALUE])
def test_an_unknown_enum_value_is_refused_with_the_allowed_values(raw: object) -> None:
    refusal = refusal_of(parse_enum, AssessmentOrigin, raw, "origin")
    assert_names(refusal, field="origin",
                 mentions=["risk_selection, national_criteria, referral, random"])


def test_recorded_times_must_be_timezone_aware() -> None:
    assert require_aware(T0) is T0
    assert require_aware(T0.astimezone(BEIJING), "at") == T0
    naive = datetime(2026, 3, 2, 9, 0)
    assert_names(refusal_of(require_aware, naive), field="at",
                 mentions=["timezone-aware"])
    assert_names(refusal_of(require_aware, "2026-03-02T09:00Z", "opened_at"),
                 field="opened_at")
