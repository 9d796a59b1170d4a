"""Every secret value of the lab cluster, in the forms a leak could take (as stored, decoded PEM, PEM body lines)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.drivers.sops import SopsCli

SECRETS_FILE = "clusters/home/secrets.sops.yaml"
LAB_KEY = "tests/keys/lab.agekey"
MIN_LENGTH = 8  # shorter strings would match ordinary page text by chance


def leaves(tree: Any) -> Iterator[str]:
    if isinstance(tree, dict):
        for value in tree.values():
            yield from leaves(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from leaves(value)
    elif tree is not None:
        yield str(tree)


def decoded_forms(value: str) -> Iterator[str]:
    """The Talos bundle keeps certificates and keys as base64 PEM; a page could leak the PEM or any line of it."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return
    if "-----BEGIN" in text:
        yield text.strip()
        yield from (line for line in text.splitlines() if line and not line.startswith("-----"))


def lab_secret_values(repo_root: Path) -> set[str]:
    data = SopsCli(age_key_file=repo_root / LAB_KEY).decrypt((repo_root / SECRETS_FILE).read_bytes(), SECRETS_FILE)
    values: set[str] = set()
    for value in leaves(data):
        values.add(value)
        values.update(decoded_forms(value))
    return {v for v in values if len(v) >= MIN_LENGTH}
