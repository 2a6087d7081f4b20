"""Validating a whole column at once: each check turns a text column into its stored form
and the rows where it failed, with the reason, so a million-row file is checked in
vectorised passes rather than a Python call per field.

The rules are the domain's (district codes, HS chapters, countries, areas, money to the
cent, no negative amounts); they are restated here column-wise because per-value parsing
would cost more than the database's own bulk load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from domain.countries import ISO_3166_ALPHA2
from domain.reference import DISTRICTS, INDUSTRIES, ComplianceArea
from domain.values import refused_character

MAX_MONEY_DIGITS = 13
"""Whole units up to 10^13 (more than the national annual import value) stay exact as
cents in a 64-bit integer and as a float64 on the way."""


@dataclass
class Checked:
    """A column in its stored form, and the failures in priority order per row."""

    values: pa.Array | pa.ChunkedArray
    failures: list[tuple[pa.Array | pa.ChunkedArray, str]] = field(default_factory=list)

    def fail(self, mask: pa.Array | pa.ChunkedArray, reason: str) -> None:
        self.failures.append((pc.fill_null(mask, True), reason))

    def bad(self) -> pa.Array | pa.ChunkedArray:
        """Rows where any check failed."""
        result = pa.chunked_array([pa.array([False] * len(self.values), pa.bool_())]) \
            if not self.failures else self.failures[0][0]
        for mask, _ in self.failures[1:]:
            result = pc.or_(result, mask)
        return result


Check = Callable[[pa.ChunkedArray], Checked]


def _trimmed(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_trim_whitespace(column)


def _not(mask: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.invert(pc.fill_null(mask, False))


def _empty(column: pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.equal(pc.utf8_length(column), 0)


def _one_of(codes: Iterable[str]) -> pa.Array:
    return pa.array(sorted(codes), pa.string())


def _code_check(codes: pa.Array, reason: str, pad: bool = False,
                upper: bool = False) -> Check:
    def check(column: pa.ChunkedArray) -> Checked:
        value = _trimmed(column)
        if upper:
            value = pc.utf8_upper(value)
        if pad:
            value = pc.utf8_lpad(value, 2, "0")
        checked = Checked(value)
        checked.fail(_empty(value), "is empty")
        checked.fail(_not(pc.is_in(value, value_set=codes)), reason)
        return checked
    return check


_REFUSED_CHARACTERS = (r"[\x{00}-\x{1f}\x{7f}-\x{9f}\x{2028}\x{2029}\x{202a}-\x{202e}"
                       r"\x{2066}-\x{2069}]")
"""What domain.values refuses in single-line free text, in RE2 syntax."""


def _refuse_control_characters(column: pa.ChunkedArray, checked: Checked) -> None:
    """Rows holding a control or direction character (as the domain's free text refuses
    them), each with the first such character and its position. One vectorised pass; only
    the rows it finds are looked at one by one."""
    hits = pc.fill_null(pc.match_substring_regex(column, _REFUSED_CHARACTERS), False)
    if not pc.any(hits).as_py():
        return
    flags = hits.combine_chunks() if isinstance(hits, pa.ChunkedArray) else hits
    rows = np.flatnonzero(flags.to_numpy(zero_copy_only=False))
    by_reason: dict[str, list[int]] = {}
    for row, value in zip(rows, column.take(pa.array(rows)).to_pylist(), strict=True):
        by_reason.setdefault(refused_character(value) or "contains a control character",
                             []).append(int(row))
    for reason, found in by_reason.items():
        mask = np.zeros(len(column), dtype=bool)
        mask[found] = True
        checked.fail(pa.chunked_array([pa.array(mask)]), reason)


def text(max_length: int = 200) -> Check:
    """Single-line free text, as domain.values.parse_name takes it: no control or
    direction characters (checked before trimming), not empty, at most `max_length`."""
    def check(column: pa.ChunkedArray) -> Checked:
        value = _trimmed(column)
        checked = Checked(value)
        _refuse_control_characters(column, checked)
        checked.fail(_empty(value), "is empty")
        checked.fail(pc.greater(pc.utf8_length(value), max_length),
                     f"is longer than {max_length} characters")
        return checked
    return check


def pattern(regex: str, reason: str, upper: bool = False) -> Check:
    def check(column: pa.ChunkedArray) -> Checked:
        value = _trimmed(column)
        if upper:
            value = pc.utf8_upper(value)
        checked = Checked(value)
        checked.fail(_empty(value), "is empty")
        checked.fail(_not(pc.match_substring_regex(value, regex)), reason)
        return checked
    return check


IMPORTER_NUMBER = pattern(r"^\d{2}-\d{7}[0-9A-Z]{2}$",
                          "not an importer number NN-NNNNNNNXX, e.g. 12-3456789AB", upper=True)
DISTRICT = _code_check(_one_of(DISTRICTS), "not one of the 42 district codes 01-42", pad=True)
HS_CHAPTER = _code_check(_one_of(INDUSTRIES), "not an HS chapter 01-97", pad=True)
COUNTRY = _code_check(_one_of(ISO_3166_ALPHA2), "not an ISO 3166 alpha-2 country code",
                      upper=True)
_PERIOD_SHAPE = r"^\d{4}-(0[1-9]|1[0-2])$"
PERIOD = pattern(_PERIOD_SHAPE, "not a period YYYY-MM")


def period(*, not_after: date) -> Check:
    """A month YYYY-MM of trade that has begun: not after the month of `not_after`."""
    def check(column: pa.ChunkedArray) -> Checked:
        checked = PERIOD(column)
        latest = f"{not_after.year:04d}-{not_after.month:02d}"
        shaped = pc.match_substring_regex(checked.values, _PERIOD_SHAPE)
        checked.fail(pc.and_(pc.fill_null(shaped, False),
                             pc.greater(checked.values, pa.scalar(latest))),
                     f"is after the current month ({latest})")
        return checked
    return check


def hs_code(column: pa.ChunkedArray) -> Checked:
    value = pc.replace_substring(_trimmed(column), ".", "")
    checked = Checked(value)
    checked.fail(_empty(value), "is empty")
    checked.fail(_not(pc.match_substring_regex(value, r"^\d{6,10}$")),
                 "not an HS code of 6 to 10 digits")
    chapter = pc.utf8_slice_codeunits(value, 0, 2)
    checked.fail(_not(pc.is_in(chapter, value_set=_one_of(INDUSTRIES))),
                 "does not start with an HS chapter 01-97")
    return checked


def iso_date(*, not_after: date | None = None) -> Check:
    def check(column: pa.ChunkedArray) -> Checked:
        value = _trimmed(column)
        shaped = pc.match_substring_regex(value, r"^\d{4}-\d{2}-\d{2}$")
        parsed = pc.strptime(pc.if_else(shaped, value, "1970-01-01"), format="%Y-%m-%d",
                             unit="s", error_is_null=True)
        checked = Checked(value)
        checked.fail(_empty(value), "is empty")
        # The parser rolls an impossible day forward (2020-02-30 -> 03-01): a real date
        # formats back to the text it came from.
        real = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), value)
        checked.fail(pc.or_(_not(shaped), _not(real)), "not an ISO date YYYY-MM-DD")
        if not_after is not None:
            latest = pa.scalar(not_after.isoformat())
            checked.fail(pc.and_(pc.fill_null(shaped, False), pc.greater(value, latest)),
                         f"is after today ({not_after.isoformat()})")
        return checked
    return check


def count(column: pa.ChunkedArray) -> Checked:
    value = _trimmed(column)
    whole = pc.match_substring_regex(value, r"^\d{1,12}$")
    checked = Checked(pc.cast(pc.if_else(whole, value, "0"), pa.int64()))
    checked.fail(_empty(value), "is empty")
    checked.fail(pc.match_substring_regex(value, r"^-\d+$"), "must not be negative")
    checked.fail(_not(whole), "not a whole number")
    return checked


def money(column: pa.ChunkedArray) -> Checked:
    """Decimal units to 2 places, stored as integer cents."""
    value = _trimmed(column)
    shaped = pc.match_substring_regex(value, r"^-?\d+(\.\d+)?$")
    exact = pc.match_substring_regex(value, rf"^\d{{1,{MAX_MONEY_DIGITS}}}(\.\d{{1,2}})?$")
    units = pc.cast(pc.if_else(exact, value, "0"), pa.float64())
    checked = Checked(pc.cast(pc.round(pc.multiply(units, 100.0)), pa.int64()))
    checked.fail(_empty(value), "is empty")
    checked.fail(_not(shaped), "not a decimal amount")
    checked.fail(pc.starts_with(value, "-"), "must not be negative")
    checked.fail(pc.match_substring_regex(value, r"\.\d{3,}$"), "has more than 2 decimal places")
    checked.fail(pc.match_substring_regex(value, rf"^\d{{{MAX_MONEY_DIGITS + 1},}}"),
                 "is too large an amount")
    checked.fail(_not(exact), "not a decimal amount with at most 2 places")
    return checked


def choice(options: Iterable[str]) -> Check:
    allowed = sorted(options)
    values = pa.array(allowed, pa.string())

    def check(column: pa.ChunkedArray) -> Checked:
        value = pc.utf8_lower(_trimmed(column))
        checked = Checked(value)
        checked.fail(_empty(value), "is empty")
        checked.fail(_not(pc.is_in(value, value_set=values)),
                     f"expected one of: {', '.join(allowed)}")
        return checked
    return check


def boolean(column: pa.ChunkedArray) -> Checked:
    value = pc.utf8_lower(_trimmed(column))
    truthy = pc.is_in(value, value_set=pa.array(["true", "1", "yes"]))
    known = pc.is_in(value, value_set=pa.array(["true", "false", "1", "0", "yes", "no"]))
    checked = Checked(truthy)
    checked.fail(_not(known), "expected true or false")
    return checked


def optional_area(column: pa.ChunkedArray) -> Checked:
    """A compliance area, or empty (stored as null)."""
    value = pc.utf8_lower(_trimmed(column))
    areas = _one_of(area.value for area in ComplianceArea)
    empty = _empty(value)
    checked = Checked(pc.if_else(empty, pa.scalar(None, pa.string()), value))
    checked.fail(pc.and_(_not(empty), _not(pc.is_in(value, value_set=areas))),
                 f"expected one of: {', '.join(area.value for area in ComplianceArea)}, "
                 "or empty")
    return checked
