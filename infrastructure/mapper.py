"""A msgspec mapper: events encode to compact, key-sorted JSON and decode with the event's
own type, so UUID, Decimal, date, datetime, enums and value objects return as themselves.

The library's default mapper goes through untyped dicts, which loses those types unless
each is tagged; decoding straight into a struct derived from the event class keeps them
and is faster.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, CanSnapshotAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from infrastructure.hash_chain import CHAIN_SCHEME, PREV_KEY, SCHEME_KEY

_ENCODER = msgspec.json.Encoder(order="sorted", decimal_format="string")
_IDENTITY_FIELDS = ("originator_id", "originator_version")
_SNAPSHOT_BASE_STATE = {"_created_on": datetime, "_modified_on": datetime}
_NO_DEFAULT = object()
_CHAIN_FIELDS = (PREV_KEY, SCHEME_KEY, "~n", "~sig")


class MsgspecTranscoder(Transcoder):
    """Untyped JSON for plain values (dicts, lists, strings, numbers)."""

    def encode(self, obj: Any) -> bytes:
        return _ENCODER.encode(obj)

    def decode(self, data: bytes) -> Any:
        return msgspec.json.decode(data)


def _struct_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}".replace(".", "_")


@cache
def event_state_type(event_cls: type) -> type[msgspec.Struct]:
    """A struct with the event's fields except those stored in their own columns."""
    hints = typing.get_type_hints(event_cls)
    fields = [
        (field.name, hints[field.name])
        for field in dataclasses.fields(event_cls)
        if field.name not in _IDENTITY_FIELDS
    ]
    return msgspec.defstruct(_struct_name(event_cls), fields, kw_only=True)


@cache
def _row_structs(event_cls: type) -> tuple[tuple[str, ...], type[msgspec.Struct],
                                           type[msgspec.Struct]]:
    """(the event's stored field names, sorted; a struct of those fields; the same with the
    chain link first), the fields untyped: their values are encoded as they come."""
    names = tuple(sorted(field.name for field in msgspec.structs.fields(
        event_state_type(event_cls))))
    fields: list[tuple[str, Any]] = [(name, object) for name in names]
    base = _struct_name(event_cls)
    plain = msgspec.defstruct(base + "_Row", fields)
    linked = msgspec.defstruct(base + "_LinkedRow",
                               [(PREV_KEY, object), (SCHEME_KEY, object), *fields])
    return names, plain, linked


def _aggregate_annotations(aggregate_cls: type) -> dict[str, Any]:
    annotations: dict[str, Any] = {}
    for klass in reversed(aggregate_cls.__mro__):
        if klass is Aggregate or not issubclass(klass, Aggregate):
            continue
        hints = typing.get_type_hints(klass)
        for name in inspect.get_annotations(klass):
            if typing.get_origin(hints[name]) is not ClassVar:
                annotations[name] = hints[name]
    return annotations


@cache
def aggregate_state_type(aggregate_cls: type) -> type[msgspec.Struct]:
    """A struct for an aggregate's snapshot state, typed by the aggregate's annotations."""
    state = {**_SNAPSHOT_BASE_STATE, **_aggregate_annotations(aggregate_cls)}
    renames = {name.lstrip("_"): name for name in state}
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for name, kind in state.items():
        # An attribute with a class-level default (added after snapshots were taken) may
        # be absent from a snapshot's state: it decodes to that default.
        default = inspect.getattr_static(aggregate_cls, name, _NO_DEFAULT)
        if default is _NO_DEFAULT or callable(default) or hasattr(default, "__get__"):
            fields.append((name.lstrip("_"), kind))
        else:
            fields.append((name.lstrip("_"), kind, default))
    return msgspec.defstruct(_struct_name(aggregate_cls) + "_State", fields, kw_only=True,
                             rename=renames)


@cache
def _partial_state_type(state_type: type[msgspec.Struct],
                        fields: frozenset[str]) -> type[msgspec.Struct]:
    """`state_type` with only `fields` (those it has), typed as there."""
    kept = [(f.name, f.type) for f in msgspec.structs.fields(state_type) if f.name in fields]
    return msgspec.defstruct(state_type.__name__ + "_Partial", kept, kw_only=True)


class _SnapshotEnvelope(msgspec.Struct):
    timestamp: datetime
    topic: str
    state: msgspec.Raw


class MsgspecMapper(Mapper[UUID]):
    """Maps domain events to stored events and back, optionally embedding the hash of the
    aggregate's previous event (see infrastructure.hash_chain)."""

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID],
                        prev_hash: str | None = None) -> StoredEvent:
        event_state = dict(vars(domain_event))
        originator_id = event_state.pop("originator_id")
        originator_version = event_state.pop("originator_version")
        state = self.encode_state(type(domain_event), event_state, prev_hash)
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=get_topic(type(domain_event)), state=state)

    def encode_state(self, event_cls: type, event_state: dict[str, Any],
                     prev_hash: str | None = None) -> bytes:
        """The stored state of an event of `event_cls` whose fields (without its id and
        version) are `event_state`, which this adds the chain link to. The one encoding of
        every event: a domain event's save and a bulk path that writes events as rows
        without building event objects (infrastructure.bulk_events) both come here, so
        their bytes cannot differ."""
        class_version = getattr(event_cls, "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        if prev_hash is not None:
            event_state[PREV_KEY] = prev_hash
            event_state[SCHEME_KEY] = CHAIN_SCHEME
        state = _ENCODER.encode(event_state)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return state

    def state_fields(self, event_cls: type) -> tuple[str, ...]:
        """The names of an event's stored fields (all but its id and version), sorted: the
        order of the values of a row given to `row_encoder`'s function."""
        return _row_structs(event_cls)[0]

    def row_encoder(self, event_cls: type) -> Callable[[tuple[Any, ...], str | None], bytes]:
        """A function of (the event's field values in `state_fields` order, the chain
        link) to the stored state, the same bytes as `encode_state` of those fields: for
        bulk paths that write events as rows. The values go into a struct made once for
        the event type, which msgspec encodes faster than a dict of them (and with sorted
        keys, as it sorts a dict's). An event type that needs more than its fields (a
        class version), or a mapper with a cipher or compressor, is encoded by
        `encode_state` itself."""
        names, plain, linked = _row_structs(event_cls)
        if self.compressor or self.cipher or getattr(event_cls, "class_version", 1) > 1:
            return lambda values, prev: self.encode_state(
                event_cls, dict(zip(names, values, strict=True)), prev)
        encode = _ENCODER.encode

        def encoded(values: tuple[Any, ...], prev: str | None) -> bytes:
            if prev is None:
                return encode(plain(*values))
            return encode(linked(prev, CHAIN_SCHEME, *values))
        return encoded

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        data = stored_event.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            if isinstance(cls, type) and issubclass(cls, CanSnapshotAggregate):
                event_state = self._decode_snapshot(data)
            else:
                event_state = self._decode_event(cls, data)
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError) as error:
            msg = (f"cannot decode stored event {stored_event.topic} of "
                   f"{stored_event.originator_id} version {stored_event.originator_version}: "
                   f"{error}")
            raise MapperDeserialisationError(msg) from error
        originator_id = stored_event.originator_id
        event_state["originator_id"] = (
            originator_id if isinstance(originator_id, UUID) else UUID(originator_id))
        event_state["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return typing.cast(DomainEventProtocol[UUID], domain_event)

    def event_decoder(self, topic: str, fields: frozenset[str] | None = None, *,
                      text_ids: bool = False,
                      ) -> Callable[[Any, int, bytes], DomainEventProtocol[UUID]]:
        """A decoder of the stored events of one topic, from their originator id, version
        and state, equal to `to_domain_event` for them, for reading many at once (a view
        rebuild decodes a million): the topic's class and state struct are resolved once,
        not per event. With `fields`, only those of the event's fields are decoded (and
        its id and version): the event lacks the others, for a reader that never looks at
        them. With `text_ids`, an originator id given as text stays text: for a reader
        that only prints it (the views), making a UUID to print it again is wasted work.
        Topics that need more than a typed decode (an upcast, a snapshot, a cipher
        or compressor) are decoded by `to_domain_event` itself."""
        cls = resolve_topic(topic)
        if (self.cipher or self.compressor or getattr(cls, "class_version", 1) > 1
                or not isinstance(cls, type) or issubclass(cls, CanSnapshotAggregate)):
            return lambda originator_id, version, state: self.to_domain_event(StoredEvent(
                originator_id=originator_id, originator_version=version, topic=topic,
                state=state))
        event_cls: type = cls
        state_type = event_state_type(event_cls)
        if fields is not None:
            state_type = _partial_state_type(state_type, fields)
        decode = msgspec.json.Decoder(state_type).decode
        asdict, new, assign = msgspec.structs.asdict, object.__new__, object.__setattr__
        kept: tuple[type, ...] = (UUID, str) if text_ids else (UUID,)

        def decoded(originator_id: Any, version: int, state: bytes,
                    ) -> DomainEventProtocol[UUID]:
            try:
                event_state = asdict(decode(state))
            except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError):
                return self.to_domain_event(StoredEvent(  # raises the mapper's own error
                    originator_id=originator_id, originator_version=version, topic=topic,
                    state=state))
            event_state["originator_id"] = (
                originator_id if isinstance(originator_id, kept) else UUID(originator_id))
            event_state["originator_version"] = version
            domain_event: object = new(event_cls)
            assign(domain_event, "__dict__", event_state)
            return typing.cast("DomainEventProtocol[UUID]", domain_event)
        return decoded

    @staticmethod
    def _decode_event(cls: type, data: bytes) -> dict[str, Any]:
        current = getattr(cls, "class_version", 1)
        if current > 1:
            raw = msgspec.json.decode(data)
            for chain_field in _CHAIN_FIELDS:
                raw.pop(chain_field, None)
            version = raw.pop("class_version", 1)
            while version < current:
                getattr(cls, f"upcast_v{version}_v{version + 1}")(raw)
                version += 1
            decoded = msgspec.convert(raw, event_state_type(cls))
        else:
            decoded = msgspec.json.decode(data, type=event_state_type(cls))
        return msgspec.structs.asdict(decoded)

    @staticmethod
    def _decode_snapshot(data: bytes) -> dict[str, Any]:
        envelope = msgspec.json.decode(data, type=_SnapshotEnvelope)
        aggregate_cls = resolve_topic(envelope.topic)
        state_struct = msgspec.json.decode(envelope.state,
                                           type=aggregate_state_type(aggregate_cls))
        state = {f"_{name}" if f"_{name}" in _SNAPSHOT_BASE_STATE else name: value
                 for name, value in msgspec.structs.asdict(state_struct).items()}
        return {"timestamp": envelope.timestamp, "topic": envelope.topic, "state": state}
