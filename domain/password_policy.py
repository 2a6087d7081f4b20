"""Which passwords people may choose: long enough to resist guessing, and none an attacker
tries first (the bundled list of common and breached passwords, the username, one
character repeated).

Length over composition rules (NIST SP 800-63B): "must contain a digit and a symbol" makes
passwords harder to remember, not to guess. Refusals never echo the password: the error's
value is "<redacted>", and no reason quotes any part of it, so logs and screens that show
refusals do not leak what was typed.

Pure: the only thing read is `common_passwords.txt`, this package's own data, once at
import through importlib.resources; that is reading the code's own resources, not I/O on
the outside world, and the result never changes while the process runs.
"""

from __future__ import annotations

from importlib.resources import files

from domain.errors import InvalidValueError
from domain.values import refused_character

__all__ = ["COMMON_PASSWORDS", "MAX_LENGTH", "MIN_LENGTH", "REDACTED", "check_password"]

MIN_LENGTH = 12
MAX_LENGTH = 256
"""Long passphrases are welcome; the cap only keeps hashing work bounded."""
REDACTED = "<redacted>"
_USERNAME_MIN_FOR_CONTAINS = 3
"""A shorter username is only refused as the whole password: refusing every password
that holds the letter "a" would protect nothing."""


def _load_common() -> frozenset[str]:
    text = files("domain").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


COMMON_PASSWORDS = _load_common()
"""Casefolded: "Password1234" is as guessable as "password1234"."""


def check_password(password: str, *, username: str, field: str = "password") -> str:
    """`password`, unchanged, if people may choose it; InvalidValueError(field,
    "<redacted>", why) otherwise. Lengths count characters, not bytes: a passphrase in
    any script is judged by how long it is to type."""
    if not isinstance(password, str):
        raise InvalidValueError(field, REDACTED, "expected text")
    reason = _refusal(password, username)
    if reason is not None:
        raise InvalidValueError(field, REDACTED, reason)
    return password


def _refusal(password: str, username: str) -> str | None:
    # Control characters first: their message names the character and its position
    # (never the password), and such text cannot be typed back reliably.
    control = refused_character(password)
    if control is not None:
        return control
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if len(set(password)) == 1:
        return "must not be one character repeated"
    folded, name = password.casefold(), username.strip().casefold()
    if name and (folded == name or (len(name) >= _USERNAME_MIN_FOR_CONTAINS
                                    and name in folded)):
        return "must not contain the username"
    if folded in COMMON_PASSWORDS:
        return "is a commonly used password (found in lists attackers try first)"
    return None
