"""Free text (names, reasons, descriptions, facts, evidence): one parser refuses the
characters that break a store or forge output (NUL, controls, line separators, direction
overrides), names the field, the character and its position; single-line text refuses
newlines and tabs too; the CSV text check refuses the same; and the CLI prints any stored
text as one line with nothing a terminal obeys."""

from __future__ import annotations

import pyarrow as pa
import pytest

from application.ingest.column_checks import text
from application.receipts import parse_idempotency_key
from domain.case_numbers import parse_case_number
from domain.errors import InvalidValueError
from domain.improvement_plan import Evidence
from domain.values import (
    parse_actor,
    parse_importer_number,
    parse_name,
    parse_reason,
    parse_text,
)
from interfaces.cli.text import one_line

from .builders import assert_names

HOSTILE = [
    ("Acme\x00 Ltd", "U+0000 (NUL) at position 5"),
    ("Acme\x07", "U+0007 (BEL) at position 5"),
    ("\x1b[31mAcme", "U+001B (ESC) at position 1"),
    ("Acme\rLtd", "U+000D (CR) at position 5"),
    ("Acme\x7f", "U+007F (DEL) at position 5"),
    ("Acme\x85Ltd", "U+0085 (NEL) at position 5"),
    ("Acme\x9b31m", "U+009B (CSI) at position 5"),
    ("Acme\u2028Ltd", "U+2028 (LINE SEPARATOR) at position 5"),
    ("Acme\u2029Ltd", "U+2029 (PARAGRAPH SEPARATOR) at position 5"),
    ("dtL \u202eemcA", "U+202E (RIGHT-TO-LEFT OVERRIDE) at position 5"),
    ("Acme\u202aLtd", "U+202A (LEFT-TO-RIGHT EMBEDDING) at position 5"),
    ("Acme\u2066Ltd\u2069", "U+2066 (LEFT-TO-RIGHT ISOLATE) at position 5"),
    ("Acme\u2069", "U+2069 (POP DIRECTIONAL ISOLATE) at position 5"),
    ("Acme\udc80", "U+DC80 (surrogate: not UTF-8 text) at position 5"),
]


def refusal_of(parse, *args: object, **kwargs: object) -> InvalidValueError:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValueError) as excinfo:
        parse(*args, **kwargs)
    return excinfo.value


@pytest.mark.parametrize(("value", "named"), HOSTILE)
@pytest.mark.parametrize("multiline", [False, True])
def test_control_and_direction_characters_are_refused_naming_field_character_and_position(
        value: str, named: str, multiline: bool) -> None:
    refusal = refusal_of(parse_text, "legal_name", value, 200, multiline=multiline)
    assert_names(refusal, field="legal_name", mentions=[named])
    assert "\x00" not in str(refusal)
    assert str(refusal).isprintable()  # the message itself cannot forge output


@pytest.mark.parametrize(("value", "named"), HOSTILE)
def test_every_free_text_parser_refuses_them(value: str, named: str) -> None:
    assert_names(refusal_of(parse_name, value, "legal_basis"), field="legal_basis",
                 mentions=[named])
    assert_names(refusal_of(parse_reason, value), field="reason", mentions=[named])
    assert_names(refusal_of(parse_reason, value, "facts"), field="facts", mentions=[named])
    assert_names(refusal_of(Evidence.parse, value, "DMS-1", "a" * 64),
                 field="evidence_description", mentions=[named])
    assert_names(refusal_of(Evidence.parse, "done", value, "a" * 64),
                 field="evidence_document_ref", mentions=[named])


def test_the_refusal_message_reads_as_the_issue_asked() -> None:
    refusal = refusal_of(parse_name, "Acme\x00 Ltd", "legal_name")
    assert str(refusal) == ("legal_name='Acme\\x00 Ltd': contains the control character "
                            "U+0000 (NUL) at position 5")


def test_multi_line_text_keeps_newlines_and_tabs_inside_it() -> None:
    assert parse_reason("  first line\n\tsecond line\n") == "first line\n\tsecond line"
    assert parse_text("description", "a\nb", 200, multiline=True) == "a\nb"
    assert Evidence.parse("photo\nand log", "DMS-1", "a" * 64).description == "photo\nand log"


@pytest.mark.parametrize("value", ["Acme\nLtd", "Acme\tLtd", "Acme Ltd\n", "\tAcme"])
def test_single_line_text_refuses_newlines_and_tabs(value: str) -> None:
    refusal = refusal_of(parse_text, "legal_name", value, 200)
    assert_names(refusal, field="legal_name", mentions=["one line"])


def test_a_crlf_line_end_is_refused_even_in_multi_line_text() -> None:
    assert_names(refusal_of(parse_reason, "line one\r\nline two"), field="reason",
                 mentions=["U+000D (CR) at position 9", "newlines and tabs are allowed"])


def test_overlong_text_is_refused_with_a_short_echo() -> None:
    refusal = refusal_of(parse_text, "legal_name", "x" * 10_000, 200)
    assert_names(refusal, field="legal_name", mentions=["longer than 200 characters"])
    assert refusal.value == "x" * 40 + "..."
    hostile_and_long = refusal_of(parse_reason, "x" * 9_000 + "\x00")
    assert_names(hostile_and_long, field="reason", mentions=["at position 9001"])
    assert len(str(hostile_and_long)) < 200


@pytest.mark.parametrize("value", [None, 42, b"Acme"])
def test_text_must_be_a_string(value: object) -> None:
    assert_names(refusal_of(parse_text, "legal_name", value, 200), field="legal_name")


def test_other_scripts_and_ordinary_punctuation_are_accepted() -> None:
    name = ("\u6c5f\u5357\u8d38\u6613 \u041e\u041e\u041e \u00abQuote\u00bb \u2014 "
            "\u05e9\u05dc\u05d5\u05dd & Co.")
    assert parse_name(name) == name


@pytest.mark.parametrize("value", ["user:li\n", "user:li\t", "user:\x1b[31mli", "user:li\x00"])
def test_an_actor_with_a_control_character_is_refused(value: str) -> None:
    assert_names(refusal_of(parse_actor, value), field="actor", mentions=["U+00"])


@pytest.mark.parametrize(("parse", "field"), [
    (parse_importer_number, "importer_number"), (parse_case_number, "case_number")])
def test_numbers_with_a_newline_or_control_character_are_refused(parse: object,
                                                                 field: str) -> None:
    sample = "12-3456789AB" if field == "importer_number" else "CA-2026-00001"
    for value in (sample + "\n", sample + "\x00", "\t" + sample):
        assert_names(refusal_of(parse, value), field=field, mentions=["U+00"])


def test_an_idempotency_key_with_a_control_character_is_refused() -> None:
    assert_names(refusal_of(parse_idempotency_key, "key-0001\n"), field="idempotency_key",
                 mentions=["U+000A (LF)"])


# -- the CSV text check ----------------------------------------------------------------------


def test_the_csv_text_check_refuses_the_same_characters_naming_each() -> None:
    values = ["Acme", *(value for value, _ in HOSTILE[:-1]), "Acme\tLtd", "Acme\nLtd",
              "\u6c5f\u5357 Trading"]
    checked = text(200)(pa.chunked_array([pa.array(values)]))
    reasons = {}
    for mask, reason in checked.failures:
        for row, hit in enumerate(mask.to_pylist()):
            if hit:
                reasons.setdefault(row, reason)
    assert 0 not in reasons
    assert len(values) - 1 not in reasons
    for row, (_, named) in enumerate(HOSTILE[:-1], start=1):
        assert named in reasons[row], (row, reasons.get(row))
    assert "U+0009 (TAB)" in reasons[len(values) - 3]
    assert "U+000A (LF)" in reasons[len(values) - 2]


# -- printing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stored", "printed"), [
    ("plain text", "plain text"),
    ("line one\nline two", "line one\\nline two"),
    ("a\tb\rc", "a\\tb\\rc"),
    ("Acme\x00\x07\x1b[31m", "Acme\\x00\\x07\\x1b[31m"),
    ("\x7f\x85\x9b", "\\x7f\\x85\\x9b"),
    ("x\u2028y\u2029z", "x\\u2028y\\u2029z"),
    ("\u202eevil\u202c \u2066x\u2069", "\\u202eevil\\u202c \\u2066x\\u2069"),
    ("bad\udc80byte", "bad\\udc80byte"),
    ("caf\u00e9 \u4e2d\u6587", "caf\u00e9 \u4e2d\u6587"),
])
def test_stored_text_is_printed_as_one_line_with_controls_escaped(stored: str,
                                                                  printed: str) -> None:
    assert one_line(stored) == printed
    assert "\n" not in one_line(stored)
    assert one_line(stored).encode("utf-8")  # no lone surrogate left to fail printing
