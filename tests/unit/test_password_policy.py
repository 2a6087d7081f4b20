"""The password policy: at least 12 and at most 256 characters (counted as characters),
no control or direction characters, not the username nor holding it, not a common or
breached password, not one character repeated; and a refusal never shows the password."""

from __future__ import annotations

from importlib.resources import files

import pytest

from domain.errors import InvalidValueError
from domain.password_policy import (
    COMMON_PASSWORDS,
    MAX_LENGTH,
    MIN_LENGTH,
    REDACTED,
    check_password,
)

GOOD = "violet tractor mango harbour"


def refusal(password: str, username: str = "alice.smith", field: str = "password",
            ) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as raised:
        check_password(password, username=username, field=field)
    error = raised.value
    assert error.value == REDACTED
    if len(password) >= 4:  # shorter text can be in any message by chance
        assert password not in str(error)
    return error


def test_a_long_uncommon_password_is_accepted_unchanged() -> None:
    assert check_password(GOOD, username="alice.smith") == GOOD
    assert check_password(" leading and trailing ", username="bob") == " leading and trailing "


def test_length_counts_characters_not_bytes() -> None:
    eleven = "ÄÖÜßéèêñçøå"  # 11 characters, 22 bytes in UTF-8
    assert len(eleven) == 11
    assert len(eleven.encode()) > MIN_LENGTH
    assert "at least 12 characters" in refusal(eleven).reason
    assert check_password(eleven + "ł", username="alice") == eleven + "ł"
    passphrase = "東京タワーで夕日を見る"  # 11 characters
    assert "at least 12" in refusal(passphrase).reason
    assert check_password(passphrase + "!", username="alice") == passphrase + "!"


@pytest.mark.parametrize("length", [0, 1, MIN_LENGTH - 1])
def test_short_passwords_are_refused(length: int) -> None:
    password = "xk3!Qp9#vL2@"[:length]
    assert "at least 12 characters" in refusal(password).reason


def test_the_longest_allowed_and_one_more() -> None:
    longest = ("correct horse battery staple " * 10)[:MAX_LENGTH]
    assert check_password(longest, username="alice") == longest
    assert "at most 256 characters" in refusal(longest + "x").reason


@pytest.mark.parametrize(("password", "named"), [
    ("violet tractor\x00mango", "U+0000 (NUL) at position 15"),
    ("violet tractor\nmango", "U+000A (LF) at position 15"),
    ("violet tractor\tmango", "U+0009 (TAB) at position 15"),
    ("\x1b[31mviolet tractor", "U+001B (ESC) at position 1"),
    ("violet tractor\u202emango", "U+202E (RIGHT-TO-LEFT OVERRIDE) at position 15"),
    ("violet tractor\x85mango", "U+0085 (NEL) at position 15"),
    ("violet tractor\udc80mango", "U+DC80 (surrogate: not UTF-8 text) at position 15"),
])
def test_control_and_direction_characters_are_refused_by_name_and_position(
        password: str, named: str) -> None:
    assert named in refusal(password).reason


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "############", "0" * 40, "é" * 12])
def test_one_repeated_character_is_refused(password: str) -> None:
    assert "one character repeated" in refusal(password).reason


@pytest.mark.parametrize(("username", "password"), [
    ("alice.smith.longname", "alice.smith.longname"),
    ("Alice.Smith.Longname", "alice.smith.LONGNAME"),
    ("alice.smith", "my name is ALICE.SMITH ok"),
    ("alice.smith", "Alice.Smith2026!"),
    ("bob", "i am bob and proud"),
])
def test_the_username_is_refused_whole_or_inside_whatever_the_case(
        username: str, password: str) -> None:
    assert "must not contain the username" in refusal(password, username).reason


def test_a_very_short_username_is_refused_only_as_the_whole_password() -> None:
    assert check_password("a quiet afternoon", username="a") == "a quiet afternoon"
    assert check_password("going up to wo and back", username="wo") == (
        "going up to wo and back")
    assert check_password(GOOD, username="") == GOOD


@pytest.mark.parametrize("password", ["password1234", "Password1234", "123456789012",
                                      "qwertyuiopas", "iloveyou1234", "QWERTY123456",
                                      "correcthorsebatterystaple", "1qaz2wsx3edc"])
def test_common_passwords_are_refused_whatever_the_case(password: str) -> None:
    assert "commonly used password" in refusal(password).reason


def test_the_common_list_is_bundled_long_enough_to_matter_and_without_duplicates() -> None:
    bundled = files("domain").joinpath("common_passwords.txt")
    assert bundled.is_file()
    entries = [line.strip() for line in bundled.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert len(entries) >= 200
    assert len(entries) == len(set(entries)) == len(COMMON_PASSWORDS)
    # Shorter entries would be dead weight: the length rule refuses them first.
    assert all(len(entry) >= MIN_LENGTH for entry in entries)
    assert all(entry == entry.casefold() for entry in entries)


def test_the_field_is_named_and_the_message_shows_no_password() -> None:
    error = refusal("password1234", field="new_password")
    assert error.field == "new_password"
    assert str(error).startswith("new_password='<redacted>': ")


def test_a_non_string_is_refused_without_echo() -> None:
    with pytest.raises(InvalidValueError) as raised:
        check_password(123456789012345, username="alice")  # type: ignore[arg-type]
    assert raised.value.value == REDACTED
    assert "123456789012345" not in str(raised.value)
