"""Ports the application needs from the outside, as Protocols the composition root fills."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, EventStore, Mapper

Clock = Callable[[], datetime]
"""Returns the current, timezone-aware time; tests and the demo pass their own."""

Authorise = Callable[[str, str], None]
"""(actor, permission): raises unless the actor may (CaseStore.authorise). The analysis
services (imports, risk, channel and selection runs) take it, since they record events
without going through a command's `_once`, which checks everyone else."""


class EventStorage(Protocol):
    """How events are encoded and chained; provided by infrastructure."""

    def mapper(self) -> Mapper[UUID]: ...

    def event_store(self, mapper: Mapper[UUID], recorder: AggregateRecorder) -> EventStore[UUID]:
        ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords (argon2id in infrastructure.passwords); the application
    never sees a password stored in clear."""

    def hash(self, password: str) -> str:
        """The encoded hash (parameters and salt included) of a password."""
        ...

    def verify(self, encoded: str, password: str) -> bool:
        """True when `password` matches `encoded`; False (never an exception) otherwise."""
        ...

    def needs_rehash(self, encoded: str) -> bool:
        """True when `encoded` was made with weaker parameters than today's."""
        ...


class SessionStore(Protocol):
    """Server-side sessions for people, in the events database so that several API
    processes share them. Secrets are stored only as hashes."""

    def create(self, username: str, now: datetime) -> str:
        """A new session for `username`; returns its secret (the cookie value)."""
        ...

    def find(self, secret: str, now: datetime) -> str | None:
        """The username of a live session (neither idle nor past its absolute timeout nor
        revoked), marking it used at `now`; None otherwise."""
        ...

    def revoke(self, secret: str) -> None:
        """End one session (logout); unknown secrets are ignored."""
        ...

    def revoke_user(self, username: str) -> int:
        """End every session of a user (disabled, password reset); returns how many."""
        ...
