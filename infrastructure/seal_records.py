"""What a seal is, how it is signed and hashed, and the two places it is kept besides the
seal log: the table of sealed chain heads (the locator that lets `verify` name the case a
seal no longer holds for) and the witness file outside the database.

A seal signs `compliance-ledger-seal-v2|number|checkpoint|aggregates|events|root|previous`,
where `root` is a Merkle root over every aggregate's head (id, version, content hash) at
notification `checkpoint` and `previous` the hash of the seal before it. Its own hash
(SHA-256 over the message and the signature) is what the next seal embeds.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from infrastructure.signing_keys import signature_holds

HEADS_TABLE = "compliance_seal_heads"
Heads = Mapping[str, tuple[int, str]]
"""aggregate id (canonical text) -> (version, content hash) of its head"""


def merkle_root(heads: Heads) -> str:
    level = [hashlib.sha256(f"{oid}|{version}|{digest}".encode()).digest()
             for oid, (version, digest) in sorted(heads.items())]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest()
                 for i in range(0, len(level), 2)]
    return level[0].hex()


@dataclass(frozen=True)
class SealRecord:
    number: int
    checkpoint: int
    aggregates: int
    events: int
    merkle_root: str
    previous: str
    key_id: str
    signature: str
    sealed_at: str = ""

    def message(self) -> bytes:
        return (f"compliance-ledger-seal-v2|{self.number}|{self.checkpoint}|"
                f"{self.aggregates}|{self.events}|{self.merkle_root}|{self.previous}").encode()

    @property
    def seal_hash(self) -> str:
        return hashlib.sha256(self.message() + bytes.fromhex(self.signature)).hexdigest()

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        try:
            signature = bytes.fromhex(self.signature)
        except ValueError:
            return False
        return signature_holds(public_key, signature, self.message())

    def same_seal(self, other: SealRecord) -> bool:
        """Equal in everything signed (the recording time is not part of the seal)."""
        return (self.message(), self.signature) == (other.message(), other.signature)

    def describe(self) -> str:
        when = f" of {self.sealed_at}" if self.sealed_at else ""
        return f"seal {self.number}{when}"

    @staticmethod
    def from_plain(data: Mapping[str, Any]) -> SealRecord:
        return SealRecord(int(data["number"]), int(data["checkpoint"]),
                          int(data["aggregates"]), int(data["events"]),
                          str(data["merkle_root"]), str(data["previous"]),
                          str(data["key_id"]), str(data["signature"]),
                          str(data.get("sealed_at", "")))


# -- the witness: an append-only file outside the database --------------------------------


class WitnessError(ValueError):
    """The witness file cannot be read or written; says which and why."""


def append_to_witness(path: Path, seal: SealRecord) -> None:
    """One JSON line per seal, flushed to disk before the seal command reports success."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    line = json.dumps(asdict(seal), sort_keys=True) + "\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise WitnessError(f"cannot append to the seal witness {path}: "
                           f"{error.strerror}") from None


def read_witness(path: Path) -> list[SealRecord] | None:
    """The seals the witness holds, in order; None when there is no witness file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise WitnessError(f"cannot read the seal witness {path}: {error.strerror}") from None
    seals: list[SealRecord] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            seals.append(SealRecord.from_plain(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            raise WitnessError(f"seal witness {path} line {number} is not a seal "
                               "record (truncated or edited)") from None
    return seals
