"""The library's TranscoderTestCase, applied to our msgspec encoding.

Untyped values (strings, dicts, lists, unicode, legacy ASCII-escaped JSON) must behave exactly
as the library expects. The library's tagged-type cases (tuples, subclasses, custom types)
are solved differently here: the mapper restores types from the event class's annotations,
so those cases are re-stated as typed round trips through the mapper rather than skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.tests import persistence as library

from infrastructure.mapper import MsgspecMapper, MsgspecTranscoder


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Line:
    money: Money
    when: date


class Ledger(Aggregate):
    class Typed(Aggregate.Event):
        pair: tuple[int, str]
        items: tuple[Money, ...]
        nested: dict[str, list[Line]]
        colour: Colour
        ref: UUID
        moment: datetime
        maybe: Decimal | None


def mapper() -> MsgspecMapper:
    return MsgspecMapper(transcoder=MsgspecTranscoder())


def typed_event() -> Ledger.Typed:
    money = Money(Decimal("12.30"), "USD")
    return Ledger.Typed(
        originator_id=uuid4(), originator_version=2, timestamp=datetime(2026, 1, 2, tzinfo=UTC),
        pair=(1, "a"), items=(money, money),
        nested={"k": [Line(money, date(2025, 12, 31))]}, colour=Colour.RED, ref=uuid4(),
        moment=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), maybe=None)


class TestMsgspecTranscoderContract(library.TranscoderTestCase):
    def construct_transcoder(self) -> MsgspecTranscoder:
        return MsgspecTranscoder()

    def _assert_typed_round_trip(self) -> None:
        original = typed_event()
        stored = mapper().to_stored_event(original)
        restored = mapper().to_domain_event(stored)
        assert vars(original) == vars(restored)
        assert isinstance(vars(restored)["pair"], tuple)
        assert isinstance(vars(restored)["items"][0], Money)
        assert isinstance(vars(restored)["nested"]["k"][0].money.amount, Decimal)
        assert vars(restored)["colour"] is Colour.RED

    def test_tuple(self) -> None:
        self._assert_typed_round_trip()

    def test_mixed(self) -> None:
        self._assert_typed_round_trip()

    def test_custom_type_in_dict(self) -> None:
        self._assert_typed_round_trip()

    def test_nested_custom_type(self) -> None:
        self._assert_typed_round_trip()

    def test_dict_subclass(self) -> None:
        assert self.transcoder.decode(self.transcoder.encode(library.Mydict({"a": 1}))) == {"a": 1}

    def test_list_subclass(self) -> None:
        assert self.transcoder.decode(self.transcoder.encode(library.MyList([1, 2]))) == [1, 2]

    def test_str_subclass(self) -> None:
        with pytest.raises(TypeError):
            self.transcoder.encode(library.MyStr("a"))

    def test_int_subclass(self) -> None:
        with pytest.raises(TypeError):
            self.transcoder.encode(library.MyInt(1))

    def test_custom_type_error(self) -> None:
        with pytest.raises(TypeError):
            self.transcoder.encode(library.MyClass())


def test_a_stored_state_that_does_not_match_the_event_type_is_refused_by_name() -> None:
    stored = mapper().to_stored_event(typed_event())
    broken = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                         stored.state.replace(b'"red"', b'"blue"'))
    with pytest.raises(MapperDeserialisationError, match=r"version 2.*colour"):
        mapper().to_domain_event(broken)


def test_the_encoding_is_compact_and_key_sorted() -> None:
    state = mapper().to_stored_event(typed_event(), prev_hash="a" * 64).state
    assert state.startswith(b'{"_prev":"' + b"a" * 64 + b'","_scheme":2,"colour":"red","items":[')
    assert b" " not in state
