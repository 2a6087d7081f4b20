"""Stored event states made a column at a time (application.event_rows.ColumnChunk): the
mapper's JSON of every event of a chunk assembled by pyarrow from one fragment per field,
and the content hashes of the chain computed over them.

The mapper encodes an event's fields as compact JSON with sorted keys and the chain link
first (infrastructure.mapper, `row_encoder`). For 443,000 events of one type whose fields
are mostly the same text or number columns, that JSON is the same constant pieces around
each event's values: joining the columns element-wise gives the same bytes without a
struct, a dict or an encoder call per event. Constants are encoded once by the mapper's
own encoder; text columns go between quotes only when none of their values needs escaping
(else each value is encoded by the encoder); integer columns are spelt by pyarrow as JSON
spells them; list columns are encoded value by value. The bulk path checks the first event
of every chunk against the event object it decodes to (see `check_chunk`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import pairwise
from typing import Any
from uuid import UUID

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from application.event_rows import ColumnChunk, Same
from infrastructure.hash_chain import CHAIN_SCHEME, PREV_KEY, SCHEME_KEY
from infrastructure.mapper import MsgspecTranscoder

PLAIN_PATTERN = r'^[ !#-\[\]-~]*$'
"""Printable ASCII other than the quote and the backslash: texts the encoder copies as they
are between quotes (`all_plain` tests for it byte by byte)."""
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DASHES = (8, 13, 18, 23)


class _Pieces:
    """A JSON text's pieces: constant texts (merged while they follow one another) between
    columns of one fragment per event."""

    def __init__(self) -> None:
        self.pieces: list[Any] = []
        self.text = ""

    def constant(self, text: str) -> None:
        self.text += text

    def column(self, values: pa.Array | pa.ChunkedArray) -> None:
        self.pieces += [self.text, values]
        self.text = ""

    def joined(self) -> pa.Array:
        return pc.cast(pc.binary_join_element_wise(*self.pieces, self.text, ""), pa.binary())


def column_states(chunk: ColumnChunk, order: Sequence[str], prevs: list[str]) -> pa.Array:
    """The encoded states (as `MsgspecMapper.row_encoder` of each event's values, linked
    to `prevs`) of the chunk's events, as a binary array."""
    encode = MsgspecTranscoder().encode
    json = _Pieces()
    json.constant(f'{{"{PREV_KEY}":"')
    json.column(pa.array(prevs, pa.string()))
    json.constant(f'","{SCHEME_KEY}":{CHAIN_SCHEME}')
    for name in order:
        json.constant(f',"{name}":')
        value = chunk.columns[name]
        arrow = isinstance(value, pa.Array | pa.ChunkedArray)
        if isinstance(value, Same):
            json.constant(encode(value.value).decode())
        elif arrow and pa.types.is_string(value.type) and all_plain(value):
            json.constant('"')
            json.column(value)
            json.constant('"')
        elif arrow and pa.types.is_integer(value.type) and not value.null_count:
            json.column(pc.cast(value, pa.string()))
        elif isinstance(value, pa.ListArray) and _plain_objects(value):
            json.column(_object_lists(value))
        else:  # encoded one by one, as a row's value would be
            listed = value.to_pylist() if arrow else value
            json.column(pa.array([encode(item).decode() for item in listed], pa.string()))
    json.constant("}")
    return json.joined()


def _plain_objects(values: pa.ListArray) -> bool:
    """A list of objects of text fields per event, none of which needs escaping."""
    items = values.values
    return (not values.null_count and pa.types.is_struct(items.type) and not items.null_count
            and all(pa.types.is_string(field.type) and all_plain(items.field(field.name))
                    for field in items.type)
            and all(_plain_name(field.name) for field in items.type))


def _plain_name(name: str) -> bool:
    return all(" " <= ch <= "~" and ch not in '"\\' for ch in name)


def _object_lists(values: pa.ListArray) -> pa.Array:
    """Each event's list of objects as the encoder spells it: `[{"a":"x","b":"y"},...]`,
    keys sorted, made by joining the objects' texts and then each list's objects."""
    items = values.values
    names = sorted(field.name for field in items.type)
    pieces: list[Any] = []
    for k, name in enumerate(names):
        pieces.append(f'{{"{name}":"' if k == 0 else f'","{name}":"')
        pieces.append(items.field(name))
    pieces.append('"}')
    objects = pc.binary_join_element_wise(*pieces, "")
    lists = pa.ListArray.from_arrays(values.offsets, objects)
    return pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")


def all_plain(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every text (of a `string` array) matches PLAIN_PATTERN: every byte of the texts'
    data tested by numpy at once (a regular expression per text cost a national run a
    second)."""
    if values.null_count:
        return False
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    return all(_plain_bytes(chunk) for chunk in chunks)


def _plain_bytes(values: pa.Array) -> bool:
    if not len(values):
        return True
    _validity, offsets_buffer, data = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=len(values) + 1,
                            offset=4 * values.offset)
    if data is None:
        return bool(offsets[-1] == offsets[0])
    raw = np.frombuffer(data, dtype=np.uint8)[int(offsets[0]):int(offsets[-1])]
    return bool(((raw >= 0x20) & (raw <= 0x7E) & (raw != 0x22) & (raw != 0x5C)).all())


def uuid_texts(ids: Sequence[UUID]) -> pa.Array:
    """`str(uuid)` of each id, made from their bytes by numpy."""
    raw = np.frombuffer(b"".join([each.bytes for each in ids]), dtype=np.uint8)
    return uuid_texts_of(raw.reshape(len(ids), 16))


def uuid_texts_of(raw: npt.NDArray[np.uint8]) -> pa.Array:
    """`str(uuid)` of each id given as its 16 bytes (a row of `raw` each)."""
    count = len(raw)
    digits = np.empty((count, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    texts = np.full((count, 36), ord("-"), dtype=np.uint8)
    at = 0
    for start, stop in zip((0, *[d + 1 for d in _DASHES]), (*_DASHES, 36), strict=True):
        texts[:, start:stop] = digits[:, at:at + stop - start]
        at += stop - start
    offsets = np.arange(0, 36 * count + 1, 36, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets.tobytes()),
                                       pa.py_buffer(texts.tobytes()))


def column_hashes(topic: str, texts: pa.Array, versions: Sequence[int],
                  states: pa.Array) -> list[str]:
    """infrastructure.hash_chain.content_hash of each event (its state without a
    signature), given its id's text (`uuid_texts`): each hashed text (topic, id, version,
    state) joined by pyarrow, so that Python makes only the SHA-256 call per event."""
    binary = pa.binary()
    separator = pa.scalar(b"\x1f", binary)
    messages = pc.binary_join_element_wise(
        pa.scalar(f"{topic}\x1f".encode(), binary), pc.cast(texts, binary), separator,
        pc.cast(pc.cast(pa.array(versions, pa.int64()), pa.string()), binary), separator,
        states, pa.scalar(b"", binary))
    return sha256_hexes(messages)


def sha256_hexes(values: pa.Array) -> list[str]:
    """The SHA-256 hex digest of each value of a binary array, each hashed in place
    (a slice of a view of the array's data): no bytes object is made per value."""
    if values.null_count:
        raise ValueError("no value to hash may be null")
    _validity, offsets_buffer, data = values.buffers()
    width = 8 if pa.types.is_large_binary(values.type) else 4
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if width == 8 else np.int32,
                            count=len(values) + 1, offset=width * values.offset).tolist()
    view = memoryview(data if data is not None else b"")
    sha256 = hashlib.sha256
    return [sha256(view[start:stop]).hexdigest()
            for start, stop in pairwise(offsets)]
