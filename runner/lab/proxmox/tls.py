"""A self-signed certificate for the twin, made at start with `cryptography`, so clients keep TLS verification on."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from runner.lab import certificates


@dataclass(frozen=True)
class CertFiles:
    certfile: Path  # also the CA bundle clients pass to verify the twin
    keyfile: Path


def write_self_signed(directory: Path, hostname: str = "localhost") -> CertFiles:
    """A CA-flagged self-signed cert valid for `hostname`, localhost and 127.0.0.1 (like pve-ssl.pem)."""
    issued = certificates.issue(
        certificates.name(common_name=hostname),
        lifetime=datetime.timedelta(days=30),
        ca=True,
        sans=(hostname, "localhost", "127.0.0.1"),
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = CertFiles(directory / "pve-ssl.pem", directory / "pve-ssl.key")
    files.certfile.write_bytes(issued.cert_pem())
    files.keyfile.write_bytes(issued.key_pem())
    files.keyfile.chmod(0o600)
    return files
