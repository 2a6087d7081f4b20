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
        class_version = getattr(type(domain_event), "class_version", 1)
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
        return StoredEvent(originator_id=originator_id, originator_version=originator_version,
                           topic=get_topic(type(domain_event)), state=state)

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
