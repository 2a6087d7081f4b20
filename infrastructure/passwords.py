"""Password hashing with argon2id (argon2-cffi), the application's PasswordHasher.

argon2id because it is memory-hard (guessing on GPUs costs memory, not just time) and is
the variant RFC 9106 recommends. The encoded hash carries its own parameters and salt, so
raising the cost later only needs `needs_rehash` at the next successful login.
"""

from __future__ import annotations

import base64
import secrets

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

__all__ = ["Argon2Hasher", "verify_against_nothing"]

_KIB_PER_LANE = 8
"""Argon2 needs at least 8 KiB of memory per lane (parallelism)."""


class Argon2Hasher:
    """argon2id with the given cost. The defaults are argon2-cffi's RFC 9106 low-memory
    profile (t=3, m=64 MiB, p=4): strong, yet affordable on a server answering logins.

    `parallelism` is the most lanes used: Argon2 needs 8 KiB per lane, so a small memory
    cost (a cheap test setting such as memory_cost=8) runs on fewer lanes instead of being
    refused by the library at the first hash."""

    def __init__(self, time_cost: int = RFC_9106_LOW_MEMORY.time_cost,
                 memory_cost: int = RFC_9106_LOW_MEMORY.memory_cost,
                 parallelism: int = RFC_9106_LOW_MEMORY.parallelism) -> None:
        if time_cost < 1 or memory_cost < _KIB_PER_LANE or parallelism < 1:
            raise ValueError(f"argon2 parameters too small: time_cost={time_cost} (>= 1), "
                             f"memory_cost={memory_cost} KiB (>= {_KIB_PER_LANE}), "
                             f"parallelism={parallelism} (>= 1)")
        lanes = min(parallelism, memory_cost // _KIB_PER_LANE)
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_cost,
                               parallelism=lanes, hash_len=RFC_9106_LOW_MEMORY.hash_len,
                               salt_len=RFC_9106_LOW_MEMORY.salt_len, type=Type.ID)
        self.time_cost, self.memory_cost, self.parallelism = time_cost, memory_cost, lanes
        self._nothing = _unmatchable_hash(time_cost, memory_cost, lanes)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, encoded: str, password: str) -> bool:
        """False on a wrong password and on anything that is not a usable hash (garbled,
        truncated, not ASCII, parameters the library refuses): a login must fail, not
        crash, whatever the stored hash holds."""
        try:
            return self._argon2.verify(encoded, password)
        except (VerificationError, InvalidHashError, ValueError, TypeError):
            # VerifyMismatchError is a VerificationError; a non-ASCII hash or a password
            # that is not UTF-8 (lone surrogates) raises UnicodeEncodeError, a ValueError.
            return False

    def needs_rehash(self, encoded: str) -> bool:
        """argon2-cffi's check: True when `encoded` was made with other parameters than
        today's (weaker ones, or stronger ones after the cost was lowered on purpose), and
        True for a hash it cannot read, since such a hash should be replaced."""
        try:
            return self._argon2.check_needs_rehash(encoded)
        except (InvalidHashError, ValueError):
            return True

    def verify_against_nothing(self, password: str) -> bool:
        """Spend the time of a real `verify` and return False: called when the username is
        unknown, so that the answer's timing does not tell which usernames exist."""
        self.verify(self._nothing, password)
        return False


def _unmatchable_hash(time_cost: int, memory_cost: int, parallelism: int) -> str:
    """An encoded argon2id hash with these parameters and a random salt and digest.

    Verifying against it costs exactly what verifying a real hash with the same parameters
    costs (the work is computing the digest, which is then compared), yet nothing matches it
    (a 256-bit random digest). Built, not hashed, so that making it costs nothing."""

    def b64(size: int) -> str:
        return base64.b64encode(secrets.token_bytes(size)).decode("ascii").rstrip("=")

    return (f"$argon2id$v=19$m={memory_cost},t={time_cost},p={parallelism}"
            f"${b64(RFC_9106_LOW_MEMORY.salt_len)}${b64(RFC_9106_LOW_MEMORY.hash_len)}")


_default: Argon2Hasher | None = None


def verify_against_nothing(password: str, hasher: Argon2Hasher | None = None) -> bool:
    """Always False, after as long as a real verify with `hasher`'s parameters (the default
    profile's when None). Pass the hasher the real logins use: the cost of a verify is
    set by its parameters, so only the same ones hide whether the username exists."""
    global _default
    if hasher is None:
        if _default is None:
            _default = Argon2Hasher()
        hasher = _default
    return hasher.verify_against_nothing(password)
