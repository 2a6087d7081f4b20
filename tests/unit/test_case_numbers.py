"""Case numbers, deterministic ids and the importer's case file."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from domain.base import natural_id
from domain.case_file import CaseRef, ImporterCaseFile, case_file_id
from domain.case_numbers import (
    NUMBERING_ACTOR,
    CaseNumberSequence,
    case_id,
    is_case_number,
    parse_case_number,
    sequence_id,
)
from domain.errors import InvalidValueError
from domain.importer_account import importer_account_id

from .builders import ACTOR, IMPORTER_NUMBER, T0, assert_names, assert_refused, at


def test_a_new_sequence_issues_numbers_from_00001_in_order() -> None:
    sequence = CaseNumberSequence.start("CA", 2026, T0)
    issued = [sequence.issue(at(n), f"assessment {n}") for n in range(1, 4)]
    assert issued == ["CA-2026-00001", "CA-2026-00002", "CA-2026-00003"]
    assert sequence.last_serial == 3
    assert sequence.version == 4


def test_each_issued_number_is_recorded_by_the_numbering_job_with_its_purpose() -> None:
    sequence = CaseNumberSequence.start("CA", 2026, T0)
    sequence.issue(at(1), "assessment of importer 12-3456789AB")
    started, issued = sequence.pending_events
    assert isinstance(started, CaseNumberSequence.Started)
    assert (started.actor, started.reason) == (NUMBERING_ACTOR, "first CA case of 2026")
    assert isinstance(issued, CaseNumberSequence.NumberIssued)
    assert (issued.number, issued.actor, issued.timestamp) == ("CA-2026-00001", NUMBERING_ACTOR,
                                                               at(1))
    assert issued.reason == "issued for assessment of importer 12-3456789AB"


def test_sequences_are_kept_per_prefix_and_year() -> None:
    assert CaseNumberSequence.start("CA", 2026, T0).id == sequence_id("CA", 2026)
    assert sequence_id("CA", 2026) == sequence_id("CA", 2026)
    assert len({sequence_id("CA", 2026), sequence_id("CA", 2027), sequence_id("EN", 2026)}) == 3


def test_an_exhausted_yearly_sequence_issues_no_more_numbers() -> None:
    sequence = CaseNumberSequence.start("CA", 2026, T0)
    sequence.last_serial = 99_998  # as after 99,998 issued numbers, without issuing them
    assert sequence.issue(at(1), "the last one") == "CA-2026-99999"
    assert_refused(sequence, lambda: sequence.issue(at(2), "one too many"), InvalidValueError,
                   field="case_number", mentions=["100000", "exhausted"])


@pytest.mark.parametrize(("raw", "expected"), [("CA-2026-00042", "CA-2026-00042"),
                                               (" ca-2026-00042 ", "CA-2026-00042"),
                                               ("EN-1999-99999", "EN-1999-99999")])
def test_case_numbers_are_normalised_to_upper_case(raw: str, expected: str) -> None:
    assert parse_case_number(raw) == expected
    assert is_case_number(raw)


@pytest.mark.parametrize("raw", ["CA-2026-0042", "CA-2026-000042", "CA-26-00042", "C-2026-00042",
                                 "CAX-2026-00042", "CA_2026_00042", "CA2026-00042",
                                 "12-2026-00042", "CA-2026-0004A", ""])
def test_malformed_case_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        parse_case_number(raw)
    assert_names(excinfo.value, field="case_number", mentions=[repr(raw), "CA-2026-00042"])
    assert not is_case_number(raw)


@pytest.mark.parametrize("raw", [None, 42])
def test_a_case_number_must_be_text(raw: object) -> None:
    with pytest.raises(InvalidValueError) as excinfo:
        parse_case_number(raw)  # type: ignore[arg-type]
    assert_names(excinfo.value, field="case_number")


def test_a_case_id_is_derived_deterministically_from_the_case_number() -> None:
    assert case_id("CA-2026-00001") == case_id(" ca-2026-00001 ")
    assert case_id("CA-2026-00001") == natural_id("case", "CA-2026-00001")
    assert case_id("CA-2026-00001") != case_id("CA-2026-00002")
    assert case_id("CA-2026-00001") != case_id("CA-2025-00001")
    assert isinstance(case_id("CA-2026-00001"), UUID)
    assert case_id("CA-2026-00001").version == 5


def test_a_case_id_cannot_be_derived_from_a_malformed_number() -> None:
    with pytest.raises(InvalidValueError):
        case_id("CA-2026-1")


def test_natural_ids_are_deterministic_per_kind_and_key() -> None:
    assert natural_id("importer", IMPORTER_NUMBER) == natural_id("importer", IMPORTER_NUMBER)
    assert natural_id("importer", IMPORTER_NUMBER) != natural_id("case-file", IMPORTER_NUMBER)
    assert importer_account_id(IMPORTER_NUMBER) == natural_id("importer", IMPORTER_NUMBER)
    assert case_file_id(IMPORTER_NUMBER) == natural_id("case-file", IMPORTER_NUMBER)
    assert importer_account_id("98-7654321ZZ") != importer_account_id(IMPORTER_NUMBER)


def test_natural_ids_are_stable_across_runs() -> None:
    """Pinned, so a change to the id namespace (which would orphan stored cases) is caught."""
    assert importer_account_id(IMPORTER_NUMBER) == UUID("b6fffa7c-5d35-5682-ac64-acdd40fe350a")


# -- the importer's case file ---------------------------------------------------------------


def ref(number: str, kind: str = "assessment") -> CaseRef:
    return CaseRef(kind, number, case_id(number), date(2024, 1, 1), date(2025, 12, 31))


def test_a_case_file_lists_an_importers_cases_in_the_order_opened() -> None:
    case_file = ImporterCaseFile.start(IMPORTER_NUMBER, actor=ACTOR, at=T0)
    first, other, second = ref("CA-2026-00001"), ref("EN-2026-00001", "enquiry"), ref(
        "CA-2026-00002")
    for minute, case in enumerate([first, other, second], start=1):
        case_file.add(case, actor=ACTOR, at=at(minute))
    assert case_file.id == case_file_id(IMPORTER_NUMBER)
    assert case_file.importer_number == IMPORTER_NUMBER
    assert case_file.cases == (first, other, second)
    assert case_file.cases_of_kind("assessment") == [first, second]
    assert case_file.cases_of_kind("enquiry") == [other]
    added = case_file.pending_events[-1]
    assert isinstance(added, ImporterCaseFile.CaseAdded)
    assert added.reason == "assessment CA-2026-00002 opened"
