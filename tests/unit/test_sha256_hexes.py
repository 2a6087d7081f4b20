"""Each value of a binary array hashed in place (infrastructure.column_events.sha256_hexes),
as the bulk event path hashes a commit's events: the same digests as hashing each value's
bytes, for slices, empty values and large offsets, and no digest of a missing value."""

from __future__ import annotations

import hashlib
from uuid import UUID, uuid4

import pyarrow as pa
import pytest

from infrastructure.column_events import sha256_hexes
from infrastructure.copy_rows import id_bytes

VALUES = [b"abc", b"", b"x" * 5000, "caf\u00e9 \u2014 \x1f".encode(), b"\x00\xff"]


def _expected(values: list[bytes]) -> list[str]:
    return [hashlib.sha256(value).hexdigest() for value in values]


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_every_value_hashed_as_its_bytes(kind: pa.DataType) -> None:
    array = pa.array(VALUES, kind)
    assert sha256_hexes(array) == _expected(VALUES)
    assert sha256_hexes(array.slice(1, 3)) == _expected(VALUES[1:4])
    assert sha256_hexes(array.slice(4)) == _expected(VALUES[4:])


def test_empty_arrays_and_empty_values() -> None:
    assert sha256_hexes(pa.array([], pa.binary())) == []
    assert sha256_hexes(pa.array([b"", b""], pa.binary())) == _expected([b"", b""])


def test_a_missing_value_is_refused() -> None:
    with pytest.raises(ValueError, match="null"):
        sha256_hexes(pa.array([b"a", None], pa.binary()))


def test_id_bytes_the_same_for_uuids_and_their_texts() -> None:
    ids = [uuid4() for _ in range(50)]
    as_uuids = id_bytes(ids)
    assert as_uuids.shape == (50, 16)
    assert [UUID(bytes=row.tobytes()) for row in as_uuids] == ids
    mixed: list[UUID | str] = [each if k % 2 else str(each) for k, each in enumerate(ids)]
    assert (id_bytes(mixed) == as_uuids).all()
