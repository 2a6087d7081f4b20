"""argon2id password hashes (infrastructure.passwords): a hash verifies its password and
no other, holds no password in clear, is salted, asks for a rehash when the cost rises,
and anything that is not a usable hash verifies as False instead of raising. A login for
an unknown username costs as much as a real one.

Cheap parameters keep the suite fast; one test uses the defaults (RFC 9106 low memory)."""

from __future__ import annotations

import pytest
from argon2.profiles import RFC_9106_LOW_MEMORY

from application.ports import PasswordHasher
from infrastructure.passwords import Argon2Hasher, verify_against_nothing

PASSWORD = "violet tractor mango harbour"


@pytest.fixture
def hasher() -> Argon2Hasher:
    return Argon2Hasher(time_cost=1, memory_cost=64, parallelism=1)


def test_a_hash_verifies_its_password_and_no_other(hasher: Argon2Hasher) -> None:
    port: PasswordHasher = hasher
    encoded = port.hash(PASSWORD)
    assert encoded.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert PASSWORD not in encoded
    assert port.verify(encoded, PASSWORD) is True
    assert port.verify(encoded, PASSWORD + " ") is False
    assert port.verify(encoded, "Violet tractor mango harbour") is False
    assert port.verify(encoded, "") is False


def test_each_hash_is_salted(hasher: Argon2Hasher) -> None:
    first, second = hasher.hash(PASSWORD), hasher.hash(PASSWORD)
    assert first != second
    assert hasher.verify(first, PASSWORD)
    assert hasher.verify(second, PASSWORD)


def test_unicode_passwords_round_trip(hasher: Argon2Hasher) -> None:
    password = "東京タワーで夕日を見る!"
    assert hasher.verify(hasher.hash(password), password)
    assert not hasher.verify(hasher.hash(password), "東京タワーで夕日を見る?")


def test_the_defaults_are_the_rfc_9106_low_memory_profile() -> None:
    default = Argon2Hasher()
    assert (default.time_cost, default.memory_cost, default.parallelism) == (
        RFC_9106_LOW_MEMORY.time_cost, RFC_9106_LOW_MEMORY.memory_cost,
        RFC_9106_LOW_MEMORY.parallelism)
    encoded = default.hash(PASSWORD)
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert default.verify(encoded, PASSWORD)
    assert not default.needs_rehash(encoded)


def test_a_hash_needs_rehash_when_the_parameters_grow(hasher: Argon2Hasher) -> None:
    encoded = hasher.hash(PASSWORD)
    assert hasher.needs_rehash(encoded) is False
    assert Argon2Hasher(time_cost=1, memory_cost=64, parallelism=1).needs_rehash(
        encoded) is False
    for stronger in (Argon2Hasher(time_cost=2, memory_cost=64, parallelism=1),
                     Argon2Hasher(time_cost=1, memory_cost=128, parallelism=1),
                     Argon2Hasher(time_cost=1, memory_cost=64, parallelism=2)):
        assert stronger.needs_rehash(encoded) is True
        assert stronger.verify(encoded, PASSWORD)  # the old hash still logs in
        assert stronger.needs_rehash(stronger.hash(PASSWORD)) is False


def test_an_unreadable_hash_needs_rehash(hasher: Argon2Hasher) -> None:
    assert hasher.needs_rehash("not a hash") is True


@pytest.mark.parametrize("garbled", [
    "",
    "not a hash",
    "$argon2id$v=19$m=64,t=1,p=1$",
    "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$%%%%",
    "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  # bcrypt
    "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",  # m too small
    "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaMOkaGFzaA",
    "$argon2id$v=19$m=64,t=1,p=1$sält$hash",  # not ASCII
])
def test_a_garbled_hash_verifies_as_false_without_raising(
        hasher: Argon2Hasher, garbled: str) -> None:
    assert hasher.verify(garbled, PASSWORD) is False


def test_a_hash_cut_short_or_altered_verifies_as_false(hasher: Argon2Hasher) -> None:
    encoded = hasher.hash(PASSWORD)
    assert hasher.verify(encoded[:-5], PASSWORD) is False
    flipped = encoded[:-1] + ("A" if encoded[-1] != "A" else "B")
    assert hasher.verify(flipped, PASSWORD) is False


def test_a_password_that_is_not_utf8_verifies_as_false(hasher: Argon2Hasher) -> None:
    assert hasher.verify(hasher.hash(PASSWORD), "lone \udc80 surrogate") is False


def test_parameters_below_the_minimum_are_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        Argon2Hasher(time_cost=0)
    with pytest.raises(ValueError, match="too small"):
        Argon2Hasher(memory_cost=7)


def test_little_memory_uses_fewer_lanes_instead_of_failing() -> None:
    cheap = Argon2Hasher(time_cost=1, memory_cost=8)  # 8 KiB: room for one lane
    assert cheap.parallelism == 1
    assert cheap.verify(cheap.hash(PASSWORD), PASSWORD)


def test_verifying_against_nothing_is_false_and_costs_a_real_verify() -> None:
    """The unmatchable hash carries the hasher's own parameters, so argon2 does the same
    work for an unknown user as for a known one (checked on the parameters, not with a
    clock: timings on a shared machine prove nothing either way), and argon2 really runs
    it: the verification goes through the same argon2 call as a real one."""
    from argon2 import extract_parameters

    hasher = Argon2Hasher(time_cost=2, memory_cost=16384, parallelism=1)
    encoded = hasher.hash(PASSWORD)
    assert hasher.verify_against_nothing(PASSWORD) is False
    assert verify_against_nothing(PASSWORD, hasher) is False
    nothing = hasher._nothing
    assert extract_parameters(nothing) == extract_parameters(encoded)
    assert nothing != encoded
    assert nothing.startswith("$argon2id$")

    calls: list[str] = []
    real_verify = hasher.verify

    def counting(stored: str, password: str) -> bool:
        calls.append(stored)
        return real_verify(stored, password)

    hasher.verify = counting  # type: ignore[method-assign]
    assert hasher.verify_against_nothing("wrong password here") is False
    assert calls == [nothing]


def test_the_module_function_defaults_to_the_default_profile() -> None:
    assert verify_against_nothing(PASSWORD) is False
