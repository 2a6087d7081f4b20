"""Set-based reads of the events table about all importer accounts at once.

A national import or risk run touches hundreds of thousands of accounts; loading each
aggregate would take minutes. These queries read only what such a run needs: each
account's registration facts, which accounts are closed, and the latest version and
hash-chain head of each account (so new events can be appended and linked in bulk).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import date, datetime
from itertools import repeat
from typing import Any, NamedTuple
from uuid import UUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from domain.assessment import Assessment
from domain.enforcement_action import EnforcementAction
from domain.importer_account import ImporterAccount
from domain.importer_history import ImporterHistory
from infrastructure.column_events import uuid_texts
from infrastructure.hash_chain import event_hash
from infrastructure.sql_tables import SqlTables

REGISTERED = get_topic(ImporterAccount.Registered)
CLOSED = get_topic(ImporterAccount.Closed)
HISTORY_TOPICS = {
    "opened": get_topic(Assessment.Opened),
    "findings": get_topic(Assessment.FindingsIssued),
    "enforcement": get_topic(EnforcementAction.Proposed),
    "joined": get_topic(ImporterAccount.PartnershipJoined),
    "left": get_topic(ImporterAccount.PartnershipLeft),
    "class": get_topic(ImporterAccount.ComplianceClassSet),
    "closed": get_topic(ImporterAccount.Closed),
}


class _CaseOpened(msgspec.Struct):
    importer_number: str
    timestamp: datetime


class _Findings(msgspec.Struct):
    outcome: str


class _Programme(msgspec.Struct):
    programme: str


class _Class(msgspec.Struct):
    compliance_class: str


class RegisteredFacts(msgspec.Struct):
    importer_number: str
    legal_name: str
    district: str
    industry: str
    registered_on: date


class RegisteredImporter(NamedTuple):
    """A tuple, not a dataclass: a national run makes 443,000 of them."""

    account_id: UUID
    facts: RegisteredFacts
    state: bytes = b""
    """The stored Registered event: the head of an account that has no later event, so a
    national run's heads need not be read again (see `heads`)."""


_decode_facts = msgspec.json.Decoder(RegisteredFacts).decode
_decode_many = msgspec.json.Decoder(list[RegisteredFacts]).decode
SIGNATURE_MARK = b',"~sig":"'
"""What a state that carries a commit signature contains (hash_chain.split_signature leaves
any other state as it is)."""
DECODE_CHUNK = 50_000
FEW_HEADS = 20_000
"""Up to this many accounts, heads reads them by id; more, every importer's head at once."""


class AccountDirectory:
    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder
        self._registered: dict[str, RegisteredImporter] | None = None
        self.tables = SqlTables(recorder)
        events = recorder.events_table_name  # type: ignore[attr-defined]
        self.events = (SQL("{}").format(Identifier(self.tables.schema or "", events))
                       if self.tables.postgres else events)

    def _query(self, statement: str, params: tuple[object, ...],
               binary: bool = False) -> list[tuple[Any, ...]]:
        """`binary`: PostgreSQL sends the rows in binary, so event states come as bytes
        rather than hex text to decode (the reads here return hundreds of thousands)."""
        if isinstance(self.recorder, PostgresApplicationRecorder):
            with self.recorder.datastore.get_connection() as conn, \
                    conn.cursor(row_factory=tuple_row) as cursor:
                cursor.execute(SQL(statement.replace("?", "%s")).format(
                    events=self.events), params, binary=binary)
                return list(cursor.fetchall())
        return self.tables.rows(statement.format(events=self.events), params)

    def _id(self, raw: object) -> UUID:
        """PostgreSQL returns UUIDs; SQLite their 32-digit hex, which UUID() accepts."""
        return raw if isinstance(raw, UUID) else UUID(str(raw))

    def registered(self) -> dict[str, RegisteredImporter]:
        """Every registered importer, by importer number (read once per directory: a run
        asks for it several times)."""
        if self._registered is None:
            found = self._query("SELECT originator_id, state FROM {events} WHERE topic = ?",
                                (REGISTERED,), binary=True)
            result = {}
            for start in range(0, len(found), DECODE_CHUNK):
                chunk = found[start:start + DECODE_CHUNK]
                # One decode per chunk of states (a JSON array of them), not one per state.
                facts = _decode_many(b"[" + b",".join(bytes(state) for _, state in chunk)
                                     + b"]")
                for (raw_id, state), fact in zip(chunk, facts, strict=True):
                    result[fact.importer_number] = RegisteredImporter(self._id(raw_id), fact,
                                                                      bytes(state))
            self._registered = result
        return self._registered

    def registered_facts(self) -> dict[str, RegisteredFacts]:
        """Read afresh: an import asks once, after earlier imports may have registered
        more importers."""
        self._registered = None
        return {number: found.facts for number, found in self.registered().items()}

    def histories(self) -> dict[str, ImporterHistory]:
        """Per importer number: assessments with adverse findings, enforcement actions,
        current partnership programmes and compliance class, last assessment opened."""
        topics = {topic: kind for kind, topic in HISTORY_TOPICS.items()}
        numbers = self._numbers_of_accounts_with(
            [HISTORY_TOPICS[kind] for kind in ("class", "joined", "left", "closed")])
        found = self._query(
            "SELECT originator_id, originator_version, topic, state FROM {events} "
            f"WHERE topic IN ({', '.join('?' for _ in topics)})", tuple(topics))
        found.sort(key=lambda row: (str(row[0]), int(row[1])))
        case_importer: dict[UUID, str] = {}
        histories: dict[str, ImporterHistory] = {}

        def history(number: str) -> ImporterHistory:
            return histories.setdefault(number, ImporterHistory())

        for raw_id, _version, topic, state in found:
            kind, payload, aggregate_id = topics[str(topic)], bytes(state), self._id(raw_id)
            if kind in ("opened", "enforcement"):
                opened = msgspec.json.decode(payload, type=_CaseOpened)
                case_importer[aggregate_id] = opened.importer_number
                if kind == "enforcement":
                    history(opened.importer_number).enforcement += 1
                else:
                    current = history(opened.importer_number)
                    day = opened.timestamp.date()
                    current.last_assessed = max(current.last_assessed or day, day)
            elif kind == "findings" and aggregate_id in case_importer:
                if msgspec.json.decode(payload, type=_Findings).outcome != "acceptable":
                    history(case_importer[aggregate_id]).findings += 1
            elif aggregate_id in numbers:
                current = history(numbers[aggregate_id])
                if kind == "closed":
                    current.closed = True
                elif kind == "class":
                    current.compliance_class = msgspec.json.decode(
                        payload, type=_Class).compliance_class
                elif kind == "joined":
                    current.programmes.add(msgspec.json.decode(payload,
                                                               type=_Programme).programme)
                else:
                    current.programmes.discard(msgspec.json.decode(payload,
                                                                   type=_Programme).programme)
        return histories

    def _numbers_of_accounts_with(self, topics: list[str]) -> dict[UUID, str]:
        """Importer numbers of just the accounts that have events of these topics (far
        fewer than all accounts: reading every registration would dominate a run)."""
        if self._registered is not None:
            return {found.account_id: number for number, found in self._registered.items()}
        marks = ", ".join("?" for _ in topics)
        found = self._query(
            "SELECT originator_id, state FROM {events} WHERE topic = ? AND originator_id IN "
            f"(SELECT originator_id FROM {{events}} WHERE topic IN ({marks}))",
            (REGISTERED, *topics))
        return {self._id(raw_id): _decode_facts(bytes(state)).importer_number
                for raw_id, state in found}

    def closed(self) -> set[UUID]:
        found = self._query("SELECT originator_id FROM {events} WHERE topic = ?", (CLOSED,))
        return {self._id(raw_id) for (raw_id,) in found}

    def heads(self, only: Collection[UUID] | None = None) -> dict[UUID, tuple[int, str]]:
        """Importer accounts' latest version and the hash of their latest event (all, or
        `only` these: hashing every head costs more than reading it). For a few accounts,
        one query by id. For many (a first national run), once the registrations are
        read: only the heads of accounts with events after their registration are read,
        the rest are their Registered events, already in hand."""
        wanted = None if only is None else (
            only if isinstance(only, set | frozenset) else set(only))
        registered = self._registered
        if wanted is not None and len(wanted) <= FEW_HEADS and self.tables.postgres:
            registered = None
            statement, params = self._heads_by_id(wanted)
        elif registered is not None:
            statement, params = self._later_heads(), (REGISTERED,)
        else:
            statement, params = self._all_heads(), (REGISTERED,)
        heads = {}
        for raw_id, version, topic, state in self._query(statement, params, binary=True):
            account_id = self._id(raw_id)
            if wanted is not None and account_id not in wanted:
                continue
            heads[account_id] = (int(version), event_hash(str(topic), account_id,
                                                          int(version), bytes(state)))
        if registered is not None:
            rest = [found for found in registered.values()
                    if (not heads or found.account_id not in heads)
                    and (wanted is None or found.account_id in wanted)]
            heads.update(zip([found.account_id for found in rest],
                             zip(repeat(1), registration_hashes(rest)), strict=False))
        return heads

    @staticmethod
    def _heads_by_id(wanted: set[UUID] | frozenset[UUID]) -> tuple[str, tuple[object, ...]]:
        return ("SELECT DISTINCT ON (e.originator_id) e.originator_id, e.originator_version, "
                "e.topic, e.state FROM {events} e WHERE e.originator_id = ANY(?) "
                "ORDER BY e.originator_id, e.originator_version DESC", (list(wanted),))

    @staticmethod
    def _later_heads() -> str:
        """The latest event of each importer account that has one after its Registered
        event (the others' head is that event)."""
        return ("SELECT e.originator_id, e.originator_version, e.topic, e.state "
                "FROM {events} e JOIN (SELECT originator_id, MAX(originator_version) AS v "
                "FROM {events} WHERE originator_version > 1 AND originator_id IN "
                "(SELECT originator_id FROM {events} WHERE topic = ?) GROUP BY originator_id) m "
                "ON e.originator_id = m.originator_id AND e.originator_version = m.v")

    @staticmethod
    def _all_heads() -> str:
        return ("SELECT e.originator_id, e.originator_version, e.topic, e.state "
                "FROM {events} e JOIN (SELECT originator_id, MAX(originator_version) AS v "
                "FROM {events} WHERE originator_id IN "
                "(SELECT originator_id FROM {events} WHERE topic = ?) GROUP BY originator_id) m "
                "ON e.originator_id = m.originator_id AND e.originator_version = m.v")


def registration_hashes(accounts: list[RegisteredImporter]) -> list[str]:
    """The content hash of each account's Registered event (infrastructure.hash_chain
    event_hash of its version 1): a first national run links 443,000 events to them. The
    ids spelt by numpy (column_events.uuid_texts) and one SHA-256 call per state; a state
    that carries a commit signature (the last event of its commit) is hashed without it
    by event_hash itself."""
    texts = uuid_texts([found.account_id for found in accounts]).to_pylist()
    head, tail = f"{REGISTERED}\x1f".encode(), b"\x1f1\x1f"
    sha256, join = hashlib.sha256, b"".join
    return [event_hash(REGISTERED, found.account_id, 1, found.state)
            if SIGNATURE_MARK in found.state
            else sha256(join((head, text.encode(), tail, found.state))).hexdigest()
            for text, found in zip(texts, accounts, strict=True)]
