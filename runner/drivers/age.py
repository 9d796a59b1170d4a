"""age keys via pyrage: find the key sops would use, or create one (0600) when there is none."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path

import pyrage

from runner.core.errors import SecretsError
from runner.core.secret import Secret
from runner.drivers.sops import default_age_key_file


@dataclass(frozen=True)
class AgeKey:
    path: Path
    public: str
    private: Secret


def read_key(path: Path) -> AgeKey:
    try:
        lines = [ln.strip() for ln in path.read_text().splitlines()]
    except OSError as exc:
        raise SecretsError(f"{path}: cannot read age key: {exc.strerror}") from None
    secret = next((ln for ln in lines if ln.startswith("AGE-SECRET-KEY-")), None)
    if secret is None:
        raise SecretsError(f"{path}: no AGE-SECRET-KEY line found")
    try:
        identity = pyrage.x25519.Identity.from_str(secret)
    except Exception:  # pyrage raises its own error types for malformed keys
        raise SecretsError(f"{path}: the age key is malformed") from None
    return AgeKey(path, str(identity.to_public()), Secret(secret))


def find_or_create_key(path: Path | None = None) -> tuple[AgeKey, bool]:
    """The key at `path` (default: where sops looks); created when absent. Returns (key, created)."""
    path = path or default_age_key_file()
    if path.exists():
        return read_key(path), False
    identity = pyrage.x25519.Identity.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"# created: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}\n")
        fh.write(f"# public key: {identity.to_public()}\n{identity}\n")
    return read_key(path), True


def new_identity() -> tuple[str, Secret]:
    """A fresh age X25519 identity held in memory only: (public recipient, private key)."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity.to_public()), Secret(str(identity))


def recipient_of(private: Secret, what: str = "age key") -> str:
    """The public recipient (age1...) of an age identity."""
    try:
        return str(pyrage.x25519.Identity.from_str(private.reveal().strip()).to_public())
    except Exception:  # pyrage raises its own error types for malformed keys
        raise SecretsError(f"{what}: the age key is malformed") from None


def opens_data_key(private: Secret, stanzas: list[str]) -> bool:
    """Whether this identity can unwrap one of a SOPS file's age stanzas (its `sops.age[].enc` blocks),
    which is exactly what decrypting the file needs: the data key."""
    identity = pyrage.x25519.Identity.from_str(private.reveal().strip())
    for stanza in stanzas:
        try:
            pyrage.decrypt(stanza.encode(), [identity])
        except Exception:  # not for this identity (pyrage.DecryptError) or not an age stanza at all
            continue
        return True
    return False


def encrypt_to(data: bytes, recipients: list[str]) -> bytes:
    """age-encrypt `data` so that any one of `recipients` (age1... public keys) can open it."""
    try:
        keys = [pyrage.x25519.Recipient.from_str(r) for r in recipients]
    except Exception:  # pyrage's own error types
        raise SecretsError(f"not an age recipient among {', '.join(recipients)}") from None
    if not keys:
        raise SecretsError("no age recipient to encrypt to")
    return bytes(pyrage.encrypt(data, keys))


def decrypt_with(data: bytes, key: AgeKey) -> bytes:
    try:
        return bytes(pyrage.decrypt(data, [pyrage.x25519.Identity.from_str(key.private.reveal())]))
    except Exception:  # pyrage.DecryptError and friends: wrong key or damaged file
        raise SecretsError(f"the age key {key.path} ({key.public}) cannot decrypt this file") from None
