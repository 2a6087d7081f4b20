"""Country codes: origins are normalised ISO 3166-1 alpha-2 codes, anything else is refused."""

from __future__ import annotations

import pytest

from domain.countries import ISO_3166_ALPHA2, parse_country
from domain.errors import InvalidValueError


def test_exactly_the_249_assigned_codes() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in ISO_3166_ALPHA2)
    assert {"CN", "US", "GB", "DE", "TW", "HK", "SS", "XK"} - ISO_3166_ALPHA2 == {"XK"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("cn", "CN"), ("CN", "CN"), (" us ", "US"), ("Gb", "GB"), ("ax\n", "AX")],
)
def test_known_codes_are_accepted_and_normalised(raw: str, expected: str) -> None:
    assert parse_country(raw) == expected


@pytest.mark.parametrize("raw", ["XX", "UK", "EU", "", "   ", "USA", "C", "C N"])
def test_unknown_codes_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        parse_country(raw)
    assert excinfo.value.field == "origin_country"
    assert excinfo.value.value == raw
    assert excinfo.value.reason == "not an ISO 3166 alpha-2 country code"
    assert str(excinfo.value).startswith(f"origin_country={raw!r}:")


def test_the_field_name_can_be_given() -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        parse_country("UK", field="export_country")
    assert excinfo.value.field == "export_country"
    assert parse_country("gb", field="export_country") == "GB"
