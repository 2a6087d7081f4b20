"""Command receipts make commands idempotent: a command sent with an idempotency key saves a
receipt (id derived from the key) in the same transaction as its effects; a repeat finds the
receipt and returns the first result without writing anything.

A key is bound to what it was first sent with: the receipt records a fingerprint (SHA-256 of
a canonical encoding of the command's name, all its arguments and its actor; not the key
itself nor the expected version), and the key sent with anything else is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.base import CaseAggregate, natural_id, require_aware
from domain.errors import InvalidValueError
from domain.values import refuse_control_characters


def receipt_id(key: str) -> UUID:
    return natural_id("command-receipt", key)


def parse_idempotency_key(key: str) -> str:
    if isinstance(key, str):
        refuse_control_characters("idempotency_key", key)
    text = key.strip() if isinstance(key, str) else key
    if not isinstance(text, str) or not 8 <= len(text) <= 200:
        raise InvalidValueError("idempotency_key", key, "expected 8 to 200 characters")
    return text


def _plain(value: Any) -> Any:
    """Arguments msgspec has no encoding for (none today: value objects are dataclasses)
    are fingerprinted by their type and repr."""
    return f"{type(value).__module__}.{type(value).__qualname__}:{value!r}"


def command_fingerprint(command: str, arguments: Mapping[str, Any], actor: str) -> str:
    """SHA-256 over key-sorted JSON of the command, its arguments and its actor. Values are
    encoded as their plain form (an enum as its value, a Decimal, date or UUID as its
    text, a value object field by field, a tuple as a list), so the same request sent again,
    by any process, has the same fingerprint."""
    plain = msgspec.to_builtins({"command": command, "arguments": dict(arguments),
                                 "actor": actor}, str_keys=True, order="sorted",
                                enc_hook=_plain)
    encoded = msgspec.json.encode(plain, order="sorted")
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


class CommandReceipt(CaseAggregate):
    key: str
    command: str
    result: str
    fingerprint: str = ""  # class default: a snapshot without it still decodes

    def __init__(self) -> None:
        """State is set by the Recorded event's apply."""

    class Recorded(CaseAggregate.Created):
        key: str
        command: str
        result: str
        fingerprint: str

        def apply(self, aggregate: CommandReceipt) -> None:
            aggregate.key = self.key
            aggregate.command = self.command
            aggregate.result = self.result
            aggregate.fingerprint = self.fingerprint

    @classmethod
    def record(cls, key: str, command: str, result: str, *, fingerprint: str, actor: str,
               at: datetime) -> CommandReceipt:
        return cls._create(cls.Recorded, id=receipt_id(key), timestamp=require_aware(at),
                           actor=actor, reason=f"{command} executed once for this key",
                           key=key, command=command, result=result, fingerprint=fingerprint)

    def was_sent_as(self, command: str, fingerprint: str) -> bool:
        """Whether a request is the one this key was first sent with (a receipt without a
        fingerprint matches nothing)."""
        return self.command == command and bool(self.fingerprint) and (
            self.fingerprint == fingerprint)
