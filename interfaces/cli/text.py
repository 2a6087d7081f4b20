"""Printing stored text: one value stays on one line, and nothing in it drives the terminal.

Free text is checked where it enters (domain.values.parse_text), but a ledger may hold text
from before that check, and error messages may quote anything; so every text line the CLI
prints with stored or quoted text in it goes through `one_line`."""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
_ESCAPED = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""C0 and C1 controls, DEL, line and paragraph separators, bidirectional embeddings,
overrides and isolates, and lone surrogates (which could not even be encoded)."""


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(text: object) -> str:
    """`text` as one printable line: a newline becomes the two characters `\\n`, a tab
    `\\t`, a carriage return `\\r`, any other control or direction character `\\xNN` or
    `\\uNNNN`. Everything else, other scripts included, is left as it is."""
    return _ESCAPED.sub(_escape, str(text))


NONE_SHOWN = "-"
"""How every CLI line shows a value that is not there (never Python's `None`)."""


def shown(value: object) -> str:
    """A value as the CLI prints it: `-` when there is none, else `one_line` of it. The one
    formatter for values in tables, `show` fields and history changes, so that no line
    prints Python's `None`."""
    return NONE_SHOWN if value is None else one_line(value)
