"""The ledger's Ed25519 signing key: it signs every commit and every seal, and is kept
outside the database so that someone with only database access cannot forge either.

The private key file is created with mode 0600 from its first byte (never written
world-readable and chmod-ed afterwards) inside a 0700 folder; the public key beside it
(`<key>.pub`) is what auditors need to verify.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SealKeyError(ValueError):
    """The signing key or its public key is missing or unreadable; says which file."""


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint: the first 16 hex digits of SHA-256 over the raw public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_path(private_path: Path) -> Path:
    return private_path.with_suffix(private_path.suffix + ".pub")


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """O_EXCL: never replaces a key; the mode applies from creation, not after."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def create_key(private_path: Path, public_path: Path | None = None) -> Ed25519PrivateKey:
    """Write a new key pair; the private file is readable by its owner only."""
    public_path = public_path or public_key_path(private_path)
    if private_path.exists():
        raise SealKeyError(f"{private_path} already exists; refusing to replace a signing key")
    folder = private_path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True)
    key = Ed25519PrivateKey.generate()
    old_umask = os.umask(0o077)
    try:
        _write_new(private_path, key.private_bytes(serialization.Encoding.PEM,
                                                   serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()), 0o600)
    finally:
        os.umask(old_umask)
    if not public_path.exists():
        public_path.parent.mkdir(parents=True, exist_ok=True)
        _write_new(public_path, key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return key


def ensure_key(private_path: Path, public_path: Path | None = None) -> bool:
    """Create the key pair unless a private key is already there; True when created."""
    if private_path.exists():
        return False
    create_key(private_path, public_path)
    return True


def _read(path: Path, missing: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SealKeyError(missing) from None
    except PermissionError:
        raise SealKeyError(f"cannot read {path}: permission denied") from None
    except OSError as error:
        raise SealKeyError(f"cannot read {path}: {error.strerror}") from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read(path, f"no signing key at {path}: writing to the ledger needs the key "
                       "`compliance init` created (COMPLIANCE_SEAL_KEY)")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        raise SealKeyError(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SealKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The trusted public key; missing or unreadable is an error, never 'not checked'."""
    data = _read(path, f"no trusted public key at {path} (COMPLIANCE_SEAL_PUBLIC_KEY): "
                       "signatures cannot be checked")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise SealKeyError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SealKeyError(f"{path} is not an Ed25519 public key")
    return key


def signature_holds(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


class LazySigner:
    """Loads the private key on the first write, so processes that only read (auditors,
    reports) never need it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._key: Ed25519PrivateKey | None = None
        self._lock = threading.Lock()

    @property
    def key(self) -> Ed25519PrivateKey:
        with self._lock:
            if self._key is None:
                self._key = load_private_key(self.path)
            return self._key

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)
