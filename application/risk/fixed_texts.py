"""Money and rate texts made a column at a time: for each value, exactly the text of
`Decimal(f"{value:.{places}f}")`, as the mapper stores it.

A first national risk run formats eight such fields for 443,000 events; one f-string per
value costs seconds. Here the values are scaled and rounded by numpy and spelt by pyarrow,
and Python formats only the values that numpy cannot decide exactly: those within a couple
of units in the last place of a rounding tie (where the scaled float may sit on the wrong
side of the tie the exact binary value is on), those too large for the scaled value to be
an exact integer, and the non-finite ones (which a Decimal spells its own way).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

EXACT_LIMIT = 2.0 ** 52
"""Scaled values from here on are formatted by Python: below it every float's rounding to
an integer is exact and fits an int64."""
INTEGER_DIGITS = 16
"""Digits of the largest integer part below EXACT_LIMIT (2 ** 52 has 16)."""


def fixed_texts(values: npt.NDArray[np.float64], places: int) -> pa.StringArray:
    """The text of `Decimal(f"{value:.{places}f}")` of each value, as a pyarrow array."""
    values = np.asarray(values, dtype=np.float64)
    scale = 10 ** places
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.abs(values) * scale
        rounded = np.rint(scaled)
        # The product is within half a unit in its last place of the exact one: a value
        # whose scaled fraction is that close to a half could round either way.
        tie = np.abs(scaled - np.floor(scaled) - 0.5) <= 4 * np.spacing(scaled)
    python = ~np.isfinite(scaled) | (scaled >= EXACT_LIMIT) | tie
    whole = np.where(python, 0, rounded).astype(np.int64)
    texts = _spelt(whole // scale, whole % scale, np.signbit(values), places)
    if not python.any():
        return texts
    listed = texts.to_pylist()
    for i in np.flatnonzero(python).tolist():
        listed[i] = fixed_text(float(values[i]), places)
    return pa.array(listed, pa.string())


def _spelt(integer: npt.NDArray[np.int64], fraction: npt.NDArray[np.int64],
           negative: npt.NDArray[np.bool_], places: int) -> pa.StringArray:
    """`-` where negative, the integer's digits, `.` and the fraction's digits (zero-padded
    to `places`), spelt in one byte matrix: a row per value, a column per character
    (the integer's leading zeros and a positive value's sign left out)."""
    count = len(integer)
    width = 1 + INTEGER_DIGITS + 1 + places
    chars = np.empty((count, width), dtype=np.uint8)
    chars[:, 0] = ord("-")
    # Only as many integer digits as the largest value has (a rate has one): the columns
    # left of them are never kept.
    most = len(str(int(integer.max()))) if count else 1
    rest = integer.copy()
    for k in range(INTEGER_DIGITS, INTEGER_DIGITS - most, -1):
        chars[:, k] = rest % 10 + ord("0")
        rest //= 10
    chars[:, INTEGER_DIGITS + 1] = ord(".")
    rest = fraction.copy()
    for k in range(width - 1, INTEGER_DIGITS + 1, -1):
        chars[:, k] = rest % 10 + ord("0")
        rest //= 10
    digits = np.ones(count, dtype=np.int64)
    for power in range(1, most):
        digits += integer >= 10 ** power
    keep = np.ones((count, width), dtype=bool)
    keep[:, 0] = negative
    keep[:, 1:INTEGER_DIGITS + 1] = (np.arange(INTEGER_DIGITS)[None, :]
                                     >= (INTEGER_DIGITS - digits)[:, None])
    offsets = np.zeros(count + 1, dtype=np.int32)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets.tobytes()),
                                       pa.py_buffer(chars[keep].tobytes()))


def fixed_text(value: float, places: int) -> str:
    """One value's text, by Python's own formatting."""
    text = f"{value:.{places}f}"
    return text if math.isfinite(value) else str(Decimal(text))
