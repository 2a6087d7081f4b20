"""Value objects shared by the aggregates, each validating itself on parse."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import TypeVar

from domain.errors import InvalidValueError
from domain.reference import DISTRICTS, INDUSTRIES

_ACTOR = re.compile(r"^(user|system):[A-Za-z0-9._@-]{1,64}$")
_IMPORTER_NUMBER = re.compile(r"^\d{2}-\d{7}[0-9A-Z]{2}$")
_CENT = Decimal("0.01")

E = TypeVar("E", bound=Enum)

# Characters no free text may hold: C0 controls but newline and tab (and those two too in
# single-line text), DEL, C1 controls, the line and paragraph separators, the bidirectional
# embeddings, overrides and isolates (which reorder what a terminal or browser shows), and
# lone surrogates (bytes that were not UTF-8). Each can break a store (PostgreSQL refuses NUL
# in text) or forge output (a newline prints a fake line, ESC drives the terminal, U+202E
# shows text backwards).
_REFUSED = "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_REFUSED_MULTI_LINE = re.compile(f"[{_REFUSED}]")
_REFUSED_SINGLE_LINE = re.compile(f"[\t\n{_REFUSED}]")
_C0_NAMES = ("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT",
             "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
             "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US")
_C1_NAMES = ("PAD", "HOP", "BPH", "NBH", "IND", "NEL", "SSA", "ESA", "HTS", "HTJ", "VTS", "PLD",
             "PLU", "RI", "SS2", "SS3", "DCS", "PU1", "PU2", "STS", "CCH", "MW", "SPA", "EPA",
             "SOS", "SGCI", "SCI", "CSI", "ST", "OSC", "PM", "APC")
_ECHO = 40


def character_name(char: str) -> str:
    """`U+001B (ESC)`: how a refused character is named in messages."""
    code = ord(char)
    if code < 0x20:
        name = _C0_NAMES[code]
    elif code == 0x7F:
        name = "DEL"
    elif 0x80 <= code <= 0x9F:
        name = _C1_NAMES[code - 0x80]
    elif 0xD800 <= code <= 0xDFFF:
        name = "surrogate: not UTF-8 text"
    else:
        name = unicodedata.name(char, "unnamed")
    return f"U+{code:04X} ({name})"


def _echo(value: str) -> str:
    return value if len(value) <= _ECHO else value[:_ECHO] + "..."


def refused_character(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be free text: the first character it must not hold, named with
    its position (counting from 1), e.g. `contains the control character U+0000 (NUL) at
    position 5`; None when it holds none. Multi-line text may hold newlines and tabs."""
    found = (_REFUSED_MULTI_LINE if multiline else _REFUSED_SINGLE_LINE).search(value)
    if found is None:
        return None
    char = found.group()
    kind = "control character" if unicodedata.category(char) == "Cc" else "character"
    allowed = "; newlines and tabs are allowed" if multiline else (
        "; this field is one line: no newlines or tabs" if char in "\t\n" else "")
    return (f"contains the {kind} {character_name(char)} at position {found.start() + 1}"
            f"{allowed}")


def refuse_control_characters(field: str, value: str, *, multiline: bool = False) -> None:
    """Refuse text holding a character that can break a store or forge output (see
    `refused_character`)."""
    reason = refused_character(value, multiline=multiline)
    if reason is not None:
        raise InvalidValueError(field, _echo(value), reason)


def parse_text(field: str, value: str, max_len: int, *, multiline: bool = False,
               empty: str = "must not be empty") -> str:
    """Free text, the one place it is parsed: names, reasons, descriptions, facts, evidence,
    legal bases, rule names. Refuses a non-string, control and direction characters (see
    `refuse_control_characters`), blank text and text longer than `max_len` characters.
    Single-line text has its runs of spaces collapsed; multi-line text (which may hold
    newlines and tabs) only loses its surrounding whitespace."""
    if not isinstance(value, str):
        raise InvalidValueError(field, value, "expected text")
    refuse_control_characters(field, value, multiline=multiline)
    if not value.strip():
        raise InvalidValueError(field, value, empty)
    if len(value) > max_len:
        raise InvalidValueError(field, _echo(value), f"longer than {max_len} characters")
    return value.strip() if multiline else " ".join(value.split())


def parse_actor(value: str, field: str = "actor") -> str:
    """Actors are `user:<id>` for people and `system:<job>` for automation."""
    if isinstance(value, str):
        refuse_control_characters(field, value)
    if not isinstance(value, str) or not _ACTOR.fullmatch(value):
        raise InvalidValueError(field, value, "expected 'user:<id>' or 'system:<job>'")
    return value


def parse_reason(value: str, field: str = "reason") -> str:
    """Every decision must say why; blank reasons are refused. Multi-line, up to 2000
    characters."""
    if not isinstance(value, str):
        raise InvalidValueError(field, value, "a non-empty reason is required")
    return parse_text(field, value, 2000, multiline=True,
                      empty="a non-empty reason is required")


def parse_importer_number(value: str, field: str = "importer_number") -> str:
    """Importer of record numbers look like `12-3456789AB` (IRS style)."""
    if isinstance(value, str):
        refuse_control_characters(field, value)
    normalised = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(normalised, str) or not _IMPORTER_NUMBER.fullmatch(normalised):
        raise InvalidValueError(field, value, "expected NN-NNNNNNNXX, e.g. 12-3456789AB")
    return normalised


def parse_district(value: str, field: str = "district") -> str:
    code = value.strip() if isinstance(value, str) else value
    if isinstance(code, str) and code.isdigit() and len(code) == 1:
        code = "0" + code
    if code not in DISTRICTS:
        raise InvalidValueError(field, value, "not one of the 42 district codes 01-42")
    return str(code)


def parse_industry(value: str, field: str = "industry") -> str:
    code = value.strip() if isinstance(value, str) else value
    if isinstance(code, str) and code.isdigit() and len(code) == 1:
        code = "0" + code
    if code not in INDUSTRIES:
        raise InvalidValueError(field, value, "not an HS chapter 01-97")
    return str(code)


def parse_name(value: str, field: str = "name") -> str:
    """A name (legal name, legal basis, rule name, document reference): one line, up to
    200 characters, inner runs of spaces collapsed."""
    if not isinstance(value, str):
        raise InvalidValueError(field, value, "must not be empty")
    return parse_text(field, value, 200)


def parse_money(value: Decimal | str | int, field: str) -> Decimal:
    """Money is a non-negative decimal with 2 places in the one currency."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidValueError(field, value, "not a decimal amount") from None
    if not amount.is_finite():
        raise InvalidValueError(field, value, "not a finite amount")
    if amount < 0:
        raise InvalidValueError(field, value, "must not be negative")
    try:
        cents = amount.quantize(_CENT)
    except InvalidOperation:
        # Too many digits to hold to the cent (e.g. '1e30'): refuse it like any bad amount.
        raise InvalidValueError(field, value, "too large an amount") from None
    if amount != cents:
        raise InvalidValueError(field, value, "more than 2 decimal places")
    return cents


def parse_count(value: int | str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidValueError(field, value, "not a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidValueError(field, value, "not a whole number") from None
    if number < 0:
        raise InvalidValueError(field, value, "must not be negative")
    return number


def parse_date(value: date | str, field: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidValueError(field, value, "not an ISO date YYYY-MM-DD") from None


def parse_enum(enum_type: type[E], value: E | str, field: str) -> E:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_type)
        raise InvalidValueError(field, value, f"expected one of: {allowed}") from None


@dataclass(frozen=True)
class Period:
    """A closed date range, e.g. the period under review of an assessment."""

    start: date
    end: date

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def parse_period(start: date | str, end: date | str) -> Period:
    first = parse_date(start, "period_start")
    last = parse_date(end, "period_end")
    if last < first:
        raise InvalidValueError("period_end", last.isoformat(), "ends before period_start")
    return Period(first, last)
