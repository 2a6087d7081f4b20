"""Command receipts make commands idempotent: a command sent with an idempotency key saves a
receipt (id derived from the key) in the same transaction as its effects; a repeat finds the
receipt and returns the first result without writing anything."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.base import CaseAggregate, natural_id, require_aware
from domain.errors import InvalidValueError


def receipt_id(key: str) -> UUID:
    return natural_id("command-receipt", key)


def parse_idempotency_key(key: str) -> str:
    text = key.strip() if isinstance(key, str) else key
    if not isinstance(text, str) or not 8 <= len(text) <= 200:
        raise InvalidValueError("idempotency_key", key, "expected 8 to 200 characters")
    return text


class CommandReceipt(CaseAggregate):
    key: str
    command: str
    result: str

    def __init__(self) -> None:
        """State is set by the Recorded event's apply."""

    class Recorded(CaseAggregate.Created):
        key: str
        command: str
        result: str

        def apply(self, aggregate: CommandReceipt) -> None:
            aggregate.key = self.key
            aggregate.command = self.command
            aggregate.result = self.result

    @classmethod
    def record(cls, key: str, command: str, result: str, *, actor: str,
               at: datetime) -> CommandReceipt:
        return cls._create(cls.Recorded, id=receipt_id(key), timestamp=require_aware(at),
                           actor=actor, reason=f"{command} executed once for this key",
                           key=key, command=command, result=result)
