"""ImportBatch: the provenance of one ingested file, refused unless its kind, digests and
row counts make sense. Nothing is recorded by a refused batch: `record` creates the
aggregate, so a refusal leaves no aggregate and no event at all."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from domain.errors import InvalidValueError
from domain.import_batch import INGEST_KINDS, ImportBatch, import_batch_id

from .builders import ACTOR, REASON, T0, assert_names

SHA = hashlib.sha256(b"entry_number,importer_number\n").hexdigest()
ROWS_DIGEST = hashlib.sha256(b"rows").hexdigest()


def record(**overrides: Any) -> ImportBatch:
    fields: dict[str, Any] = {
        "kind": "samples", "file_name": "samples-2025.csv", "sha256": SHA, "rows_read": 10,
        "rows_loaded": 8, "rows_rejected": 2, "actor": ACTOR, "reason": REASON, "at": T0,
        "rows_digest": ROWS_DIGEST,
    }
    fields.update(overrides)
    return ImportBatch.record(**fields)


def refusal(**overrides: Any) -> InvalidValueError:
    with pytest.raises(InvalidValueError) as refused:
        record(**overrides)
    return refused.value


@pytest.mark.parametrize("kind", INGEST_KINDS)
def test_a_batch_of_each_kind_is_recorded_under_its_file_digest(kind: str) -> None:
    batch = record(kind=kind)
    assert batch.id == import_batch_id(kind, SHA)
    assert (batch.kind, batch.file_name, batch.sha256) == (kind, "samples-2025.csv", SHA)
    assert (batch.rows_read, batch.rows_loaded, batch.rows_rejected) == (10, 8, 2)
    assert batch.rows_digest == ROWS_DIGEST
    assert len(batch.pending_events) == 1


def test_the_same_file_as_another_kind_is_another_batch() -> None:
    assert import_batch_id("trade", SHA) != import_batch_id("samples", SHA)


@pytest.mark.parametrize("kind", ["invoices", "SAMPLES", "", "sample"])
def test_an_unknown_kind_is_refused(kind: str) -> None:
    assert_names(refusal(kind=kind), field="kind",
                 mentions=[repr(kind), "accounts, trade, samples, entries"])


@pytest.mark.parametrize("sha256", [
    SHA[:63],                # too short
    SHA + "0",               # too long
    SHA.upper(),             # upper-case hex is not the canonical digest
    "g" + SHA[1:],           # not hex
    "",
], ids=["63 digits", "65 digits", "upper case", "not hex", "empty"])
def test_a_file_digest_that_is_not_a_sha256_is_refused(sha256: str) -> None:
    assert_names(refusal(sha256=sha256), field="sha256", mentions=["not a SHA-256 hex digest"])


@pytest.mark.parametrize(("read", "loaded", "rejected"), [
    (10, 9, 2),              # 11 accounted for, 10 read
    (0, 1, 0),
    (10, -1, 0),
    (10, 0, -1),
    (-1, 0, 0),
], ids=["more loaded and rejected than read", "loaded from nothing", "negative loaded",
        "negative rejected", "negative read"])
def test_row_counts_that_do_not_add_up_are_refused(read: int, loaded: int,
                                                   rejected: int) -> None:
    refused = refusal(rows_read=read, rows_loaded=loaded, rows_rejected=rejected)
    assert_names(refused, field="rows_loaded",
                 mentions=[f"loaded {loaded} + rejected {rejected} exceed the {read} rows read"])


@pytest.mark.parametrize(("read", "loaded", "rejected"), [(10, 10, 0), (10, 0, 10), (0, 0, 0),
                                                          (10, 7, 2)])
def test_row_counts_within_the_rows_read_are_accepted(read: int, loaded: int,
                                                      rejected: int) -> None:
    batch = record(rows_read=read, rows_loaded=loaded, rows_rejected=rejected)
    assert (batch.rows_read, batch.rows_loaded, batch.rows_rejected) == (read, loaded, rejected)


@pytest.mark.parametrize("digest", [
    ROWS_DIGEST[:40],
    ROWS_DIGEST + "ab",
    ROWS_DIGEST.upper(),
    "z" * 64,
], ids=["40 digits", "66 digits", "upper case", "not hex"])
def test_a_rows_digest_that_is_not_a_sha256_is_refused(digest: str) -> None:
    assert_names(refusal(rows_digest=digest), field="rows_digest",
                 mentions=["not a SHA-256 hex digest"])


def test_an_empty_rows_digest_is_accepted_for_the_importer_register() -> None:
    """The importer register's rows are events themselves: no digest over stored rows."""
    assert record(kind="accounts", rows_digest="").rows_digest == ""
    omitted = ImportBatch.record("accounts", "register.csv", SHA, rows_read=3, rows_loaded=3,
                                 rows_rejected=0, actor=ACTOR, reason=REASON, at=T0)
    assert omitted.rows_digest == ""
